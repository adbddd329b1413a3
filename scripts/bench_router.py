#!/usr/bin/env python3
"""What `baton router` adds in front of a fast upstream, beside nginx `proxy_pass` in the same run.

  python3 scripts/bench_router.py [--repeat 5] [--requests 2000] [--duration 10] [--connections 32]
                                  [--nginx-workers 2] [--nginx-layout separate|shared] [--router-flag F] [--baton BIN] [--no-stream] [--no-decompose] [--no-build] [--json FILE]

Two nginx instances (non-daemon children, each its own prefix and conf in a temp dir,
--nginx-workers workers each; --nginx-layout shared puts all four server blocks in one):
  * the fake upstream: POST /v1/completions and /v1/chat/completions answer a fixed small OpenAI
    JSON (`return 200`), GET /health 200, GET /metrics 200 empty, GET /v1/models; and for the
    streaming rows a second one answering a fixed SSE body (text/event-stream, 3 data events and
    [DONE]);
  * nginx proxy_pass to each, with upstream keepalive (`keepalive 64`, HTTP/1.1, Connection ""),
    `proxy_buffering off` for the SSE one.
`baton router --decode <fake upstream> --tokenizer smollm2` (no prefill; the prompt is short, so
every request takes the local path) runs beside it, one router per upstream.

Measures, --repeat times in turn (medians reported):
  (a) latency, one sequential client (http.client, keep-alive when the server allows it),
      --requests POSTs per target: direct to the upstream, through nginx, through the router;
      added = through - direct at p50 and p99. Also direct and nginx with a new connection per
      request (a router that answers `Connection: close` makes its clients reconnect every time;
      the table says which the router did), and the router's own baton_router_overhead_seconds
      and baton_router_ttft_seconds means over the same requests.
  (b) requests/s with wrk (-t2 -c32 -d10s by default, POST body from a lua script): direct,
      nginx (and nginx with clients sending `Connection: close`), router; ratio router/nginx;
      CPU per request of the router process and of nginx's proxying (from /proc).
  (c) unless --no-decompose, router-only rows: GET /health (answered by the router) and
      GET /v1/models (one upstream call), keep-alive and `Connection: close`, beside the POST:
      sequential p50, requests/s and router CPU per request.
Requests the server closed without an answer are retried, counted and reported.
Prints markdown tables.
"""
import argparse
import datetime
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from baton_e2e import engines
from baton_e2e.engines import ROOT, build_release, free_ports, start_router
from baton_e2e.metrics import fetch

