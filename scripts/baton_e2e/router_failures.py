"""The router's failure rules (docs/architecture.md) proven on real processes.

Usage: router_failures.py BATON_BINARY [--checks 123456789] [--chaos-seconds 60]

Starts `baton engine` processes (SmolLM2, `--threads 1`, 256 MiB KV, a 3 s KV lease with 0.5 s
heartbeats): a prefill p1 (`kv_producer`) and a decode d1 (`kv_consumer`), for check 9 also p2
and d2; tiny fake engines (Python http.server threads) that fail on purpose; and, per check, a
`baton router` in front of them (split from 32 uncached tokens, health checks every 0.5 s).
Reference answers come from d1 alone (temperature 0): a routed answer must be the same text
and finish_reason. After each check that touched them, the engines must be idle and hold no KV
blocks within the lease, and the router must count no request in flight.

  1. prefill unreachable: a --prefill URL nobody listens on beside p1: long prompts answer right,
     all on the split path; the dead one cost a retry or was ejected by the health checks. The
     only prefill unreachable with --prefill-failure fail: a 503 well under a second (loopback
     refuses a connection at once)
  2. prefill 5xx: a fake prefill answering 500 beside p1 -> retried on p1 (the fake got the
     prefill body: max_tokens 1, stream false, do_remote_decode, the upstream key); the fake
     alone with --prefill-failure local -> the decode prefills (prefill_failed fallback), right
     answer; with --prefill-failure fail -> 503 with Retry-After and an OpenAI error
  3. prefill past --prefill-timeout: a fake that never answers; the router hangs up on it at the
     timeout and the decode answers right
  4. a prefill's 4xx (temperature -1) reaches the client as the engine wrote it; no retry, no
     decode call, the prefill not ejected
  5. decodes failing before their first byte (a fake closing the connection unanswered, a fake
     answering 503) beside d1: every request answers right, a split one with the prefill's
     kv_transfer_params retried on d1 (which pulls them: no lease expires on p1); the closing
     fake gets each of its requests twice (a close before any answer is sent again once)
  6. the only decode killed (SIGKILL) mid-stream: an SSE error event, [DONE], the end
  7. the client going away mid-stream (RST, and FIN), mid-answer not streamed (RST) and during
     the prefill (FIN): the engines abort the request within seconds, the router ejects nobody
     and counts the request out of every endpoint, no blocks stay held
  8. every decode busy (--max-in-flight 1): 429 with Retry-After, and the slot comes back when
     the busy client leaves; no decode healthy (d1 killed: ejected within 4 health intervals,
     the other never up): 503 with Retry-After, the router's /health 503
  9. chaos (chaos_router) for --chaos-seconds (default 60), a random engine
     killed -9 and restarted every 10 s (every third of a run shorter than 30 s), 16 streaming
     clients: nothing fails before its first byte, every stream ends complete or with an error
     event, nothing stays running or held

One line per finding, with figures; the first failure exits 1 with a message on stderr (the
processes' log tails on stdout; whole logs stay in a temporary folder). The last line is
"router failure checks passed". Python 3 standard library only; the engines, ports and metrics
helpers are pd_e2e's, checks' and metrics', the router process and SSE client chaos_router's
(all of this package).
"""
import argparse
import collections
import http.client
import json
import os
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import chaos_router, pd_e2e
from .chaos_router import RUNNING, WAITING, Router, body_for, long_prompt, short_prompt, stream
from .checks import CheckFailed, check, get, poll, say
from .engines import free_port
from .metrics import parse_metrics
from .pd_e2e import API_KEY, CHAT, COMPLETIONS, EXPIRED, HELD, KV, Engine
from .pd_proxy import call, prefill_body

LEASE, HEARTBEAT = 3, 0.5
THRESHOLD = 32
ROUTER_DEFAULTS = {"split_threshold": THRESHOLD, "health_interval": 0.5, "scrape_interval": 0.5}
TOPOLOGY = {"p1": "kv_producer", "d1": "kv_consumer", "p2": "kv_producer", "d2": "kv_consumer"}
NEEDS = {"1": ["p1", "d1"], "2": ["p1", "d1"], "3": ["d1"], "4": ["p1", "d1"], "5": ["p1", "d1"],
         "6": ["p1", "d1"], "7": ["p1", "d1"], "8": ["p1", "d1"], "9": ["p1", "d1", "p2", "d2"]}


# MARK: - Fake engines


