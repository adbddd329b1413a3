#!/usr/bin/env python3
"""Where splitting a request (prefill on one engine, KV pulled by the decode) starts to pay.

  python3 scripts/bench_split_threshold.py [--repeat 5] [--lengths 32,64,128,256,512,1024]
                                           [--max-tokens 32] [--background 2] [--no-build]

Real engines, release build: a kv_producer and a kv_consumer `baton engine --model smollm2
--threads 1` (the machine has 2 cores) behind two `baton router --tokenizer smollm2 --prefill P
--decode D`: one with --split-threshold 100000 (every request local: the decode prefills it) and
one with --split-threshold 0 (every request split). For each prompt length, --repeat streaming
completions (max_tokens --max-tokens, ignore_eos, temperature 0, a prompt no engine has seen)
through each router, local and split taking turns, measuring:
  * TTFT: from sending to the first SSE event with a choice;
  * ITL: (last token event - first) / (events - 1) of that request;
twice: with the decode idle, and with --background streaming decodes running on the decode
engine (sent to it directly, short prompts, long answers). Under load it also records the
background streams' gaps between tokens while the measured request is in flight (mean and the
largest: the stall the decode's own prefill causes on the local path).
Prints markdown tables of medians.
"""
import argparse
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time

from baton_e2e.engines import ROOT, build_release, free_ports, start_engine, start_router
from baton_e2e.metrics import fetch
from baton_e2e.pd_proxy import call

WORDS = ("river stone lantern orchard copper meadow harbor violet thunder pepper canyon ribbon "
         "glacier walnut compass saddle marble falcon cobalt willow summit velvet ember quarry").split()


def prompt(url, tokens, seed):
    """Exactly `tokens` token ids (the engine's tokenizer), starting differently for every seed."""
    rng = random.Random(seed)
    text = f"Sample {seed}: " + " ".join(rng.choice(WORDS) for _ in range(tokens * 2))
    reply = call(url, "/tokenize", {"prompt": text}, timeout=60)
    return reply.body["tokens"][:tokens]


def stream(url, body, timeout=300):
    """(send time, [event times]) of one streaming completion; raises on an error."""
    times = []
    t0 = time.perf_counter()
    reply = call(url, "/v1/completions", body, timeout=timeout,
                 on_event=lambda e: e.get("choices") and times.append(time.perf_counter()))
    if not reply.ok or not times:
        raise RuntimeError(f"{url}: HTTP {reply.status} {reply.error or reply.body}")
    return t0, times


class Background:
    """`n` threads, each streaming long answers to short prompts from `url` back to back; every
    token event's time is kept with its request number (gaps across requests do not count)."""

    class Stop(Exception):
        pass

    def __init__(self, url, n, prompt_ids, max_tokens=400):
        self.url, self.prompt_ids, self.max_tokens = url, prompt_ids, max_tokens
        self.stop = threading.Event()
        self.events = [[] for _ in range(n)]  # per thread: (time, request number)
        self.errors = []
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(n)]

    def run(self, i):
        k = 0
        while not self.stop.is_set():
            k += 1

            def on_event(e, k=k):
                if self.stop.is_set():
                    raise Background.Stop()
                if e.get("choices"):
                    self.events[i].append((time.perf_counter(), k))

            body = {"prompt": self.prompt_ids[i], "max_tokens": self.max_tokens, "ignore_eos": True, "temperature": 0, "stream": True}
            try:
                call(self.url, "/v1/completions", body, timeout=300, on_event=on_event)
            except Background.Stop:
                return
            except Exception as e:  # noqa: BLE001 - reported at the end
                self.errors.append(repr(e))
                time.sleep(0.5)

    def __enter__(self):
        for t in self.threads:
            t.start()
        # Until every stream is decoding.
        while not all(len(ev) >= 3 for ev in self.events):
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def gaps(self, t0, t1):
        """Gaps between successive tokens of one background request that end inside [t0, t1]."""
        out = []
        for ev in self.events:
            for (a, ka), (b, kb) in zip(ev, ev[1:]):
                if ka == kb and t0 < b <= t1:
                    out.append(b - a)
        return out