COMPLETION = json.dumps({
    "id": "cmpl-bench", "object": "text_completion", "created": 1700000000, "model": "smollm2",
    "choices": [{"index": 0, "text": " Hello there, benchmark.", "logprobs": None, "finish_reason": "length"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}}, separators=(",", ":"))
CHAT = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "smollm2",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there, benchmark."}, "finish_reason": "length"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}}, separators=(",", ":"))
SSE = "".join(
    "data: " + json.dumps({"id": "cmpl-bench", "object": "text_completion", "created": 1700000000, "model": "smollm2",
                           "choices": [{"index": 0, "text": t, "logprobs": None, "finish_reason": f}]}, separators=(",", ":")) + "\\n\\n"
    for t, f in ((" Hello", None), (" there", None), (".", "length"))) + "data: [DONE]\\n\\n"

MODELS = json.dumps({"object": "list", "data": [{"id": "smollm2", "object": "model", "owned_by": "baton"}]}, separators=(",", ":"))
BODY = json.dumps({"model": "smollm2", "prompt": "Say hello to the benchmark, briefly.", "max_tokens": 4, "temperature": 0})
STREAM_BODY = json.dumps({"model": "smollm2", "prompt": "Say hello to the benchmark, briefly.", "max_tokens": 4, "temperature": 0,
                          "stream": True})

NGINX_HEAD = """
worker_processes {workers};
daemon off;
master_process on;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 75s;

"""

# The fake upstream's server blocks, and nginx proxy_pass's: one nginx instance each
# (--nginx-layout separate), or both in one (shared).
NGINX_UPSTREAM = """
    server {{
        listen 127.0.0.1:{up} backlog=4096;
        default_type application/json;
        location = /v1/completions {{ return 200 '{completion}'; }}
        location = /v1/chat/completions {{ return 200 '{chat}'; }}
        location = /v1/models {{ return 200 '{models}'; }}
        location = /health {{ return 200 ''; }}
        location = /metrics {{ default_type text/plain; return 200 ''; }}
    }}
    server {{
        listen 127.0.0.1:{up_sse} backlog=4096;
        default_type text/event-stream;
        location = /v1/completions {{ return 200 '{sse}'; }}
        location = /health {{ return 200 ''; }}
        location = /metrics {{ default_type text/plain; return 200 ''; }}
    }}
"""

NGINX_PROXY = """
    upstream fake {{ server 127.0.0.1:{up}; keepalive 64; }}
    upstream fake_sse {{ server 127.0.0.1:{up_sse}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{proxy} backlog=4096;
        location / {{
            proxy_pass http://fake;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
    server {{
        listen 127.0.0.1:{proxy_sse} backlog=4096;
        location / {{
            proxy_pass http://fake_sse;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }}
    }}
"""


# The router's own routes beside the proxied POST: what Hummingbird costs alone, what closing the
# connection per request adds, what one upstream call through AsyncHTTPClient adds.
DECOMPOSE = [
    ("health_ka", "GET", "/health", False),
    ("health_close", "GET", "/health", True),
    ("models_ka", "GET", "/v1/models", False),
    ("models_close", "GET", "/v1/models", True),
    ("post", "POST", "/v1/completions", False),
]

WRK_LUA = """wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
"""


def ensure_tools():
    """nginx and wrk, installed with apt-get when missing (a fresh machine)."""
    if shutil.which("nginx") and shutil.which("wrk"):
        return
    print("installing nginx and wrk with apt-get", file=sys.stderr)
    subprocess.run("apt-get update && apt-get install -y nginx wrk", shell=True, check=True, stdout=sys.stderr,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def wait_port(port, path="/health", seconds=10):
    for _ in range(int(seconds * 20)):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"nothing answers on port {port}")


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


DROPPED = []


def sequential(port, body, n, new_connection=False, method="POST", path="/v1/completions", close_header=False):
    """Seconds per request (POST /v1/completions unless told), one client, one request at a
    time. http.client reopens the connection by itself when the server closed it
    (`Connection: close`); `close_header` asks the server to close it."""
    headers = {"Content-Type": "application/json"} if body else {}
    if close_header:
        headers["Connection"] = "close"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    for _ in range(n):
        if new_connection:
            conn.close()
        for attempt in range(3):
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body, headers)
                r = conn.getresponse()
                data = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                # Counted and reported; the request is sent again on a new connection.
                DROPPED.append(f"{method} {path} on port {port}: {type(e).__name__}")
                print(f"dropped: {DROPPED[-1]}", file=sys.stderr)
                conn.close()
                if attempt == 2:
                    raise
        times.append(time.perf_counter() - t0)
        if r.status != 200 or (body and not data):
            raise RuntimeError(f"port {port}: HTTP {r.status} {data[:200]!r}")
    conn.close()
    return times


