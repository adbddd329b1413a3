#!/usr/bin/env python3
"""`baton serve` end to end, on real processes (run by ServeE2ETests with the interop venv's
python, which has the official openai client):

a. `--check` prints the resolved plan of a Ray Serve YAML and starts nothing; a wrong value
   fails naming its key's path.
b. The default app (no file) on a free port: ready within seconds, one prefill and one decode
   engine as child processes, each pinned to its own core, logs prefixed by replica name; the
   openai client's chat and completions (streamed and not) through the router; a long prompt
   takes the split path (X-Baton-Route), a short one the local path.
c. kill -9 of the decode engine, then of the prefill, under load from two clients: each is
   restarted on its port and taken back by the router, and every request is answered (the
   router waits for a decode to come back rather than answer 503).
d. Ctrl-C (SIGINT to the process group) while a stream is running: the stream finishes with
   [DONE], `baton serve` exits 0, no engine process is left.
e. kill -9 of `baton serve` itself: its engines notice and exit by themselves.
f. Autoscaling from a Ray Serve YAML: a decode pool 1…2 and a prefill pool 0…1 (min 0: long
   prompts take the local path until a prefill exists). Four concurrent streams scale the decode
   pool up (the new replica joins the router) and start a prefill; when they end, the extra
   decode is drained and stopped; `baton status` shows the replicas and the decisions.
g. Replica mode (AIBrix's xPyD): two 1P1D groups; every split request's prefill and decode
   (X-Baton-Prefill, X-Baton-Decode) come from one group, and both groups serve; once idle, the
   autoscaler (whose replicas are groups) scales down by one whole group: both its engines stop.

usage: serve_e2e.py BATON_BINARY   (prints "serve checks passed" last)
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from .checks import CheckFailed, check, get, poll, say
from .engines import ServeProcess
from .pd_proxy import call

MODEL = "smollm2"
LONG = " ".join(f"Paragraph {i}: the harbour master counted {i * 7} boats and wrote each name in the ledger." for i in range(12))


class Serve(ServeProcess):
    """`baton serve` (engines.ServeProcess), seen from the checks: its engine children and pools."""

    def wait_ready(self, timeout=120):
        try:
            return super().wait_ready(timeout)
        except RuntimeError as e:
            raise CheckFailed(str(e))

    def engines(self):
        """{engine port: pid} of this process's live engine children."""
        out = {}
        for pid in children(self.proc.pid):
            args = cmdline(pid)
            if "engine" in args:
                port = args[args.index("--port") + 1]
                out[port] = pid
        return out

    def pools(self):
        status, text = get(self.url, "/admin/pools")
        check(status == 200, f"/admin/pools answered {status}: {text}")
        return json.loads(text)


