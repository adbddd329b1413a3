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
    # The prefill/decode, router and serve end-to-end checks run several engine processes each;
    # one at a time, after the rest, so they do not starve the other live-engine tests of cores.
    swift test --skip PDHandoffTests --skip RouterE2ETests --skip RouterFailureTests --skip ServeE2ETests
    for suite in PDHandoffTests RouterE2ETests RouterFailureTests ServeE2ETests; do
        swift test --skip-build --filter "$suite"
    done
fi
