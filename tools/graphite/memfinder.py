"""In-memory storage finder for graphite-web 1.1.8, used by make_goldens.py.

graphite-web loads it through STORAGE_FINDERS = ('memfinder.MemoryFinder',);
the generator fills SERIES before the first request. The finder serves fixed
input series from memory so that the whole /render path of graphite-web
(parse, prefetch, fetch, merge, evaluate, maxDataPoints consolidation, JSON)
runs unmodified.

Fetch rule (mirrored exactly by the C++ golden test; see README.md):
  for a request window (from, until] in epoch seconds and an input series
  (start, step, values), the returned series has
    fromInterval  = from  - from  % step + step
    untilInterval = until - until % step + step
    if fromInterval == untilInterval: untilInterval += step
  timestamps fromInterval, fromInterval + step, ..., untilInterval - step,
  time_info (fromInterval, untilInterval, step), and at each timestamp t the
  input value where the input has a point at t (t >= start, (t - start) %
  step == 0, index in range), None elsewhere. This is whisper's
  __archive_fetch with a single archive and unlimited retention.

Name matching mirrors graphite-web's StandardFinder: the pattern is split on
'.', each part is matched against the children of the tree level with
graphite.finders.match_entries (brace expansion, then fnmatch), and backslash
escapes are dropped first. Tagged names (containing ';') are looked up
exactly, after normalisation with TaggedSeries.parse (sorted tags), which is
how graphite-web's tag database hands them to a finder.
"""

from graphite.finders import match_entries
from graphite.finders.utils import BaseFinder
from graphite.intervals import Interval, IntervalSet
from graphite.node import BranchNode, LeafNode
from graphite.tags.utils import TaggedSeries

# name -> {"start": int, "step": int, "values": [float|None]}; names of tagged
# series are stored in their normalised form (TaggedSeries.parse(n).path).
SERIES = {}


def fetch_window(start, step, values, from_time, until_time):
    """Returns ((fromInterval, untilInterval, step), values) per the rule above."""
    from_time = int(from_time)
    until_time = int(until_time)
    from_interval = from_time - from_time % step + step
    until_interval = until_time - until_time % step + step
    if from_interval == until_interval:
        until_interval += step
    out = []
    for t in range(from_interval, until_interval, step):
        v = None
        if t >= start and (t - start) % step == 0:
            i = (t - start) // step
            if i < len(values):
                v = values[i]
        out.append(v)
    return (from_interval, until_interval, step), out


class MemoryReader(object):
    __slots__ = ('name',)

    def __init__(self, name):
        self.name = name

    def get_intervals(self):
        s = SERIES[self.name]
        return IntervalSet([Interval(s['start'], s['start'] + s['step'] * len(s['values']))])

    def fetch(self, startTime, endTime, now=None, requestContext=None):
        s = SERIES[self.name]
        return fetch_window(s['start'], s['step'], s['values'], startTime, endTime)

    def __repr__(self):
        return '<MemoryReader %s>' % self.name


class MemoryFinder(BaseFinder):
    local = True
    tags = False  # seriesByTag is resolved by graphite-web's TAGDB

    def find_nodes(self, query):
        pattern = query.pattern
        if ';' in pattern and not pattern.startswith('_tagged.'):
            try:
                path = TaggedSeries.parse(pattern).path
            except Exception:
                return
            if path in SERIES:
                yield LeafNode(pattern, MemoryReader(path))
            return

        parts = pattern.replace('\\', '').split('.')
        names = [n for n in SERIES if ';' not in n]
        # level-by-level match, like StandardFinder walking directories
        candidates = {''}
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            next_candidates = set()
            for prefix in candidates:
                children = set()
                for n in names:
                    if prefix and not n.startswith(prefix + '.'):
                        continue
                    rest = n[len(prefix) + 1:] if prefix else n
                    children.add(rest.split('.', 1)[0])
                for child in match_entries(sorted(children), part):
                    next_candidates.add(prefix + '.' + child if prefix else child)
            candidates = next_candidates
            if last:
                for path in sorted(candidates):
                    if path in SERIES:
                        yield LeafNode(path, MemoryReader(path))
                    if any(n.startswith(path + '.') for n in names):
                        yield BranchNode(path)
