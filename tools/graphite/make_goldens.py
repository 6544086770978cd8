#!/usr/bin/python3
"""Writes testdata/graphite/goldens.json from graphite-web 1.1.8 itself.

Regenerate (manual step; the committed goldens are plain data):

    scripts/install-deps.sh graphite
    /usr/bin/python3 tools/graphite/make_goldens.py      # or: python3 ...

Debian's graphite-web lives in /usr/lib/python3/dist-packages, so the script
needs Debian's /usr/bin/python3; when started by another python3 (pyenv,
venv) that cannot import django it re-executes itself under /usr/bin/python3.

What it does: configures graphite-web's Django settings in a temporary
directory (sqlite tag database, no memcache, no carbonlink, logs in the temp
dir, no worker threads), registers tools/graphite/memfinder.py as the only
STORAGE_FINDER, puts the fixed input series below into it and into
graphite-web's LocalDatabaseTagDB (tagged series), and sends every case of
tools/graphite/cases.txt through Django's test Client as
GET /render?target=...&from=...&until=...&format=json[&maxDataPoints=N].
So graphite-web's own parser, fetch/merge, evaluator, functions,
maxDataPoints consolidation and JSON writer all run unmodified.

Each case runs twice: with graphite-web's default settings (what the Debian
package serves: ENFORCE_INPUT_VALIDATION = False, so a bad argument type is
only logged and the function runs anyway) and with
ENFORCE_INPUT_VALIDATION = True; the second result is recorded only where it
differs in status or message ("strict_status"/"strict_error"). With the
default settings an InputParameterError raised inside a function is logged
and swallowed, and the evaluator then fails with the misleading "unknown
token in target evaluator"; the strict run shows the real message.

Options: --cases FILE (default tools/graphite/cases.txt),
         --out FILE   (default testdata/graphite/goldens.json),
         --only SUBSTRING (run matching cases, print them, write nothing).
"""

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

try:
    import django  # noqa: F401
except ImportError:
    if sys.executable != '/usr/bin/python3' and os.path.exists('/usr/bin/python3'):
        os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)
    sys.exit('django not importable: run scripts/install-deps.sh graphite, '
             'then /usr/bin/python3 %s' % sys.argv[0])

# ---------------------------------------------------------------------------
# Fixed inputs. T0 is hour-aligned (not day-aligned); every input covers
# (T0 - 2h, T0 + 2h] or more, so that bootstrapping functions
# (movingAverage, timeShift, ...) find data before the request window.
T0 = 1699999200
SPAN_START = T0 - 7200
SPAN = 4 * 3600


def _r(x, nd=3):
    return round(x, nd)