def cpu_seconds(pids):
    """User + system CPU seconds of the processes `pids` and their children so far."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)  # ppid, utime+stime
            except (OSError, IndexError):
                pass
    wanted = set(pids) | {pid for pid, (ppid, _) in stats.items() if ppid in pids}
    return sum(stats[pid][1] for pid in wanted if pid in stats)


def wrk(port, lua, args, headers=(), cpu_of=(), path="/v1/completions", duration=None):
    """requests/s, the error counts wrk printed, wrk's p50, and CPU seconds per request of the
    processes `cpu_of`, for `wrk -s lua` against port."""
    cpu0 = {name: cpu_seconds(pids) for name, pids in cpu_of}
    out = subprocess.run(
        ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration or args.duration}s", "--latency", *(["-s", lua] if lua else []),
         *[x for h in headers for x in ("-H", h)], f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True).stdout
    n = int(re.search(r"(\d+) requests in", out).group(1))
    cpu = {name: (cpu_seconds(pids) - cpu0[name]) / max(n, 1) for name, pids in cpu_of}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Socket errors:.*", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    lat50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p50 = float(lat50.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1}[lat50.group(2)] if lat50 else float("nan")
    return rps, (errors.group(0) if errors else ""), int(non2xx.group(1)) if non2xx else 0, p50, cpu


def router_means(port, before):
    """Means over the requests since `before` (a /metrics scrape) of the router's own time
    (baton_router_overhead_seconds) and of its request-in to first-byte time
    (baton_router_ttft_seconds, local path)."""
    after = fetch(port)
    out = []
    for name, labels in (("baton_router_overhead_seconds", {}), ("baton_router_ttft_seconds", {"path": "local"})):
        n = after.total(f"{name}_count", **labels) - before.total(f"{name}_count", **labels)
        total = after.total(f"{name}_sum", **labels) - before.total(f"{name}_sum", **labels)
        out.append(total / n if n else float("nan"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--requests", type=int, default=2000, help="sequential requests per target per repeat")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--nginx-workers", type=int, default=2, help="workers of each nginx instance")
    ap.add_argument("--nginx-layout", choices=["separate", "shared"], default="separate",
                    help="the fake upstream and nginx proxy_pass in separate nginx instances (as the router is a process of its "
                         "own in front of it), or both in the same workers (which then proxy to themselves)")
    ap.add_argument("--no-stream", action="store_true", help="skip the streaming (SSE) rows")
    ap.add_argument("--no-decompose", action="store_true",
                    help="skip the router-only rows (GET /health and /v1/models, keep-alive and Connection: close, beside the POST)")
    ap.add_argument("--decompose-duration", type=int, default=5, help="seconds per wrk run of the router-only rows")
    ap.add_argument("--no-build", action="store_true", help="use the release binary as it is")
    ap.add_argument("--router-flag", action="append", default=[], help="an extra `baton router` flag (repeatable), e.g. --router-flag=--no-fast-lane")
    ap.add_argument("--baton", help="run this baton binary as the router, not the release build (implies --no-build); "
                                    "for A/B runs of two builds")
    ap.add_argument("--json", help="also write every sample to this file")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below stops nginx and the routers

    ensure_tools()
    load0 = f"{os.getloadavg()[0]:.2f}"
    if args.baton:
        engines.BATON = os.path.abspath(args.baton)
    elif not args.no_build:
        build_release()
    up, proxy, up_sse, proxy_sse, router, router_sse = free_ports(6)
    tmp = tempfile.mkdtemp(prefix="bench-router-")
    fill = dict(workers=args.nginx_workers, up=up, proxy=proxy, up_sse=up_sse, proxy_sse=proxy_sse,
                completion=COMPLETION, chat=CHAT, sse=SSE, models=MODELS)
    # nginx instances: name -> server blocks; the proxy's own unless the layout is shared.
    instances = {"upstream": NGINX_UPSTREAM, "proxy": NGINX_PROXY} if args.nginx_layout == "separate" \
        else {"upstream": NGINX_UPSTREAM + NGINX_PROXY}
    for name, blocks in instances.items():
        os.makedirs(f"{tmp}/{name}")
        with open(f"{tmp}/{name}/nginx.conf", "w") as f:
            f.write((NGINX_HEAD + blocks + "}}\n").format(dir=f"{tmp}/{name}", **fill))
    lua = {}
    for name, body in (("plain", BODY), ("stream", STREAM_BODY)):
        lua[name] = f"{tmp}/{name}.lua"
        with open(lua[name], "w") as f:
            f.write(WRK_LUA.format(body=json.dumps(body)))
    procs, nginx = [], {}
    try:
        for name in instances:
            d = f"{tmp}/{name}"
            nginx[name] = subprocess.Popen(["nginx", "-p", d, "-e", f"{d}/error.log", "-c", f"{d}/nginx.conf"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(nginx[name])
        nginx_proxy = nginx.get("proxy", nginx["upstream"])
        for port in (up, up_sse, proxy, proxy_sse):
            wait_port(port)
        flags = ["--tokenizer", "smollm2", "--health-interval", "1", "--scrape-interval", "1", *args.router_flag]
        routers = {"plain": start_router(router, "--decode", f"http://127.0.0.1:{up}", *flags, log=f"{tmp}/router.log")}
        procs.append(routers["plain"])
        variants = [("plain", BODY, up, proxy, router)]
        if not args.no_stream:
            routers["stream"] = start_router(router_sse, "--decode", f"http://127.0.0.1:{up_sse}", *flags, log=f"{tmp}/router-sse.log")
            procs.append(routers["stream"])
            variants.append(("stream", STREAM_BODY, up_sse, proxy_sse, router_sse))
        samples = {v[0]: [] for v in variants}
        for name, body, u, p, r in variants:  # warm every path
            for port in (u, p, r):
                sequential(port, body, 200)
        c = http.client.HTTPConnection("127.0.0.1", router, timeout=10)
        c.request("POST", "/v1/completions", BODY, {"Content-Type": "application/json"})
        reply = c.getresponse()
        reply.read()
        router_closes = (reply.getheader("Connection") or "").lower() == "close"
        c.close()
        for rep in range(args.repeat):
            for name, body, u, p, r in variants:
                s = {}
                lat = {}
                lat["direct"] = sequential(u, body, args.requests)
                lat["direct_new"] = sequential(u, body, args.requests, new_connection=True)
                lat["nginx"] = sequential(p, body, args.requests)
                lat["nginx_new"] = sequential(p, body, args.requests, new_connection=True)
                before = fetch(r)
                lat["router"] = sequential(r, body, args.requests)
                s["router_overhead_mean"], s["router_ttft_mean"] = router_means(r, before)
                s["router_client_mean"] = statistics.mean(lat["router"])
                for k, v in lat.items():
                    s[f"{k}_p50"] = percentile(v, 50)
                    s[f"{k}_p99"] = percentile(v, 99)
                for k, port, headers in (("direct", u, ()), ("nginx", p, ()), ("nginx_close", p, ("Connection: close",)), ("router", r, ())):
                    before = fetch(r)
                    rps, errors, non2xx, wrk_p50, cpu = wrk(port, lua[name], args, headers,
                                                            cpu_of=(("nginx", [nginx_proxy.pid]), ("router", [routers[name].pid])))
                    s[f"{k}_rps"] = rps
                    s[f"{k}_wrk_p50"] = wrk_p50
                    s[f"{k}_cpu_nginx"] = cpu["nginx"]
                    s[f"{k}_cpu_router"] = cpu["router"]
                    if errors or non2xx:
                        s[f"{k}_wrk_errors"] = f"{errors} non-2xx {non2xx}".strip()
                    if k == "router":
                        s["router_overhead_mean_loaded"], _ = router_means(r, before)
                if name == "plain" and not args.no_decompose:
                    for key, method, path, close in DECOMPOSE:
                        s[f"dec_{key}_p50"] = percentile(sequential(r, None if method == "GET" else body, args.requests, method=method, path=path,
                                                                    new_connection=close, close_header=close), 50)
                        lua_file = None if method == "GET" else lua[name]
                        rps, _, non2xx, _, cpu = wrk(r, lua_file, args, ("Connection: close",) if close else (),
                                                     cpu_of=(("router", [routers[name].pid]),), path=path, duration=args.decompose_duration)
                        s[f"dec_{key}_rps"] = rps
                        s[f"dec_{key}_cpu"] = cpu["router"]
                samples[name].append(s)
                print(f"[{name} {rep + 1}/{args.repeat}] p50 direct {s['direct_p50'] * 1e6:.0f} us, nginx {s['nginx_p50'] * 1e6:.0f} us, "
                      f"router {s['router_p50'] * 1e6:.0f} us (overhead metric {s['router_overhead_mean'] * 1e6:.0f} us); "
                      f"rps direct {s['direct_rps']:.0f}, nginx {s['nginx_rps']:.0f}, router {s['router_rps']:.0f} "
                      f"{s.get('router_wrk_errors', '')}", file=sys.stderr)
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGQUIT if proc in nginx.values() else signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(samples, f, indent=1)

    med = lambda name, key: statistics.median(s[key] for s in samples[name])  # noqa: E731
    us = lambda x: f"{x * 1e6:,.0f}"  # noqa: E731
    cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                if l.startswith("Model name")), "?")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    built = f"router binary {args.baton} (the tree at commit {commit})" if args.baton else f"commit {commit}"
    print(f"\n`python3 scripts/bench_router.py {' '.join(sys.argv[1:])}`, {datetime.date.today()}, {cpu} ({os.cpu_count()} vCPU), "
          f"router {'answering `Connection: close`' if router_closes else 'keeping connections alive'}, "
          f"{built}, nginx {args.nginx_workers} workers ({'upstream and proxy in separate nginx instances' if args.nginx_layout == 'separate' else 'upstream and proxy in the same nginx workers'}), medians of {args.repeat} runs; "
          f"load average before {load0}, after {os.getloadavg()[0]:.2f}.\n")
    for name, *_ in variants:
        label = "non-stream JSON" if name == "plain" else "stream (SSE, 3 events)"
        print(f"**{label}**, sequential latency ({args.requests} requests per run, one client, http.client):\n")
        print("| target | p50 µs | p99 µs | added p50 µs | added p99 µs |")
        print("|---|---|---|---|---|")
        d50, d99 = med(name, "direct_p50"), med(name, "direct_p99")
        rows = [("direct to upstream (keep-alive)", "direct"), ("direct, new connection per request", "direct_new"),
                ("nginx proxy_pass (keep-alive)", "nginx"), ("nginx proxy_pass, new connection per request", "nginx_new"),
                ("baton router (answers `Connection: close`: a new connection per request)" if router_closes
                 else "baton router (keep-alive)", "router")]
        for title, k in rows:
            p50, p99 = med(name, f"{k}_p50"), med(name, f"{k}_p99")
            added = f"{us(p50 - d50)} | {us(p99 - d99)}" if k != "direct" else "— | —"
            print(f"| {title} | {us(p50)} | {us(p99)} | {added} |")
        print(f"\nRouter added p50 beyond a new connection: {us(med(name, 'router_p50') - med(name, 'direct_new_p50'))} µs. "
              f"Where a sequential router request's time goes (means): client sees {us(med(name, 'router_client_mean'))} µs; "
              f"of it, handler start to first byte (baton_router_ttft_seconds) {us(med(name, 'router_ttft_mean'))} µs, "
              f"of which the router's own (baton_router_overhead_seconds) {us(med(name, 'router_overhead_mean'))} µs and waiting on "
              f"the upstream {us(med(name, 'router_ttft_mean') - med(name, 'router_overhead_mean'))} µs; the other "
              f"{us(med(name, 'router_client_mean') - med(name, 'router_ttft_mean'))} µs are outside the handler (accepting the "
              f"connection, parsing, middleware, writing the answer, closing). baton_router_overhead_seconds under wrk: "
              f"{us(med(name, 'router_overhead_mean_loaded'))} µs.\n")
        print(f"Throughput (wrk -t{args.threads} -c{args.connections} -d{args.duration}s, POST body from lua):\n")
        print("| target | requests/s | wrk p50 µs | vs nginx | proxy CPU µs/request |")
        print("|---|---|---|---|---|")
        n_rps = med(name, "nginx_rps")
        # Separate: the proxy instance's CPU is the proxy's. Shared: nginx serves upstream and
        # proxy in the same workers, so the proxy's share is its CPU per request minus the
        # upstream's alone (the direct run). The router's is its own process.
        up_cpu = 0 if args.nginx_layout == "separate" else med(name, "direct_cpu_nginx")
        for title, k in (("direct to upstream", "direct"), ("nginx proxy_pass (keep-alive)", "nginx"),
                         ("nginx proxy_pass, client sends `Connection: close`", "nginx_close"), ("baton router", "router")):
            cpu = "—" if k == "direct" else us(med(name, f"{k}_cpu_router") if k == "router" else med(name, f"{k}_cpu_nginx") - up_cpu)
            print(f"| {title} | {med(name, f'{k}_rps'):,.0f} | {us(med(name, f'{k}_wrk_p50'))} | {med(name, f'{k}_rps') / n_rps:.2f}x | {cpu} |")
        ratio = statistics.median(s["router_rps"] / s["nginx_rps"] for s in samples[name])
        ratio_close = statistics.median(s["router_rps"] / s["nginx_close_rps"] for s in samples[name])
        print(f"\nRouter / nginx proxy_pass keep-alive (median of per-run ratios): **{ratio:.2f}x** (bar ≥ 0.5x); "
              f"router / nginx with `Connection: close`: {ratio_close:.2f}x.")
        if name == "plain" and not args.no_decompose:
            print(f"\nRouter-only rows (router process CPU; sequential p50 as above, wrk -t{args.threads} -c{args.connections} "
                  f"-d{args.decompose_duration}s):\n")
            print("| request to the router | answered by | sequential p50 µs | requests/s | router CPU µs/request |")
            print("|---|---|---|---|---|")
            titles = {"health_ka": ("GET /health, keep-alive", "the router"),
                      "health_close": ("GET /health, client sends `Connection: close`", "the router"),
                      "models_ka": ("GET /v1/models, keep-alive", "the upstream, via AsyncHTTPClient"),
                      "models_close": ("GET /v1/models, client sends `Connection: close`", "the upstream, via AsyncHTTPClient"),
                      "post": ("POST /v1/completions" + (" (router answers `Connection: close`)" if router_closes else ", keep-alive"),
                               "the upstream (local path)")}
            for key, *_ in DECOMPOSE:
                title, by = titles[key]
                print(f"| {title} | {by} | {us(med(name, f'dec_{key}_p50'))} | {med(name, f'dec_{key}_rps'):,.0f} | {us(med(name, f'dec_{key}_cpu'))} |")
        errs = [s[k] for s in samples[name] for k in s if k.endswith("_wrk_errors")]
        if name == variants[-1][0] and DROPPED:
            print(f"\nSequential requests the server closed without an answer (sent again, timed from the retry): {len(DROPPED)}: "
                  f"{'; '.join(sorted(set(DROPPED)))}")
        if errs:
            print(f"\nwrk errors: {'; '.join(sorted(set(errs)))}")
        print()


if __name__ == "__main__":
    main()
