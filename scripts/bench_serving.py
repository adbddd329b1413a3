#!/usr/bin/env python3
"""Serving benchmark of `baton engine` (release build) over real HTTP.

  python3 scripts/bench_serving.py [--repeat 3] [--levels 1,4,16] [--tokens 128]

Measures, in one run on this machine:
  * prefix caching: TTFT of a ~1,000-token prompt cold and again (cached), and cached_tokens;
  * concurrency: for each level, N streaming clients each generating --tokens tokens
    (ignore_eos), started together:
      - aggregate decode tok/s: the token events of all N streams that arrive while all N are
        decoding (from the last stream's first token to the first stream's last token), over
        the length of that window; the prompts' prefill is outside it (TTFT is its own column);
      - output tok/s: all tokens over the whole run, prefill and connection set-up included
        (`vllm bench serve`'s "output token throughput");
      - TTFT and ITL percentiles.
Prints a markdown table; medians over --repeat runs. Starts and stops the engine itself.
"""
import argparse
import collections
import http.client
import json
import statistics
import sys
import threading
import time
import uuid

from baton_e2e.engines import start_engine


def stream(port, body):
    """POSTs a streaming completion; returns (ttft, [inter-token gaps], tokens, usage, [each
    token's arrival time, time.perf_counter()])."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    conn.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()
    ttft, usage, stamps = None, None, []
    buf = b""
    while True:
        chunk = resp.read1(65536)
        if not chunk:
            break
        buf += chunk
        while b"\n\n" in buf:
            event, buf = buf.split(b"\n\n", 1)
            data = event[len(b"data: "):]
            if data == b"[DONE]":
                continue
            obj = json.loads(data)
            if obj.get("usage"):
                usage = obj["usage"]
            if obj["choices"] and (obj["choices"][0]["text"] or obj["choices"][0].get("finish_reason")):
                now = time.perf_counter()
                if ttft is None:
                    ttft = now - start
                stamps.append(now)
    conn.close()
    return ttft, [b - a for a, b in zip(stamps, stamps[1:])], len(stamps), usage, stamps


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


# The engine's scheduling flags of every row (ab_engine.py starts its engines with them too).
ENGINE_FLAGS = ("--max-num-seqs", "64", "--max-num-batched-tokens", "512")


def prefix_run(port, salt):
    # ~1,000 tokens of text, distinct per run so the cold pass really is cold.
    text = f"[{salt}] " + " ".join(f"Sentence {i} tells about item {i * 7 % 13} in the list." for i in range(90))
    body = {"prompt": text, "max_tokens": 4, "temperature": 0, "stream": True, "stream_options": {"include_usage": True}}
    cold = stream(port, body)
    warm = stream(port, body)
    return cold[0], warm[0], warm[3]["prompt_tokens"], warm[3]["prompt_tokens_details"]["cached_tokens"]


def decode_window(stamps):
    """Tokens per second while every stream is decoding: the token events (of all streams) in
    [the last stream's first token, the first stream's last token], over that window; the
    first event at the window's start is its origin, not counted. nan when the window is empty
    (a stream ended before another began)."""
    begin, end = max(s[0] for s in stamps), min(s[-1] for s in stamps)
    if end <= begin:
        return float("nan")
    inside = sum(1 for s in stamps for t in s if begin < t <= end)
    return inside / (end - begin)


LevelRun = collections.namedtuple("LevelRun", "decode ttfts gaps output")


def level_run(port, n, tokens):
    """n streams of `tokens` tokens started together: LevelRun(decode: aggregate decode tok/s
    (decode_window), ttfts, gaps: inter-token gaps of all streams, output: all tokens over the
    whole run's time)."""
    results = [None] * n

    def client(i):
        body = {"prompt": f"Client {i} {uuid.uuid4().hex[:8]}: write a long story about the sea.",
                "max_tokens": tokens, "temperature": 0, "ignore_eos": True, "stream": True}
        results[i] = stream(port, body)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return LevelRun(decode_window([r[4] for r in results]), [r[0] for r in results], [g for r in results for g in r[1]],
                    sum(r[2] for r in results) / wall)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--levels", default="1,4,16")
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--port", type=int, default=18431)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    engine = start_engine(
        args.port, "--threads", str(args.threads), *ENGINE_FLAGS)
    try:
        stream(args.port, {"prompt": "warm up", "max_tokens": 8, "stream": True})

        levels = [int(x) for x in args.levels.split(",")]
        prefix, per_level = [], {n: [] for n in levels}
        for r in range(args.repeat):
            prefix.append(prefix_run(args.port, f"run{r}-{uuid.uuid4().hex[:6]}"))
            for n in levels:
                per_level[n].append(level_run(args.port, n, args.tokens))

        print(f"## baton engine serving benchmark ({args.repeat} runs, medians; threads={args.threads})\n")
        cold = statistics.median(p[0] for p in prefix)
        warm = statistics.median(p[1] for p in prefix)
        print("| prefix caching | prompt tokens | cached tokens | TTFT cold ms | TTFT cached ms | speed-up |")
        print("|---|---|---|---|---|---|")
        print(f"| 1,000-token prompt, second run | {prefix[0][2]} | {min(p[3] for p in prefix)} | {cold * 1e3:.1f} | "
              f"{warm * 1e3:.1f} | {cold / warm:.1f}× |")
        print("\n| streams | aggregate decode tok/s | vs 1 stream | output tok/s | vs 1 stream | TTFT p50 ms | TTFT p99 ms | "
              "ITL p50 ms | ITL p99 ms |")
        print("|---|---|---|---|---|---|---|---|---|")
        single = statistics.median(x.decode for x in per_level[levels[0]])
        single_out = statistics.median(x.output for x in per_level[levels[0]])
        for n in levels:
            runs = per_level[n]
            tps = statistics.median(x.decode for x in runs)
            out = statistics.median(x.output for x in runs)
            ttft = [t for x in runs for t in x.ttfts]
            itl = [g for x in runs for g in x.gaps]
            print(f"| {n} | {tps:.1f} | {tps / single:.2f}× | {out:.1f} | {out / single_out:.2f}× | {pct(ttft, 50) * 1e3:.1f} | "
                  f"{pct(ttft, 99) * 1e3:.1f} | {pct(itl, 50) * 1e3:.1f} | {pct(itl, 99) * 1e3:.1f} |")
        print("\nper-run aggregate decode tok/s:", {n: [round(x.decode, 1) for x in per_level[n]] for n in levels})
        print("per-run output tok/s:", {n: [round(x.output, 1) for x in per_level[n]] for n in levels})
        print("per-run TTFT cold/cached ms:", [(round(p[0] * 1e3, 1), round(p[1] * 1e3, 1)) for p in prefix])
    finally:
        engine.terminate()
        engine.wait()


if __name__ == "__main__":
    sys.exit(main())