def make_inputs():
    rnd = random.Random(20240505)
    out = []

    def add(name, step, values, tags=None):
        item = {'name': name, 'start': SPAN_START + step, 'step': step, 'values': values}
        if tags:
            item['tags'] = tags
        out.append(item)

    n60 = SPAN // 60
    # cpu group: ordinary gauges with fractions
    add('test.web1.cpu', 60, [_r(50 + 20 * math.sin(i / 7.0) + rnd.random()) for i in range(n60)])
    web2 = [_r(40 + 25 * math.cos(i / 5.0) + rnd.random()) for i in range(n60)]
    for i in (30, 125):            # isolated gaps (one before T0, one inside)
        web2[i] = None
    for i in range(140, 145):      # a run of five
        web2[i] = None
    for i in range(60, 64):        # a run before T0 (bootstrap region)
        web2[i] = None
    add('test.web2.cpu', 60, web2)
    db1 = []
    for i in range(n60):
        v = _r(10 * math.sin(i / 4.0), 2)
        if i % 17 == 0:
            v = 0.0
        db1.append(v)
    add('test.db1.cpu', 60, db1)

    # counters with resets (derivative, perSecond, nonNegativeDerivative)
    c, req1 = 1000.0, []
    for i in range(n60):
        c += rnd.randint(0, 120)
        if i == 130:
            c = 17.0           # reset inside the window
        if i == 175:
            c = 3.0            # another reset
        req1.append(c)
    add('test.web1.requests', 60, req1)
    c, req2 = 5e6, []
    for i in range(n60):
        c += rnd.randint(0, 5000) + 0.5
        if i == 150:
            c = 250.0
        req2.append(c if i not in (135, 136, 137, 160) else None)
    add('test.web2.requests', 60, req2)

    # latency at three steps: 10 s, 60 s, 300 s (normalisation / LCM)
    add('test.web1.latency', 10, [_r(0.2 + rnd.random() * 0.05 + (0.5 if i % 97 == 0 else 0), 5)
                                  if i % 53 != 7 else None for i in range(SPAN // 10)])
    add('test.web2.latency', 60, [_r(0.3 + rnd.random() * 0.1, 5) for i in range(n60)])
    add('test.db1.latency', 300, [_r(1.5 + rnd.random(), 4) if i != 30 else None
                                  for i in range(SPAN // 300)])

    # special shapes
    add('misc.const.five', 60, [5.0] * n60)
    add('misc.const.zero', 60, [0.0] * n60)
    add('misc.empty.none', 60, [None] * n60)
    cyc = [-4.0, -1.0, 0.0, 0.25, 1.0, 4.0, 9.0, -0.5, 100.0, None, 2.0, 0.5]
    add('misc.neg.values', 60, [cyc[i % len(cyc)] for i in range(n60)])
    big = []
    for i in range(n60):
        if i % 5 == 0:
            big.append(1.2345678901234e15 * (1 + i / 1000.0))
        elif i % 5 == 1:
            big.append(-9.87654321e14)
        elif i % 5 == 2:
            big.append(3.3e-9 * i)
        elif i % 5 == 3:
            big.append(1.0 / 3.0)
        else:
            big.append(2.0 / 3.0 * 1e6)
    add('misc.big.values', 60, big)
    sparse = [None] * n60
    for i in (5, 40, 118, 121, 122, 125, 131, 135, 139, 140, 150, 151, 152, 153, 170, 200):
        sparse[i] = float(i % 13) + 0.5
    add('misc.sparse.values', 60, sparse)

    # names whose natural sort differs from the plain one (sortByName)
    for k, h in enumerate(('host1', 'host10', 'host2')):
        add('nat.%s.cpu' % h, 60, [float(k + 1 + (i % 4)) for i in range(n60)])

    # tagged series (names as graphite-web normalises them: tags sorted)
    def tagged(metric, tags, phase, scale):
        name = metric + ''.join(';%s=%s' % (k, tags[k]) for k in sorted(tags))
        t = dict(tags)
        t['name'] = metric
        vals = [_r(scale * (1.5 + math.sin(i / 9.0 + phase)) + rnd.random()) for i in range(n60)]
        add(name, 60, vals, t)

    tagged('cpu.usage', {'host': 'web-1', 'dc': 'east'}, 0.0, 30)
    tagged('cpu.usage', {'host': 'web-2', 'dc': 'east'}, 1.0, 20)
    tagged('cpu.usage', {'host': 'db-1', 'dc': 'west'}, 2.0, 10)
    tagged('mem.free', {'host': 'web-1', 'dc': 'east'}, 0.5, 1000)
    return out


# ---------------------------------------------------------------------------
def setup_django(tmp):
    os.makedirs(os.path.join(tmp, 'log'), exist_ok=True)
    with open(os.path.join(tmp, 'goldens_local_settings.py'), 'w') as f:
        f.write('''
SECRET_KEY = 'sluice-goldens-not-secret'
STORAGE_DIR = %(tmp)r
LOG_DIR = %(log)r
INDEX_FILE = %(tmp)r + '/index'
WHISPER_DIR = %(tmp)r + '/whisper'
STANDARD_DIRS = []
DATABASES = {'default': {'NAME': %(tmp)r + '/graphite.db',
                         'ENGINE': 'django.db.backends.sqlite3'}}
STORAGE_FINDERS = ('memfinder.MemoryFinder',)
TAGDB = 'graphite.tags.localdatabase.LocalDatabaseTagDB'
CARBONLINK_HOSTS = []
USE_WORKER_POOL = False
MEMCACHE_HOSTS = []
DEFAULT_CACHE_DURATION = 0
LOG_RENDERING_PERFORMANCE = False
LOG_CACHE_PERFORMANCE = False
LOG_INFO_PERFORMANCE = False
LOG_ROTATION = False
TIME_ZONE = 'UTC'
FUNCTION_PLUGINS = []
''' % {'tmp': tmp, 'log': os.path.join(tmp, 'log')})
    sys.path.insert(0, tmp)
    sys.path.insert(0, HERE)
    os.environ['GRAPHITE_SETTINGS_MODULE'] = 'goldens_local_settings'
    os.environ['DJANGO_SETTINGS_MODULE'] = 'graphite.settings'
    import warnings
    warnings.filterwarnings('ignore')
    import django
    django.setup()
    from django.core.management import call_command
    call_command('migrate', verbosity=0, interactive=False)


def parse_time(s):
    s = s.strip()
    if s.startswith('T0'):
        rest = s[2:]
        return T0 + (int(rest) if rest else 0)
    return int(s)


def read_cases(path):
    cases = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            cols = line.split('\t')
            if len(cols) not in (3, 4):
                sys.exit('%s:%d: want target<TAB>from<TAB>until[<TAB>maxDataPoints], got %d columns'
                         % (path, lineno, len(cols)))
            case = {'target': cols[0], 'from': parse_time(cols[1]), 'until': parse_time(cols[2])}
            if len(cols) == 4 and cols[3].strip():
                case['maxDataPoints'] = int(cols[3])
            cases.append(case)
    return cases


def norm_value(v):
    if v is None:
        return None
    if isinstance(v, float):
        if math.isnan(v):
            return 'nan'
        if math.isinf(v):
            return 'inf' if v > 0 else '-inf'
        if v == int(v) and abs(v) < 2 ** 53:
            return int(v) if not (v == 0 and math.copysign(1, v) < 0) else 0
    return v


class Runner(object):
    def __init__(self):
        from django.test import Client
        from django.core.signals import got_request_exception
        self.client = Client(raise_request_exception=False)
        self.last_exc = None

        def on_exc(sender, request=None, **kwargs):
            self.last_exc = sys.exc_info()
        got_request_exception.connect(on_exc, weak=False)

    def render(self, case):
        params = {'target': case['target'], 'from': str(case['from']),
                  'until': str(case['until']), 'format': 'json'}
        if 'maxDataPoints' in case:
            params['maxDataPoints'] = str(case['maxDataPoints'])
        self.last_exc = None
        resp = self.client.get('/render', params)
        body = resp.content.decode('utf-8', 'replace')
        if resp.status_code == 200:
            data = json.loads(body)  # parses NaN, Infinity and 1e9999 (-> inf)
            out = []
            for s in data:
                out.append({'target': s['target'], 'tags': s['tags'],
                            'datapoints': [[norm_value(v), ts] for v, ts in s['datapoints']]})
            return {'status': 200, 'output': out}
        if self.last_exc is not None:
            et, ev, _ = self.last_exc
            msg = '%s: %s' % (et.__name__, ev)
        else:
            msg = body.strip()
        msg = ' '.join(msg.split())
        if len(msg) > 400:
            msg = msg[:400] + '...'
        return {'status': resp.status_code, 'error': msg}


def dump_line(obj):
    return json.dumps(obj, separators=(',', ':'), sort_keys=False, allow_nan=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cases', default=os.path.join(HERE, 'cases.txt'))
    ap.add_argument('--out', default=os.path.join(REPO, 'testdata', 'graphite', 'goldens.json'))
    ap.add_argument('--only', default=None)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix='sluice-graphite-goldens-')
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp):
    setup_django(tmp)

    import memfinder
    from graphite.storage import STORE
    from django.conf import settings
    import graphite

    inputs = make_inputs()
    for s in inputs:
        memfinder.SERIES[s['name']] = s
        if 'tags' in s:
            STORE.tagdb.tag_series(s['name'])

    cases = read_cases(args.cases)
    if args.only:
        cases = [c for c in cases if args.only in c['target']]
    runner = Runner()
    results = []
    for case in cases:
        settings.ENFORCE_INPUT_VALIDATION = False
        try:
            res = runner.render(case)
        except Exception:
            traceback.print_exc()
            res = {'status': -1, 'error': 'generator failure'}
        settings.ENFORCE_INPUT_VALIDATION = True
        strict = runner.render(case)
        settings.ENFORCE_INPUT_VALIDATION = False
        rec = dict(case)
        rec.update(res)
        if strict['status'] != res['status'] or strict.get('error') != res.get('error'):
            rec['strict_status'] = strict['status']
            rec['strict_error'] = strict.get('error', '')
        results.append(rec)
        if args.only:
            print(json.dumps(rec))

    if args.only:
        return

    version = getattr(graphite, '__version__', None) or settings.WEBAPP_VERSION
    header = {
        'generator': 'graphite-web %s (Debian package graphite-web, Django %s), in-process /render '
                     'via django.test.Client, tools/graphite/make_goldens.py'
                     % (version, __import__('django').get_version()),
        'regenerate': 'scripts/install-deps.sh graphite && /usr/bin/python3 tools/graphite/make_goldens.py',
        't0': T0,
        'fetch_rule': 'window (from, until]: fromInterval = from - from%step + step; '
                      'untilInterval = until - until%step + step; if equal, untilInterval += step; '
                      'timestamps fromInterval .. untilInterval-step by step; value = input value at '
                      'that timestamp if the input has a point there, else null (whisper single '
                      'archive, unlimited retention)',
        'values': 'number, null, or the strings "inf" / "-inf" (graphite-web writes +-1e9999 for '
                  'infinities; NaN is written as null by graphite-web itself); integral-valued '
                  'doubles are written without a fraction',
        'settings': 'DEFAULT_XFILES_FACTOR=0, TIME_ZONE=UTC, ENFORCE_INPUT_VALIDATION=False '
                    '(strict_status/strict_error: result with ENFORCE_INPUT_VALIDATION=True where it differs)',
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write('{\n')
        for k, v in header.items():
            f.write('%s: %s,\n' % (json.dumps(k), json.dumps(v)))
        f.write('"inputs": [\n')
        f.write(',\n'.join(dump_line({k: (norm_value(x) if k != 'values' else [norm_value(y) for y in x])
                                      for k, x in s.items()}) for s in inputs))
        f.write('\n],\n"cases": [\n')
        f.write(',\n'.join(dump_line(r) for r in results))
        f.write('\n]\n}\n')
    ok = sum(1 for r in results if r['status'] == 200)
    print('wrote %s: %d inputs, %d cases (%d ok, %d errors)'
          % (args.out, len(inputs), len(results), ok, len(results) - ok))


if __name__ == '__main__':
    main()
