#!/usr/bin/env python3
"""Engine speed beside llama.cpp, in one run on this machine (release builds).

For 1 and 2 threads: prefill tok/s on a 512-token prompt and decode tok/s for 128 tokens after
a short prompt, from `baton generate`'s stderr line, each the median of --repeat runs; and
`llama-bench -p 512 -n 128 -r REPEAT` on the same GGUF (built by scripts/build-llama-bench.sh).
Prints a table of both and their ratios, and writes it as JSON with --json PATH.
"""
import argparse, json, os, re, statistics, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATON = os.path.join(ROOT, ".build", "release", "baton")
LINE = re.compile(r"prompt_tokens=(\d+) prefill_tok_s=([\d.]+) generated_tokens=(\d+) decode_tok_s=([\d.]+)")
TEXT = ("The history of computing is a story of people who wanted machines to do arithmetic for them, "
        "then to remember, then to talk. Each generation of engineers inherited the tools of the last "
        "and bent them to new purposes, from relays to vacuum tubes, transistors and chips. ")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def prompt_of(n_tokens, model):
    text = TEXT * (n_tokens // 20 + 2)
    words = text.split(" ")
    lo, hi = 1, len(words)
    while lo < hi:  # the longest word prefix with at most n tokens
        mid = (lo + hi + 1) // 2
        count = len(json.loads(run([BATON, "tokenize", "--model", model, " ".join(words[:mid])]).stdout))
        lo, hi = (mid, hi) if count <= n_tokens else (lo, mid - 1)
    return " ".join(words[:lo])


def baton(model, threads, prompt, max_tokens, repeat, key):
    values = []
    for _ in range(repeat):
        out = run([BATON, "generate", "--model", model, "--prompt", prompt, "--max-tokens", str(max_tokens),
                   "--threads", str(threads), "--ignore-eos"])
        m = LINE.search(out.stderr.strip().splitlines()[-1])
        values.append(float(m.group(2) if key == "prefill" else m.group(4)))
    return statistics.median(values), int(m.group(1))


def llama_bench(binary, model, threads, repeat):
    out = run([binary, "-m", model, "-p", "512", "-n", "128", "-t", str(threads), "-r", str(repeat), "-o", "json"])
    rows = json.loads(out.stdout)
    pp = next(r["avg_ts"] for r in rows if r["n_prompt"] == 512 and r["n_gen"] == 0)
    tg = next(r["avg_ts"] for r in rows if r["n_gen"] == 128 and r["n_prompt"] == 0)
    return pp, tg


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--json")
    args = ap.parse_args()
    run(["swift", "build", "-c", "release", "--product", "baton"], cwd=ROOT)
    model = run([BATON, "model", "pull", "smollm2"]).stdout.strip().splitlines()[-1]
    bench = run(["bash", os.path.join(ROOT, "scripts", "build-llama-bench.sh")]).stdout.strip().splitlines()[-1]
    long_prompt = prompt_of(512, model)
    rows = []
    for t in [int(x) for x in args.threads.split(",")]:
        pre, n = baton(model, t, long_prompt, 1, args.repeat, "prefill")
        dec, _ = baton(model, t, "Once upon a time", 129, args.repeat, "decode")
        pp, tg = llama_bench(bench, model, t, args.repeat)
        rows.append({"threads": t, "prompt_tokens": n, "baton_prefill": pre, "llama_pp512": pp,
                     "prefill_ratio": pre / pp, "baton_decode": dec, "llama_tg128": tg, "decode_ratio": dec / tg})
    print(f"{'threads':>7} {'baton pp':>9} {'llama pp512':>11} {'ratio':>6} {'baton tg':>9} {'llama tg128':>11} {'ratio':>6}")
    for r in rows:
        print(f"{r['threads']:>7} {r['baton_prefill']:>9.1f} {r['llama_pp512']:>11.1f} {r['prefill_ratio']:>6.2f} "
              f"{r['baton_decode']:>9.1f} {r['llama_tg128']:>11.1f} {r['decode_ratio']:>6.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
