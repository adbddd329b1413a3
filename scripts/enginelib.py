"""Starting a release `baton engine` (and `baton router`) for the benchmark and soak scripts."""
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATON = f"{ROOT}/.build/release/baton"


def free_ports(n):
    """`n` distinct loopback ports that are free now, below the kernel's ephemeral range (so no
    client connection made during a benchmark can take one first)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    ports = []
    candidates = range(10000, max(low, 10000 + 4 * n))
    for port in random.sample(candidates, min(len(candidates), 4 * n + 100)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == n:
            return ports
    raise RuntimeError("no free ports")


def build_release():
    """`swift build -c release --product baton`, under the shared build lock (one Swift build at a
    time on this machine), and `baton model pull smollm2`."""
    subprocess.run(["flock", "/tmp/baton-swift.lock", "swift", "build", "-c", "release", "--product", "baton"], cwd=ROOT, check=True,
                   stdout=sys.stderr)
    subprocess.run([BATON, "model", "pull", "smollm2"], check=True, stdout=subprocess.DEVNULL)


def wait_healthy(proc, port, what, seconds=30):
    """Returns once GET /health on `port` answers 200; raises if `proc` exits or time runs out."""
    for _ in range(int(seconds * 10)):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"{what} did not become healthy in {seconds} s")


def start_engine(port, *flags, build=True):
    """Builds release (under the shared build lock), pulls the model, starts `baton engine` on
    `port` with `flags` and returns the process once /health answers 200 (raises otherwise)."""
    if build:
        build_release()
    engine = subprocess.Popen([BATON, "engine", "--port", str(port), *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return wait_healthy(engine, port, "baton engine")


def start_router(port, *flags, log=None):
    """Starts the already built `baton router` on `port` with `flags` (its log to `log`, a path,
    or nowhere) and returns the process once its /health answers 200."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    router = subprocess.Popen([BATON, "router", "--port", str(port), *flags], stdout=out, stderr=out)
    return wait_healthy(router, port, "baton router")


def parse_metrics(text):
    """Prometheus text exposition -> {'name{labels}': value} (labels as the server wrote them)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        try:
            out[name] = float(value)
        except ValueError:
            pass
    return out


def metric_sum(parsed, name):
    """The sum of every series of `name` (whatever its labels) in parse_metrics output."""
    return sum(v for k, v in parsed.items() if k == name or k.startswith(name + "{"))


def metrics(port):
    """GET /metrics on `port`, parsed by parse_metrics."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    return parse_metrics(c.getresponse().read().decode())


class ServeProcess:
    """One `baton serve` process in its own process group (so Ctrl-C can be sent as a terminal
    sends it), its output in `logdir/NAME.log`."""

    def __init__(self, binary, logdir, name, args=(), port=None):
        self.port = port or free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(logdir, f"{name}.log")
        self.binary = binary
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([binary, "serve", "--port", str(self.port), *args], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def tail(self, lines=40):
        return "\n".join(line[:300] for line in self.text().splitlines()[-lines:])

    def wait_ready(self, timeout=120):
        """Seconds until it logged `ready: http…` and its /health answered 200; RuntimeError if it
        exits or time runs out."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"baton serve exited with {self.proc.returncode}:\n{self.tail()}")
            if re.search(r"\bready: http", self.text()) and self.health() == 200:
                return time.monotonic() - t0
            time.sleep(0.1)
        raise RuntimeError(f"baton serve not ready after {timeout} s:\n{self.tail()}")

    def health(self):
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            c.request("GET", "/health")
            return c.getresponse().status
        except OSError:
            return None

    def stop(self):
        """Ctrl-C, as a terminal sends it; killed if still there after a minute."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