def measure(router_url, ids, max_tokens, background=None):
    body = {"prompt": ids, "max_tokens": max_tokens, "ignore_eos": True, "temperature": 0, "stream": True}
    t0, times = stream(router_url, body)
    s = {"ttft": times[0] - t0, "itl": (times[-1] - times[0]) / max(1, len(times) - 1), "tokens": len(times)}
    if background:
        g = background.gaps(t0, times[-1])
        s["bg_itl"] = statistics.mean(g) if g else float("nan")
        s["bg_max_gap"] = max(g) if g else float("nan")
        # Before the first token only: the part of the request the prefill occupies.
        g0 = background.gaps(t0, times[0])
        s["bg_max_gap_prefill"] = max(g0) if g0 else float("nan")
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--lengths", default="32,64,128,256,512,1024")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--background", type=int, default=2, help="streaming decodes on the decode engine in the loaded phase (0: none)")
    ap.add_argument("--no-idle", action="store_true", help="only the loaded phase")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--json", help="also write every sample to this file")
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]

    load0 = f"{os.getloadavg()[0]:.2f}"
    if not args.no_build:
        build_release()
    common = ["--model", "smollm2", "--served-model-name", "smollm2", "--threads", "1", "--kv-cache-memory", "512MiB"]
    kv = ["--kv-secret", "bench", "--kv-lease-s", "30", "--kv-heartbeat-s", "5"]
    p_port, d_port, kv_port, r_local, r_split = free_ports(5)
    procs = []
    samples = {}
    log_dir = f"/tmp/bench-split-{os.getpid()}"
    os.makedirs(log_dir, exist_ok=True)
    try:
        procs.append(start_engine(p_port, *common, "--kv-role", "kv_producer", "--kv-engine-id", "bench-p", "--kv-port", str(kv_port), *kv,
                                  build=False))
        procs.append(start_engine(d_port, *common, "--kv-role", "kv_consumer", "--kv-engine-id", "bench-d", *kv, build=False))
        prefill, decode = f"http://127.0.0.1:{p_port}", f"http://127.0.0.1:{d_port}"
        router_flags = ["--prefill", prefill, "--decode", decode, "--tokenizer", "smollm2"]
        procs.append(start_router(r_local, *router_flags, "--split-threshold", "100000", log=f"{log_dir}/router-local.log"))
        procs.append(start_router(r_split, *router_flags, "--split-threshold", "0", log=f"{log_dir}/router-split.log"))
        routers = {"local": f"http://127.0.0.1:{r_local}", "split": f"http://127.0.0.1:{r_split}"}

        seed = [0]

        def fresh(n):
            seed[0] += 1
            return prompt(decode, n, seed[0])

        for path in ("local", "split"):  # warm both paths (the consumer's first connection to the producer)
            measure(routers[path], fresh(64), 4)
        before = {path: fetch(int(url.rsplit(":", 1)[1])) for path, url in routers.items()}
        kv_before = fetch(d_port)

        phases = ([] if args.no_idle else ["idle"]) + ([f"load{args.background}"] if args.background else [])
        for phase in phases:
            bg = Background(decode, args.background, [fresh(16) for _ in range(args.background)]) if phase != "idle" else None
            if bg:
                bg.__enter__()
            try:
                for rep in range(args.repeat):
                    for n in lengths:
                        order = ("local", "split") if (rep + n) % 2 == 0 else ("split", "local")
                        for path in order:
                            s = measure(routers[path], fresh(n), args.max_tokens, bg)
                            samples.setdefault(f"{phase}/{n}/{path}", []).append(s)
                            extra = f", bg mean {s['bg_itl'] * 1e3:.0f} max {s['bg_max_gap'] * 1e3:.0f} ms" if bg else ""
                            print(f"[{phase} {rep + 1}/{args.repeat}] {n:5d} tokens {path:5s}: TTFT {s['ttft'] * 1e3:7.0f} ms, "
                                  f"ITL {s['itl'] * 1e3:5.1f} ms{extra}", file=sys.stderr)
            finally:
                if bg:
                    bg.__exit__()
                    if bg.errors:
                        print(f"background errors: {bg.errors[:5]}", file=sys.stderr)
        # Each router took the path it was set for.
        for path, url in routers.items():
            after = fetch(int(url.rsplit(":", 1)[1]))
            reason = "short_prompt" if path == "local" else "long_prompt"
            other = "split" if path == "local" else "local"
            took = (after.total("baton_router_decisions_total", path=path, reason=reason)
                    - before[path].total("baton_router_decisions_total", path=path, reason=reason))
            wrong = after.total("baton_router_decisions_total", path=other)
            print(f"router {path}: {took:.0f} requests on the {path} path, {wrong:.0f} on the other", file=sys.stderr)
            assert wrong == 0 and took > 0, f"router {path} did not route as configured"
        kv_after = fetch(d_port)
        kv = {k: kv_after.total(k) - kv_before.total(k)
              for k in ("baton_kv_transfer_seconds_count", "baton_kv_transfer_seconds_sum", "baton_kv_transfer_failures_total")}
        print(f"KV pulls on the decode: {kv['baton_kv_transfer_seconds_count']:.0f} "
              f"({kv['baton_kv_transfer_seconds_sum'] * 1e3:.0f} ms in all), failures {kv['baton_kv_transfer_failures_total']:.0f}", file=sys.stderr)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(samples, f, indent=1)

    def med(phase, n, path, key):
        vals = [s[key] for s in samples[f"{phase}/{n}/{path}"] if s.get(key) == s.get(key)]
        return statistics.median(vals) if vals else float("nan")

    cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                if l.startswith("Model name")), "?")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"\n`python3 scripts/bench_split_threshold.py {' '.join(sys.argv[1:])}`, {datetime.date.today()}, {cpu} ({os.cpu_count()} vCPU), "
          f"commit {commit}; medians of {args.repeat} requests per cell, max_tokens {args.max_tokens}; "
          f"load average before {load0}, after {os.getloadavg()[0]:.2f}.\n")
    ms = lambda x: f"{x * 1e3:,.0f}"  # noqa: E731
    ms1 = lambda x: f"{x * 1e3:,.1f}"  # noqa: E731
    for phase in phases:
        if phase == "idle":
            print("**Decode idle** (one request at a time):\n")
            print("| prompt tokens | TTFT local ms | TTFT split ms | split/local | ITL local ms | ITL split ms |")
            print("|---|---|---|---|---|---|")
            for n in lengths:
                tl, ts = med(phase, n, "local", "ttft"), med(phase, n, "split", "ttft")
                print(f"| {n} | {ms(tl)} | {ms(ts)} | {ts / tl:.2f}x | {ms1(med(phase, n, 'local', 'itl'))} | {ms1(med(phase, n, 'split', 'itl'))} |")
        else:
            print(f"\n**Decode loaded** ({args.background} streaming decodes running on it; 'bg' = those streams' gaps between tokens "
                  "while the measured request is in flight):\n")
            print("| prompt tokens | TTFT local ms | TTFT split ms | split/local | ITL local ms | ITL split ms "
                  "| bg ITL mean local ms | bg ITL mean split ms | bg worst gap local ms | bg worst gap split ms |")
            print("|---|---|---|---|---|---|---|---|---|---|")
            for n in lengths:
                tl, ts = med(phase, n, "local", "ttft"), med(phase, n, "split", "ttft")
                print(f"| {n} | {ms(tl)} | {ms(ts)} | {ts / tl:.2f}x | {ms1(med(phase, n, 'local', 'itl'))} | {ms1(med(phase, n, 'split', 'itl'))} "
                      f"| {ms1(med(phase, n, 'local', 'bg_itl'))} | {ms1(med(phase, n, 'split', 'bg_itl'))} "
                      f"| {ms(med(phase, n, 'local', 'bg_max_gap'))} | {ms(med(phase, n, 'split', 'bg_max_gap'))} |")


if __name__ == "__main__":
    main()
