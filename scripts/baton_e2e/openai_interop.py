"""Interop check of `baton engine` with the official `openai` client.

Usage: python -m baton_e2e.openai_interop BASE_URL API_KEY [--open]. Exits non-zero with a message on the first
failure. `--open`: the server takes no key (a `baton router` without --api-key), so a wrong key
must be accepted rather than refused. Run by BatonServerTests (scripts/test.sh installs `openai`
into .build/interop-venv) and by router_e2e.
"""
import sys

import openai

base, key = sys.argv[1], sys.argv[2]
if sys.argv[3:] not in ([], ["--open"]):
    sys.exit(f"usage: {sys.argv[0]} BASE_URL API_KEY [--open]")
open_server = sys.argv[3:] == ["--open"]
client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=120)
MODEL = "smollm2"
messages = [{"role": "user", "content": "Name three colors."}]


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


# Chat, whole and streamed: the same greedy text and usage.
whole = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=24, temperature=0)
text = whole.choices[0].message.content
check(whole.object == "chat.completion" and whole.choices[0].message.role == "assistant", "chat shape")
check(len(text) > 0, "chat text is empty")
u = whole.usage
check(u.prompt_tokens > 0 and 0 < u.completion_tokens <= 24, f"usage {u}")
check(u.total_tokens == u.prompt_tokens + u.completion_tokens, "total_tokens")
check(whole.choices[0].finish_reason in ("stop", "length"), "finish_reason")

parts, usage, finish = [], None, None
for chunk in client.chat.completions.create(
    model=MODEL, messages=messages, max_tokens=24, temperature=0, stream=True, stream_options={"include_usage": True}
):
    if chunk.choices:
        parts.append(chunk.choices[0].delta.content or "")
        finish = chunk.choices[0].finish_reason or finish
    if chunk.usage:
        usage = chunk.usage
check("".join(parts) == text, f"streamed chat {''.join(parts)!r} != whole {text!r}")
check(usage is not None and usage.completion_tokens == u.completion_tokens, f"streamed usage {usage}")
check(finish == whole.choices[0].finish_reason, "streamed finish_reason")

# Completions, whole and streamed.
comp = client.completions.create(model=MODEL, prompt="The capital of France is", max_tokens=8, temperature=0)
ctext = comp.choices[0].text
streamed = "".join(
    c.choices[0].text
    for c in client.completions.create(model=MODEL, prompt="The capital of France is", max_tokens=8, temperature=0, stream=True)
    if c.choices
)
check(streamed == ctext, f"streamed completion {streamed!r} != {ctext!r}")
check(comp.usage.completion_tokens == 8 or comp.choices[0].finish_reason == "stop", "completion usage")

# Stop strings: cut before the stop, finish_reason stop.
free = client.completions.create(model=MODEL, prompt="1, 2, 3, 4,", max_tokens=12, temperature=0).choices[0].text
check(" 6" in free, f"expected the model to keep counting: {free!r}")
stopped = client.completions.create(model=MODEL, prompt="1, 2, 3, 4,", max_tokens=12, temperature=0, stop=[" 6"])
check(stopped.choices[0].finish_reason == "stop", "stop finish_reason")
check(" 6" not in stopped.choices[0].text and free.startswith(stopped.choices[0].text), f"stopped text {stopped.choices[0].text!r}")

# Seeds: the same seed gives the same sample.
def sampled(seed):
    r = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=24, temperature=1.0, seed=seed)
    return r.choices[0].message.content
a, b = sampled(1234), sampled(1234)
check(a == b, f"seeded samples differ: {a!r} vs {b!r}")

# Logprobs: one entry per token, top alternatives sorted, greedy picks the best.
lp = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=6, temperature=0, logprobs=True, top_logprobs=3)
content = lp.choices[0].logprobs.content
check(len(content) == lp.usage.completion_tokens, "one logprob per token")
for entry in content:
    check(len(entry.top_logprobs) == 3, "three alternatives")
    tops = [t.logprob for t in entry.top_logprobs]
    check(tops == sorted(tops, reverse=True) and tops[0] <= 0, f"sorted log-probabilities {tops}")
    check(entry.top_logprobs[0].token == entry.token and abs(entry.logprob - tops[0]) < 1e-5, "greedy takes the best")

# Prefix caching shows in usage.
long_prompt = [{"role": "user", "content": "Summarise: " + "The quick brown fox jumps over the lazy dog. " * 12}]
client.chat.completions.create(model=MODEL, messages=long_prompt, max_tokens=2, temperature=0)
again = client.chat.completions.create(model=MODEL, messages=long_prompt, max_tokens=2, temperature=0)
cached = again.usage.prompt_tokens_details.cached_tokens
check(cached >= (again.usage.prompt_tokens - 1) // 16 * 16 and cached > 0, f"cached_tokens {cached}")

# Typed errors.
def expect(error, call, what):
    try:
        call()
    except error:
        return
    except Exception as e:  # noqa: BLE001
        sys.exit(f"FAIL: {what}: expected {error.__name__}, got {type(e).__name__}: {e}")
    sys.exit(f"FAIL: {what}: no error")

expect(openai.BadRequestError, lambda: client.chat.completions.create(model=MODEL, messages=[], max_tokens=4), "empty messages")
expect(openai.BadRequestError, lambda: client.chat.completions.create(model=MODEL, messages=messages, temperature=3), "temperature 3")
expect(openai.BadRequestError, lambda: client.chat.completions.create(model=MODEL, messages=messages, max_tokens=0), "max_tokens 0")
expect(openai.BadRequestError, lambda: client.completions.create(model=MODEL, prompt="hi", max_tokens=100000), "beyond the context")
expect(openai.NotFoundError, lambda: client.chat.completions.create(model="no-such-model", messages=messages), "unknown model")
bad = openai.OpenAI(base_url=base + "/v1", api_key="wrong-key", max_retries=0)
if open_server:
    check(bad.chat.completions.create(model=MODEL, messages=messages, max_tokens=2).choices, "an open server refused a key")
else:
    expect(openai.AuthenticationError, lambda: bad.chat.completions.create(model=MODEL, messages=messages), "wrong API key")
check([m.id for m in client.models.list()] == [MODEL], "models list")
print("openai interop: all checks passed")
