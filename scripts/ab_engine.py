#!/usr/bin/env python3
"""A/B of release `baton` binaries on the serving benchmark's decode rows, alternating.

  python3 scripts/ab_engine.py BINARY_A,BINARY_B[,...] [ROUNDS]

Per round, for each binary in turn: a new `baton engine` (bench_serving's flags), one warm-up
request, then 1 stream and 16 streams of 128 tokens (bench_serving.level_run). Prints each
round and, per binary, the medians and the median of the per-round 16/1 ratios. Alternating
keeps a shared machine's drift out of the comparison (it changes by tens of percent within an
hour here). Copy each build's `.build/release/baton` somewhere first.
"""
import statistics
import sys

import bench_serving
from baton_e2e import engines


def main():
    bins = sys.argv[1].split(",")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    res = {b: {1: [], 16: []} for b in bins}  # aggregate decode tok/s (bench_serving.decode_window)
    out = {b: {1: [], 16: []} for b in bins}  # output tok/s (the whole run)
    for r in range(rounds):
        for b in bins:
            engines.BATON = b
            port = engines.free_ports(1)[0]
            engine = engines.start_engine(port, "--threads", "2", *bench_serving.ENGINE_FLAGS, build=False)
            try:
                bench_serving.stream(port, {"prompt": "warm up", "max_tokens": 8, "stream": True})
                for n in (1, 16):
                    run = bench_serving.level_run(port, n, 128)
                    res[b][n].append(run.decode)
                    out[b][n].append(run.output)
            finally:
                engine.terminate()
                engine.wait()
        print(r, {b: (round(res[b][1][-1], 1), round(res[b][16][-1], 1)) for b in bins}, flush=True)
    for b in bins:
        m1, m16 = statistics.median(res[b][1]), statistics.median(res[b][16])
        ratios = [x / y for x, y in zip(res[b][16], res[b][1])]
        o1, o16 = statistics.median(out[b][1]), statistics.median(out[b][16])
        print(f"{b}: decode 1 stream {m1:.1f} tok/s, 16 streams {m16:.1f}, ratio of medians {m16 / m1:.2f}x, "
              f"median per-round ratio {statistics.median(ratios):.2f}x; output tok/s 1 stream {o1:.1f}, 16 streams {o16:.1f} "
              f"({o16 / o1:.2f}x)")


if __name__ == "__main__":
    main()
