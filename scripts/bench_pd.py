#!/usr/bin/env python3
"""Disaggregated vs collocated on this machine, through `baton serve` and `baton bench`.

  python3 scripts/bench_pd.py [--levels 1,4,16] [--prompts 48] [--repeat 1] [--no-build]
                              [--slo-ttft-ms 3000] [--slo-itl-ms 150]

Two apps on the same two cores, each behind the router:
  (a) collocated: one engine (no KV transfer) on both cores (Ray Serve's build_openai_app, 1 replica);
  (b) 1P+1D: the default app, a prefill engine on one core and a decode engine on the other.
One mixed workload (seeded): most prompts short (20–80 words), one in four long (1,000–2,000
tokens), 64–256 output tokens each (ignore_eos). For each app and each concurrency level,
`baton bench` reports TTFT, ITL, throughput and goodput under the SLOs; the table prints the
median over --repeat runs. The claim to check is disaggregation's: the decode's ITL p99 stays
low while long prompts arrive, because their prefill runs elsewhere.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile

from baton_e2e.engines import BATON, ServeProcess, build_release

WORDS = ("harbour ledger lantern orchard granite meadow copper violin glacier thimble cobalt pepper saddle "
         "quartz willow falcon ember marble tunnel cedar").split()

COLLOCATED_YAML = """applications:
  - name: collocated
    import_path: ray.serve.llm:build_openai_app
    args:
      llm_configs:
        - model_loading_config: {model_id: smollm2, model_source: smollm2}
          deployment_config: {num_replicas: 1}
"""


def dataset(path, n, seed):
    """JSONL of `baton bench`: {"prompt", "output_len"}; one in four prompts long. Each (seed)
    starts its prompts differently, so no run finds another's prompts in the prefix cache."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            long = i % 4 == 3
            words = rng.randint(870, 1500) if long else rng.randint(20, 80)  # ~1.16 tokens per word: 1,000–1,750 tokens
            text = f"Workload {seed}, request {i}. " + " ".join(rng.choice(WORDS) for _ in range(words))
            f.write(json.dumps({"prompt": text, "output_len": rng.randint(64, 256)}) + "\n")


def bench(url, data, prompts, level, args, out):
    cmd = [BATON, "bench", "--url", url, "--dataset", data, "--num-prompts", str(prompts), "--max-concurrency", str(level),
           "--seed", "0", "--slo-ttft-ms", str(args.slo_ttft_ms), "--slo-itl-ms", str(args.slo_itl_ms), "--json", out]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        return json.load(f)


# The figures the table shows: (column, path in `baton bench --json`).
COLUMNS = [("TTFT p50 ms", "ttft_ms.median"), ("TTFT p99 ms", "ttft_ms.p99"), ("ITL p50 ms", "itl_ms.median"),
           ("ITL p99 ms", "itl_ms.p99"), ("TPOT p99 ms", "tpot_ms.p99"), ("output tok/s", "output_throughput"),
           ("req/s", "request_throughput"), ("goodput req/s", "request_goodput"), ("failed", "failed")]


def value(summary, path):
    for key in path.split("."):
        summary = summary.get(key) if isinstance(summary, dict) else None
    return float(summary) if summary is not None else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--levels", default="1,4,16")
    ap.add_argument("--prompts", type=int, default=48)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--slo-ttft-ms", type=float, default=3000)
    ap.add_argument("--slo-itl-ms", type=float, default=150)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        build_release()
    logdir = tempfile.mkdtemp(prefix="bench-pd-")
    yaml = os.path.join(logdir, "collocated.yaml")
    with open(yaml, "w") as f:
        f.write(COLLOCATED_YAML)
    levels = [int(x) for x in args.levels.split(",")]
    apps = [("collocated, 1 engine on 2 cores", [yaml]), ("1P+1D, 1 core each", [])]
    results = {}  # (app, level) -> [json per repeat]
    for r in range(args.repeat):
        for name, serve_args in apps:
            serve = ServeProcess(BATON, logdir, f"{name.split(',')[0]}-{r}", serve_args)
            try:
                serve.wait_ready(180)
                for level in levels:
                    # The same requests for both apps; new ones for each level and run.
                    data = os.path.join(logdir, f"mixed-c{level}-r{r}.jsonl")
                    dataset(data, args.prompts, seed=1000 * r + level)
                    out = os.path.join(logdir, f"{name.split(',')[0]}-c{level}-r{r}.json")
                    got = bench(serve.url, data, args.prompts, level, args, out)
                    results.setdefault((name, level), []).append(got)
                    print(f"{name} c={level} run {r + 1}: " + ", ".join(f"{c} {value(got, k):.1f}" for c, k in COLUMNS),
                          file=sys.stderr, flush=True)
            finally:
                serve.stop()
    print(f"{args.prompts} prompts (one in four of 1,000–1,750 tokens, the rest 20–80 words), 64–256 output tokens; "
          f"SLOs TTFT ≤ {args.slo_ttft_ms:.0f} ms, TPOT ≤ {args.slo_itl_ms:.0f} ms; median of {args.repeat} run(s); logs in {logdir}\n")
    print("| app | concurrency | " + " | ".join(c for c, _ in COLUMNS) + " |")
    print("|---|---:|" + "---:|" * len(COLUMNS))
    for level in levels:
        for name, _ in apps:
            runs = results[(name, level)]
            cells = [f"{statistics.median(value(run, k) for run in runs):.1f}" for _, k in COLUMNS]
            print(f"| {name} | {level} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
