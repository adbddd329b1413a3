#!/usr/bin/env bash
# Runs every test: builds, fetches the default model into the cache if it is not there (the
# real-model tests compare against llama.cpp fixtures), then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product baton
.build/debug/baton model pull smollm2 >/dev/null
swift test "$@"
