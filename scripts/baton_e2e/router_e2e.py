"""`baton router` proven end to end in front of real `baton engine` processes.

Usage: router_e2e.py BATON_BINARY [--checks abc]

Starts its own engines (SmolLM2, `--threads 1`, free loopback ports, through pd_e2e.py's Cluster:
a `kv_both` reference, one producer, up to four consumers, one KV secret) and `baton router`s in
front of them (`--tokenizer smollm2`, `--split-threshold 128`, `--upstream-api-key` the engines'
key). Each check prints one line per finding, with figures; the first failure exits 1 with a
message on stderr (the engines' and routers' log tails on stdout; whole logs stay in a temporary
folder). The last line is "router checks passed".

  a. truth: >= 20 prompts (completions and chat, stream and not, 3 to ~850 tokens) through a
     router in front of one producer and one consumer give the reference engine's text,
     finish_reason and prompt_tokens. Each prompt's path (split or local) is predicted from its
     /tokenize length and the prompts sent before (what the router's prefix index holds), and
     checked on the engines (the producer answered a prefill / the consumer pulled blocks) and
     in the router's decision and request counters. X-Request-Id is echoed when given and made
     up when not; a client's forged kv_transfer_params are ignored (same answer, no pull), while
     the same body sent straight to the consumer does reach its KV connector (the control).
  b. prefix affinity and sessions: 1 producer + 4 consumers. 8 groups of 5 prompts sharing a
     ~450-token prefix per group, sent interleaved 4 at a time: every later prompt of a group
     lands on the consumer its first went to (>= 90% per group) and hits its prefix cache there
     by the blocks the prefix implies. Sessions (header x-session-id, and the body's `user`
     with no header) with short unrelated prompts stay on one consumer (>= 90% per session).
     Where each request went is read from the consumers' own counters (requests, prompt and
     generation tokens), each round solved for the only assignment that adds up. The control: a
     router with --session-weight 0 scatters the same sessions (< 90% stick).
  c. interop: openai_interop (the official openai client) against a
     router started with --api-key and one without (`--open`: any key is accepted); the keyed
     router answers 401 to a wrong or missing key, /health and /metrics stay open.

Python 3 standard library only (check c runs the openai client from .build/interop-venv).
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass

from . import pd_e2e as pd
from .chaos_router import Router
from .checks import CheckFailed, check, get, poll, say
from .engines import HARNESS, ROOT
from .pd_e2e import API_KEY, BLOCK, CHAT, COMPLETIONS, chat, completion
from .pd_proxy import Reply, call, read_stream, read_whole

THRESHOLD = 128            # --split-threshold: prompts clearly under it are local, clearly over it split
SESSION_HEADER = "x-session-id"
CLIENT_KEY = "router-e2e-client-key"
INTEROP_PYTHON = os.path.join(ROOT, ".build", "interop-venv", "bin", "python")
SUCCESS, PROMPT, GENERATION, HITS = ("vllm:request_success_total", "vllm:prompt_tokens_total",
                                     "vllm:generation_tokens_total", "vllm:prefix_cache_hits_total")
PULLED, FAILURES = "baton_kv_transfer_blocks_total", "baton_kv_transfer_failures_total"

TOPOLOGY = {
    # name: (role, flag form, KV settings), as pd_e2e.Cluster.start takes them
    "single": ("kv_both", "json", {}),
    "prefill": ("kv_producer", "json", {}),
    "decode": ("kv_consumer", "flags", {}),
    "decode2": ("kv_consumer", "json", {}),
    "decode3": ("kv_consumer", "flags", {}),
    "decode4": ("kv_consumer", "json", {}),
}
NEEDS = {
    "a": ["single", "prefill", "decode"],
    "b": ["prefill", "decode", "decode2", "decode3", "decode4"],
    "c": ["prefill", "decode"],
}


# MARK: - Routers


def post(url, path, body, headers, timeout=300):
    """POSTs `body` with exactly `headers` (plus Content-Type); reads the answer as pd_proxy.call does."""
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    start = time.monotonic()
    try:
        conn.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        reply = Reply(status=resp.status, headers={k.lower(): v for k, v in resp.getheaders()})
        if resp.status == 200 and reply.headers.get("content-type", "").startswith("text/event-stream"):
            read_stream(resp, reply)
        else:
            read_whole(resp, reply)
        reply.seconds = time.monotonic() - start
        return reply
    finally:
        conn.close()


class Run:
    """The engines (pd_e2e's Cluster) and the routers in front of them; all stopped at the end."""

    def __init__(self, binary, model, logdir):
        self.binary, self.model, self.logdir = binary, model, logdir
        self.cluster = pd.Cluster(binary, model, logdir, plain=False)
        self.routers = []
        self.tokenizer = model  # the router loads the engines' tokenizer: "smollm2" or the GGUF path

    def __getitem__(self, name):
        return self.cluster[name]

    def router(self, name, prefill, decode, **options):
        """A router in front of the named engines (chaos_router.Router), healthy before it returns."""
        options = {"tokenizer": self.tokenizer, "split_threshold": THRESHOLD, "session_header": SESSION_HEADER,
                   "health_interval": 0.5,
                   # a debug-build prefill of ~850 tokens on a busy 2-core machine can pass the default 60 s
                   "prefill_timeout": 600, **options}
        r = Router(name, self.binary, self.logdir, [self[n].url for n in prefill], [self[n].url for n in decode], **options)
        self.routers.append(r)
        r.start()

        def healthy():
            try:
                return get(r.url, "/health")[0] == 200
            except OSError:
                return False
        check(poll(healthy, 30) is not None, f"router {name} not healthy after 30 s: {r.tail()}")
        return r

    def stop(self):
        for r in self.routers:
            r.stop()
        self.cluster.stop()

    def tails(self):
        routers = "\n".join(f"--- router {r.name} ({r.log_path}) ---\n{r.tail()}" for r in self.routers if r.proc)
        return self.cluster.tails() + ("\n" + routers if routers else "")


# MARK: - Check a: truth


@dataclass
class Case:
    name: str
    path: str
    body: dict                   # what the client sends the router
    reference: dict = None       # what the reference engine gets (the body without forged params)
    request_id: str = None       # X-Request-Id sent; None: the request goes without one
    tokens: list = None

    @property
    def kind(self):
        stream = "stream" + ("+usage" if "stream_options" in self.body else "") if self.body.get("stream") else "whole"
        return f"{'chat' if self.path == CHAT else 'completion'}/{stream}"


def forged(port, blocks, engine_id="forged-engine"):
    """kv_transfer_params a client must not be able to send: remote blocks on the real producer's KV port."""
    return {"do_remote_prefill": True, "do_remote_decode": False, "remote_engine_id": engine_id,
            "remote_request_id": "forged-request", "remote_block_ids": [list(range(blocks))],
            "remote_host": "127.0.0.1", "remote_port": port, "tp_size": 1}


def truth_cases(ref, producer):
    """Check a's prompts, tokenized on `ref`, in the order they are sent. Long ones are built with
    pd_e2e's builders (sentences, fit); the ones sharing a long prefix come after it."""
    count = lambda path: (lambda body: len(pd.tokenize(ref, path, body)))  # noqa: E731

    def doc(seed, n):
        return " ".join(pd.sentences(seed, n))

    long_q = ["\n\nQuestion: Which prize does the festival give?\nAnswer:", "\n\nQuestion: What do the ferries carry?\nAnswer: The ferries carry"]
    _, long_doc = pd.fit(lambda n: completion("The valley almanac, router edition.\n" + doc(21, n) + long_q[0], 12), count(COMPLETIONS), 850)
    long_text = long_doc["prompt"][: -len(long_q[0])]
    _, sys_body = pd.fit(lambda n: chat([{"role": "system", "content": "You are the harbour master. Log:\n" + doc(22, n)},
                                         {"role": "user", "content": "x"}], 12), count(CHAT), 200)
    system = sys_body["messages"][0]
    _, story = pd.fit(lambda n: completion("A tale of the marsh.\n" + doc(23, n), 16), count(COMPLETIONS), 160)
    _, article = pd.fit(lambda n: chat("Summarise these notes in one sentence:\n" + doc(24, n), 16), count(CHAT), 170)
    asked = lambda q, max_tokens, **kw: chat([system, {"role": "user", "content": q}], max_tokens, **kw)  # noqa: E731
    story_forged = completion(story["prompt"] + " At dawn the boats", 16, stream=True)
    cases = [
        Case("long-doc-1", COMPLETIONS, completion(long_text + long_q[0], 12)),
        Case("capital", COMPLETIONS, completion("The capital of France is", 8)),
        Case("harbour-1", CHAT, asked("What did the lighthouse keeper write?", 12)),
        Case("colors", CHAT, chat("Name three colors.", 16, stream=True)),
        Case("long-doc-2", COMPLETIONS, completion(long_text + long_q[1], 10, stream=True)),
        Case("counting", COMPLETIONS, completion("1, 2, 3, 4,", 12, stream=True)),
        Case("harbour-2", CHAT, asked("Give me one fact about the market.", 14, stream=True)),
        Case("haiku", CHAT, chat("Write a haiku about rain.", 16, stream=True, usage=False)),
        Case("story-forged", COMPLETIONS, {**story_forged, "kv_transfer_params": forged(producer.kv.port, 40)}, reference=story_forged),
        Case("code", COMPLETIONS, completion("def add(a, b):", 16)),
        Case("italy-forged", COMPLETIONS, {**completion("The capital of Italy is", 8), "kv_transfer_params": forged(producer.kv.port, 1)},
             reference=completion("The capital of Italy is", 8)),
        Case("once", COMPLETIONS, completion("Once upon a time", 12, stream=True, usage=False)),
        Case("article", CHAT, article),
        Case("arithmetic", CHAT, chat("What is 7 times 8?", 10)),
        Case("french", CHAT, chat("Translate 'thank you' into French.", 12, stream=True)),
        Case("primary-stop", COMPLETIONS, completion("The three primary colors are red, yellow and", 16, stop=["."])),
        Case("harbour-3", CHAT, asked("Who rides a bicycle to work?", 8, max_completion_tokens=8)),
        Case("pirate", CHAT, chat([{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Say hello."}], 16, stream=True)),
        Case("story-2", COMPLETIONS, completion(story["prompt"] + " Many winters later, the marsh", 16, stream=True)),
        Case("boils", COMPLETIONS, completion("Water boils at", 8, stream=True)),
        Case("two-turns", CHAT, chat([{"role": "user", "content": "My name is Ada."}, {"role": "assistant", "content": "Nice to meet you, Ada!"},
                                      {"role": "user", "content": "What is my name?"}], 12)),
        Case("no-id-whole", COMPLETIONS, completion("The opposite of hot is", 6)),
        Case("no-id-stream", CHAT, chat("Name a fruit.", 8, stream=True)),
    ]
    for i, case in enumerate(cases, 1):
        if "max_completion_tokens" in case.body:
            del case.body["max_tokens"]
        case.reference = case.reference or case.body
        case.request_id = None if case.name.startswith("no-id") else f"router-e2e-a{i:02d}-{case.name}"
        case.tokens = pd.tokenize(ref, case.path, case.reference)
        limit = case.body.get("max_tokens") or case.body["max_completion_tokens"]
        check(len(case.tokens) + limit <= pd.CONTEXT, f"test design: {case.name} does not fit the context")
    return cases


def expected_path(tokens, sent):
    """The router's decision for a prompt, given every prompt it sent to the (only) consumer before:
    its prefix index holds their full blocks, so it holds the leading full blocks this one shares."""
    held = max((pd.common_prefix(tokens, seen) // BLOCK for seen in sent), default=0)
    if len(tokens) - held * BLOCK < THRESHOLD:
        return "local", ("short_prompt" if len(tokens) < THRESHOLD else "cached_prefix"), held
    return "split", "long_prompt", held


def check_truth(run):
    ref, producer, consumer = run["single"], run["prefill"], run["decode"]
    router = run.router("router-a", ["prefill"], ["decode"])
    cases = truth_cases(ref, producer)
    say(f"a. truth through router :{router.port} (prefill :{producer.port}, decode :{consumer.port}; split from {THRESHOLD} "
        f"uncached tokens): {len(cases)} prompts, {sum(len(k.tokens) for k in cases)} prompt tokens, longest {max(len(k.tokens) for k in cases)}")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    want_counts, sent, t0 = {}, [], time.monotonic()
    before_all = consumer.metrics()
    try:
        # The reference engine answers in the background, in the same order, while the router runs.
        refs = [pool.submit(call, ref.url, k.path, k.reference, None, API_KEY) for k in cases]
        for i, (case, future) in enumerate(zip(cases, refs), 1):
            path, reason, held = expected_path(case.tokens, sent)
            want_counts[(path, reason)] = want_counts.get((path, reason), 0) + 1
            p0, d0 = producer.metrics(), consumer.metrics()
            if case.request_id:
                got = call(router.url, case.path, case.body, case.request_id, None)
            else:
                got = post(router.url, case.path, case.body, {})
            p1, d1 = producer.metrics(), consumer.metrics()
            sent.append(case.tokens)
            truth_case(case, got, future.result(), path, p1[SUCCESS] - p0[SUCCESS], d1[PULLED] - d0[PULLED], d1[FAILURES] - d0[FAILURES])
            served = route_headers(got)
            want_served = (path, consumer.url, producer.url if path == "split" else None)
            check(served == want_served, f"{case.name}: X-Baton-Route/-Decode/-Prefill say {served}, expected {want_served}")
            say(f"  a{i:02d} {case.name:<13} {case.kind:<22} {len(case.tokens):>4} tokens ({held:>2} blocks held): {path:<5} "
                f"{reason:<13} text equal ({len(got.text)} chars, {got.finish_reason}), pulled {d1[PULLED] - d0[PULLED]:.0f} blocks, "
                f"X-Request-Id {'echoed' if case.request_id else 'made up: ' + got.request_id}; {got.seconds:.1f} s")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # on a failure, do not wait for the rest
    failures = consumer.metric(FAILURES) - before_all[FAILURES]
    check(failures == 0, f"a: the consumer counted {failures:.0f} KV transfer failures (did forged kv_transfer_params reach it?)")
    counted = router_counts(router, want_counts, len(cases))
    say(f"  {counted}")
    # The control: the forged parameters sent straight to the consumer do reach its KV connector,
    # so the router's answers above show it removed them.
    forged_case = next(k for k in cases if k.name == "italy-forged")
    before = consumer.metrics()
    direct = call(consumer.url, forged_case.path, forged_case.body, None, API_KEY)
    grew = consumer.metric(FAILURES) - before[FAILURES]
    check(direct.status >= 400 or grew > 0, f"a: the forged kv_transfer_params sent straight to the consumer had no visible effect "
          f"({direct.status}, KV transfer failures +{grew:.0f}): the router's stripping of them is not tested")
    say(f"  forged kv_transfer_params straight to the consumer: {direct.status}, KV transfer failures +{grew:.0f} (through the router: none)")
    say(f"a. passed: {len(cases)} prompts equal through the router and alone ({time.monotonic() - t0:.0f} s)")


def route_headers(reply):
    """How the router says it served a reply: (X-Baton-Route, X-Baton-Decode, X-Baton-Prefill)."""
    h = reply.headers
    return h.get("x-baton-route"), h.get("x-baton-decode"), h.get("x-baton-prefill")


def truth_case(case, got, want, path, prefills, pulled, failures):
    n = len(case.tokens)
    pd.same_answer(got, want, case.name)
    if want.usage:
        check(want.usage["prompt_tokens"] == n, f"{case.name}: reference prompt_tokens {want.usage['prompt_tokens']} != /tokenize {n}")
    if got.usage:
        check(got.usage["prompt_tokens"] == n, f"{case.name}: prompt_tokens through the router {got.usage['prompt_tokens']} != {n}")
    if case.request_id:
        check(got.request_id == case.request_id, f"{case.name}: X-Request-Id {got.request_id!r}, sent {case.request_id!r}")
    else:
        check(isinstance(got.request_id, str) and len(got.request_id) >= 8, f"{case.name}: no X-Request-Id made up: {got.headers}")
    check(failures == 0, f"{case.name}: the consumer's KV transfer failures grew by {failures:.0f}")
    if path == "split":
        check(prefills == 1 and pulled >= 1, f"{case.name} ({n} tokens, expected split): the producer answered {prefills:.0f} "
              f"prefills and the consumer pulled {pulled:.0f} blocks")
    else:
        check(prefills == 0 and pulled == 0, f"{case.name} ({n} tokens, expected local): the producer answered {prefills:.0f} "
              f"prefills and the consumer pulled {pulled:.0f} blocks")


def router_counts(router, want, requests):
    """The router's decision and request counters equal the predicted ones; no retry, no fallback."""
    s = router.metrics()
    got = {k: s.total("baton_router_decisions_total", path=k[0], reason=k[1]) for k in want}
    check(got == want and s.total("baton_router_decisions_total") == requests,
          f"router decisions {got} (all: {s.total('baton_router_decisions_total'):.0f}), expected {want} ({requests} requests)")
    paths = {}
    for (path, _), v in want.items():
        paths[path] = paths.get(path, 0) + v
    for path, v in paths.items():
        n = s.total("baton_router_requests_total", path=path, code=200)
        check(n == v, f"baton_router_requests_total{{path={path},code=200}} is {n:.0f}, expected {v}")
        ttft = s.total("baton_router_ttft_seconds_count", path=path)
        check(ttft == v, f"baton_router_ttft_seconds_count{{path={path}}} is {ttft:.0f}, expected {v}")
    others = s.total("baton_router_requests_total") - sum(paths.values())
    retries, fallbacks = s.total("baton_router_retries_total"), s.total("baton_router_fallbacks_total")
    check(others == 0 and retries == 0 and fallbacks == 0, f"router: {others:.0f} other requests, {retries:.0f} retries, {fallbacks:.0f} fallbacks")
    overhead = s.total("baton_router_overhead_seconds_sum") / max(s.total("baton_router_overhead_seconds_count"), 1)
    return ("decisions " + ", ".join(f"{p}/{r} {v}" for (p, r), v in sorted(want.items())) + f" as predicted; requests "
            + ", ".join(f"{p} {v}" for p, v in sorted(paths.items())) + f"; prefix hit ratio {s.total('baton_router_prefix_hit_ratio'):.2f}"
            + f"; router overhead {overhead * 1000:.2f} ms mean; no retry, no fallback")


# MARK: - Check b: prefix affinity and sessions


@dataclass
class Item:
    label: str
    key: str                     # the group or session the request belongs to
    path: str
    body: dict
    headers: dict
    tokens: list = None
    reply: Reply = None
    where: int = None            # index of the consumer it went to (X-Baton-Decode, checked against the counters)


PLACES = ["the salt marsh", "the north quay", "the mill race", "the high moor", "the old priory", "the lime kilns", "the fen villages", "the island ferry"]
QUESTIONS = ["Which place is named first?", "Who keeps these records?", "What happens in spring?", "Name one craft described.",
             "How do the notes end?"]
TOPICS = ["Name a bird that cannot fly.", "What do bees make?", "Suggest a name for a grey cat.", "Which planet is the largest?",
          "Give a synonym for happy.", "What is frozen water called?", "Name an instrument with strings.", "What is the opposite of ancient?",
          "How many legs does a spider have?", "What colour are ripe bananas?", "Name a city in Japan.", "What do cows drink?",
          "Which season comes after winter?", "What is a baby dog called?", "Name something that is round.", "What tool cuts paper?",
          "Where do penguins live?", "What is the sum of two and five?", "Name a vegetable that is orange.", "What gives us light at night?",
          "Which animal says moo?", "What do you call a young cat?", "Name a fruit that is yellow.", "What is the capital of Spain?",
          "Which metal is used for wires?", "What do fish breathe with?", "Name a warm drink.", "What shape has three sides?",
          "What is the colour of grass?", "Which bird hoots at night?", "What do plants need to grow?", "Name a sport played with a net.",
          "What is the largest ocean?", "Which insect makes silk?", "What is H2O?", "Name a language spoken in Canada."]


def group_items(engine):
    """8 groups of 5 prompts: per group a prefix of ~450 tokens (a little longer per group, so the
    groups' prompt lengths differ), then a different short question each. Even groups are
    completions, odd ones chat (the prefix is the system message)."""
    groups = []
    for g in range(8):
        def make(n, r=0, g=g):
            notes = " ".join(pd.sentences(200 + g, n))
            q = QUESTIONS[(r + g) % len(QUESTIONS)]
            if g % 2 == 0:
                return completion(f"Archive {g}: the ledger of {PLACES[g]}.\n{notes}\n\nQuestion: {q}\nAnswer:", 3 + r)
            return chat([{"role": "system", "content": f"You keep archive {g}, the notes of {PLACES[g]}:\n{notes}"},
                         {"role": "user", "content": q}], 3 + r)
        path = COMPLETIONS if g % 2 == 0 else CHAT
        n, _ = pd.fit(make, lambda b: len(pd.tokenize(engine, path, b)), 440 + 8 * g)
        items = [Item(f"g{g}/{r}", f"g{g}", path, make(n, r), {}) for r in range(5)]
        for it in items:
            it.tokens = pd.tokenize(engine, path, it.body)
        groups.append(items)
    return groups


def session_items(engine, prefix=""):
    """Sessions s1..s6 named by the x-session-id header (chat) and u1..u3 by the body's `user`
    with no header (completions), 4 short unrelated prompts each. No two prompts share a full
    block (each chat has a system message of its own; the completions are under one block), so
    nothing but the session ties a session's requests to one decode."""
    sessions = []
    for k in range(9):
        items = []
        for r in range(4):
            topic, max_tokens = TOPICS[k * 4 + r], 2 + (k + 2 * r) % 5
            if k < 6:
                name = f"{prefix}s{k + 1}"
                body = chat([{"role": "system", "content": f"Quiz {k * 4 + r}: answer in a few words."}, {"role": "user", "content": topic}], max_tokens)
                items.append(Item(f"{name}/{r}", name, CHAT, body, {SESSION_HEADER: name}))
            else:
                name = f"{prefix}u{k - 5}"
                items.append(Item(f"{name}/{r}", name, COMPLETIONS, completion(f"Q: {topic}\nA:", max_tokens, user=name), {}))
        for it in items:
            it.tokens = pd.tokenize(engine, it.path, it.body)
        sessions.append(items)
    return sessions


def interleaved(lists, start):
    """The requests from index `start` on, one from each list in turn."""
    return [lst[r] for r in range(start, max(len(x) for x in lists)) for lst in lists if r < len(lst)]


def snapshot(engines):
    return [e.metrics() for e in engines]


def run_round(router, consumers, producer, items):
    """Sends `items` to the router at once (one thread each) and records on which consumer each ran.
    Returns the consumers' and the producer's counter deltas."""
    before, p0 = snapshot(consumers), producer.metrics()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(items)) as pool:
        replies = list(pool.map(lambda it: post(router.url, it.path, it.body, it.headers), items))
    for it, reply in zip(items, replies):
        check(reply.ok and reply.usage, f"b {it.label}: the router answered {reply.status} {reply.error or reply.body}")
        check(reply.usage["prompt_tokens"] == len(it.tokens), f"b {it.label}: prompt_tokens {reply.usage['prompt_tokens']} != {len(it.tokens)}")
        it.reply = reply
    settled = poll(lambda: sum(m[SUCCESS] for m in snapshot(consumers)) - sum(m[SUCCESS] for m in before) >= len(items), 5)
    check(settled is not None, f"b: the consumers did not count {len(items)} finished requests")
    after = snapshot(consumers)
    deltas = [{k: a[k] - b[k] for k in (SUCCESS, PROMPT, GENERATION, HITS)} for a, b in zip(after, before)]
    # The router names the decode in X-Baton-Decode; the consumers' counters must agree with it
    # (each grew by exactly the requests, prompt and generated tokens of those it was named for).
    urls = [c.url for c in consumers]
    for it in items:
        decode = route_headers(it.reply)[1]
        check(decode in urls, f"b {it.label}: X-Baton-Decode {decode!r} names none of the decodes {urls}")
        it.where = urls.index(decode)
    for d, dl in enumerate(deltas):
        mine = [it.reply.usage for it in items if it.where == d]
        want = [len(mine), sum(u["prompt_tokens"] for u in mine), sum(u["completion_tokens"] for u in mine)]
        check(want == [dl[SUCCESS], dl[PROMPT], dl[GENERATION]], f"b: decode {d} counted (requests, prompt, generated) "
              f"{(dl[SUCCESS], dl[PROMPT], dl[GENERATION])}, but X-Baton-Decode named it for {[it.label for it in items if it.where == d]} {want}")
    p1 = producer.metrics()
    return deltas, {k: p1[k] - p0[k] for k in (SUCCESS, HITS)}


def run_rounds(router, consumers, producer, items, width=4):
    """`items` in rounds of `width` concurrent requests; summed consumer deltas, producer deltas."""
    hits, prefills = [0.0] * len(consumers), 0.0
    for i in range(0, len(items), width):
        deltas, p = run_round(router, consumers, producer, items[i:i + width])
        hits = [h + d[HITS] for h, d in zip(hits, deltas)]
        prefills += p[SUCCESS]
    return hits, prefills


def affinity(name, lists, homes, threshold=0.9):
    """Per list (group or session): the share of its later requests on its first one's consumer."""
    shares, lines = {}, []
    for items in lists:
        key, home = items[0].key, homes[items[0].key]
        later = items[1:]
        on_home = sum(1 for it in later if it.where == home)
        shares[key] = on_home / len(later)
        lines.append(f"{key} {on_home}/{len(later)}")
    worst = min(shares, key=shares.get)
    total_share = sum(shares.values()) / len(shares)
    check(shares[worst] >= threshold, f"b {name}: {worst} has only {shares[worst]:.0%} of its later requests on the consumer of its first "
          f"(>= {threshold:.0%} wanted): " + ", ".join(lines) + f"; where: " + ", ".join(f"{it.label}->{it.where}" for items in lists for it in items))
    return total_share, ", ".join(lines)


def check_affinity(run):
    names = ["decode", "decode2", "decode3", "decode4"]
    consumers, producer = [run[n] for n in names], run["prefill"]
    router = run.router("router-b", ["prefill"], names)
    groups = group_items(producer)
    t0 = time.monotonic()
    say(f"b. affinity through router :{router.port} (prefill :{producer.port}, decodes " + ", ".join(f":{c.port}" for c in consumers)
        + f"): 8 groups x 5 prompts, prefixes {min(len(g[0].tokens) for g in groups)}-{max(len(g[0].tokens) for g in groups)} tokens")

    # The groups' first prompts (long: split), 4 at a time.
    firsts = [g[0] for g in groups]
    _, p_first = run_rounds(router, consumers, producer, firsts)
    check(p_first == len(firsts), f"b: the producer answered {p_first:.0f} prefills for the {len(firsts)} groups' first prompts (all long)")
    homes = {it.key: it.where for it in firsts}
    spread = {names[d]: sum(1 for h in homes.values() if h == d) for d in range(len(consumers))}
    say(f"  b1 first prompts split ({p_first:.0f} prefills): groups per decode {spread} ({time.monotonic() - t0:.0f} s)")

    # The later prompts, interleaved across groups, 4 at a time: local on the group's consumer.
    later = interleaved(groups, 1)
    want_hits = 0
    history = {g[0].key: [g[0].tokens] for g in groups}
    for it in later:
        want_hits += pd.expected_cached(it.tokens, history[it.key])
        history[it.key].append(it.tokens)
    hits, p_later = run_rounds(router, consumers, producer, later)
    share, lines = affinity("prefix affinity", groups, homes)
    got_hits = sum(hits)
    check(p_later == 0, f"b: the producer answered {p_later:.0f} prefills for the groups' later prompts (their prefixes are cached: all local)")
    check(abs(got_hits - want_hits) <= 0.05 * want_hits, f"b: the consumers' prefix cache hits grew by {got_hits:.0f} tokens over the "
          f"{len(later)} later prompts; their shared prefixes imply {want_hits}")
    say(f"  b2 later prompts on their group's decode: {share:.0%} ({lines}); all local; prefix cache hits +{got_hits:.0f} tokens, "
        f"the prefixes imply {want_hits} ({time.monotonic() - t0:.0f} s)")

    # Sessions: the header, and the body's `user` without a header.
    sessions = session_items(producer)
    session_homes = run_sessions(router, consumers, producer, sessions)
    header_share, header_lines = affinity("sessions (header)", sessions[:6], session_homes)
    user_share, user_lines = affinity("sessions (user)", sessions[6:], session_homes)
    say(f"  b3 sessions stay on one decode: header {header_share:.0%} ({header_lines}); user {user_share:.0%} ({user_lines}); "
        f"first requests on decodes {sorted(session_homes.values())}")

    want = {("split", "long_prompt"): len(groups), ("local", "cached_prefix"): len(later), ("local", "short_prompt"): sum(len(s) for s in sessions)}
    counted = router_counts(router, want, sum(want.values()))
    pools = router.pools()
    check(len(pools.get("prefill", [])) == 1 and len(pools.get("decode", [])) == 4, f"b: /admin/pools lists {pools}")
    for entry in pools["prefill"] + pools["decode"]:
        check(entry.get("state") == "healthy" and entry.get("in_flight") == 0 and isinstance(entry.get("load"), dict),
              f"b: /admin/pools entry not healthy and idle: {entry}")
    blocks = {e["url"].rsplit(":", 1)[1]: e["prefix_index_blocks"] for e in pools["decode"]}
    say(f"  b4 {counted}; /admin/pools all healthy, idle, prefix index blocks per decode {blocks}")

    # The control: the same sessions through a router that gives sessions no weight scatter, so
    # the stickiness above is the session table's doing, not an accident of load or prefixes.
    control = run.router("router-b-control", ["prefill"], names, session_weight=0)
    scattered = session_items(producer, prefix="control-")
    control_homes = run_sessions(control, consumers, producer, scattered)
    placed = [it for s in scattered for it in s[1:]]
    stuck = sum(1 for it in placed if it.where == control_homes[it.key])
    check(placed and stuck / len(placed) < 0.9, f"b: with --session-weight 0, {stuck}/{len(placed)} later session requests still landed "
          f"on their session's first decode: the session check above cannot tell a router without session affinity")
    say(f"  b5 control, --session-weight 0: only {stuck}/{len(placed)} later session requests on their session's first decode")
    say(f"b. passed ({time.monotonic() - t0:.0f} s)")


def run_sessions(router, consumers, producer, sessions):
    """Every session's requests, interleaved 4 at a time; the decode of each session's first."""
    firsts = [s[0] for s in sessions]
    run_rounds(router, consumers, producer, firsts)
    run_rounds(router, consumers, producer, interleaved(sessions, 1))
    return {it.key: it.where for it in firsts}


# MARK: - Check c: the official openai client


def interop(router, key, open_server=False):
    args = [INTEROP_PYTHON, "-m", "baton_e2e.openai_interop", router.url, key] + (["--open"] if open_server else [])
    t0 = time.monotonic()
    try:
        # From HARNESS, the package's parent: `-m` puts the working directory on the path.
        done = subprocess.run(args, capture_output=True, text=True, timeout=240, cwd=HARNESS)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"c: openai_interop against {router.name} did not finish in 240 s")
    check(done.returncode == 0 and "all checks passed" in done.stdout,
          f"c: openai_interop against {router.name} exited {done.returncode}: {done.stdout[-1500:]}{done.stderr[-3000:]}")
    return time.monotonic() - t0


def check_interop(run):
    check(os.access(INTEROP_PYTHON, os.X_OK), f"c: no {INTEROP_PYTHON} (scripts/test.sh creates it with the openai client)")
    keyed = run.router("router-c-keyed", ["prefill"], ["decode"], api_key=CLIENT_KEY)
    opened = run.router("router-c-open", ["prefill"], ["decode"])
    seconds = interop(keyed, CLIENT_KEY)
    s = keyed.metrics()
    paths = {p: s.total("baton_router_requests_total", path=p) for p in ("split", "local", "none")}
    say(f"  c1 openai_interop.py through the router with --api-key: all checks passed ({seconds:.0f} s; router requests by path {paths})")
    check(paths["split"] >= 1, f"c: no request of openai_interop.py took the split path through {keyed.name}: {paths}")
    body = completion("The sky is", 2)
    for name, headers in (("a wrong key", {"Authorization": "Bearer not-the-key"}), ("no key", {}), ("the engines' key", {"Authorization": f"Bearer {API_KEY}"})):
        reply = post(keyed.url, COMPLETIONS, body, headers)
        check(reply.status == 401 and pd.openai_error(reply.body), f"c: {name} got {reply.status} {reply.body}, expected 401 with an OpenAI error")
    reply = post(keyed.url, COMPLETIONS, body, {"Authorization": f"Bearer {CLIENT_KEY}"})
    check(reply.ok, f"c: the right key got {reply.status} {reply.body}")
    for path in ("/health", "/metrics"):
        status, text = get(keyed.url, path)
        check(status == 200, f"c: {path} without a key answered {status}: {text[:200]}")
    say("  c2 keyed router: 401 with an OpenAI error for a wrong key, no key and the engines' key; 200 with its key; /health and /metrics open")
    seconds = interop(opened, "any-key-at-all", open_server=True)
    say(f"  c3 openai_interop.py --open through the router without --api-key: all checks passed ({seconds:.0f} s)")
    say("c. passed")


# MARK: - Main


def run_checks(args):
    binary = os.path.abspath(args.binary)
    check(os.access(binary, os.X_OK), f"{binary} is not an executable (build it: swift build --product baton)")
    model = pd.model_path()
    if not os.environ.get("BATON_MODEL"):
        pulled = subprocess.run([binary, "model", "pull", pd.MODEL], capture_output=True, text=True)
        check(pulled.returncode == 0, f"baton model pull failed: {pulled.stderr}")
    check(os.path.isfile(model), f"the model is not at {model}")
    logdir = tempfile.mkdtemp(prefix="router-e2e-")
    run = Run(binary, model if os.environ.get("BATON_MODEL") else pd.MODEL, logdir)
    t0 = time.monotonic()
    try:
        names = sorted({n for k in args.checks for n in NEEDS[k]}, key=list(TOPOLOGY).index)
        run.cluster.start([(n, *TOPOLOGY[n]) for n in names])
        say(f"engines up in {time.monotonic() - t0:.1f} s: " + ", ".join(f"{n} :{run[n].port} ({run[n].kv.role})" for n in names) + f"; logs in {logdir}")
        if "a" in args.checks:
            check_truth(run)
        if "b" in args.checks:
            check_affinity(run)
        if "c" in args.checks:
            say("c. the official openai client through the router")
            check_interop(run)
    except Exception as e:  # noqa: BLE001 -- any failure: say it, show the logs
        print(run.tails(), flush=True)  # stdout: the Swift test reads it first, stderr stays small
        print(f"FAIL: {e}" if isinstance(e, CheckFailed) else f"FAIL: {traceback.format_exc()}", file=sys.stderr)
        return 1
    finally:
        run.stop()
    say(f"all in {time.monotonic() - t0:.0f} s")
    say("router checks passed")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", help="the baton executable, e.g. .build/debug/baton")
    ap.add_argument("--checks", default="abc", help="which checks to run (default abc)")
    args = ap.parse_args()
    unknown = set(args.checks) - set("abc")
    if unknown:
        ap.error(f"unknown checks {''.join(sorted(unknown))}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the finally that stops the processes runs
    return run_checks(args)


if __name__ == "__main__":
    sys.exit(main())
