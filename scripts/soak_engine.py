#!/usr/bin/env python3
"""Soak test of `baton engine` (release): 64 streaming clients for 2 minutes.

  python3 scripts/soak_engine.py [--clients 64] [--seconds 120]

Each client loops: a streaming chat request with a random length (8-96 tokens), now and then
dropping the connection mid-stream. Reports errors, requests done, RSS every 10 s (flat after
warm-up is the goal), and at the end the engine's vllm:num_requests_running and
vllm:kv_cache_usage_perc, which must both be 0 (no block left referenced). Exit 1 on failure.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time

from baton_e2e.engines import start_engine
from baton_e2e.metrics import fetch


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--port", type=int, default=18432)
    args = ap.parse_args()
    engine = start_engine(args.port, "--max-num-seqs", "64", "--threads", "2")
    stop = time.time() + args.seconds
    counts = {"done": 0, "dropped": 0, "errors": 0}
    lock = threading.Lock()
    errors = []

    def client(i):
        rnd = random.Random(i)
        while time.time() < stop:
            body = {"messages": [{"role": "user", "content": f"Client {i}: tell me about topic {rnd.randint(0, 50)}."}],
                    "max_tokens": rnd.randint(8, 96), "stream": True, "temperature": 0.8, "seed": rnd.randint(0, 1 << 30)}
            drop = rnd.random() < 0.1
            try:
                c = http.client.HTTPConnection("127.0.0.1", args.port, timeout=300)
                c.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
                r = c.getresponse()
                if r.status != 200:
                    raise RuntimeError(f"status {r.status}: {r.read()[:200]}")
                if drop:
                    r.read1(100)
                    c.close()
                    with lock:
                        counts["dropped"] += 1
                    continue
                text = r.read()
                if not text.endswith(b"data: [DONE]\n\n") or b'"error"' in text:
                    raise RuntimeError(f"bad stream end: {text[-200:]}")
                c.close()
                with lock:
                    counts["done"] += 1
            except Exception as e:  # noqa: BLE001
                with lock:
                    counts["errors"] += 1
                    errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    samples = []
    start = time.time()
    while any(t.is_alive() for t in threads):
        samples.append((round(time.time() - start), round(rss_mb(engine.pid), 1)))
        time.sleep(10)
    for t in threads:
        t.join()
    time.sleep(1)
    scrape = fetch(args.port, timeout=5)
    running, usage = scrape.get("vllm:num_requests_running"), scrape.get("vllm:kv_cache_usage_perc")
    engine.terminate()
    engine.wait()
    print(f"clients={args.clients} seconds={args.seconds:.0f} done={counts['done']} dropped={counts['dropped']} errors={counts['errors']}")
    print("RSS MB over time (s, MB):", samples)
    print(f"end: vllm:num_requests_running={running} vllm:kv_cache_usage_perc={usage}")
    for e in errors[:5]:
        print("error:", e)
    ok = counts["errors"] == 0 and running == 0 and usage == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
