"""Checks real `baton engine` responses against docs/openapi.yaml.

Usage: python -m baton_e2e.openapi_check OPENAPI_YAML BASE_URL API_KEY. Exits non-zero naming the first response
that does not match its schema. Run by BatonServerTests (scripts/test.sh installs pyyaml and
jsonschema into .build/interop-venv).
"""
import json
import sys
import urllib.error
import urllib.request

import jsonschema
import yaml

spec_path, base, key = sys.argv[1:4]
with open(spec_path) as f:
    spec = yaml.safe_load(f)
checked = 0


def validate(name, value, what):
    global checked
    schema = dict(spec, **{"$ref": f"#/components/schemas/{name}"})
    try:
        jsonschema.Draft202012Validator(schema).validate(value)
    except jsonschema.ValidationError as e:
        sys.exit(f"FAIL: {what} does not match {name}: {e.message} at {list(e.absolute_path)}\n{json.dumps(value)[:500]}")
    checked += 1


def call(method, path, body=None, auth=True, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def sse(text):
    events = [e[len("data: "):] for e in text.split("\n\n") if e.startswith("data: ")]
    if not events or events[-1] != "[DONE]":
        sys.exit("FAIL: stream does not end with data: [DONE]")
    return [json.loads(e) for e in events[:-1]]


msgs = [{"role": "user", "content": "Say hello."}]
s, h, t = call("POST", "/v1/chat/completions", {"model": "smollm2", "messages": msgs, "max_tokens": 6, "temperature": 0,
                                                 "logprobs": True, "top_logprobs": 2})
assert s == 200 and h["X-Request-Id"], s
validate("ChatCompletion", json.loads(t), "chat completion")
s, h, t = call("POST", "/v1/chat/completions", {"model": "smollm2", "messages": msgs, "max_tokens": 6, "stream": True,
                                                 "stream_options": {"include_usage": True}, "stop": ["xyz"]})
assert s == 200 and h["Content-Type"].startswith("text/event-stream"), (s, h["Content-Type"])
for chunk in sse(t):
    validate("ChatCompletionChunk", chunk, "chat chunk")
s, _, t = call("POST", "/v1/completions", {"model": "smollm2", "prompt": "Hello", "max_tokens": 5, "logprobs": 2})
assert s == 200, t
validate("Completion", json.loads(t), "completion")
s, _, t = call("POST", "/v1/completions", {"prompt": [1, 2, 3], "max_tokens": 5, "stream": True})
for chunk in sse(t):
    validate("Completion", chunk, "completion chunk")
s, _, t = call("GET", "/v1/models")
validate("ModelList", json.loads(t), "models")
s, _, t = call("POST", "/tokenize", {"messages": msgs, "return_token_strs": True})
validate("TokenizeResponse", json.loads(t), "tokenize")
s, _, t = call("POST", "/detokenize", {"tokens": [1, 2, 3]})
validate("DetokenizeResponse", json.loads(t), "detokenize")

# Every error shape.
for (method, path, body, auth, raw, status) in [
    ("POST", "/v1/chat/completions", None, True, b"{oops", 400),
    ("POST", "/v1/chat/completions", {"messages": []}, True, None, 400),
    ("POST", "/v1/completions", {"prompt": "x", "temperature": 9}, True, None, 400),
    ("POST", "/v1/completions", {"model": "nope", "prompt": "x"}, True, None, 404),
    ("POST", "/v1/completions", {"prompt": "x"}, False, None, 401),
    ("GET", "/no/such/route", None, True, None, 404),
    ("POST", "/v1/completions", None, True, b'{"prompt":"' + b"a" * (5 << 20) + b'"}', 413),
]:
    s, _, t = call(method, path, body, auth, raw)
    if s != status:
        sys.exit(f"FAIL: {method} {path} gave {s}, expected {status}: {t[:200]}")
    validate("ErrorResponse", json.loads(t), f"{status} error")
print(f"openapi: {checked} responses match docs/openapi.yaml")