class Fake:
    """A fake engine on a loopback port that fails on purpose. GET /health answers 200 (an engine
    whose generation is broken while its health endpoint is fine: what health checks miss), GET
    /metrics an empty page. Every POST is recorded, then answered by `mode`:

      "500" / "503"  that status with an OpenAI-shaped error body
      "close"        the connection closed without a byte of answer
      "sleep"        nothing for `delay` s (the moment the caller hangs up is recorded), then 500
    """

    def __init__(self, name, mode, delay=30.0):
        self.name, self.mode, self.delay = name, mode, delay
        self.posts = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == "/health":
                    self.answer(200, b"", "text/plain")
                elif self.path == "/metrics":
                    self.answer(200, b"# a fake engine\n", "text/plain")
                else:
                    self.answer(404, json.dumps({"error": {"message": "not here", "type": "invalid_request_error"}}).encode())

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                post = {"path": self.path, "body": body, "headers": {k.lower(): v for k, v in self.headers.items()},
                        "at": time.monotonic(), "hung_up": None}
                with fake.lock:
                    fake.posts.append(post)
                if fake.mode == "close":
                    self.close_connection = True
                    return
                if fake.mode == "sleep":
                    post["hung_up"] = self.wait_for_hang_up(fake.delay)
                    if post["hung_up"] is not None:
                        self.close_connection = True
                        return
                status = 503 if fake.mode == "503" else 500
                error = {"error": {"message": f"fake {fake.name} fails on purpose", "type": "server_error", "param": None, "code": None}}
                try:
                    self.answer(status, json.dumps(error).encode())
                except OSError:
                    self.close_connection = True

            def wait_for_hang_up(self, seconds):
                """The moment the caller closed the connection, or None after `seconds`."""
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline and not fake.stopping.is_set():
                    readable, _, _ = select.select([self.connection], [], [], 0.02)
                    if readable:
                        try:
                            if self.connection.recv(1, socket.MSG_PEEK) == b"":
                                return time.monotonic()
                        except OSError:
                            return time.monotonic()
                        time.sleep(0.02)
                return None

            def answer(self, status, data, content_type="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def tail(self):
        with self.lock:
            return f"{len(self.posts)} POSTs: " + "; ".join(f"{p['path']} kv_transfer_params={json.dumps(p['body'].get('kv_transfer_params'))[:120]}"
                                                           for p in self.posts[-5:] if isinstance(p["body"], dict))


# MARK: - The harness


class Harness:
    """The engines (started once, restarted when a check killed one), and per check its routers
    and fakes (stopped when the check ends)."""

    def __init__(self, binary, model, logdir):
        self.binary, self.model, self.logdir = binary, model, logdir
        self.secret = secrets.token_hex(16)
        self.engines = {}
        self.routers, self.fakes, self.all_routers = [], [], []
        self.references = {}

    def start(self, names):
        fresh = []
        for name in names:
            if name not in self.engines:
                kv = KV(TOPOLOGY[name], self.secret, lease_s=LEASE, heartbeat_s=HEARTBEAT)
                self.engines[name] = Engine(name, self.binary, self.model, self.logdir, kv)
                self.engines[name].start()
                fresh.append(self.engines[name])
        for e in fresh:
            e.wait_healthy()

    def up(self, name):
        """Engine `name`, running and healthy (restarted on its ports if a check killed it)."""
        e = self.engines[name]
        if e.proc.poll() is not None:
            t0 = time.monotonic()
            e.start()
            e.wait_healthy()
            say(f"  ({name} restarted on :{e.port} in {time.monotonic() - t0:.1f} s)")
        return e

    def router(self, name, prefill, decode, **options):
        r = Router(name, self.binary, self.logdir, prefill, decode, **{**ROUTER_DEFAULTS, **options})
        self.routers.append(r)
        self.all_routers.append(r)
        return r.start()

    def fake(self, name, mode, delay=30.0):
        f = Fake(name, mode, delay)
        self.fakes.append(f)
        return f

    def end_check(self):
        for r in self.routers:
            r.stop()
        for f in self.fakes:
            f.stop()
        self.routers, self.fakes = [], []

    def reference(self, path, body):
        """d1's own answer to `body` (the local path, no router): what a routed answer must say."""
        key = path + json.dumps(body, sort_keys=True)
        if key not in self.references:
            reply = call(self.up("d1").url, path, body, api_key=API_KEY, timeout=120)
            check(reply.ok, f"reference answer from d1 failed: {reply.status} {reply.error or reply.body}")
            self.references[key] = reply
        return self.references[key]

    def stop(self):
        self.end_check()
        for e in self.engines.values():
            e.stop()

    def tails(self):
        out = [f"--- {e.name} ({e.log_path}) ---\n{e.tail()}" for e in self.engines.values() if e.proc]
        out += [f"--- router {r.name} ({r.log_path}) ---\n{r.tail()}" for r in self.all_routers[-3:]]
        out += [f"--- fake {f.name} ---\n{f.tail()}" for f in self.fakes]
        return "\n".join(out)


def same(got, want, what):
    """A routed answer says what d1 said alone (text, finish_reason, completion tokens)."""
    pd_e2e.same_answer(got, want, what)


def settled(what, engines, router=None, within=LEASE + 2):
    """Seconds until every engine is idle and holds no KV blocks (and the router counts nothing in
    flight); a CheckFailed after `within` s."""

    def state():
        values = {e.name: e.metrics() for e in engines}
        return values, all(v.get(RUNNING) == 0 and v.get(WAITING) == 0 and v.get(HELD) == 0 for v in values.values())

    took = poll(lambda: state()[1], within, interval=0.1)
    values, _ = state()
    check(took is not None, f"{what}: not settled {within} s later: " + ", ".join(
        f"{n} running {v.get(RUNNING)} waiting {v.get(WAITING)} held {v.get(HELD)}" for n, v in values.items()))
    if router is not None:
        in_flight = {ep["url"]: ep["in_flight"] for entries in router.pools().values() for ep in entries}
        check(all(v == 0 for v in in_flight.values()), f"{what}: the router still counts requests in flight: {in_flight}")
    return took


def is_openai_error(body):
    e = body.get("error") if isinstance(body, dict) else None
    return isinstance(e, dict) and isinstance(e.get("message"), str) and e["message"] and "type" in e and "param" in e and "code" in e


def retry_after(headers):
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    return int(value) if value is not None and value.strip().isdigit() else None


def counts(r, name, key, **labels):
    values = r.metrics()
    return {ls.get(key): v for n, ls, v in values if n == name and all(ls.get(k) == x for k, x in labels.items())}


# MARK: - Checks


def check_prefill_unreachable(h):
    p1, d1 = h.up("p1"), h.up("d1")
    dead = f"http://127.0.0.1:{free_port()}"
    r = h.router("unreachable", [dead, p1.url], [d1.url], prefill_tries=2)
    cases = [(COMPLETIONS, body_for(COMPLETIONS, long_prompt("unreachable-a"), 12)),
             (CHAT, body_for(CHAT, long_prompt("unreachable-b"), 12)),
             (COMPLETIONS, body_for(COMPLETIONS, long_prompt("unreachable-c"), 12, stream_=True))]
    seconds = []
    for i, (path, body) in enumerate(cases):
        got = call(r.url, path, body, timeout=120)
        seconds.append(got.seconds)
        same(got, h.reference(path, body), f"1 request {i}")
    split = r.value("baton_router_decisions_total", path="split", reason="long_prompt")
    retries = r.value("baton_router_retries_total", role="prefill")
    fallbacks = r.value("baton_router_fallbacks_total")
    dead_entry = r.endpoint(dead)
    check(split == len(cases) and fallbacks == 0,
          f"1: {split:.0f} of {len(cases)} requests went split, {fallbacks:.0f} fell back, with p1 healthy ({r.counters()})")
    check(retries >= 1 or dead_entry["state"] in ("ejected", "probing"),
          f"1: the unreachable prefill cost no retry and is {dead_entry['state']} ({r.counters()})")
    took = settled("1", [p1, d1], r)
    say(f"1a. prefill unreachable beside p1: {len(cases)} long prompts answered as d1 alone does, all split on p1 "
        f"({', '.join(f'{s:.1f}' for s in seconds)} s); retries{{prefill}} {retries:.0f}; the dead prefill is "
        f"{dead_entry['state']} ({(dead_entry.get('last_error') or '')[:80]}); engines settled in {took:.1f} s")

    # b. How long a refused connection costs: the only prefill unreachable, --prefill-failure fail,
    # the request sent as the router starts (its first health check has not ejected the prefill
    # yet, or has: either way nothing listens, and loopback refuses at once).
    dead = f"http://127.0.0.1:{free_port()}"
    r = h.router("unreachable-fail", [dead], [d1.url], prefill_failure="fail")
    got = call(r.url, COMPLETIONS, body_for(COMPLETIONS, long_prompt("unreachable-fail"), 10), timeout=60)
    check(got.status == 503 and retry_after(got.headers) and is_openai_error(got.body),
          f"1b: the only prefill unreachable, policy fail: got {got.status} {got.headers.get('retry-after')!r} {json.dumps(got.body)[:300]}")
    check(got.seconds < 1.0, f"1b: a prefill whose port refuses connections cost {got.seconds:.2f} s before the 503 "
          f"(connect timeout {r.options.get('connect_timeout', 2)} s): a refused connection is waited on, not failed at once "
          f"({r.endpoint(dead).get('last_error')})")
    say(f"1b. the only prefill unreachable, --prefill-failure fail: 503 in {got.seconds * 1000:.0f} ms, Retry-After {retry_after(got.headers)}")


def check_prefill_5xx(h):
    p1, d1 = h.up("p1"), h.up("d1")
    # a. beside a healthy prefill: retried there.
    fake = h.fake("prefill-500", "500")
    r = h.router("5xx-retry", [fake.url, p1.url], [d1.url], prefill_tries=2)
    # Until the fake was tried (it ties with p1 for the first pick; turns break ties), at most 5.
    cases = []
    while len(cases) < 5 and (len(cases) < 2 or not fake.posts):
        i = len(cases)
        path = (CHAT, COMPLETIONS)[i % 2]
        body = body_for(path, long_prompt(f"five-hundred-{i}"), 10, stream_=i == 1)
        cases.append(body)
        time.sleep(1.2 if i else 0)  # the fake's ejection backoff is over and a health check took it back
        same(call(r.url, path, body, timeout=120), h.reference(path, body), f"2a request {i}")
    retries = r.value("baton_router_retries_total", role="prefill")
    split = r.value("baton_router_decisions_total", path="split", reason="long_prompt")
    check(fake.posts, "2a: the fake prefill never got a request")
    check(retries >= len(fake.posts) and split == len(cases) and r.value("baton_router_fallbacks_total") == 0,
          f"2a: {len(fake.posts)} requests to the 500 prefill, retries{{prefill}} {retries:.0f}, {split:.0f} of {len(cases)} split ({r.counters()})")
    sent = fake.posts[0]
    kv = sent["body"].get("kv_transfer_params") or {}
    check(sent["body"].get("max_tokens") == 1 and sent["body"].get("stream") is False and "stream_options" not in sent["body"]
          and kv.get("do_remote_decode") is True and kv.get("do_remote_prefill") is False,
          f"2a: the prefill call's body is not the prefill shape: {json.dumps(sent['body'])[:400]}")
    check(sent["headers"].get("authorization") == f"Bearer {API_KEY}", f"2a: the prefill call carried {sent['headers'].get('authorization')!r}, not the upstream key")
    settled("2a", [p1, d1], r)
    say(f"2a. prefill answering 500 beside p1: {len(cases)} long prompts answered right, all split; the fake got "
        f"{len(fake.posts)} (max_tokens 1, stream false, do_remote_decode, the upstream key), retries{{prefill}} {retries:.0f}")

    # b. alone, --prefill-failure local: the decode prefills.
    fake_b = h.fake("prefill-500-alone", "500")
    r = h.router("5xx-local", [fake_b.url], [d1.url], prefill_failure="local")
    path, body = COMPLETIONS, body_for(COMPLETIONS, long_prompt("five-hundred-local"), 10)
    got = call(r.url, path, body, timeout=120)
    same(got, h.reference(path, body), "2b")
    decisions = counts(r, "baton_router_decisions_total", "reason", path="local")
    fallbacks = r.value("baton_router_fallbacks_total", reason="prefill_failed")
    check(len(fake_b.posts) == 1 and decisions.get("prefill_failed") == 1 and fallbacks == 1,
          f"2b: fake got {len(fake_b.posts)}, local decisions {decisions}, fallbacks{{prefill_failed}} {fallbacks:.0f} ({r.counters()})")
    settled("2b", [d1], r)
    say(f"2b. the 500 prefill alone, --prefill-failure local: answered right by d1 in {got.seconds:.1f} s; "
        f"decisions{{local,prefill_failed}} 1, fallbacks{{prefill_failed}} 1")

    # c. alone, --prefill-failure fail: 503 with Retry-After.
    fake_c = h.fake("prefill-500-fail", "500")
    r = h.router("5xx-fail", [fake_c.url], [d1.url], prefill_failure="fail")
    got = call(r.url, COMPLETIONS, body_for(COMPLETIONS, long_prompt("five-hundred-fail"), 10), timeout=60)
    wait = retry_after(got.headers)
    check(got.status == 503 and wait is not None and wait >= 1 and is_openai_error(got.body),
          f"2c: got {got.status}, Retry-After {got.headers.get('retry-after')!r}, body {json.dumps(got.body)[:300]}")
    none = r.value("baton_router_decisions_total", path="none", reason="prefill_failed")
    check(len(fake_c.posts) == 1 and none == 1 and r.value("baton_router_fallbacks_total") == 0,
          f"2c: fake got {len(fake_c.posts)}, decisions{{none,prefill_failed}} {none:.0f} ({r.counters()})")
    say(f"2c. the 500 prefill alone, --prefill-failure fail: 503 in {got.seconds * 1000:.0f} ms, Retry-After {wait}, "
        f"{got.body['error']['type']}: {got.body['error']['message']!r}")


def check_prefill_timeout(h):
    d1 = h.up("d1")
    timeout = 1.5
    # How long d1 takes alone for a prompt of this size (its prefix cache does not hold it).
    size_probe = body_for(COMPLETIONS, long_prompt("timeout-size-probe"), 10)
    alone = call(d1.url, COMPLETIONS, size_probe, api_key=API_KEY, timeout=120)
    check(alone.ok, f"3: d1 alone failed: {alone.status} {alone.body}")
    slow = h.fake("prefill-sleeps", "sleep", delay=30)
    r = h.router("timeout", [slow.url], [d1.url], prefill_timeout=timeout, prefill_failure="local")
    path, body = COMPLETIONS, body_for(COMPLETIONS, long_prompt("timeout-case"), 10)
    got = call(r.url, path, body, timeout=120)
    same(got, h.reference(path, body), "3")
    check(len(slow.posts) == 1, f"3: the sleeping prefill got {len(slow.posts)} requests")
    post = slow.posts[0]
    gave_up = None if post["hung_up"] is None else post["hung_up"] - post["at"]
    check(gave_up is not None and timeout - 0.05 <= gave_up <= timeout + 1.0,
          f"3: the router hung up on the prefill after {gave_up} s (timeout {timeout} s)")
    check(timeout <= got.seconds <= timeout + alone.seconds + 3,
          f"3: answered in {got.seconds:.1f} s; timeout {timeout} s and d1 alone takes {alone.seconds:.1f} s")
    decisions = counts(r, "baton_router_decisions_total", "reason", path="local")
    check(decisions.get("prefill_failed") == 1, f"3: local decisions {decisions} ({r.counters()})")
    settled("3", [d1], r)
    say(f"3. prefill past --prefill-timeout {timeout} s: the router hung up on it after {gave_up:.2f} s, d1 answered right; "
        f"{got.seconds:.1f} s in all (d1 alone {alone.seconds:.1f} s)")


def check_prefill_4xx(h):
    p1, d1 = h.up("p1"), h.up("d1")
    r = h.router("4xx", [p1.url], [d1.url])
    findings = []
    for path, tag in ((COMPLETIONS, "bad-temperature-c"), (CHAT, "bad-temperature-chat")):
        body = body_for(path, long_prompt(tag), 10, temperature=-1)
        direct = call(p1.url, path, prefill_body(body), api_key=API_KEY, timeout=60)
        check(400 <= direct.status < 500 and is_openai_error(direct.body), f"4: p1 itself answered {direct.status} {direct.body}")
        got = call(r.url, path, body, timeout=60)
        check(got.status == direct.status and got.body == direct.body,
              f"4 {path}: the client got {got.status} {json.dumps(got.body)[:300]}; p1 answers {direct.status} {json.dumps(direct.body)[:300]}")
        findings.append(f"{path} {got.status} {got.body['error'].get('param')!r}: {got.body['error']['message']!r}")
    split = r.value("baton_router_decisions_total", path="split", reason="long_prompt")
    codes = counts(r, "baton_router_requests_total", "code", path="split")
    retries = r.value("baton_router_retries_total")
    state = r.state(p1.url)
    check(split == 2 and codes == {"400": 2} and retries == 0 and state == "healthy",
          f"4: decisions{{split}} {split:.0f}, requests{{split}} {codes}, retries {retries:.0f}, p1 {state} ({r.counters()})")
    settled("4", [p1, d1], r)
    say(f"4. a prefill's 4xx passes through as p1 wrote it, on the split path, no retry, p1 still healthy: " + "; ".join(findings))


def check_decode_before_first_byte(h):
    p1, d1 = h.up("p1"), h.up("d1")
    closer, busy = h.fake("decode-closes", "close"), h.fake("decode-503", "503")
    r = h.router("decode-retry", [p1.url], [closer.url, busy.url, d1.url], decode_tries=3)
    expired = p1.metric(EXPIRED)
    shapes = [(CHAT, "long", True), (COMPLETIONS, "long", False), (COMPLETIONS, "short", True), (CHAT, "short", False)]

    def split_hit_a_fake():
        return any((p["body"].get("kv_transfer_params") or {}).get("do_remote_prefill") is True for p in closer.posts + busy.posts)

    # Each shape once, then on until both fakes were tried and a split request met one (the
    # fakes tie with d1 for the pick; turns break ties), at most 8.
    cases, seconds = [], []
    while len(cases) < 8 and (len(cases) < len(shapes) or not (closer.posts and busy.posts and split_hit_a_fake())):
        i = len(cases)
        path, size, streamed = shapes[i % len(shapes)]
        prompt = long_prompt(f"decode-retry-{i}") if size == "long" else short_prompt(f"decode-retry-{i}")
        body = body_for(path, prompt, 10, stream_=streamed)
        cases.append(body)
        time.sleep(1.2 if i else 0)  # the fakes are taken back by a health check between requests
        got = call(r.url, path, body, timeout=120)
        seconds.append(got.seconds)
        same(got, h.reference(path, body), f"5 request {i} ({size}, {path})")
    retries = r.value("baton_router_retries_total", role="decode")
    fakes = closer.posts + busy.posts
    with_params = [p for p in fakes if (p["body"].get("kv_transfer_params") or {}).get("do_remote_prefill") is True]
    check(closer.posts and busy.posts, f"5: the closing fake got {len(closer.posts)} requests, the 503 fake {len(busy.posts)}")
    # A connection closed before any answer may be one the engine closed as the request arrived,
    # so the router sends the request once more on a new connection before it counts a failure:
    # the closing fake sees every request it fails twice, the 503 fake once.
    ids = collections.Counter(p["headers"].get("x-request-id") for p in closer.posts)
    check(all(n == 2 for n in ids.values()), f"5: the closing fake's requests by id {dict(ids)}: each should come twice (sent, sent again)")
    failed = len(ids) + len(busy.posts)
    check(retries >= failed, f"5: {failed} requests failed on fake decodes but retries{{decode}} is {retries:.0f} ({r.counters()})")
    check(with_params, "5: no split request reached a fake decode first (nothing proves the retry keeps the prefill's kv_transfer_params)")
    took = settled("5", [p1, d1], r)
    grew = p1.metric(EXPIRED) - expired
    check(grew == 0, f"5: {grew:.0f} of p1's holds ended by lease expiry: the retried decode did not pull the prefill's blocks")
    say(f"5. decodes failing before their first byte: {len(cases)} requests answered right by d1 "
        f"({', '.join(f'{x:.1f}' for x in seconds)} s); the closing fake got "
        f"{len(ids)} (each sent again once: {len(closer.posts)} posts), the 503 fake {len(busy.posts)} ({len(with_params)} with p1's kv_transfer_params, then pulled by d1 "
        f"with no lease expiry); retries{{decode}} {retries:.0f}; settled in {took:.1f} s")


def check_decode_dies_mid_stream(h):
    p1, d1 = h.up("p1"), h.up("d1")
    r = h.router("mid-stream", [p1.url], [d1.url])
    killed = {}

    def on_event(event, result):
        content = sum(1 for e in result.events for c in e.get("choices") or [] if c.get("text") or (c.get("delta") or {}).get("content"))
        if content >= 3 and not killed:
            d1.kill9()
            killed["at"] = time.monotonic()
            killed["events"] = len(result.events)

    body = body_for(CHAT, long_prompt("mid-stream"), 1500, stream_=True)
    got = stream(r.url, CHAT, body, timeout=15, on_event=on_event)
    check(killed, f"6: the stream never brought 3 tokens: {got.describe()}")
    after = time.monotonic() - killed["at"]
    check(got.exception is None, f"6: after the decode was killed the stream did not end cleanly: {got.describe()}")
    check(got.error is not None and is_openai_error({"error": {"param": None, "code": None, **got.error}}),
          f"6: no SSE error event after the decode was killed: {got.describe()}")
    check(got.error_at == len(got.events) - 1 and got.done and got.ended and not got.after_done.strip(),
          f"6: the error event is not followed by [DONE] and the end: {got.describe()}, after [DONE] {got.after_done[:100]!r}")
    check(got.finish_reason is None, f"6: a finish_reason {got.finish_reason} came from a decode that was killed")
    settled("6", [p1], within=LEASE + 2)
    state = poll(lambda: r.state(d1.url) != "healthy", 3)
    check(state is not None, f"6: the killed decode is still {r.state(d1.url)} in the router")
    say(f"6. the only decode killed mid-stream after {killed['events']} events: an SSE error event "
        f"({got.error.get('code')}: {got.error['message'][:70]!r}), [DONE] and the end {after:.2f} s later; d1 now {r.state(d1.url)}")


def check_client_disconnect(h):
    p1, d1 = h.up("p1"), h.up("d1")
    r = h.router("disconnect", [p1.url], [d1.url])

    def aborted(engine):
        return parse_metrics(get(engine.url, "/metrics")[1]).total("vllm:request_success_total", finished_reason="abort")

    def stopped(what, engines, before):
        took = poll(lambda: all(e.metric(RUNNING) == 0 and e.metric(WAITING) == 0 for e in engines), 5, interval=0.05)
        check(took is not None, f"7 {what}: engines still busy 5 s after the client left: " + ", ".join(
            f"{e.name} running {e.metric(RUNNING):.0f} waiting {e.metric(WAITING):.0f}" for e in engines))
        grew = {e.name: aborted(e) - before[e.name] for e in engines}
        # A client going away says nothing about the engines: none may be ejected for it, and the
        # router must count the request out of every endpoint it counted it in.
        poll(lambda: all(r.endpoint(e.url)["in_flight"] == 0 for e in engines), 1)
        entries = {e.name: r.endpoint(e.url) for e in engines}
        check(all(ep["in_flight"] == 0 for ep in entries.values()), f"7 {what}: the router still counts the request in flight: "
              + ", ".join(f"{n} in_flight {ep['in_flight']}" for n, ep in entries.items()))
        check(all(ep["state"] == "healthy" for ep in entries.values()), f"7 {what}: the client going away got engines ejected: "
              + ", ".join(f"{n} {ep['state']} ({ep.get('last_error')})" for n, ep in entries.items()))
        return took, grew

    # a. streaming, mid-answer: split and going away with RST; local and going away with FIN.
    for tag, prompt, how in (("a", long_prompt("gone-stream"), "reset"), ("a2", short_prompt("gone-stream-fin"), "close")):
        before = {e.name: aborted(e) for e in (p1, d1)}
        got = stream(r.url, COMPLETIONS, body_for(COMPLETIONS, prompt, 1500, stream_=True), timeout=60,
                     on_event=lambda e, res: how if len(res.events) >= 3 else None)
        check(got.closed_by_client, f"7{tag}: the stream ended before the client could leave: {got.describe()}")
        took, grew = stopped(f"{tag} (stream, {how})", [d1, p1], before)
        check(grew["d1"] >= 1, f"7{tag}: d1 did not abort the request (request_success_total{{abort}} +{grew['d1']:.0f})")
        say(f"7{tag}. client gone mid-stream ({'split' if tag == 'a' else 'local'}, {'RST' if how == 'reset' else 'FIN'}) after "
            f"{len(got.events)} events: d1 idle {took:.2f} s later, aborted +{grew['d1']:.0f}, nobody ejected, nothing in flight")

    # b. not streaming, while the decode generates; going away with RST.
    before = {e.name: aborted(e) for e in (p1, d1)}
    conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=60)
    conn.request("POST", CHAT, json.dumps(body_for(CHAT, long_prompt("gone-whole"), 1500)).encode(), {"Content-Type": "application/json"})
    decoding = poll(lambda: d1.metric(RUNNING) >= 1, 60, interval=0.05)
    check(decoding is not None, f"7b: d1 never started decoding the request ({r.counters()})")
    time.sleep(0.5)
    chaos_router.hang_up(conn.sock, "reset")
    took, grew = stopped("b (not streamed, reset)", [d1, p1], before)
    check(grew["d1"] >= 1, f"7b: d1 did not abort the request (request_success_total{{abort}} +{grew['d1']:.0f})")
    say(f"7b. client gone (RST) while d1 decodes an answer not streamed: d1 idle {took:.2f} s later, aborted +{grew['d1']:.0f}, "
        f"nobody ejected, nothing in flight")

    # c. not streaming, during the prefill: ~420 prompt tokens keep p1 busy ~2 s in one step of
    # the debug build (its running gauge moves only between steps, so the clock says when it is
    # prefilling). Prefill got faster with the VNNI kernel: ~150 tokens took 0.55 s, and finished
    # before the client left.
    before = {e.name: aborted(e) for e in (p1, d1)}
    d1_requests = parse_metrics(get(d1.url, "/metrics")[1]).total("vllm:request_success_total")
    conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=60)
    conn.request("POST", COMPLETIONS, json.dumps(body_for(COMPLETIONS, long_prompt("gone-prefill", 22), 1500)).encode(),
                 {"Content-Type": "application/json"})
    time.sleep(0.5)
    chaos_router.hang_up(conn.sock, "close")
    left = time.monotonic()
    cancelled = poll(lambda: aborted(p1) > before["p1"], 5, interval=0.05)
    check(cancelled is not None, f"7c: p1 did not abort the prefill within 5 s of the client leaving during it ({r.counters()})")
    time.sleep(0.5)
    d1_now = parse_metrics(get(d1.url, "/metrics")[1]).total("vllm:request_success_total")
    check(d1_now == d1_requests and d1.metric(RUNNING) == 0, "7c: the request reached d1 after its client had left during the prefill")
    stopped("c (during the prefill)", [p1, d1], before)
    say(f"7c. client gone (FIN) during the prefill: p1 aborted it {cancelled:.2f} s later, d1 never called, nobody ejected, nothing in flight")
    settled("7", [p1, d1], r)
    say(f"7. no blocks held {time.monotonic() - left:.1f} s after the last client left (lease {LEASE} s)")


