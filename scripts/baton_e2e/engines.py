"""Processes: free loopback ports, the release build, `baton engine`/`router`/`serve` children
(the benchmark and soak scripts start release ones here; the checks' engines are pd_e2e's
`Engine`, a LoggedProcess)."""
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

# The package lives in scripts/baton_e2e; the repository is two folders up.
HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(HARNESS)
BATON = f"{ROOT}/.build/release/baton"


def ephemeral_low():
    """The low end of the kernel's ephemeral port range (32768 if it cannot be read)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return max(int(f.read().split()[0]), 10001)
    except (OSError, ValueError, IndexError):
        return 32768


_ports = set()


def free_port():
    """A random loopback port from 10000 up to the kernel's ephemeral range (a client
    connection's local port is never drawn from there) that binds now and was not handed out
    before."""
    high = ephemeral_low() - 1
    for _ in range(500):
        port = random.randint(10000, high)
        if port in _ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports.add(port)
        return port
    raise RuntimeError(f"no free port in 10000-{high}")


def free_ports(n):
    """`n` distinct free_port()s."""
    return [free_port() for _ in range(n)]


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


class LoggedProcess:
    """A child process whose output goes to `log_path`: stopped politely, then killed; its log's tail
    for failure messages. The checks' engines and routers are ones."""

    proc = None
    log_path = None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, lines=20):
        try:
            with open(self.log_path, "rb") as f:
                return "\n".join(line[:300] for line in f.read().decode("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


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
