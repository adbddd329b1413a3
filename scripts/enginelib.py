"""Starting a release `baton engine` for the benchmark and soak scripts."""
import http.client
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATON = f"{ROOT}/.build/release/baton"


def start_engine(port, *flags):
    """Builds release (under the shared build lock), pulls the model, starts `baton engine` on
    `port` with `flags` and returns the process once /health answers 200 (raises otherwise)."""
    subprocess.run(["flock", "/tmp/baton-swift.lock", "swift", "build", "-c", "release", "--product", "baton"], cwd=ROOT, check=True,
                   stdout=sys.stderr)
    subprocess.run([BATON, "model", "pull", "smollm2"], check=True, stdout=subprocess.DEVNULL)
    engine = subprocess.Popen([BATON, "engine", "--port", str(port), *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        if engine.poll() is not None:
            raise RuntimeError(f"baton engine exited with {engine.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return engine
        except OSError:
            pass
        time.sleep(0.1)
    engine.terminate()
    raise RuntimeError("baton engine did not become healthy in 30 s")