def check_busy_and_no_decode(h):
    p1, d1 = h.up("p1"), h.up("d1")
    dead = f"http://127.0.0.1:{free_port()}"
    r = h.router("limits", [p1.url], [d1.url, dead], max_in_flight=1)
    check(poll(lambda: r.state(dead) != "healthy", 5) is not None, "8: the dead decode was never ejected")
    # 429: the only live decode holds one request (short prompts: the local path).
    holder = {}

    def hold():
        holder["result"] = stream(r.url, CHAT, body_for(CHAT, short_prompt("busy-holder"), 1500, stream_=True), timeout=60,
                                  on_event=lambda e, res: "close" if holder.get("release") else holder.setdefault("streaming", True) and None)

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    check(poll(lambda: holder.get("streaming"), 60) is not None, f"8: the holding stream never started: {holder}")
    busy = [stream(r.url, CHAT, body_for(CHAT, short_prompt("busy-2"), 20, stream_=True), timeout=30),
            stream(r.url, COMPLETIONS, body_for(COMPLETIONS, short_prompt("busy-3"), 20), timeout=30)]
    for i, got in enumerate(busy):
        check(got.status == 429 and retry_after(got.headers) and is_openai_error(got.body),
              f"8 busy {i}: expected 429 with Retry-After: got {got.status}, headers {got.headers}, {got.describe()}")
    overloaded = r.value("baton_router_decisions_total", path="none", reason="overloaded")
    holder["release"] = True
    t.join(30)
    check(not t.is_alive() and holder["result"].closed_by_client, f"8: the holding stream did not end: {holder.get('result')}")
    freed = poll(lambda: r.endpoint(d1.url)["in_flight"] == 0 and d1.metric(RUNNING) == 0, 5)
    check(freed is not None, f"8: after the busy client left, the router counts {r.endpoint(d1.url)['in_flight']} in flight on d1")
    path, body = COMPLETIONS, body_for(COMPLETIONS, short_prompt("busy-after"), 10)
    same(call(r.url, path, body, timeout=60), h.reference(path, body), "8 after the busy client left")
    check(overloaded == 2, f"8: decisions{{none,overloaded}} {overloaded:.0f} ({r.counters()})")
    say(f"8a. every decode busy (--max-in-flight 1): 429 with Retry-After {retry_after(busy[0].headers)} s in "
        f"{max(g.seconds for g in busy) * 1000:.0f} ms ({busy[0].body['error']['type']}); the slot came back {freed:.2f} s after the holder left")

    # 503: the decodes dead.
    d1.kill9()
    ejected = poll(lambda: r.state(d1.url) != "healthy", 10, interval=0.05)
    check(ejected is not None, f"8: the killed decode is still {r.state(d1.url)} 10 s later")
    interval = ROUTER_DEFAULTS["health_interval"]
    check(ejected <= 4 * interval, f"8: the killed decode was ejected {ejected:.2f} s after the kill, with health checks every {interval} s "
          f"({r.endpoint(d1.url).get('last_error')})")
    got = call(r.url, COMPLETIONS, body_for(COMPLETIONS, long_prompt("no-decode"), 10), timeout=30)
    wait = retry_after(got.headers)
    check(got.status == 503 and wait and is_openai_error(got.body),
          f"8: with no healthy decode got {got.status}, Retry-After {got.headers.get('retry-after')!r}, {json.dumps(got.body)[:300]}")
    health = get(r.url, "/health")[0]
    check(health == 503, f"8: the router's /health answers {health} with no decode healthy")
    none = r.value("baton_router_decisions_total", path="none", reason="no_decode_healthy")
    check(none == 1, f"8: decisions{{none,no_decode_healthy}} {none:.0f} ({r.counters()})")
    settled("8", [p1], within=LEASE + 2)
    say(f"8b. no decode healthy (d1 killed, ejected {ejected:.2f} s later; the other never up): 503 in {got.seconds * 1000:.0f} ms, "
        f"Retry-After {wait}, {got.body['error']['message']!r}; /health 503")