def serve_file(binary, logdir, name, yaml):
    """`baton serve NAME.yaml` with `yaml` written to the log folder."""
    path = os.path.join(logdir, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(yaml)
    return Serve(binary, logdir, f"serve-{name}", [path])


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] != "Z":
                    out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode().split("\0")
    except OSError:
        return []


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cpus_allowed(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    return None


def check_plan(binary, logdir):
    path = os.path.join(logdir, "pd.yaml")
    with open(path, "w") as f:
        f.write("""applications:
  - name: pd-app
    route_prefix: /
    import_path: ray.serve.llm:build_pd_openai_app
    args:
      prefill_config:
        model_loading_config: {model_id: my-llm, model_source: smollm2}
        accelerator_type: A10G
        engine_kwargs: {kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_both}}
        deployment_config:
          autoscaling_config: {min_replicas: 1, max_replicas: 3}
      decode_config:
        model_loading_config: {model_id: my-llm, model_source: smollm2}
        engine_kwargs: {kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_both}}
        deployment_config: {num_replicas: 2}
""")
    out = subprocess.run([binary, "serve", path, "--check"], capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, f"serve --check exited {out.returncode}: {out.stderr}")
    plan_lines = len(out.stdout.splitlines())
    for line in ["application pd-app (prefill/decode) at /", "  prefill pool: autoscaled 1…3", "  decode pool: 2 fixed replicas",
                 "ignored: applications[0].args.prefill_config.accelerator_type"]:
        check(line in out.stdout, f"serve --check: no {line!r} in\n{out.stdout}")
    bad = path.replace("pd.yaml", "bad.yaml")
    with open(path) as f, open(bad, "w") as g:
        g.write(f.read().replace("max_replicas: 3", "max_replicas: three"))
    out = subprocess.run([binary, "serve", bad, "--check"], capture_output=True, text=True, timeout=60)
    want = "applications[0].args.prefill_config.deployment_config.autoscaling_config.max_replicas"
    check(out.returncode != 0 and want in out.stderr, f"serve --check of a wrong value: exit {out.returncode}, stderr {out.stderr!r}")
    say(f"a. --check prints the plan ({plan_lines} lines); a wrong value names {want}")


def check_default_app(serve):
    import openai
    took = serve.wait_ready()
    engines = serve.engines()
    check(len(engines) == 2, f"b: {len(engines)} engine children, expected 2: {engines}")
    pools = serve.pools()
    check(len(pools["prefill"]) == 1 and len(pools["decode"]) == 1, f"b: /admin/pools {pools}")
    urls = {e["role"]: e["url"] for e in pools["prefill"] + pools["decode"]}
    check(all(e["state"] == "healthy" for e in pools["prefill"] + pools["decode"]), f"b: not all healthy: {pools}")
    pins = {port: cpus_allowed(pid) for port, pid in engines.items()}
    mine = cpus_allowed(serve.proc.pid)
    if os.cpu_count() >= 2:
        check(len(set(pins.values())) == 2 and all("," not in p and "-" not in p for p in pins.values()),
              f"b: the engines are not pinned to one core each: {pins} (serve: {mine})")
    text = serve.text()
    for prefix in ["[prefill-0] ", "[decode-0] "]:
        check(prefix in text, f"b: no line prefixed {prefix!r} in the log:\n{serve.tail()}")
    status = subprocess.run([serve.binary, "status", "--url", serve.url], capture_output=True, text=True, timeout=30)
    check(status.returncode == 0 and "prefill-0" in status.stdout and "decode-0" in status.stdout
          and status.stdout.count(" ready ") == 2 and status.stdout.count("healthy") == 2,
          f"b: baton status: exit {status.returncode}\n{status.stdout}{status.stderr}")
    say(f"b. default app ready in {took:.1f} s: prefill {urls['prefill']}, decode {urls['decode']}, engines pinned to CPUs {sorted(pins.values())}")

    client = openai.OpenAI(base_url=serve.url + "/v1", api_key="unused", max_retries=0, timeout=120)
    models = [m.id for m in client.models.list()]
    check(models == [MODEL], f"b: /v1/models lists {models}")
    chat = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Name a colour."}], max_tokens=8, temperature=0)
    check(chat.choices[0].message.content and chat.usage.completion_tokens >= 1, f"b: chat answered {chat}")
    stream = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Name a colour."}], max_tokens=8,
                                            temperature=0, stream=True)
    streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    check(streamed == chat.choices[0].message.content, f"b: streamed {streamed!r} != whole {chat.choices[0].message.content!r}")
    raw = client.completions.with_raw_response.create(model=MODEL, prompt=LONG, max_tokens=6, temperature=0)
    long_reply = raw.parse()
    check(raw.headers.get("x-baton-route") == "split" and raw.headers.get("x-baton-prefill") == urls["prefill"],
          f"b: a {long_reply.usage.prompt_tokens}-token prompt was not split: {dict(raw.headers)}")
    raw = client.completions.with_raw_response.create(model=MODEL, prompt="Hello", max_tokens=4, temperature=0)
    check(raw.headers.get("x-baton-route") == "local", f"b: a short prompt was not local: {dict(raw.headers)}")
    say(f"   openai client: chat {chat.choices[0].message.content!r} (streamed alike), completions; "
        f"{long_reply.usage.prompt_tokens}-token prompt split, short one local")
    return client, urls


