"""The prefill/decode handoff proven end to end with real `baton engine` processes.

Usage: python3 -m baton_e2e.pd_e2e BATON_BINARY [--checks abcd] [--plain]

Starts its own engines (SmolLM2, `--threads 1`, free loopback ports below the ephemeral range): a `kv_both`
engine that answers alone (the reference), producers (prefill) and consumers (decode) wired with
a shared secret, and drives them with pd_proxy (this package), which makes exactly vLLM's toy-proxy
calls. Each check prints one line per finding, with figures; the first failure exits 1 with a
message on stderr (the engines' log tails on stdout; whole logs stay in a temporary folder). The last
line is "pd checks passed".

  a. end-to-end truth: >= 20 prompts (completions and chat, stream and not, short to ~1,850
     tokens, families sharing long prefixes): producer->consumer gives the single engine's text,
     finish_reason and prompt_tokens; the decode's cached_tokens are the prefill's cache hit (its
     answer's remote_prefill_cached_tokens, as one engine would report them), while the consumer's
     own prefix hits decide what it pulls
  b. pulls only what it lacks: a prompt sharing ~500 tokens with one the consumer decoded pulls
     exactly the blocks it does not hold; a prompt whose prefix only the prefill has cached is
     pulled whole, and its cached_tokens are still the prefill's hit
  c. leases: a prefill nobody decodes is freed by the lease; a finished handoff frees at once; a
     consumer killed mid-request and a producer killed before the pull strand nothing; policy
     `recompute` still answers right, policy `fail` answers an OpenAI error and keeps serving
  d. the producer's KV port against hostile input, then a correct READ/DONE by hand

`--plain` runs check a's driver against engines without KV flags (the decode engine prefills
itself): it tests this harness before the KV connector exists. Python 3 standard library only.
"""
import argparse
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import math
import os
import random
import secrets
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field

from .checks import CheckFailed, check, get, poll, say
from .engines import LoggedProcess, free_port
from .metrics import parse_metrics
from .pd_proxy import call, decode_body, headers_for, pd_request, prefill_body

MODEL = "smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
API_KEY = "pd-e2e-key"
BLOCK = 16                 # tokens per KV block
LAYERS, KV_HEADS, HEAD_SIZE = 30, 3, 64
CONTEXT = 2048
COMPLETIONS, CHAT = "/v1/completions", "/v1/chat/completions"


def blocks(tokens):
    return math.ceil(tokens / BLOCK)


# MARK: - Engines


def model_path():
    """Where the engine finds the model: $BATON_MODEL, else the model cache (as RealModel.swift)."""
    if os.environ.get("BATON_MODEL"):
        return os.environ["BATON_MODEL"]
    home = os.environ.get("BATON_HOME") or os.path.join(os.environ.get("HOME", "/root"), ".cache", "baton")
    return os.path.join(home, "models", MODEL_FILE)


@dataclass
class KV:
    """One engine's kv_transfer_config, given as the JSON flag or as the flat flags."""

    role: str
    secret: str
    lease_s: float = 30
    heartbeat_s: float = 0.5
    policy: str = "recompute"
    form: str = "json"
    engine_id: str = field(default_factory=lambda: "pd-e2e-" + secrets.token_hex(4))
    port: int = field(default_factory=free_port)

    def flags(self):
        if self.form == "json":
            config = {
                "kv_connector": "BatonConnector", "kv_role": self.role, "engine_id": self.engine_id,
                "kv_ip": "127.0.0.1", "kv_port": self.port,
                "kv_connector_extra_config": {"lease_s": self.lease_s, "heartbeat_s": self.heartbeat_s,
                                              "secret": self.secret, "kv_load_failure_policy": self.policy},
            }
            return ["--kv-transfer-config", json.dumps(config)]
        return ["--kv-role", self.role, "--kv-engine-id", self.engine_id, "--kv-ip", "127.0.0.1",
                "--kv-port", str(self.port), "--kv-lease-s", str(self.lease_s), "--kv-heartbeat-s",
                str(self.heartbeat_s), "--kv-secret", self.secret, "--kv-load-failure-policy", self.policy]


