#!/usr/bin/env bash
# µs per encode of three prompts with the router's tokenizer (`baton tokenize --time`), three
# runs each: the bench_router prompt (36 bytes), a chat prompt with specials (144 bytes), and a
# 3.7 KB prompt. Usage: scripts/bench_tokenizer.sh [BATON_BINARY] (default: the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-.build/release/baton}
[ -x "$B" ] || swift build -c release --product baton
LONG=$(python3 -c "print(('The router tokenizes each prompt as the engine does, hashes its blocks, and picks the decode that holds the most of them. ' * 30).strip())")
CHAT="<|im_start|>system
You are a helpful assistant.<|im_end|>
<|im_start|>user
Say hello to the benchmark, briefly.<|im_end|>
<|im_start|>assistant
"
for _ in 1 2 3; do
    "$B" tokenize --model smollm2 --time 200000 "Say hello to the benchmark, briefly." 2>&1 >/dev/null
    "$B" tokenize --model smollm2 --special --time 100000 "$CHAT" 2>&1 >/dev/null
    "$B" tokenize --model smollm2 --time 2000 "$LONG" 2>&1 >/dev/null
done
