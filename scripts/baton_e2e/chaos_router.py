"""Chaos for `baton router`: engines killed and restarted under streaming load.

Usage: python3 scripts/chaos_router.py BATON_BINARY (or python3 -m baton_e2e.chaos_router from scripts/) [--seconds 60] [--clients 16] [--kill-every 10] [--seed N]

Starts 2 prefill (`kv_producer`) and 2 decode (`kv_consumer`) `baton engine` processes (SmolLM2,
`--threads 1`, a 3 s KV lease) and `baton router` in front of them. `--clients` threads stream
requests through the router (`--wait-for-decode 30`, as under `baton serve`) for `--seconds`
(chat and completions, short prompts that go the local path and long ones that are split),
while every `--kill-every` seconds a random engine is killed with SIGKILL and restarted on the
same ports. Every request is recorded:

  failed before its first byte   must not happen: a 503/429 counts too, unless at some moment
                                 between sending and the answer no engine of one role was alive
  complete                       [DONE] after a finish_reason, the connection ended
  error event                    an SSE `data: {"error":…}` then [DONE], the connection ended
  broken / hang                  anything else: a stream cut without an error event, no end
                                 after [DONE], no byte for --read-timeout seconds

Afterwards every engine must report `vllm:num_requests_running` 0 and `baton_kv_blocks_held` 0
(within the lease) and the router no request in flight on any endpoint. Prints a summary table;
the last line is "chaos passed", else a message on stderr and exit 1 (logs' tails on stdout).

Also a library: `Router` (one `baton router` process), `stream()` (an SSE client that records
what came and when, and can go away mid-answer) and `run_chaos()`, which router_failures runs
as its check 9. Python 3 standard library only; the engines are pd_e2e's.
"""
import argparse
import http.client
import json
import os
import random
import secrets
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zlib
from dataclasses import dataclass, field

from . import pd_e2e
from .checks import CheckFailed, check, get, poll, say
from .engines import LoggedProcess, free_port
from .metrics import parse_metrics
from .pd_e2e import API_KEY, CHAT, COMPLETIONS, HELD, KV, Engine
from .pd_proxy import sse_data

RUNNING, WAITING = "vllm:num_requests_running", "vllm:num_requests_waiting"


# MARK: - The router process