def check_chaos(h, seconds):
    engines = [h.up(n) for n in ("p1", "p2", "d1", "d2")]
    say(f"9. chaos ({seconds:.0f} s):")
    chaos_router.run_chaos(h.binary, h.logdir, engines[:2], engines[2:], seconds=seconds, clients=16,
                           kill_every=min(10, seconds / 3), lease=LEASE, read_timeout=90, routers=h.all_routers)
    say("9. passed")


CHECKS = {
    "1": check_prefill_unreachable, "2": check_prefill_5xx, "3": check_prefill_timeout, "4": check_prefill_4xx,
    "5": check_decode_before_first_byte, "6": check_decode_dies_mid_stream, "7": check_client_disconnect,
    "8": check_busy_and_no_decode,
}


# MARK: - Main


def run(args):
    binary = os.path.abspath(args.binary)
    check(os.access(binary, os.X_OK), f"{binary} is not an executable (build it: swift build --product baton)")
    if not os.environ.get("BATON_MODEL"):
        pulled = subprocess.run([binary, "model", "pull", pd_e2e.MODEL], capture_output=True, text=True)
        check(pulled.returncode == 0, f"baton model pull failed: {pulled.stderr}")
    check(os.path.isfile(pd_e2e.model_path()), f"the model is not at {pd_e2e.model_path()}")
    logdir = tempfile.mkdtemp(prefix="router-failures-")
    h = Harness(binary, os.environ.get("BATON_MODEL") or pd_e2e.MODEL, logdir)
    t0 = time.monotonic()
    try:
        names = sorted({n for k in args.checks for n in NEEDS[k]}, key=list(TOPOLOGY).index)
        h.start(names)
        say(f"engines up in {time.monotonic() - t0:.1f} s: " + ", ".join(
            f"{n} :{h.engines[n].port} ({h.engines[n].kv.role}, kv :{h.engines[n].kv.port})" for n in names)
            + f"; lease {LEASE} s; logs in {logdir}")
        for k in sorted(args.checks):
            started = time.monotonic()
            try:
                if k == "9":
                    check_chaos(h, args.chaos_seconds)
                else:
                    CHECKS[k](h)
            finally:
                h.end_check()
            say(f"   ({k}: {time.monotonic() - started:.1f} s)")
    except Exception as e:  # noqa: BLE001 -- any failure: say it, show the logs
        print(h.tails(), flush=True)  # stdout: the Swift test reads it first, stderr stays small
        print(f"FAIL: {e}" if isinstance(e, CheckFailed) else f"FAIL: {traceback.format_exc()}", file=sys.stderr)
        return 1
    finally:
        h.stop()
    say(f"all in {time.monotonic() - t0:.0f} s")
    say("router failure checks passed")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", help="the baton executable, e.g. .build/debug/baton")
    ap.add_argument("--checks", default="123456789", help="which checks to run (default 123456789)")
    ap.add_argument("--chaos-seconds", type=float, default=60,
                    help="length of check 9's chaos run, an engine killed every 10 s (every third of a run under 30 s; default 60)")
    args = ap.parse_args()
    unknown = set(args.checks) - set(NEEDS)
    if unknown:
        ap.error(f"unknown checks {''.join(sorted(unknown))}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the finally that stops the processes runs
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
