#!/usr/bin/python3
"""Creates whisper files for graphite-web (tools/graphite/serve.sh) from simple inputs.

Usage (any mix of inputs; every input adds series to DIR):

  make_whisper.py DIR --plain FILE        Graphite plaintext: "name value timestamp" per line
                                          (FILE '-' = stdin); name may be tagged
                                          "name;tag=value;..."
  make_whisper.py DIR --influx FILE       InfluxDB line protocol, timestamps in seconds
                                          (--precision s|ms|us|ns): one series per field, named
                                          "<measurement>.<field>;tag=value;..." as Sluice's /write
                                          names them (no escaped spaces/commas/quotes supported)
  make_whisper.py DIR --gen PATTERN --series N --points P [--step S] [--end T] [--seed K]
                                          [--gap-every G]
                                          N series named PATTERN.format(i=0..N-1) (e.g.
                                          'bench.host{i:03d}.cpu'), P points each, step S (10),
                                          ending at T (epoch seconds or 'now', aligned down to S),
                                          values a deterministic random walk in [0, 100] rounded
                                          to 2 decimals; with G > 0 every G-th point is missing.

Options: --step S forces the step of --plain/--influx series (default: gcd of the series'
timestamp differences, 60 for a single point). --slack SECONDS (default 86400) is added to
the retention.

Each series becomes one whisper file with a single archive (step, points) covering the
series from its oldest point to its newest plus --slack, xFilesFactor 0, aggregation
'average', so graphite-web returns the full resolution. Untagged names map to
DIR/a/b/c.wsp; tagged names are normalised like graphite-web does (tags sorted) and stored
as carbon stores them (DIR/_tagged/<sha256[0:3]>/<sha256[3:6]>/<name with . as _DOT_>.wsp);
their names are appended to DIR/.tagged-series, which serve.sh loads into graphite-web's
tag database.

Whisper serves nothing older than now - retention. For data that does not end near the
present, pass &now=<newest timestamp> (or later, within the slack) on /render requests;
graphite-web hands it to whisper. The script prints the newest timestamp.
"""

import argparse
import math
import os
import random
import sys
import time
from collections import defaultdict
from functools import reduce

try:
    import whisper
except ImportError:
    if sys.executable != '/usr/bin/python3' and os.path.exists('/usr/bin/python3'):
        os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)
    sys.exit('python3-whisper missing: run scripts/install-deps.sh graphite')

from graphite.tags.utils import TaggedSeries  # plain module: no Django settings needed


def parse_plain(path, series):
    fh = sys.stdin if path == '-' else open(path)
    for lineno, line in enumerate(fh, 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            sys.exit('%s:%d: want "name value timestamp"' % (path, lineno))
        name, value, ts = parts
        series[name].append((int(float(ts)), float(value)))


def parse_influx(path, precision, series):
    div = {'s': 1, 'ms': 10 ** 3, 'us': 10 ** 6, 'ns': 10 ** 9}[precision]
    fh = sys.stdin if path == '-' else open(path)
    for lineno, line in enumerate(fh, 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        parts = line.split(' ')
        if len(parts) not in (2, 3):
            sys.exit('%s:%d: want "measurement[,tags] fields [timestamp]"' % (path, lineno))
        key, fields = parts[0], parts[1]
        ts = int(parts[2]) // div if len(parts) == 3 else int(time.time())
        mparts = key.split(',')
        measurement = mparts[0]
        tags = dict(kv.split('=', 1) for kv in mparts[1:])
        for f in fields.split(','):
            fname, fval = f.split('=', 1)
            if fval.endswith('i') or fval.endswith('u'):
                fval = fval[:-1]
            if fval in ('t', 'T', 'true', 'True', 'f', 'F', 'false', 'False') or fval.startswith('"'):
                continue  # booleans and strings are not numeric series
            name = '%s.%s' % (measurement, fname) + ''.join(';%s=%s' % (k, tags[k]) for k in sorted(tags))
            series[name].append((ts, float(fval)))


def generate(pattern, n, points, step, end, seed, gap_every, series, steps):
    if end == 'now':
        end = int(time.time())
    end = int(end)
    end -= end % step
    start = end - (points - 1) * step
    for i in range(n):
        rnd = random.Random(seed * 1000003 + i)
        v = rnd.uniform(0, 100)
        pts = []
        for k in range(points):
            v = min(100.0, max(0.0, v + rnd.uniform(-2, 2)))
            if gap_every and k % gap_every == gap_every - 1:
                continue
            pts.append((start + k * step, round(v, 2)))
        series[pattern.format(i=i)] = pts
        steps[pattern.format(i=i)] = step


def write_series(root, name, points, step, slack):
    points.sort()
    oldest, newest = points[0][0], points[-1][0]
    if step is None:
        diffs = [b[0] - a[0] for a, b in zip(points, points[1:]) if b[0] != a[0]]
        step = reduce(math.gcd, diffs) if diffs else 60
    retention_points = (newest - oldest) // step + 1 + int(math.ceil(slack / step))
    if ';' in name:
        norm = TaggedSeries.parse(name).path
        rel = TaggedSeries.encode(norm, sep=os.sep) + '.wsp'
    else:
        norm = name
        rel = name.replace('.', os.sep) + '.wsp'
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        os.unlink(path)
    whisper.create(path, [(step, retention_points)], xFilesFactor=0, aggregationMethod='average')
    # write as of the newest point, so nothing falls outside the retention
    for k in range(0, len(points), 50000):
        whisper.update_many(path, points[k:k + 50000], now=newest + 1)
    return norm, step, newest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('dir')
    ap.add_argument('--plain', action='append', default=[])
    ap.add_argument('--influx', action='append', default=[])
    ap.add_argument('--precision', default='s', choices=['s', 'ms', 'us', 'ns'])
    ap.add_argument('--gen')
    ap.add_argument('--series', type=int, default=1)
    ap.add_argument('--points', type=int, default=8640)
    ap.add_argument('--end', default='now')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--gap-every', type=int, default=0)
    ap.add_argument('--step', type=int, default=None)
    ap.add_argument('--slack', type=int, default=86400)
    args = ap.parse_args()

    series = defaultdict(list)
    steps = {}
    for p in args.plain:
        parse_plain(p, series)
    for p in args.influx:
        parse_influx(p, args.precision, series)
    if args.gen:
        generate(args.gen, args.series, args.points, args.step or 10, args.end, args.seed,
                 args.gap_every, series, steps)
    if not series:
        sys.exit('nothing to write: give --plain, --influx or --gen')

    os.makedirs(args.dir, exist_ok=True)
    tagged = []
    newest_all = 0
    total = 0
    for name in sorted(series):
        step = steps.get(name, args.step)
        norm, _, newest = write_series(args.dir, name, series[name], step, args.slack)
        newest_all = max(newest_all, newest)
        total += len(series[name])
        if norm != name or ';' in name:
            tagged.append(norm)
    if tagged:
        listing = os.path.join(args.dir, '.tagged-series')
        known = set()
        if os.path.exists(listing):
            known = set(open(listing).read().split())
        with open(listing, 'a') as f:
            for t in tagged:
                if t not in known:
                    f.write(t + '\n')
    print('wrote %d series (%d tagged), %d points into %s; newest timestamp %d'
          % (len(series), len(tagged), total, args.dir, newest_all))


if __name__ == '__main__':
    main()