def check_restart(serve, client, urls):
    """kill -9 of the decode, then of the prefill, while two clients keep sending short (local)
    and long (split) requests: each engine is restarted on its port, and every request gets its
    whole answer (none had started: non-streamed answers come whole)."""
    stop, outcomes, busy = threading.Event(), [], [0]

    def load(i):
        n = 0
        while not stop.is_set():
            busy[0] += 1
            prompt = f"({i}-{n}) " + (LONG if n % 2 else "Hello there,")  # distinct from the first block: nothing cached
            r = call(serve.url, "/v1/completions", {"model": MODEL, "prompt": prompt, "max_tokens": 6, "temperature": 0}, timeout=120)
            busy[0] -= 1
            outcomes.append((r.status, r.headers.get("x-baton-route"), (r.error or {}).get("message") if r.error else None))
            n += 1

    threads = [threading.Thread(target=load, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    lines = []
    try:
        time.sleep(1.5)
        for role in ["decode", "prefill"]:
            port = urls[role].rsplit(":", 1)[1]
            old = serve.engines()[port]
            t0 = time.monotonic()
            in_flight = busy[0]
            os.kill(old, signal.SIGKILL)
            back = poll(lambda: serve.engines().get(port) not in (None, old)
                        and any(e["state"] == "healthy" for e in serve.pools()[role]), 60, interval=0.1)
            check(back, f"c: the {role} engine was not restarted and healthy within 60 s:\n{serve.tail()}")
            check(f"{role}-0 exited" in serve.text(), f"c: no '{role}-0 exited' in the log:\n{serve.tail()}")
            check(in_flight > 0, f"c: no request was in flight when {role}-0 was killed")
            lines.append(f"{role}-0 killed with {in_flight} request(s) in flight, back as pid {serve.engines()[port]} "
                         f"in {time.monotonic() - t0:.1f} s")
            time.sleep(3)
    finally:
        stop.set()
        for t in threads:
            t.join(150)
    check(len(outcomes) >= 2, f"c: only {len(outcomes)} requests finished under the kills")
    bad = [o for o in outcomes if o[0] != 200]
    check(not bad, f"c: {len(bad)} of {len(outcomes)} requests under the kills failed: {bad[:5]}")
    routes = {r: sum(1 for o in outcomes if o[1] == r) for r in ("split", "local")}
    say(f"c. kill -9 under load: {'; '.join(lines)}; all {len(outcomes)} requests answered 200 ({routes['split']} split, {routes['local']} local)")


def check_ctrl_c(serve):
    engines = list(serve.engines().values())
    events, result = [], {}
    first = threading.Event()

    def stream():
        def on_event(e):
            events.append(e)
            first.set()
        result["reply"] = call(serve.url, "/v1/completions", {"model": MODEL, "prompt": "Count: one, two,", "max_tokens": 40,
                                                              "temperature": 0, "stream": True, "ignore_eos": True}, on_event=on_event)

    t = threading.Thread(target=stream)
    t.start()
    check(first.wait(60), "d: the stream sent nothing within 60 s")
    os.killpg(serve.proc.pid, signal.SIGINT)
    t0 = time.monotonic()
    t.join(120)
    reply = result.get("reply")
    check(reply is not None and reply.status == 200 and reply.done, f"d: the stream in flight at Ctrl-C did not finish with [DONE]: {reply}")
    check(reply.finish_reason == "length", f"d: the stream ended {reply.finish_reason!r}, not after its 40 tokens")
    try:
        code = serve.proc.wait(90)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"d: baton serve still running 90 s after Ctrl-C:\n{serve.tail()}")
    took = time.monotonic() - t0
    check(code == 0, f"d: baton serve exited {code} after Ctrl-C:\n{serve.tail()}")
    left = [pid for pid in engines if alive(pid)]
    check(not left, f"d: engine processes left after Ctrl-C: {left}")
    for name in ["prefill-0", "decode-0"]:
        check(f"{name} stopped (status 0)" in serve.text(), f"d: {name} did not exit 0:\n{serve.tail()}")
    say(f"d. Ctrl-C with a stream running: it finished ({len(events)} events, [DONE]); baton serve exited 0 after {took:.1f} s, "
        f"both engines exited 0, none left")


def check_orphans(binary, logdir):
    serve = Serve(binary, logdir, "serve-killed")
    try:
        serve.wait_ready()
        engines = list(serve.engines().values())
        check(len(engines) == 2, f"e: {engines}")
        os.kill(serve.proc.pid, signal.SIGKILL)
        serve.proc.wait()
        gone = poll(lambda: not any(alive(p) for p in engines), 10, interval=0.1)
        check(gone, f"e: engines still running 10 s after baton serve was killed: {[p for p in engines if alive(p)]}")
        say("e. kill -9 of baton serve: both engines exited by themselves")
    finally:
        serve.kill()


SCALING_YAML = """applications:
  - name: scaling
    import_path: ray.serve.llm:build_pd_openai_app
    args:
      prefill_config:
        model_loading_config: {model_id: smollm2, model_source: smollm2}
        engine_kwargs: {kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_producer}}
        deployment_config:
          autoscaling_config: {min_replicas: 0, max_replicas: 1, target_ongoing_requests: 1,
                               upscale_delay_s: 0.5, downscale_delay_s: 600, look_back_period_s: 2}
      decode_config:
        model_loading_config: {model_id: smollm2, model_source: smollm2}
        engine_kwargs: {kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_consumer}}
        deployment_config:
          autoscaling_config: {min_replicas: 1, max_replicas: 2, target_ongoing_requests: 1,
                               upscale_delay_s: 1, downscale_delay_s: 3, look_back_period_s: 2}
"""


def app_status(serve):
    status, text = get(serve.url, "/admin/app")
    check(status == 200, f"/admin/app answered {status}: {text}")
    return json.loads(text)


def check_autoscaling(binary, logdir):
    serve = serve_file(binary, logdir, "scaling", SCALING_YAML)
    try:
        serve.wait_ready()
        app = app_status(serve)
        check([r["name"] for r in app["replicas"]] == ["decode-0"], f"f: at start {app['replicas']} (expected decode-0 only: prefill min 0)")
        results = []

        def stream(i):
            results.append(call(serve.url, "/v1/completions", {"model": MODEL, "prompt": f"{i}. {LONG}", "max_tokens": 60,
                                                               "temperature": 0, "stream": True, "ignore_eos": True}))

        t0 = time.monotonic()
        threads = [threading.Thread(target=stream, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        up = poll(lambda: {e["url"] for e in serve.pools()["decode"] if e["state"] == "healthy"}.__len__() == 2, 60, interval=0.2)
        check(up, f"f: the decode pool did not grow to 2 healthy replicas under 4 streams:\n{serve.tail()}")
        grew = time.monotonic() - t0
        for t in threads:
            t.join(300)
        check(len(results) == 4 and all(r.status == 200 and r.done for r in results),
              f"f: the 4 streams: {[(r.status, r.done, r.error) for r in results]}")
        prefill = poll(lambda: any(e["state"] == "healthy" for e in serve.pools()["prefill"]), 60, interval=0.2)
        check(prefill, f"f: no prefill replica was started for the long prompts that wanted one:\n{serve.tail()}")
        pid1 = next((r["pid"] for r in app_status(serve)["replicas"] if r["name"] == "decode-1"), None)
        down = poll(lambda: [r["name"] for r in app_status(serve)["replicas"] if r["role"] == "decode"] == ["decode-0"], 60, interval=0.2)
        check(down, f"f: the extra decode was not drained and stopped after the load ended: {app_status(serve)}\n{serve.tail()}")
        check(pid1 is None or not alive(pid1), f"f: decode-1's process {pid1} is still running after its scale-down")
        check("decode-1 stopped (status 0)" in serve.text(), f"f: decode-1 did not exit 0:\n{serve.tail()}")
        decode = next(a for a in app_status(serve)["autoscalers"] if a["pool"] == "decode")
        steps = [(d["from"], d["to"]) for d in decode["decisions"]]
        check(steps == [(1, 2), (2, 1)], f"f: decode autoscaler decisions {decode['decisions']}")
        status = subprocess.run([binary, "status", "--url", serve.url], capture_output=True, text=True, timeout=30)
        check("autoscaler decode: 1 replica(s)" in status.stdout and "1→2" in status.stdout and "2→1" in status.stdout,
              f"f: baton status:\n{status.stdout}{status.stderr}")
        say(f"f. autoscaling: 4 streams grew decode 1→2 in {grew:.1f} s and started a prefill from 0; after them decode-1 was "
            f"drained and stopped (exit 0), 2→1; baton status shows both decisions")
    finally:
        serve.stop()


REPLICA_YAML = """applications:
  - name: groups
    import_path: ray.serve.llm:build_pd_openai_app
    args:
      pd_mode: replica
      replica_groups: {prefill: 1, decode: 1}
      prefill_config:
        model_loading_config: {model_id: smollm2, model_source: smollm2}
        engine_kwargs: {kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_producer}}
      decode_config:
        model_loading_config: {model_id: smollm2, model_source: smollm2}
        engine_kwargs: {kv_transfer_config: {kv_connector: NixlConnector, kv_role: kv_consumer}}
        deployment_config:
          autoscaling_config: {min_replicas: 1, initial_replicas: 2, max_replicas: 2, target_ongoing_requests: 1,
                               upscale_delay_s: 1, downscale_delay_s: 10, look_back_period_s: 2}
"""


def check_replica_groups(binary, logdir):
    serve = serve_file(binary, logdir, "groups", REPLICA_YAML)
    try:
        serve.wait_ready()
        pools = serve.pools()
        group_of = {e["url"]: e.get("group") for e in pools["prefill"] + pools["decode"]}
        check(len(pools["prefill"]) == 2 and len(pools["decode"]) == 2 and sorted(group_of.values()) == [0, 0, 1, 1],
              f"g: /admin/pools {pools}")
        results = []

        def one(i):
            results.append(call(serve.url, "/v1/completions", {"model": MODEL, "prompt": f"{i}. {LONG}", "max_tokens": 4, "temperature": 0}))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        pairs = []
        for r in results:
            check(r.status == 200 and r.headers.get("x-baton-route") == "split", f"g: {r.status} {r.headers} {r.error}")
            p, d = r.headers["x-baton-prefill"], r.headers["x-baton-decode"]
            check(group_of[p] == group_of[d], f"g: a request was prefilled in group {group_of[p]} ({p}) and decoded in group {group_of[d]} ({d})")
            pairs.append(group_of[d])
        check(len(results) == 8 and set(pairs) == {0, 1}, f"g: groups used {pairs} ({len(results)} answers)")
        def groups_left():
            return sorted({r["group"] for r in app_status(serve)["replicas"]})

        one = poll(lambda: len(groups_left()) == 1, 60, interval=0.2)
        check(one, f"g: still groups {groups_left()} 60 s after the requests: {app_status(serve)}\n{serve.tail()}")
        gone = next(g for g in (0, 1) if g not in groups_left())
        for role in ("prefill", "decode"):
            name = next((n for n in (f"{role}-0", f"{role}-1") if f"{n} stopped (status 0)" in serve.text()), None)
            check(name, f"g: no {role} of group {gone} stopped")
        left = {e["url"] for e in serve.pools()["prefill"] + serve.pools()["decode"]}
        check(len(left) == 2 and all(group_of[u] != gone for u in left), f"g: the router still lists {left}")
        say(f"g. replica mode, two 1P1D groups: 8 split requests, each prefilled and decoded in one group "
            f"(group 0: {pairs.count(0)}, group 1: {pairs.count(1)}); idle, group {gone} was drained and both its engines stopped")
    finally:
        serve.stop()


def main():
    binary = os.path.abspath(sys.argv[1])
    logdir = tempfile.mkdtemp(prefix="serve-e2e-")
    say(f"logs in {logdir}")
    check_plan(binary, logdir)
    serve = Serve(binary, logdir, "serve")
    try:
        client, urls = check_default_app(serve)
        check_restart(serve, client, urls)
        check_ctrl_c(serve)
        check_orphans(binary, logdir)
        check_autoscaling(binary, logdir)
        check_replica_groups(binary, logdir)
    except CheckFailed as e:
        print(f"FAIL: {e}", file=sys.stderr)
        print(f"--- serve log tail ---\n{serve.tail(60)}", file=sys.stderr)
        sys.exit(1)
    finally:
        serve.kill()
    say("serve checks passed")


if __name__ == "__main__":
    main()
