#!/usr/bin/env bash
# Runs every test: builds, fetches the default model into the cache if it is not there (the
# real-model tests compare against llama.cpp fixtures), then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product baton
.build/debug/baton model pull smollm2 >/dev/null
# The interop tests drive `baton engine` with the official openai client and check responses
# against docs/openapi.yaml with jsonschema.
if [ ! -x .build/interop-venv/bin/python ] || ! .build/interop-venv/bin/python -c "import openai, jsonschema, yaml" 2>/dev/null; then
    python3 -m venv .build/interop-venv
    .build/interop-venv/bin/pip install --quiet --disable-pip-version-check "openai>=1.40" "jsonschema>=4.18" pyyaml
fi
if [ $# -gt 0 ]; then
    swift test "$@"
else
    # The suites that run several engine processes each (prefill/decode, KV handoff, router,
    # serve end to end) go one at a time, after the rest, so they do not starve the other
    # live-engine tests of cores. The router's proxy and idle-connection suites bound how long a
    # behaviour may take (a 503 without waiting, a closed idle connection) in seconds: they run
    # on their own too, since under the first pass's load a 1.4 s suite took 30 s.
    serial=(ProxyTests IdleConnectionTests KVHandoffLiveTests PDHandoffTests RouterE2ETests RouterFailureTests ServeE2ETests)
    skips=()
    for suite in "${serial[@]}"; do skips+=(--skip "$suite"); done
    swift test "${skips[@]}"
    for suite in "${serial[@]}"; do
        swift test --skip-build --filter "$suite"
    done
fi
