"""How a check fails (CheckFailed, check) and reports (say), waits (poll) and reads (get)."""
import http.client
import time


class CheckFailed(Exception):
    pass


def check(cond, message):
    if not cond:
        raise CheckFailed(message)


def say(line):
    print(line, flush=True)


def poll(predicate, timeout, interval=0.05):
    """Seconds until `predicate()` held, or None after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start <= timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    return None


def get(url, path, timeout=30):
    """GET `path` from a base URL (http://host:port): (status, text)."""
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()
