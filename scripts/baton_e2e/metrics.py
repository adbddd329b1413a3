"""Prometheus text exposition, parsed one way for every check and benchmark.

`parse_metrics(text)` gives a `Metrics`: the samples in order, each `(name, labels, value)` with
the label values unescaped (`\\\\`, `\\"`, `\\n`), values as floats (`+Inf`, `NaN` too), an
optional timestamp dropped. Histograms and summaries are their `_bucket`/`_sum`/`_count`
series, as in the text. `fetch(port_or_url)` scrapes `/metrics` and parses it.
"""
import http.client
import math
import re
from collections import namedtuple

Sample = namedtuple("Sample", "name labels value")

_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$")
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_ESCAPE = re.compile(r"\\(.)")


def _unescape(value):
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def _labels(text, line):
    labels, at = {}, 0
    while at < len(text):
        m = _LABEL.match(text, at)
        if not m or m.end() == at:
            raise ValueError(f"malformed labels in metrics line: {line!r}")
        labels[m.group(1)] = _unescape(m.group(2))
        at = m.end()
    return labels


def parse_metrics(text):
    """Prometheus text -> Metrics. A line that is neither a comment, blank nor a sample raises
    ValueError (a server that writes one is wrong, and a check should say so)."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"not a metrics line: {line!r}")
        name, labels, value = m.groups()
        samples.append(Sample(name, _labels(labels or "", line), float(value)))
    return Metrics(samples)


class Metrics:
    """One scrape's samples. `m[name]` and `m.total(name, **labels)` sum the series of `name`
    whose labels include `labels` (compared as strings); `name in m` says whether any exists."""

    def __init__(self, samples):
        self.samples = list(samples)

    def __iter__(self):
        return iter(self.samples)

    def __len__(self):
        return len(self.samples)

    def __contains__(self, name):
        return any(s.name == name for s in self.samples)

    def __getitem__(self, name):
        if name not in self:
            raise KeyError(name)
        return self.total(name)

    def get(self, name, default=None):
        return self.total(name) if name in self else default

    def series(self, name, **labels):
        """The samples of `name` whose labels include `labels`."""
        want = {k: str(v) for k, v in labels.items()}
        return [s for s in self.samples if s.name == name and all(s.labels.get(k) == v for k, v in want.items())]

    def total(self, name, **labels):
        """The sum of `name` over the series whose labels include `labels` (0 if there is none)."""
        return sum(s.value for s in self.series(name, **labels))

    def buckets(self, name, **labels):
        """A histogram's cumulative buckets [(le, count)], le ascending (`+Inf` last), summed over
        the series whose labels include `labels`."""
        counts = {}
        for s in self.series(name + "_bucket", **labels):
            le = float(s.labels["le"])
            counts[le] = counts.get(le, 0) + s.value
        return sorted(counts.items(), key=lambda kv: (math.isinf(kv[0]), kv[0]))


def fetch(where, timeout=10):
    """GET /metrics from a port on loopback or a base URL (http://host:port), parsed."""
    if isinstance(where, int):
        host, port = "127.0.0.1", where
    else:
        host, _, port = where.split("//", 1)[-1].rstrip("/").rpartition(":")
    c = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        c.request("GET", "/metrics")
        resp = c.getresponse()
        text = resp.read().decode("utf-8", "replace")
    finally:
        c.close()
    if resp.status != 200:
        raise RuntimeError(f"GET {host}:{port}/metrics answered {resp.status}")
    return parse_metrics(text)