class Router(LoggedProcess):
    """One `baton router` process in front of `prefill` and `decode` URLs; its log goes to a file
    in `logdir`. `options` are its flags, `split_threshold=32` for `--split-threshold 32`."""

    def __init__(self, name, binary, logdir, prefill, decode, **options):
        self.name, self.binary = name, binary
        self.prefill, self.decode = list(prefill), list(decode)
        self.options = {"tokenizer": tokenizer(), "upstream_api_key": API_KEY, "shutdown_timeout": 1, **options}
        self.port = free_port()
        self.log_path = os.path.join(logdir, f"router-{name}.log")
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def args(self):
        args = [self.binary, "router", "--port", str(self.port)]
        for p in self.prefill:
            args += ["--prefill", p]
        for d in self.decode:
            args += ["--decode", d]
        for key, value in self.options.items():
            args += ["--" + key.replace("_", "-"), str(value)]
        return args

    def start(self, timeout=30):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.args(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, f"router {self.name} exited with {self.proc.returncode}: {self.tail()}")
            try:
                if get(self.url, "/metrics", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise CheckFailed(f"router {self.name} not answering after {timeout} s: {self.tail()}")

    def metrics(self):
        status, text = get(self.url, "/metrics")
        check(status == 200, f"router {self.name} /metrics answered {status}")
        return parse_metrics(text)

    def value(self, name, **labels):
        return self.metrics().total(name, **labels)

    def counters(self):
        """The router's request, decision, retry and fallback counters, one short line."""
        values = self.metrics()
        parts = []
        for name, keys in (("baton_router_requests_total", ("path", "code")), ("baton_router_decisions_total", ("path", "reason")),
                           ("baton_router_retries_total", ("role",)), ("baton_router_fallbacks_total", ("reason",))):
            short = name.removeprefix("baton_router_").removesuffix("_total")
            items = [f"{'/'.join(ls.get(k, '') for k in keys)}={v:.0f}" for n, ls, v in values if n == name and v]
            parts.append(f"{short} {{{', '.join(items)}}}")
        return "; ".join(parts)

    def pools(self):
        status, text = get(self.url, "/admin/pools")
        check(status == 200, f"router {self.name} /admin/pools answered {status}")
        return json.loads(text)

    def endpoint(self, url):
        """`/admin/pools`' entry for `url`."""
        for entries in self.pools().values():
            for e in entries:
                if e["url"] == url:
                    return e
        raise CheckFailed(f"router {self.name}: {url} is not in /admin/pools")

    def state(self, url):
        return self.endpoint(url)["state"]



def tokenizer():
    """The router's --tokenizer: the model the engines load."""
    return os.environ.get("BATON_MODEL") or pd_e2e.MODEL


# MARK: - A streaming client


@dataclass
class Streamed:
    """What one request got, and when (seconds from sending)."""

    status: int = None
    headers: dict = field(default_factory=dict)
    body: object = None           # the parsed answer when it was not a stream
    events: list = field(default_factory=list)
    done: bool = False            # data: [DONE] came
    ended: bool = False           # the body ended after [DONE]
    after_done: bytes = b""       # bytes that came after [DONE]
    error: dict = None            # an SSE error event's "error", or a JSON error answer's
    error_at: int = None          # index in `events` of the (first) error event
    finish_reason: str = None
    text: str = ""
    first_byte: float = None      # the first SSE event
    seconds: float = None
    exception: str = None         # "timeout" (no byte for `timeout` s) or how the connection broke
    closed_by_client: bool = False

    @property
    def stream_ok(self):
        """A complete answer: [DONE] after a finish_reason, no error, the body ended."""
        return self.status == 200 and self.done and self.ended and self.error is None and self.finish_reason is not None and not self.exception

    @property
    def stream_error_ok(self):
        """A clean failure: an error event, then [DONE], then the end."""
        return self.status == 200 and self.error is not None and self.done and self.ended and not self.exception

    def describe(self):
        return (f"status {self.status}, {len(self.events)} events, done {self.done}, ended {self.ended}, "
                f"finish_reason {self.finish_reason}, error {json.dumps(self.error)[:300] if self.error else None}, "
                f"exception {self.exception}, body {json.dumps(self.body)[:300] if self.body is not None else None}")


def stream(url, path, body, timeout=60.0, on_event=None, api_key=None, request_id=None):
    """POSTs `body` and reads the answer; an SSE answer event by event. `on_event(event, result)` runs
    after each event; when it returns "close" or "reset" the client goes away there (see hang_up).
    `timeout` bounds every wait for bytes: a router that stops sending is a recorded "timeout"."""
    host, port = url.split("//")[1].split(":")
    result = Streamed()
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    start = time.monotonic()
    try:
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if request_id:
            headers["X-Request-Id"] = request_id
        conn.request("POST", path, json.dumps(body).encode(), headers)
        sock = conn.sock  # the response keeps reading it after the connection lets go (Connection: close)
        resp = conn.getresponse()
        result.status = resp.status
        result.headers = {k.lower(): v for k, v in resp.getheaders()}
        if resp.status != 200 or not result.headers.get("content-type", "").startswith("text/event-stream"):
            raw = resp.read()
            try:
                result.body = json.loads(raw)
            except ValueError:
                result.body = raw.decode("utf-8", "replace")
            if isinstance(result.body, dict):
                result.error = result.body.get("error")
                choice = (result.body.get("choices") or [{}])[0]
                result.text = choice.get("text") if "text" in choice else (choice.get("message") or {}).get("content") or ""
                result.finish_reason = choice.get("finish_reason")
            result.ended = True
            return result
        for data in sse_data(resp):
            if result.first_byte is None:
                result.first_byte = time.monotonic() - start
            if data == "[DONE]":
                result.done = True
                break
            event = json.loads(data)
            result.events.append(event)
            if "error" in event and result.error is None:
                result.error, result.error_at = event["error"], len(result.events) - 1
            for choice in event.get("choices") or []:
                result.text += (choice.get("text") if "text" in choice else (choice.get("delta") or {}).get("content")) or ""
                result.finish_reason = choice.get("finish_reason") or result.finish_reason
            how = on_event(event, result) if on_event else None
            if how in ("close", "reset"):
                result.closed_by_client = True
                hang_up(sock, how)
                return result
        if result.done:
            result.after_done = resp.read()  # the rest of the body: nothing, then the end
            result.ended = True
        else:
            result.exception = "the stream ended without [DONE]"
    except (socket.timeout, TimeoutError):
        result.exception = "timeout"
    except (OSError, http.client.HTTPException, ValueError) as e:
        result.exception = f"{type(e).__name__}: {e}"
    finally:
        result.seconds = time.monotonic() - start
        conn.close()
    return result


def hang_up(sock, how):
    """A client going away: "close" sends FIN (shutdown, then close), "reset" sends RST (SO_LINGER 0:
    what a killed client or one closing with unread bytes does)."""
    if how == "reset":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# MARK: - Prompts


def long_prompt(tag, sentences=3):
    """About 20 tokens a sentence after a tag that makes its first KV block its own."""
    return f"Dossier {tag}. " + " ".join(pd_e2e.sentences(zlib.crc32(tag.encode()), sentences + 1))


def short_prompt(tag):
    return f"Name one colour ({tag})."


def body_for(path, prompt, max_tokens, stream_=False, **extra):
    make = pd_e2e.chat if path == CHAT else pd_e2e.completion
    return make(prompt, max_tokens, stream=stream_, **extra)


# MARK: - Chaos


@dataclass
class Outcome:
    client: int
    kind: str           # chat / completion
    size: str           # short / long
    start: float        # seconds since the run began
    end: float
    result: Streamed

    @property
    def category(self):
        r = self.result
        if r.first_byte is None and not (r.status == 200 and r.events):
            return "before first byte"
        if r.stream_ok:
            return "complete"
        if r.stream_error_ok:
            return "error event"
        return "hang" if r.exception == "timeout" else "broken"


class Killer(threading.Thread):
    """Every `every` seconds kills a random engine with SIGKILL and restarts it on the same ports,
    recording when each engine was down."""

    def __init__(self, engines, every, until, t0, rng):
        super().__init__(daemon=True)
        self.engines, self.every, self.until, self.t0, self.rng = engines, every, until, t0, rng
        self.kills = []  # (engine, killed at, healthy at or None)
        self.stop_event = threading.Event()
        self.error = None

    def run(self):
        try:
            n = 1
            while not self.stop_event.wait(max(0.0, self.t0 + n * self.every - time.monotonic())):
                if time.monotonic() >= self.until - 0.5:
                    return
                e = self.rng.choice(self.engines)
                killed = time.monotonic()
                e.kill9()
                entry = [e, killed - self.t0, None]
                self.kills.append(entry)
                e.start()
                e.wait_healthy(timeout=120)
                entry[2] = time.monotonic() - self.t0
                n += 1
        except Exception as ex:  # noqa: BLE001 -- reported by the run
            self.error = ex

    def none_alive(self, role, start, end):
        """Whether at some moment in [start, end] every engine of `role` was down."""
        mine = [e for e in self.engines if e.kv.role == role]
        downs = {e.name: [(k, h if h is not None else float("inf")) for x, k, h in self.kills if x is e] for e in mine}
        # Only one engine is down at a time unless a restart outlasted the next kill: check the
        # moments each down interval begins.
        moments = [start] + [k for spans in downs.values() for k, _ in spans if start <= k <= end]
        return any(all(any(k <= t <= h for k, h in downs[e.name]) for e in mine) for t in moments)


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run_chaos(binary, logdir, prefills, decodes, seconds=60, clients=16, kill_every=10, lease=3, seed=None,
              read_timeout=90, routers=None):
    """Runs the chaos against already healthy engines; returns the summary lines, or raises
    CheckFailed. Every router started is appended to `routers` (so the caller can show its log)."""
    seed = seed if seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    engines = list(prefills) + list(decodes)
    # The killer restarts what it kills, as `baton serve`'s supervisor does: the router runs with
    # serve's --wait-for-decode 30, so a request that finds no decode up, or its prefill tries
    # used up by kills and the decode's queue full, waits for the pool to recover, not a 503.
    router = Router("chaos", binary, logdir, [e.url for e in prefills], [e.url for e in decodes],
                    split_threshold=32, health_interval=0.5, scrape_interval=0.5, wait_for_decode=30)
    if routers is not None:
        routers.append(router)
    router.start()
    say(f"  chaos: {seconds} s, {clients} streaming clients, a random engine killed every {kill_every} s (seed {seed}); "
        f"router :{router.port}; " + ", ".join(f"{e.name} :{e.port}" for e in engines) + f"; every request in {logdir}/chaos-requests.jsonl")
    try:
        with open(os.path.join(logdir, "chaos-requests.jsonl"), "w") as record:
            return _chaos(router, engines, seconds, clients, kill_every, lease, rng, read_timeout, record)
    finally:
        router.stop()


def _chaos(router, engines, seconds, clients, kill_every, lease, rng, read_timeout, record):
    t0 = time.monotonic()
    until = t0 + seconds
    outcomes, lock = [], threading.Lock()
    killer = Killer(engines, kill_every, until, t0, random.Random(rng.random()))

    def client(i):
        crng = random.Random(rng.random())
        n = 0
        while time.monotonic() < until:
            n += 1
            path = crng.choice([CHAT, COMPLETIONS])
            size = "long" if crng.random() < 0.5 else "short"
            tag = f"c{i}-{n}-{crng.randrange(1 << 20)}"
            prompt = long_prompt(tag, 2) if size == "long" else short_prompt(tag)
            body = body_for(path, prompt, crng.randint(8, 32), stream_=True)
            start = time.monotonic() - t0
            result = stream(router.url, path, body, timeout=read_timeout, request_id=f"chaos-{tag}")
            with lock:
                outcomes.append(Outcome(i, "chat" if path == CHAT else "completion", size, start, time.monotonic() - t0, result))
                record.write(json.dumps({
                    "request_id": f"chaos-{tag}", "wall_end": time.strftime("%H:%M:%S", time.gmtime()), "client": i, "kind": outcomes[-1].kind, "size": size, "start": round(start, 3),
                    "end": round(outcomes[-1].end, 3), "category": outcomes[-1].category, "status": result.status,
                    "first_byte": result.first_byte, "events": len(result.events), "done": result.done, "ended": result.ended,
                    "finish_reason": result.finish_reason, "error": result.error, "exception": result.exception,
                    "body": result.body if result.status != 200 else None}) + "\n")
                record.flush()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    killer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, until + read_timeout * 2 + 30 - time.monotonic()))
    stuck = sum(t.is_alive() for t in threads)
    killer.stop_event.set()
    killer.join(130)
    check(killer.error is None, f"chaos: restarting a killed engine failed: {killer.error}")
    check(stuck == 0, f"chaos: {stuck} client threads still waiting on their request long after the run")
    ran = time.monotonic() - t0

    # Afterwards: every engine up (the last restart may still run), idle, holding no blocks.
    for e in engines:
        if e.proc.poll() is not None:
            e.start()
        e.wait_healthy(timeout=120)
    t_settle = time.monotonic()

    def quiet():
        try:
            return all(e.metric(RUNNING) == 0 and e.metric(WAITING) == 0 and e.metric(HELD) == 0 for e in engines)
        except (OSError, CheckFailed):
            return False

    settled = poll(quiet, lease + 5, interval=0.2)
    engine_lines = []
    for e in engines:
        m = e.metrics()
        engine_lines.append(f"{e.name} running {m.get(RUNNING, -1):.0f} waiting {m.get(WAITING, -1):.0f} held {m.get(HELD, -1):.0f} "
                            f"lease-expired {m.get(pd_e2e.EXPIRED, 0):.0f}")
    healthy = poll(lambda: all(ep["state"] == "healthy" for entries in router.pools().values() for ep in entries), 35, interval=0.25)
    pools = router.pools()
    in_flight = {ep["url"]: ep["in_flight"] for entries in pools.values() for ep in entries}

    # The table.
    cats = ["complete", "error event", "before first byte", "broken", "hang"]
    cols = [("all", lambda o: True), ("chat", lambda o: o.kind == "chat"), ("compl", lambda o: o.kind == "completion"),
            ("short", lambda o: o.size == "short"), ("long", lambda o: o.size == "long")]
    lines = [f"  {'requests':<28}" + "".join(f"{c:>8}" for c, _ in cols)]
    for cat in cats:
        lines.append(f"  {cat:<28}" + "".join(f"{sum(1 for o in outcomes if o.category == cat and f(o)):>8}" for _, f in cols))
    lines.append(f"  {'total':<28}" + "".join(f"{sum(1 for o in outcomes if f(o)):>8}" for _, f in cols))
    early = [o for o in outcomes if o.category == "before first byte"]
    excused = [o for o in early if o.result.status in (429, 503)
               and any(killer.none_alive(role, o.start, o.end) for role in ("kv_producer", "kv_consumer"))]
    not_excused = [o for o in early if o not in excused]
    statuses = {}
    for o in early:
        key = o.result.status if o.result.status is not None else (o.result.exception or "?")[:40]
        statuses[key] = statuses.get(key, 0) + 1
    ttft = [o.result.first_byte for o in outcomes if o.result.first_byte is not None]
    durations = [o.result.seconds for o in outcomes]
    lines.append(f"  failed before the first byte: {len(early)} ({len(excused)} excused: no engine of the role alive; "
                 f"{len(not_excused)} not excused) {statuses or ''}")
    lines.append(f"  first byte p50 {percentile(ttft, 50):.2f} s, p95 {percentile(ttft, 95):.2f} s, max {max(ttft, default=float('nan')):.2f} s; "
                 f"request p50 {percentile(durations, 50):.2f} s, max {max(durations, default=float('nan')):.2f} s; "
                 f"{len(outcomes) / max(ran, 1e-9):.2f} requests/s over {ran:.0f} s")
    lines.append("  kills: " + (", ".join(f"{e.name} at {k:.1f} s (healthy again after {h - k:.1f} s)" if h else f"{e.name} at {k:.1f} s (not back)"
                                          for e, k, h in killer.kills) or "none"))
    lines.append("  router: " + router.counters())
    lines.append(f"  engines {'settled' if settled is not None else 'NOT settled'} {settled if settled is not None else lease + 5:.1f} s after the run: "
                 + "; ".join(engine_lines))
    lines.append(f"  router endpoints {'all healthy' if healthy is not None else 'NOT all healthy'} "
                 f"{healthy if healthy is not None else 35:.1f} s later: "
                 + ", ".join(f"{ep['url'].rsplit(':', 1)[1]} {ep['role']} {ep['state']} in_flight {ep['in_flight']}" for entries in pools.values() for ep in entries))
    for line in lines:
        say(line)

    bad = [o for o in outcomes if o.category in ("broken", "hang")]
    for o in (not_excused + bad)[:8]:
        say(f"  ! client {o.client} {o.kind}/{o.size} {o.start:.1f}-{o.end:.1f} s: {o.category}: {o.result.describe()}")
    check(outcomes, "chaos: no request finished")
    check(killer.kills, "chaos: no engine was killed (run longer than --kill-every)")
    check(not not_excused, f"chaos: {len(not_excused)} requests failed before their first byte while an engine of each role was alive ({statuses})")
    check(not [o for o in bad if o.category == "hang"], f"chaos: {sum(o.category == 'hang' for o in bad)} requests hung (no byte for {read_timeout} s)")
    check(not bad, f"chaos: {len(bad)} streams ended without [DONE] after a finish_reason or an error event")
    check(settled is not None, f"chaos: engines not idle with no blocks held {lease + 5} s after the run: " + "; ".join(engine_lines))
    check(all(v == 0 for v in in_flight.values()), f"chaos: the router still counts requests in flight after the run: {in_flight}")
    check(healthy is not None, "chaos: the router did not take every restarted engine back within 35 s: "
          + ", ".join(f"{ep['url']} {ep['state']} ({ep.get('last_error')})" for entries in pools.values() for ep in entries))
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", help="the baton executable, e.g. .build/debug/baton")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--kill-every", type=float, default=10)
    ap.add_argument("--lease", type=float, default=3, help="the engines' KV lease in seconds (default 3)")
    ap.add_argument("--read-timeout", type=float, default=90, help="seconds without a byte that count as a hang (default 90)")
    ap.add_argument("--seed", type=int)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the finally that stops the processes runs
    binary = os.path.abspath(args.binary)
    check(os.access(binary, os.X_OK), f"{binary} is not an executable (build it: swift build --product baton)")
    logdir = tempfile.mkdtemp(prefix="chaos-router-")
    model = os.environ.get("BATON_MODEL") or pd_e2e.MODEL
    secret = secrets.token_hex(16)
    engines = [Engine(name, binary, model, logdir, KV(role, secret, lease_s=args.lease, heartbeat_s=0.5))
               for name, role in (("p1", "kv_producer"), ("p2", "kv_producer"), ("d1", "kv_consumer"), ("d2", "kv_consumer"))]
    routers = []
    t0 = time.monotonic()
    try:
        for e in engines:
            e.start()
        for e in engines:
            e.wait_healthy()
        say(f"engines up in {time.monotonic() - t0:.1f} s; logs in {logdir}")
        run_chaos(binary, logdir, engines[:2], engines[2:], args.seconds, args.clients, args.kill_every, args.lease,
                  args.seed, args.read_timeout, routers)
    except Exception as e:  # noqa: BLE001 -- any failure: say it, show the logs
        for p in engines + routers:
            print(f"--- {p.name} ({p.log_path}) ---\n{p.tail()}", flush=True)
        print(f"FAIL: {e}" if isinstance(e, CheckFailed) else f"FAIL: {traceback.format_exc()}", file=sys.stderr)
        return 1
    finally:
        for p in routers + engines:
            p.stop()
    say(f"all in {time.monotonic() - t0:.0f} s")
    say("chaos passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