class Engine(LoggedProcess):
    """One `baton engine` process; its log goes to a file in `logdir`."""

    def __init__(self, name, binary, model, logdir, kv=None):
        self.name, self.binary, self.model, self.kv = name, binary, model, kv
        self.port = free_port()
        self.log_path = os.path.join(logdir, f"{name}.log")
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        args = [self.binary, "engine", "--model", self.model, "--served-model-name", MODEL, "--port", str(self.port),
                "--threads", "1", "--kv-cache-memory", "256MiB", "--api-key", API_KEY]
        args += self.kv.flags() if self.kv else []
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait_healthy(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check(self.proc.poll() is None, f"engine {self.name} exited with {self.proc.returncode}: {self.tail()}")
            if self.health() == 200:
                return
            time.sleep(0.1)
        raise CheckFailed(f"engine {self.name} not healthy after {timeout} s: {self.tail()}")

    def health(self):
        try:
            return get(self.url, "/health")[0]
        except OSError:
            return None

    def kill9(self):
        """SIGKILL, as a crash: no shutdown path runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def metrics(self):
        status, text = get(self.url, "/metrics")
        check(status == 200, f"{self.name} /metrics answered {status}")
        return parse_metrics(text)

    def metric(self, name):
        values = self.metrics()
        check(name in values, f"engine {self.name} exports no metric {name}")
        return values[name]



class Cluster:
    """Every engine the checks use: started together (their model loads overlap), always stopped."""

    def __init__(self, binary, model, logdir, plain):
        self.binary, self.model, self.logdir, self.plain = binary, model, logdir, plain
        self.secret = secrets.token_hex(16)
        self.engines = {}

    def start(self, specs):
        """Starts the engines named in `specs`, then waits until each answers /health."""
        fresh = []
        for name, role, form, kv in specs:
            if name not in self.engines:
                config = None if self.plain else KV(role, self.secret, form=form, **kv)
                self.engines[name] = Engine(name, self.binary, self.model, self.logdir, config)
                self.engines[name].start()
                fresh.append(self.engines[name])
        for e in fresh:
            e.wait_healthy()

    def __getitem__(self, name):
        return self.engines[name]

    def stop(self):
        for e in self.engines.values():
            e.stop()

    def tails(self):
        return "\n".join(f"--- {e.name} ({e.log_path}) ---\n{e.tail()}" for e in self.engines.values() if e.proc)


TOPOLOGY = {
    # name: (role, flag form, KV settings)
    "single": ("kv_both", "json", {}),
    "prefill": ("kv_producer", "json", {"lease_s": 30}),
    "decode": ("kv_consumer", "flags", {"policy": "recompute"}),
    "prefill-lease2": ("kv_producer", "flags", {"lease_s": 2, "heartbeat_s": 0.5}),
    "decode-fail": ("kv_consumer", "json", {"policy": "fail"}),
    "decode-victim": ("kv_consumer", "flags", {}),
    "prefill-victim": ("kv_producer", "json", {}),
}
NEEDS = {
    "a": ["single", "prefill", "decode"],
    "b": ["prefill", "decode"],
    "c": ["single", "decode", "prefill-lease2", "decode-fail", "decode-victim", "prefill-victim"],
    "d": ["prefill"],
}


# MARK: - Requests and tokens


def tokenize(engine, path, body):
    """The engine's token ids for the prompt of a completions or chat body (POST /tokenize)."""
    key = "messages" if path == CHAT else "prompt"
    reply = call(engine.url, "/tokenize", {"model": MODEL, key: body[key]}, api_key=API_KEY, timeout=120)
    check(reply.status == 200, f"/tokenize answered {reply.status}: {reply.body}")
    tokens = reply.body["tokens"]
    check(reply.body["count"] == len(tokens), "/tokenize count differs from its token list")
    return tokens


def common_prefix(a, b):
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def expected_cached(tokens, history):
    """Prompt tokens the consumer holds in its prefix cache: full blocks of the longest prefix
    shared with a prompt it handled before, never the last prompt token (always recomputed)."""
    best = 0
    for seen in history:
        shared = common_prefix(tokens, seen)
        if shared == len(seen) < len(tokens):
            raise RuntimeError("test design: a prompt extends an earlier one (its generated tokens would count)")
        best = max(best, shared)
    return min(best, len(tokens) - 1) // BLOCK * BLOCK


def completion(prompt, max_tokens, stream=False, usage=True, **extra):
    body = {"model": MODEL, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0}
    return with_stream(body, stream, usage, extra)


def chat(messages, max_tokens, stream=False, usage=True, **extra):
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    body = {"model": MODEL, "messages": messages, "max_tokens": max_tokens, "temperature": 0}
    return with_stream(body, stream, usage, extra)


def with_stream(body, stream, usage, extra):
    body.update(extra)
    if stream:
        body["stream"] = True
        if usage:
            body["stream_options"] = {"include_usage": True}
    return body


def same_answer(got, want, what):
    """The decode reply says what the single engine said: text, finish_reason, a clean end."""
    check(want.ok, f"{what}: the single engine failed: {want.status} {want.error or want.body}")
    check(got.ok, f"{what}: the decode failed: {got.status} {got.error or got.body}")
    check(got.events is None or got.done, f"{what}: the decode stream ended without [DONE]")
    check(got.text == want.text, f"{what}: PD text {got.text!r} != single engine {want.text!r}")
    check(got.finish_reason == want.finish_reason, f"{what}: finish_reason {got.finish_reason} != {want.finish_reason}")
    if got.usage and want.usage:
        check(got.usage["completion_tokens"] == want.usage["completion_tokens"], f"{what}: completion_tokens differ")


def cached_tokens(usage):
    return ((usage or {}).get("prompt_tokens_details") or {}).get("cached_tokens", 0)


# MARK: - Prompts

SENTENCES = [
    "The harbour town wakes before dawn, when the fishing boats slip out past the breakwater.",
    "Bakers on the main street pull trays of rye bread from brick ovens older than the church.",
    "In spring the river floods the lower meadows, and the farmers move their sheep to the hills.",
    "A narrow railway climbs the valley in long loops, crossing the same stream eleven times.",
    "The old lighthouse keeper kept a log of every storm for forty years, written in green ink.",
    "Children learn to swim in the cold lake, racing each other to a raft anchored offshore.",
    "The market sells honey, goat cheese, dried apricots and knives sharpened while you wait.",
    "Astronomers from the university set up telescopes on the ridge, where the air is thin and clear.",
    "Every autumn the village holds a festival where the largest pumpkin wins a copper kettle.",
    "The library occupies a former customs house, and its reading room smells of wax and paper.",
    "Engineers replaced the wooden bridge with one of steel after the great flood of the last century.",
    "Wind turbines now stand on the northern plateau, turning slowly above fields of barley.",
    "The local choir sings in four languages, a habit left by traders who settled here long ago.",
    "A clockmaker repairs watches in a tiny shop whose window is full of brass gears and springs.",
    "Tourists come in summer to walk the coastal path, which passes caves once used by smugglers.",
    "The school has a garden where pupils grow beans, potatoes and a stubborn row of sunflowers.",
    "At night foxes cross the empty square, and owls call from the poplars along the canal.",
    "The museum displays a whale skeleton that washed ashore during a winter storm in 1887.",
    "Ferries leave twice a day for the island, carrying mail, tractors and the occasional piano.",
    "The mayor rides a bicycle to work and answers letters from citizens by hand every Friday.",
    "Salt from the marshes was once so valuable that it paid the wages of the town guard.",
    "An orchestra of retired sailors rehearses sea shanties in the back room of the inn.",
    "The monastery on the cliff brews a bitter liqueur from thirty-two mountain plants.",
    "Weather in the valley changes quickly, so shepherds carry both sun hats and wool cloaks.",
    "The oldest tree in town, a chestnut, is said to have sheltered a king during a hailstorm.",
    "Potters fire their kilns with driftwood, which gives their glazes a faint blue shimmer.",
    "A volunteer team counts migrating birds each October from a hide above the estuary.",
    "The hospital was built with money raised by a lottery that ran for almost a decade.",
    "During the long winter, families tell stories by stoves fed with peat and pine.",
    "A stone circle on the moor lines up with the sunrise on the shortest day of the year.",
]


def sentences(seed, count):
    """`count` sentences from the bank, reshuffled on each pass, numbered by chapter."""
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        chapter = list(SENTENCES)
        rng.shuffle(chapter)
        out.append(f"Chapter {len(out) // len(SENTENCES) + 1}.")
        out += chapter
    return out[:count]


def fit(make, count_tokens, limit, max_sentences=400):
    """The largest n with count_tokens(make(n)) <= limit (binary search), and that body."""
    lo, hi = 1, max_sentences
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_tokens(make(mid)) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo, make(lo)


@dataclass
class Case:
    name: str
    path: str
    body: dict
    tokens: list = None

    @property
    def kind(self):
        stream = "stream" + ("+usage" if "stream_options" in self.body else "") if self.body.get("stream") else "whole"
        return f"{'chat' if self.path == CHAT else 'completion'}/{stream}"


def truth_cases(ref):
    """The prompts of check a, tokenized on `ref`, in the order they are sent."""
    count = lambda path: (lambda body: len(tokenize(ref, path, body)))  # noqa: E731

    def doc(seed, n):
        return " ".join(sentences(seed, n))

    long_q = ["\n\nQuestion: Which festival prize is mentioned?\nAnswer:", "\n\nQuestion: How do the potters fire their kilns?\nAnswer: The potters fire their kilns with"]
    _, long_doc = fit(lambda n: completion("Town chronicle, complete edition.\n" + doc(1, n) + long_q[0], 16),
                      count(COMPLETIONS), 1850)
    long_text = long_doc["prompt"][: -len(long_q[0])]
    _, sys_body = fit(lambda n: chat([{"role": "system", "content": "You are the archivist of a coastal town. Notes:\n" + doc(2, n)},
                                      {"role": "user", "content": "x"}], 16), count(CHAT), 420)
    system = sys_body["messages"][0]
    _, story = fit(lambda n: completion("A story of the valley.\n" + doc(3, n), 24), count(COMPLETIONS), 500)
    _, article = fit(lambda n: chat("Summarise this article in one sentence:\n" + doc(4, n), 24), count(CHAT), 900)
    asked = lambda q, max_tokens, **kw: chat([system, {"role": "user", "content": q}], max_tokens, **kw)  # noqa: E731
    cases = [
        Case("long-doc-1", COMPLETIONS, completion(long_text + long_q[0], 16)),
        Case("capital", COMPLETIONS, completion("The capital of France is", 8)),
        Case("archivist-1", CHAT, asked("What is the oldest tree in town?", 16)),
        Case("story-1", COMPLETIONS, completion(story["prompt"] + " The next morning,", 24)),
        Case("colors", CHAT, chat("Name three colors.", 24)),
        Case("long-doc-2", COMPLETIONS, completion(long_text + long_q[1], 12, stream=True)),
        Case("counting", COMPLETIONS, completion("1, 2, 3, 4,", 12, stream=True)),
        Case("archivist-2", CHAT, asked("Give me two facts about the ferries.", 20, stream=True)),
        Case("haiku", CHAT, chat("Write a haiku about autumn.", 24, stream=True)),
        Case("story-2", COMPLETIONS, completion(story["prompt"] + " Years later, the village", 24, stream=True)),
        Case("code", COMPLETIONS, completion("def fibonacci(n):", 24)),
        Case("archivist-3", CHAT, asked("Who pays the town guard?", 8, stream=True, usage=False)),
        Case("once", COMPLETIONS, completion("Once upon a time", 16, stream=True, usage=False)),
        Case("article", CHAT, article),
        Case("arithmetic", CHAT, chat("What is 12 times 12?", 10)),
        Case("story-1-again", COMPLETIONS, completion(story["prompt"] + " The next morning,", 24, stream=True)),
        Case("french", CHAT, chat("Translate 'good morning' into French.", 16, stream=True)),
        Case("primary-stop", COMPLETIONS, completion("The three primary colors are red, yellow and", 16, stop=["."])),
        Case("archivist-4", CHAT, asked("Describe the stone circle.", 12, max_completion_tokens=12)),
        Case("pirate", CHAT, chat([{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Say hello."}], 20, stream=True)),
        Case("boils", COMPLETIONS, completion("Water boils at", 8, stream=True)),
        Case("two-turns", CHAT, chat([{"role": "user", "content": "My name is Ada."}, {"role": "assistant", "content": "Nice to meet you, Ada!"},
                                      {"role": "user", "content": "What is my name?"}], 16)),
    ]
    for case in cases:
        if "max_completion_tokens" in case.body:
            del case.body["max_tokens"]
        case.tokens = tokenize(ref, case.path, case.body)
        limit = case.body.get("max_tokens") or case.body["max_completion_tokens"]
        check(len(case.tokens) + limit <= CONTEXT, f"test design: {case.name} does not fit the context")
    return cases


# MARK: - Check a: end-to-end truth


def kv_params_ok(c, case, result, producer):
    """The producer's kv_transfer_params carry vLLM's NixlConnector fields, pointing at itself."""
    p = result.kv_transfer_params
    n = len(case.tokens)
    check(isinstance(p, dict), f"{case.name}: the prefill answer has no kv_transfer_params: {result.prefill.body}")
    check(p.get("do_remote_prefill") is True and p.get("do_remote_decode") is False, f"{case.name}: do_remote_* wrong: {p}")
    check(p.get("remote_engine_id") == producer.kv.engine_id, f"{case.name}: remote_engine_id {p.get('remote_engine_id')} != {producer.kv.engine_id}")
    check(p.get("remote_host") == "127.0.0.1" and p.get("remote_port") == producer.kv.port, f"{case.name}: remote_host/port {p}")
    check(isinstance(p.get("remote_request_id"), str) and p["remote_request_id"], f"{case.name}: remote_request_id {p}")
    check(p.get("tp_size") == 1 and p.get("remote_num_tokens") == n, f"{case.name}: tp_size/remote_num_tokens {p} (prompt {n})")
    ids = flat_block_ids(p.get("remote_block_ids"))
    check(len(ids) == blocks(n) and len(set(ids)) == len(ids), f"{case.name}: {len(ids)} remote_block_ids for {n} tokens: {ids}")


def flat_block_ids(ids):
    """vLLM sends one list per KV cache group ([[1, 2]]); older versions a flat list."""
    if ids and isinstance(ids[0], list):
        return [i for group in ids for i in group]
    return list(ids or [])


def expected_pull(n, cached):
    """Blocks the consumer pulls: the prompt's, less the full ones it holds. A last block holding
    only the last prompt token (which is recomputed anyway) may be skipped."""
    want = blocks(n) - cached // BLOCK
    return {want, want - 1} if n % BLOCK == 1 else {want}


def check_truth(c):
    ref, prefill, decode = c["single"], c["prefill"], c["decode"]
    cases = truth_cases(ref)
    say(f"a. end-to-end truth: {len(cases)} prompts, {sum(len(k.tokens) for k in cases)} prompt tokens, "
        f"longest {max(len(k.tokens) for k in cases)}")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        # The single engine answers in the background, in the same order, while PD runs.
        refs = [pool.submit(call, ref.url, k.path, k.body, None, API_KEY) for k in cases]
        history, pulled_total, hits, t0 = [], 0, [], time.monotonic()
        for i, (case, future) in enumerate(zip(cases, refs), 1):
            want_cached = expected_cached(case.tokens, history)
            before = decode.metrics()
            result = pd_request(prefill.url, decode.url, case.path, case.body, api_key=API_KEY)
            after = decode.metrics()
            pulled = truth_case(c, case, result, future.result(), want_cached, before, after)
            pulled_total += pulled or 0
            history.append(case.tokens)
            hits.append(want_cached)
            say(f"  a{i:02d} {case.name:<14} {case.kind:<22} {len(case.tokens):>4} tokens: text equal "
                f"({len(result.decode.text)} chars, {result.decode.finish_reason}), cached {want_cached}"
                + ("" if pulled is None else f", pulled {pulled}/{blocks(len(case.tokens))} blocks")
                + f"; prefill {result.prefill.seconds:.1f} s, decode {result.decode.seconds:.1f} s")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # on a failure, do not wait for the rest
    new = sum(1 for h in hits if h == 0)
    if not c.plain:
        nothing_held(prefill, "a")
    say(f"a. passed: {len(cases)} prompts equal through prefill->decode and alone ({time.monotonic() - t0:.0f} s); "
        f"cached_tokens 0 on {new} the consumer had not seen, > 0 on {len(hits) - new} sharing a prefix (up to {max(hits)}); "
        f"{pulled_total} blocks pulled")


def truth_case(c, case, result, want, want_cached, before, after):
    """Verifies one prompt's handoff; returns the blocks pulled (None on plain engines)."""
    n = len(case.tokens)
    same_answer(result.decode, want, case.name)
    ids = {result.request_id, result.prefill.request_id, result.decode.request_id}
    check(len(ids) == 1, f"{case.name}: X-Request-Id not the same on both calls: {ids}")
    check(result.prefill.usage["prompt_tokens"] == n, f"{case.name}: prefill prompt_tokens {result.prefill.usage} != {n}")
    if want.usage:
        check(want.usage["prompt_tokens"] == n, f"{case.name}: single engine prompt_tokens {want.usage['prompt_tokens']} != /tokenize {n}")
    if result.decode.usage:
        got = result.decode.usage
        check(got["prompt_tokens"] == n, f"{case.name}: decode prompt_tokens {got['prompt_tokens']} != single engine's {n}")
        want_usage = want_cached if c.plain else prefill_hit(case.name, result)
        check(cached_tokens(got) == want_usage, f"{case.name}: decode cached_tokens {cached_tokens(got)}, "
              + (f"the engine holds {want_cached}" if c.plain else f"the prefill found {want_usage} in its cache"))
    hits = after["vllm:prefix_cache_hits_total"] - before["vllm:prefix_cache_hits_total"]
    check(hits == want_cached, f"{case.name}: consumer prefix_cache_hits grew by {hits:.0f}, expected {want_cached}")
    if c.plain:
        return None
    kv_params_ok(c, case, result, c["prefill"])
    fresh = n - want_cached
    if fresh >= 1000:
        # A consumer that prefilled the prompt itself would take about as long as the producer.
        check(result.decode.seconds < result.prefill.seconds / 2, f"{case.name}: the decode took {result.decode.seconds:.1f} s for "
              f"{fresh} uncached prompt tokens, the prefill {result.prefill.seconds:.1f} s: did the consumer prefill them itself?")
    pulled = int(after["baton_kv_transfer_blocks_total"] - before["baton_kv_transfer_blocks_total"])
    check(pulled in expected_pull(n, want_cached), f"{case.name}: pulled {pulled} blocks, expected {sorted(expected_pull(n, want_cached))} "
          f"({blocks(n)} in the prompt, {want_cached // BLOCK} held)")
    return pulled


def prefill_hit(name, result):
    """The prompt tokens the prefill found in its cache: its answer's remote_prefill_cached_tokens,
    the same as its own usage's cached_tokens. Under PD the client's cached_tokens are these."""
    hit = (result.kv_transfer_params or {}).get("remote_prefill_cached_tokens")
    check(isinstance(hit, int) and hit >= 0, f"{name}: remote_prefill_cached_tokens {hit!r} in {result.kv_transfer_params}")
    check(hit == cached_tokens(result.prefill.usage), f"{name}: remote_prefill_cached_tokens {hit}, "
          f"the prefill's own cached_tokens {cached_tokens(result.prefill.usage)}")
    return hit


# MARK: - Check b: pulls only what it lacks


def check_partial_pull(c):
    prefill, decode = c["prefill"], c["decode"]
    text = sentences(5, 200)
    head = "Ledger of the salt merchants, volume nine.\n"
    body_a = prompt_avoiding_lone_token(decode, lambda n: completion(head + " ".join(text[:n]), 16), 600)
    tokens_a = tokenize(decode, COMPLETIONS, body_a)
    shared_n, _ = fit(lambda n: completion(head + " ".join(text[:n]), 16), lambda b: len(tokenize(decode, COMPLETIONS, b)), 500)
    tail = " A different matter entirely: the winter fair, its ice sculptures and the sledge race on the frozen canal."
    body_b = prompt_avoiding_lone_token(decode, lambda k: completion(head + " ".join(text[:shared_n]) + tail * k, 16), None)
    tokens_b = tokenize(decode, COMPLETIONS, body_b)
    shared = common_prefix(tokens_a, tokens_b)
    held = shared // BLOCK
    pulls = []
    for body, tokens in ((body_a, tokens_a), (body_b, tokens_b)):
        before = decode.metric("baton_kv_transfer_blocks_total")
        result = pd_request(prefill.url, decode.url, COMPLETIONS, body, api_key=API_KEY)
        check(result.decode.ok, f"b: decode failed: {result.decode.status} {result.decode.error}")
        pulls.append((int(decode.metric("baton_kv_transfer_blocks_total") - before), cached_tokens(result.decode.usage),
                      prefill_hit("b", result)))
    (pull_a, cached_a, hit_a), (pull_b, cached_b, hit_b) = pulls
    nothing_held(prefill, "b")
    want_b = blocks(len(tokens_b)) - held
    check(pull_a == blocks(len(tokens_a)) and cached_a == hit_a == 0, f"b: prompt A ({len(tokens_a)} tokens, new to both) pulled "
          f"{pull_a} blocks (expected all {blocks(len(tokens_a))}), cached {cached_a}, the prefill's hit {hit_a}")
    check(cached_b == hit_b == held * BLOCK, f"b: prompt B cached_tokens {cached_b}, the prefill's hit {hit_b}, expected "
          f"{held * BLOCK} ({held} full blocks shared with A)")
    check(pull_b == want_b, f"b: prompt B ({len(tokens_b)} tokens = {blocks(len(tokens_b))} blocks, {shared} shared with A = {held} "
          f"full blocks held) pulled {pull_b} blocks, expected {want_b}")
    only_prefill = prefill_cached_only(prefill, decode)
    say(f"b. passed: A {len(tokens_a)} tokens pulled {pull_a}/{blocks(len(tokens_a))} blocks; B {len(tokens_b)} tokens shares "
        f"{shared} with A, holds {held} blocks, pulled {pull_b}/{blocks(len(tokens_b))} blocks (cached_tokens {cached_b}); "
        + only_prefill)


def prefill_cached_only(prefill, decode):
    """A prompt whose prefix only the prefill has cached (it served a prompt C alone; the decode
    never saw it): the decode pulls every block, and the client's cached_tokens are the prefill's
    hit, not the decode's own (none). Returns the finding."""
    text = sentences(11, 12)
    head = "Almanac of the lighthouse keepers, the northern stations.\n"
    body_c = completion(head + " ".join(text), 1)
    tokens_c = tokenize(decode, COMPLETIONS, body_c)
    # D shares C's first nine sentences, then goes elsewhere (it does not extend C).
    tail = " Postscript: the keeper's cat, who slept on the lamp room stairs and caught the mice of every station."
    body_d = prompt_avoiding_lone_token(decode, lambda k: completion(head + " ".join(text[:9]) + tail * k, 8), None)
    tokens_d = tokenize(decode, COMPLETIONS, body_d)
    shared = common_prefix(tokens_c, tokens_d)
    want_hit = min(shared, len(tokens_d) - 1) // BLOCK * BLOCK
    check(want_hit > 0, f"b: test design: prompts C and D share {shared} tokens, not a whole block")
    warm = call(prefill.url, COMPLETIONS, body_c, None, API_KEY)
    check(warm.status == 200, f"b: prompt C on the prefill alone answered {warm.status}: {warm.body}")
    before_hits = decode.metric("vllm:prefix_cache_hits_total")
    before = decode.metric("baton_kv_transfer_blocks_total")
    result = pd_request(prefill.url, decode.url, COMPLETIONS, body_d, api_key=API_KEY)
    check(result.decode.ok, f"b: decode of prompt D failed: {result.decode.status} {result.decode.error}")
    pulled = int(decode.metric("baton_kv_transfer_blocks_total") - before)
    own = decode.metric("vllm:prefix_cache_hits_total") - before_hits
    hit = prefill_hit("b", result)
    got = cached_tokens(result.decode.usage)
    nothing_held(prefill, "b")
    check(own == 0, f"b: the decode found {own:.0f} tokens of prompt D in its own cache; it never saw C")
    check(hit == want_hit, f"b: the prefill found {hit} tokens of prompt D in its cache, expected {want_hit} (C shares {shared})")
    check(got == hit, f"b: prompt D's cached_tokens {got}: the prefill's hit is {hit}, the decode's own {own:.0f}")
    check(pulled == blocks(len(tokens_d)), f"b: prompt D pulled {pulled} blocks, expected all {blocks(len(tokens_d))} (the decode holds none)")
    return (f"D {len(tokens_d)} tokens, {hit} cached at the prefill only: cached_tokens {got}, "
            f"pulled {pulled}/{blocks(len(tokens_d))} blocks")


def prompt_avoiding_lone_token(engine, make, limit):
    """A body whose prompt does not end with one token alone in its last block (whether that
    block is pulled is the engine's choice); `make(n)` grows with n, kept under `limit` tokens."""
    if limit is not None:
        n, body = fit(make, lambda b: len(tokenize(engine, COMPLETIONS, b)), limit)
    else:
        n, body = 1, make(1)
    while len(tokenize(engine, COMPLETIONS, body)) % BLOCK == 1:
        n = n - 1 if limit is not None else n + 1
        body = make(n)
    return body


# MARK: - Check c: leases and failures


HELD, EXPIRED = "baton_kv_blocks_held", "baton_kv_lease_expired_total"
PULLED, FAILURES = "baton_kv_transfer_blocks_total", "baton_kv_transfer_failures_total"


def check_leases(c):
    producer = c["prefill-lease2"]
    lease = producer.kv.lease_s
    check(poll(lambda: producer.metric(HELD) == 0, 1) is not None, f"c: {producer.name} holds blocks before any request")
    lease_frees_unread_prefill(producer, lease)
    handoff_frees_at_once(c, producer)
    dead_consumer_strands_nothing(c, producer, lease)
    consumer_dies_mid_pull(c, producer, lease)
    dead_producer(c)
    producer_dies_mid_pull(c)
    check(poll(lambda: producer.metric(HELD) == 0, lease + 1) is not None, f"c: {producer.name} still holds blocks at the end")
    say("c. passed")


def prefill_only(producer, body):
    reply = call(producer.url, COMPLETIONS, prefill_body(body), api_key=API_KEY)
    check(reply.ok and isinstance(reply.body.get("kv_transfer_params"), dict), f"prefill on {producer.name} failed: {reply.status} {reply.body}")
    return reply


def lease_frees_unread_prefill(producer, lease):
    expired = producer.metric(EXPIRED)
    reply = prefill_only(producer, completion("Lease probe: a prefill that nobody will ever decode, about", 8))
    t0 = time.monotonic()
    held = producer.metric(HELD)
    check(held > 0, f"c1: {producer.name} holds no blocks right after a do_remote_decode prefill")
    freed = poll(lambda: producer.metric(HELD) == 0, lease + 3)
    seconds = None if freed is None else time.monotonic() - t0
    check(seconds is not None and seconds <= lease + 1, f"c1: {held:.0f} held blocks not freed within lease {lease} s + 1 s (freed after {seconds} s)")
    grew = producer.metric(EXPIRED) - expired
    check(grew >= 1, f"c1: {EXPIRED} did not grow when the lease freed the blocks")
    say(f"  c1 prefill never decoded: {held:.0f} blocks held, freed by the lease after {seconds:.2f} s (lease {lease} s), "
        f"{EXPIRED} +{grew:.0f} ({reply.body['kv_transfer_params']['remote_request_id']})")


def handoff_frees_at_once(c, producer):
    body = completion("The lighthouse keeper wrote in green ink because", 16)
    expired = producer.metric(EXPIRED)
    want = call(c["single"].url, COMPLETIONS, body, api_key=API_KEY)
    result = pd_request(producer.url, c["decode"].url, COMPLETIONS, body, api_key=API_KEY)
    same_answer(result.decode, want, "c2")
    freed = poll(lambda: producer.metric(HELD) == 0, 0.5, interval=0.02)
    check(freed is not None, f"c2: {producer.name} still holds {producer.metric(HELD):.0f} blocks 0.5 s after the decode answered")
    check(producer.metric(EXPIRED) == expired, "c2: a completed handoff was freed by the lease, not by DONE")
    say(f"  c2 full handoff: producer held 0 blocks {freed * 1000:.0f} ms after the decode answered, no lease expiry")


def dead_consumer_strands_nothing(c, producer, lease):
    victim = c["decode-victim"]
    body = completion("Notes on the harbour.\n" + " ".join(sentences(6, 20)), 16)
    expired = producer.metric(EXPIRED)
    reply = prefill_only(producer, body)
    held = producer.metric(HELD)
    conn = http.client.HTTPConnection("127.0.0.1", victim.port, timeout=30)
    conn.request("POST", COMPLETIONS, json.dumps(decode_body(body, reply.body)).encode(), headers_for("pd-e2e-victim", API_KEY))
    victim.kill9()
    t0 = time.monotonic()
    conn.close()
    freed = poll(lambda: producer.metric(HELD) == 0, lease + 3)
    seconds = None if freed is None else time.monotonic() - t0
    check(seconds is not None and seconds <= lease + 1, f"c3: the killed consumer's {held:.0f} blocks not freed within lease + 1 s after the kill ({seconds})")
    by = "the lease" if producer.metric(EXPIRED) > expired else "DONE (the consumer had pulled before it died)"
    still_serves(producer, "c3")
    say(f"  c3 consumer killed -9 after the decode request: {held:.0f} blocks freed {seconds:.2f} s after the kill, by {by}")


def consumer_dies_mid_pull(c, producer, lease):
    """A consumer that dies while the blocks stream to it (a raw client reading two of the 30
    DATA frames, then resetting the connection): no DONE comes, the lease frees the blocks."""
    body = completion("Ledger of the salt merchants, volume two.\n" + " ".join(sentences(9, 40)), 4)
    params = prefill_only(producer, body).body["kv_transfer_params"]
    ids = flat_block_ids(params["remote_block_ids"])
    expired = producer.metric(EXPIRED)
    conn = kv_handshake(producer, c.secret, c.compat)
    conn.send(read_frame(1, params["remote_request_id"], ids))
    for _ in range(2):
        kind, _payload = conn.next("READ")
        check(kind == DATA, f"c3b: READ got {NAMES.get(kind, kind)}, not DATA")
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # a reset, as when the process is killed
    t0 = time.monotonic()
    freed = poll(lambda: producer.metric(HELD) == 0, lease + 3)
    seconds = None if freed is None else time.monotonic() - t0
    check(seconds is not None and seconds <= lease + 1, f"c3b: {len(ids)} blocks not freed within lease + 1 s after the reader died ({seconds})")
    check(producer.metric(EXPIRED) > expired, f"c3b: {EXPIRED} did not grow: who freed the blocks?")
    still_serves(producer, "c3b")
    say(f"  c3b consumer dead after 2 of {LAYERS} DATA frames of {len(ids)} blocks: freed by the lease {seconds:.2f} s later")


def producer_dies_mid_pull(c):
    """A producer that dies while its blocks stream (a fake one: handshake, READ, two DATA
    frames, then a reset): the recompute consumer still answers the single engine's text."""
    consumer = c["decode"]
    body = completion("The cartographer's apprentice redrew the coastline because", 12)
    n = blocks(len(tokenize(consumer, COMPLETIONS, body)))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    seen = {}

    def fake():
        conn, _ = server.accept()
        nonce = secrets.token_bytes(32)
        conn.sendall(frame(CHALLENGE, struct.pack(">H", 1) + nonce + kv_string("fake-producer")))
        peer = KVConn.__new__(KVConn)
        peer.sock = conn
        kind, _hello = peer.next("HELLO")
        mac = hmac.new(c.secret.encode(), b"server" + nonce + c.compat, hashlib.sha256).digest()
        conn.sendall(frame(WELCOME, mac))
        while True:  # a heartbeat may come first; it gets no answer
            kind, payload = peer.next("READ")
            if kind != HEARTBEAT:
                break
        seen["read"] = NAMES.get(kind, kind)
        count = struct.unpack(">I", payload[4 + 2 + struct.unpack(">H", payload[4:6])[0]:][:4])[0]
        size = 2 * count * BLOCK * KV_HEADS * HEAD_SIZE * 2
        for layer in range(2):
            conn.sendall(frame(DATA, struct.pack(">IH", 1, layer) + bytes(size)))
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    thread = threading.Thread(target=fake, daemon=True)
    thread.start()
    params = {"do_remote_prefill": True, "do_remote_decode": False, "remote_engine_id": "fake-producer",
              "remote_request_id": "fake-1", "remote_block_ids": [list(range(n))], "remote_host": "127.0.0.1",
              "remote_port": server.getsockname()[1], "tp_size": 1}
    failures = consumer.metric(FAILURES)
    want = call(c["single"].url, COMPLETIONS, body, api_key=API_KEY)
    got = call(consumer.url, COMPLETIONS, dict(body, kv_transfer_params=params), api_key=API_KEY)
    thread.join(10)
    server.close()
    check(seen.get("read") == "READ", f"c4b: the fake producer never got a READ ({seen})")
    same_answer(got, want, "c4b recompute after the producer died mid-pull")
    check(consumer.metric(FAILURES) > failures, f"c4b: {FAILURES} did not grow")
    still_serves(consumer, "c4b")
    say(f"  c4b producer dead after 2 of {LAYERS} DATA frames ({n} blocks): policy recompute answered the single engine's text")


def dead_producer(c):
    """Kills a producer between its prefill answer and the pull; recompute answers, fail errors."""
    victim, recompute, fail = c["prefill-victim"], c["decode"], c["decode-fail"]
    bodies = {
        "recompute": completion("The orchestra of retired sailors rehearses", 16),
        "fail-whole": completion("The monastery on the cliff brews", 12),
        "fail-stream": chat("Tell me about the salt marshes.", 12, stream=True),
    }
    paths = {"recompute": COMPLETIONS, "fail-whole": COMPLETIONS, "fail-stream": CHAT}
    answers = {k: call(victim.url, paths[k], prefill_body(b), api_key=API_KEY) for k, b in bodies.items()}
    for k, a in answers.items():
        check(a.ok and a.body.get("kv_transfer_params"), f"c4: prefill {k} on {victim.name} failed: {a.status} {a.body}")
    victim.kill9()
    failures = recompute.metric(FAILURES)
    want = call(c["single"].url, COMPLETIONS, bodies["recompute"], api_key=API_KEY)
    t0 = time.monotonic()
    got = call(recompute.url, COMPLETIONS, decode_body(bodies["recompute"], answers["recompute"].body), api_key=API_KEY)
    seconds = time.monotonic() - t0
    same_answer(got, want, "c4 recompute after the producer died")
    grew = recompute.metric(FAILURES) - failures
    check(grew > 0, f"c4: {FAILURES} on the recompute consumer did not grow")
    say(f"  c4 producer killed -9 before the pull: policy recompute answered the single engine's text in {seconds:.2f} s, {FAILURES} +{grew:.0f}")
    fail_policy_errors(c, fail, bodies, paths, answers)


def fail_policy_errors(c, fail, bodies, paths, answers):
    failures = fail.metric(FAILURES)
    whole = call(fail.url, paths["fail-whole"], decode_body(bodies["fail-whole"], answers["fail-whole"].body), api_key=API_KEY)
    check(whole.status >= 500 and openai_error(whole.body), f"c5: policy fail answered {whole.status} {whole.body}, not an OpenAI error >= 500")
    stream = call(fail.url, paths["fail-stream"], decode_body(bodies["fail-stream"], answers["fail-stream"].body), api_key=API_KEY)
    if stream.events is None:
        check(stream.status >= 500 and openai_error(stream.body), f"c5: streamed policy fail answered {stream.status} {stream.body}")
        how = f"status {stream.status}"
    else:
        check(stream.error is not None and stream.done and openai_error({"error": stream.error}),
              f"c5: the stream had no OpenAI error event and clean end: {stream.events}")
        how = "an SSE error event and [DONE]"
    grew = fail.metric(FAILURES) - failures
    check(grew > 0, f"c5: {FAILURES} on the fail-policy consumer did not grow")
    body = completion("Potters fire their kilns with", 12)
    want = call(c["single"].url, COMPLETIONS, body, api_key=API_KEY)
    result = pd_request(c["prefill-lease2"].url, fail.url, COMPLETIONS, body, api_key=API_KEY)
    same_answer(result.decode, want, "c5 the fail-policy consumer after the failures")
    say(f"  c5 policy fail: whole answer {whole.status} ({whole.body['error']['message'][:60]!r}), stream {how}; "
        f"{FAILURES} +{grew:.0f}; then a handoff through it answered right")


def openai_error(body):
    e = isinstance(body, dict) and body.get("error")
    return isinstance(e, dict) and isinstance(e.get("message"), str) and e["message"] and "type" in e


def nothing_held(producer, what):
    """After handoffs that all finished, the producer holds no block (DONE freed each one)."""
    freed = poll(lambda: producer.metric(HELD) == 0, 0.5, interval=0.02)
    check(freed is not None, f"{what}: {producer.name} still holds {producer.metric(HELD):.0f} blocks after every handoff finished")


def still_serves(engine, what):
    check(engine.proc.poll() is None, f"{what}: {engine.name} died: {engine.tail()}")
    check(engine.health() == 200, f"{what}: {engine.name} /health is not 200")
    reply = call(engine.url, COMPLETIONS, completion("The sky is", 4), api_key=API_KEY, timeout=120)
    check(reply.ok and reply.usage["completion_tokens"] > 0, f"{what}: {engine.name} no longer completes: {reply.status} {reply.body}")


# MARK: - Check d: the KV port under hostile input

CHALLENGE, HELLO, WELCOME, REFUSE, READ, DATA, END, DONE, HEARTBEAT, OK, ERROR = range(1, 12)
NAMES = {v: k for k, v in dict(CHALLENGE=1, HELLO=2, WELCOME=3, REFUSE=4, READ=5, DATA=6, END=7, DONE=8, HEARTBEAT=9, OK=10, ERROR=11).items()}
CLIENT_ID = "pd-e2e-client"


def kv_string(text):
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def frame(kind, payload=b""):
    return struct.pack(">IB", 1 + len(payload), kind) + payload


def compatibility(model_file):
    digest = hashlib.sha256()
    with open(model_file, "rb") as f:
        while chunk := f.read(4 << 20):
            digest.update(chunk)
    fingerprint = digest.hexdigest()
    text = f"baton-kv/1;model={fingerprint};dtype=f16;layers={LAYERS};kv_heads={KV_HEADS};head_size={HEAD_SIZE};block_size={BLOCK}"
    return hashlib.sha256(text.encode()).digest()


class KVConn:
    """A raw client of the KV port: frames out, frames in, EOF seen as None."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send(self, data):
        """Sends what the server takes; a server that closes first is not an error here."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def next(self, what):
        got = self.frame()
        check(got is not None, f"the KV port closed instead of answering {what}")
        return got

    def exact(self, n):
        data = b""
        while len(data) < n:
            try:
                chunk = self.sock.recv(min(n - len(data), 1 << 20))
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def frame(self):
        head = self.exact(4)
        if head is None:
            return None
        (length,) = struct.unpack(">I", head)
        check(1 <= length <= 64 << 20, f"the KV port sent a frame of length {length}")
        body = self.exact(length)
        check(body is not None, "the KV port closed inside a frame")
        return body[0], body[1:]

    def until_eof(self, timeout=5):
        """The frames the server sends before it closes; fails if it is still open after `timeout`."""
        self.sock.settimeout(timeout)
        frames = []
        try:
            while (f := self.frame()) is not None:
                frames.append(f)
                check(f[0] not in (WELCOME, DATA, END, OK), f"the KV port answered {NAMES[f[0]]} where it must close the connection")
        except socket.timeout:
            raise CheckFailed(f"the KV port kept the connection open {timeout} s (frames {[NAMES.get(k, k) for k, _ in frames]})")
        return frames

    def close(self):
        self.sock.close()


def challenge(conn):
    kind, payload = conn.next("a new connection")
    check(kind == CHALLENGE, f"the KV port opened with frame type {kind}, not CHALLENGE")
    version, nonce = struct.unpack(">H", payload[:2])[0], payload[2:34]
    (n,) = struct.unpack(">H", payload[34:36])
    return version, nonce, payload[36:36 + n].decode()


def hello(nonce, secret, compat, client_id=CLIENT_ID):
    mac = hmac.new(secret.encode(), nonce + compat + client_id.encode(), hashlib.sha256).digest()
    return frame(HELLO, struct.pack(">H", 1) + kv_string(client_id) + compat + mac)


def read_frame(seq, request_id, ids):
    return frame(READ, struct.pack(">I", seq) + kv_string(request_id) + struct.pack(f">I{len(ids)}I", len(ids), *ids))


class Hostile:
    """Check d's state: the producer, the secrets, and two held requests to aim at."""

    def __init__(self, c, model_file):
        self.c, self.producer = c, c["prefill"]
        self.port, self.secret = self.producer.kv.port, c.secret
        self.compat = compatibility(model_file)
        self.held = {}

    def hold(self, name, prompt):
        params = prefill_only(self.producer, completion(prompt, 4)).body["kv_transfer_params"]
        self.held[name] = (params["remote_request_id"], flat_block_ids(params["remote_block_ids"]))
        return self.held[name]

    def handshake(self):
        return kv_handshake(self.producer, self.secret, self.compat)

    def closes(self, name, send, after_handshake=False, half_close_ok=False):
        """Sends hostile bytes; the port must close the connection (an ERROR or REFUSE first is
        fine, anything else is not) and the engine must serve on."""
        conn = self.handshake() if after_handshake else KVConn(self.port)
        if not after_handshake:
            challenge(conn)
        conn.send(send)
        try:
            frames = conn.until_eof()
            how = "closed"
        except CheckFailed:
            if not half_close_ok:
                raise
            conn.sock.shutdown(socket.SHUT_WR)
            frames, how = conn.until_eof(), "closed once we half-closed (it waited for more bytes)"
        conn.close()
        kinds = [NAMES.get(k, k) for k, _ in frames]
        check(all(k in ("ERROR", "REFUSE") for k in kinds), f"d {name}: the port sent {kinds} before closing")
        still_serves(self.producer, f"d {name}")
        say(f"  d {name}: {how}; /health 200 and a completion still answer")

    def refused(self, name, secret, compat):
        """A HELLO made with `secret` and `compat` gets REFUSE, then the connection closes."""
        conn = KVConn(self.port)
        nonce = challenge(conn)[1]
        conn.send(hello(nonce, secret, compat))
        frames = conn.until_eof()
        conn.close()
        kinds = [NAMES.get(k, k) for k, _ in frames]
        check(kinds == ["REFUSE"], f"d {name}: expected REFUSE then EOF, got {kinds}")
        still_serves(self.producer, f"d {name}")
        say(f"  d {name}: REFUSE {reason(frames[0][1])!r}, then closed; /health 200 and a completion still answer")


def kv_handshake(producer, secret, compat):
    """A raw connection to `producer`'s KV port, through the challenge."""
    conn = KVConn(producer.kv.port)
    version, nonce, engine_id = challenge(conn)
    check(version == 1 and engine_id == producer.kv.engine_id, f"CHALLENGE version {version}, engine id {engine_id!r}")
    conn.send(hello(nonce, secret, compat))
    kind, payload = conn.next("a correct HELLO")
    check(kind == WELCOME and len(payload) == 32, f"a correct HELLO got {NAMES.get(kind, kind)} {payload[:80]!r}")
    server_mac = hmac.new(secret.encode(), b"server" + nonce + compat, hashlib.sha256).digest()
    check(hmac.compare_digest(payload, server_mac), "WELCOME's MAC is not HMAC(secret, \"server\" || nonce || compatibility)")
    return conn


def reason(payload):
    (n,) = struct.unpack(">H", payload[:2])
    return payload[2:2 + n].decode()


def check_hostile(c, model_file):
    h = Hostile(c, model_file)
    x_id, x_blocks = h.hold("x", "Zebra ledger, first page: the caravan left at noon and")
    y_id, y_blocks = h.hold("y", "Quartz mining report for the third quarter shows that")
    foreign = [b for b in y_blocks if b not in x_blocks]
    check(foreign, f"d: the two held requests share every block ({x_blocks}, {y_blocks})")
    rng = random.Random(20240611)
    wrong_compat = hashlib.sha256(b"baton-kv/1;model=0000;dtype=f16;layers=30;kv_heads=3;head_size=64;block_size=16").digest()
    h.closes("random bytes (64 KiB)", rng.randbytes(64 << 10), half_close_ok=True)
    h.closes("unknown frame type 0xEE", frame(0xEE, rng.randbytes(100)))
    h.closes("length header 0xFFFFFFF0", struct.pack(">I", 0xFFFFFFF0) + b"\x02" + rng.randbytes(15))
    h.closes("READ before the handshake", read_frame(1, x_id, x_blocks))
    h.refused("HELLO with a wrong secret", "not-the-secret", h.compat)
    h.refused("HELLO with a wrong compatibility hash", h.secret, wrong_compat)
    h.closes(f"READ {x_id} with block id 4000000000 (out of range)", read_frame(1, x_id, [x_blocks[0], 4_000_000_000]), after_handshake=True)
    h.closes(f"READ {x_id} with block {foreign[0]} of another held request", read_frame(1, x_id, [foreign[0]]), after_handshake=True)
    good_read(h)
    say("d. passed")


def good_read(h):
    """A correct READ streams one DATA frame per layer then END; DONE frees the blocks."""
    z_id, z_blocks = h.hold("z", "Velvet orchard inventory: forty crates of pears and " + " ".join(sentences(7, 6)))
    conn = h.handshake()
    t0 = time.monotonic()
    conn.send(read_frame(7, z_id, z_blocks))
    size = 2 * len(z_blocks) * BLOCK * KV_HEADS * HEAD_SIZE * 2
    layers = []
    while True:
        kind, payload = conn.next("READ")
        if kind == END:
            check(struct.unpack(">I", payload)[0] == 7, "END carries another seq")
            break
        check(kind == DATA, f"READ got {NAMES.get(kind, kind)} {payload[:80]!r}")
        seq, layer = struct.unpack(">IH", payload[:6])
        check(seq == 7 and len(payload) - 6 == size, f"DATA seq {seq}, {len(payload) - 6} bytes (expected {size})")
        check(any(payload[6:]), f"DATA for layer {layer} is all zeros")
        layers.append(layer)
    seconds = time.monotonic() - t0
    check(layers == list(range(LAYERS)), f"DATA layers {layers}, expected 0..{LAYERS - 1} in order")
    conn.send(frame(DONE, struct.pack(">I", 8) + kv_string(z_id)))
    kind, payload = conn.next("DONE")
    check(kind == OK and struct.unpack(">I", payload)[0] == 8, f"DONE got {NAMES.get(kind, kind)} {payload!r}")
    leftovers = release(h, conn)
    freed = poll(lambda: h.producer.metric(HELD) == 0, 0.5, interval=0.02)
    check(freed is not None, f"d: {h.producer.metric(HELD):.0f} blocks still held after DONE")
    say(f"  d correct READ of {len(z_blocks)} blocks: {LAYERS} DATA frames of {size} bytes then END in {seconds * 1000:.0f} ms "
        f"({LAYERS * size / max(seconds, 1e-9) / 1e6:.0f} MB/s); DONE -> OK; held back to 0 ({leftovers})")


def release(h, conn):
    """DONE for the requests the hostile READs aimed at (OK, or ERROR if the engine dropped them)."""
    said = []
    for seq, name in enumerate(("x", "y"), 9):
        request_id = h.held[name][0]
        conn.send(frame(DONE, struct.pack(">I", seq) + kv_string(request_id)))
        got = conn.frame()
        check(got is not None and got[0] in (OK, ERROR), f"DONE {request_id} got {got}")
        said.append(f"DONE {name}: {NAMES[got[0]]}")
    conn.close()
    return ", ".join(said)


# MARK: - Main


def run(args):
    binary = os.path.abspath(args.binary)
    check(os.access(binary, os.X_OK), f"{binary} is not an executable (build it: swift build --product baton)")
    model = model_path()
    if not os.environ.get("BATON_MODEL"):
        pulled = subprocess.run([binary, "model", "pull", MODEL], capture_output=True, text=True)
        check(pulled.returncode == 0, f"baton model pull failed: {pulled.stderr}")
    check(os.path.isfile(model), f"the model is not at {model}")
    checks = "a" if args.plain else args.checks
    logdir = tempfile.mkdtemp(prefix="pd-e2e-")
    c = Cluster(binary, model if os.environ.get("BATON_MODEL") else MODEL, logdir, args.plain)
    c.compat = compatibility(model)
    t0 = time.monotonic()
    try:
        names = sorted({n for k in checks for n in NEEDS[k]}, key=list(TOPOLOGY).index)
        c.start([(n, *TOPOLOGY[n]) for n in names])
        say(f"engines up in {time.monotonic() - t0:.1f} s: " + ", ".join(
            f"{n} :{c[n].port}" + ("" if args.plain else f" ({c[n].kv.role}, kv :{c[n].kv.port}, {c[n].kv.form})") for n in names)
            + f"; logs in {logdir}")
        if "a" in checks:
            check_truth(c)
        if "b" in checks:
            check_partial_pull(c)
        if "c" in checks:
            say("c. leases and failures")
            check_leases(c)
        if "d" in checks:
            say(f"d. hostile input on {c['prefill'].name}'s KV port :{c['prefill'].kv.port}")
            check_hostile(c, model)
    except Exception as e:  # noqa: BLE001 -- any failure: say it, show the engines' logs
        print(c.tails(), flush=True)  # stdout: the Swift test reads it first, stderr stays small
        print(f"FAIL: {e}" if isinstance(e, CheckFailed) else f"FAIL: {traceback.format_exc()}", file=sys.stderr)
        return 1
    finally:
        c.stop()
    say(f"all in {time.monotonic() - t0:.0f} s")
    say("pd driver checks passed against plain engines (no KV transfer)" if args.plain else "pd checks passed")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", help="the baton executable, e.g. .build/debug/baton")
    ap.add_argument("--checks", default="abcd", help="which checks to run (default abcd)")
    ap.add_argument("--plain", action="store_true", help="check a's driver only, against engines without KV flags")
    args = ap.parse_args()
    check_arg = set(args.checks) - set("abcd")
    if check_arg:
        ap.error(f"unknown checks {''.join(sorted(check_arg))}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the finally that stops the engines runs
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
