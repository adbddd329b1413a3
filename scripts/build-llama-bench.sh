#!/usr/bin/env bash
# Build llama.cpp's llama-bench from the llama-cpp-python PyPI sdist (which
# vendors llama.cpp under vendor/llama.cpp). The result is cached under
# ${BATON_CACHE:-$HOME/.cache/baton}/llama.cpp-VERSION/, so a second run is
# instant. The last line printed is the path of the llama-bench binary.
#
#   LLAMA_CPP_PYTHON_VERSION  sdist version (default: pin in scripts/reference/requirements.txt)
#   JOBS                      parallel build jobs (default 2)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
default_version="$(sed -n 's/^llama-cpp-python==//p' "$here/reference/requirements.txt" 2>/dev/null || true)"
version="${LLAMA_CPP_PYTHON_VERSION:-${default_version:-0.3.36}}"
jobs="${JOBS:-2}"
cache="${BATON_CACHE:-$HOME/.cache/baton}/llama.cpp-$version"
bin="$cache/bin/llama-bench"

if [[ -x "$bin" ]]; then
    echo "$bin"
    exit 0
fi

log() { echo "build-llama-bench: $*" >&2; }

if ! command -v cmake >/dev/null 2>&1; then
    log "installing cmake with apt-get"
    sudo_cmd=""
    [[ "$(id -u)" != 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq >&2
    $sudo_cmd apt-get install -y -qq cmake >&2
fi

mkdir -p "$cache"
src="$cache/src"
if [[ ! -f "$src/CMakeLists.txt" ]]; then
    dl="$(mktemp -d)"
    trap 'rm -rf "$dl"' EXIT
    log "downloading llama-cpp-python==$version sdist"
    python3 -m pip download --no-deps --no-binary :all: --dest "$dl" \
        "llama-cpp-python==$version" >&2
    tarball="$(ls "$dl"/*.tar.gz | head -n1)"
    mkdir -p "$dl/x"
    tar -xzf "$tarball" -C "$dl/x"
    top="$(ls -d "$dl"/x/*/ | head -n1)"
    rm -rf "$src"
    mv "$top/vendor/llama.cpp" "$src"
fi

# AMX instructions fault in some VMs on Intel hosts. -mno-amx-* in
# CMAKE_C_FLAGS alone is not enough with GGML_NATIVE=ON: ggml appends
# -march=native after them, which re-enables AMX on AMX-capable CPUs. So a
# compiler launcher also appends the flags at the very end of each command.
noamx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
launcher="$cache/noamx-launcher.sh"
cat > "$launcher" <<EOF
#!/bin/sh
exec "\$@" $noamx
EOF
chmod +x "$launcher"

build="$cache/build"
log "configuring in $build"
cmake -S "$src" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="$noamx" -DCMAKE_CXX_FLAGS="$noamx" \
    -DCMAKE_C_COMPILER_LAUNCHER="$launcher" -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" \
    -DGGML_NATIVE=ON \
    -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_CURL=OFF \
    -DLLAMA_BUILD_TESTS=OFF \
    -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_SERVER=OFF \
    -DLLAMA_BUILD_TOOLS=ON >&2
log "building llama-bench with -j$jobs"
cmake --build "$build" --target llama-bench -j "$jobs" >&2

mkdir -p "$cache/bin"
cp "$build/bin/llama-bench" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "$bin"
