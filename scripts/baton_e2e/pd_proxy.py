"""The two calls of vLLM's disaggregated-serving toy proxy, as a library and a CLI.

vLLM's `tests/v1/kv_connector/nixl_integration/toy_proxy_server.py` drives a prefill engine and a
decode engine with two plain OpenAI requests; this module makes exactly those requests, so it proves
that a Baton engine can be driven the way vLLM's own proxy drives vLLM:

1. prefill: a shallow copy of the client's body with `kv_transfer_params` =
   {do_remote_decode: true, do_remote_prefill: false, remote_*: null}, `stream: false`,
   `max_tokens: 1` (and `max_completion_tokens: 1` if present), `stream_options`, `min_tokens` and
   `min_completion_tokens` removed;
2. decode: the client's ORIGINAL body (its stream and max_tokens) with `kv_transfer_params` = the
   prefill response's, verbatim (left as it was when the prefill response has none).

Both carry the same `X-Request-Id` (a uuid when none is given). The decode answer is read
incrementally: a stream comes back as the parsed SSE `data:` events up to `[DONE]`.

Library: `pd_request(prefill_url, decode_url, path, body)` -> `PDResult`; `call(url, path, body)` ->
`Reply` for one plain request; `prefill_body(body)` and `decode_body(body, prefill_json)` are the
two rewrites. Python 3 standard library only.

CLI:
    python3 scripts/pd_proxy.py --prefill URL --decode URL --path /v1/completions --body '{...}'
    python3 scripts/pd_proxy.py --self-test     (or python3 -m baton_e2e.pd_proxy from scripts/)
"""
import argparse
import copy
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field

PREFILL_KV_TRANSFER_PARAMS = {
    "do_remote_decode": True,
    "do_remote_prefill": False,
    "remote_engine_id": None,
    "remote_block_ids": None,
    "remote_host": None,
    "remote_port": None,
}
DEFAULT_TIMEOUT = 600.0


# MARK: - The two bodies


def prefill_body(body):
    """The prefill request's body, built in the toy proxy's order (so its JSON key order too)."""
    b = dict(body)
    b["kv_transfer_params"] = dict(PREFILL_KV_TRANSFER_PARAMS)
    b["stream"] = False
    b["max_tokens"] = 1
    if "max_completion_tokens" in b:
        b["max_completion_tokens"] = 1
    b.pop("stream_options", None)
    b.pop("min_tokens", None)
    b.pop("min_completion_tokens", None)
    return b


def decode_body(body, prefill_json):
    """The decode request's body: the original one plus the prefill answer's kv_transfer_params."""
    b = dict(body)
    params = (prefill_json or {}).get("kv_transfer_params")
    if params:
        b["kv_transfer_params"] = params
    return b


# MARK: - One request


@dataclass
class Reply:
    """One engine answer. `body` is the parsed JSON of a whole answer (or of an error); `events` the
    parsed SSE data events of a stream (None when the answer was not a stream)."""

    status: int
    headers: dict
    body: object = None
    events: list = None
    done: bool = False
    text: str = ""
    finish_reason: str = None
    usage: dict = None
    error: dict = None
    seconds: float = 0.0     # from sending the request to the end of the answer

    @property
    def request_id(self):
        return self.headers.get("x-request-id")

    @property
    def ok(self):
        return 200 <= self.status < 300 and self.error is None


class PDError(Exception):
    """The prefill step failed (the toy proxy raises too); carries the reply."""

    def __init__(self, stage, reply):
        super().__init__(f"{stage} answered {reply.status}: {json.dumps(reply.body)[:500]}")
        self.stage = stage
        self.reply = reply


def _connection(url, timeout):
    parts = urllib.parse.urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return cls(parts.hostname, parts.port, timeout=timeout), parts.path.rstrip("/")


def headers_for(request_id, api_key):
    headers = {"Content-Type": "application/json", "X-Request-Id": request_id}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def call(url, path, body, request_id=None, api_key=None, timeout=DEFAULT_TIMEOUT, on_event=None):
    """POSTs `body` to `url` + `path` and reads the answer: whole JSON, or (for a 200
    text/event-stream answer) SSE events one by one, calling `on_event(event)` as each arrives."""
    conn, prefix = _connection(url, timeout)
    start = time.monotonic()
    try:
        conn.request("POST", prefix + path, json.dumps(body).encode(), headers_for(request_id or str(uuid.uuid4()), api_key))
        resp = conn.getresponse()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        reply = Reply(status=resp.status, headers=headers)
        if resp.status == 200 and headers.get("content-type", "").startswith("text/event-stream"):
            read_stream(resp, reply, on_event)
        else:
            read_whole(resp, reply)
        reply.seconds = time.monotonic() - start
        return reply
    finally:
        conn.close()


def read_whole(resp, reply):
    raw = resp.read()
    try:
        reply.body = json.loads(raw)
    except ValueError:
        reply.body = raw.decode("utf-8", "replace")
    if not isinstance(reply.body, dict):
        reply.error = {"message": f"not a JSON object: {str(reply.body)[:200]}"}
        return
    reply.error = reply.body.get("error") if reply.status >= 400 or "error" in reply.body else None
    choice = (reply.body.get("choices") or [{}])[0]
    reply.text = choice.get("text") if "text" in choice else (choice.get("message") or {}).get("content") or ""
    reply.finish_reason = choice.get("finish_reason")
    reply.usage = reply.body.get("usage")


def read_stream(resp, reply, on_event=None):
    reply.events = []
    parts = []
    for data in sse_data(resp):
        if data == "[DONE]":
            reply.done = True
            break
        event = json.loads(data)
        reply.events.append(event)
        if on_event:
            on_event(event)
        if "error" in event:
            reply.error = event["error"]
        for choice in event.get("choices") or []:
            parts.append(choice.get("text") if "text" in choice else (choice.get("delta") or {}).get("content") or "")
            reply.finish_reason = choice.get("finish_reason") or reply.finish_reason
        if event.get("usage"):
            reply.usage = event["usage"]
    reply.text = "".join(p or "" for p in parts)


def sse_data(lines):
    """Yields each SSE event's data (its `data:` lines joined), reading `lines` one at a time:
    anything with readline() (an HTTP response) or an iterable of byte lines."""
    readline = lines.readline if hasattr(lines, "readline") else iter(lines).__next__
    data = []
    while True:
        try:
            line = readline()
        except StopIteration:
            line = b""
        if not line:
            break
        line = line.decode("utf-8").rstrip("\r\n")
        if line == "":
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


# MARK: - The two-step request


@dataclass
class PDResult:
    request_id: str
    prefill: Reply
    decode: Reply
    bodies: dict = field(default_factory=dict)

    @property
    def kv_transfer_params(self):
        return (self.prefill.body or {}).get("kv_transfer_params")


def pd_request(prefill_url, decode_url, path, body, request_id=None, api_key=None, timeout=DEFAULT_TIMEOUT, on_event=None):
    """vLLM's toy proxy: prefill on one engine, decode on the other, one X-Request-Id. Raises
    PDError when the prefill fails; a failed decode is returned (see `result.decode.status`)."""
    request_id = request_id or str(uuid.uuid4())
    first = prefill_body(body)
    prefill = call(prefill_url, path, first, request_id, api_key, timeout)
    if not 200 <= prefill.status < 300 or not isinstance(prefill.body, dict):
        raise PDError("prefill", prefill)
    second = decode_body(body, prefill.body)
    decode = call(decode_url, path, second, request_id, api_key, timeout, on_event)
    return PDResult(request_id, prefill, decode, {"prefill": first, "decode": second})


# MARK: - Self-test (no engine needed)

# The bodies vLLM's toy proxy sent (demo-N_{1_prefill_request,2_prefill_response,3_decode_request}.json),
# captured from a vLLM run and committed as the router's fixtures; PD_CAPTURE_DIR names another
# capture's folder.
CAPTURE = os.environ.get("PD_CAPTURE_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "BatonRouterTests", "Fixtures")


def _load(name):
    with open(os.path.join(CAPTURE, name)) as f:
        return json.load(f)


def _same(a, b, what):
    if a != b or list(a) != list(b):
        raise AssertionError(f"{what}:\n  got      {json.dumps(a)[:400]}\n  expected {json.dumps(b)[:400]}")


def _original(decode_request):
    """The client's body behind a captured decode request: the same without kv_transfer_params."""
    return {k: v for k, v in decode_request.items() if k != "kv_transfer_params"}


def self_test_capture():
    """Our two bodies against the bodies vLLM's proxy sent in the capture, key order included."""
    checked = 0
    for n in (1, 2, 3, 4):
        want_prefill = _load(f"demo-{n}_1_prefill_request.json")
        prefill_response = _load(f"demo-{n}_2_prefill_response.json")
        want_decode = _load(f"demo-{n}_3_decode_request.json")
        original = _original(want_decode)
        _same(prefill_body(original), want_prefill, f"demo-{n} prefill body")
        _same(decode_body(original, prefill_response), want_decode, f"demo-{n} decode body")
        checked += 2
    chat_prefill, chat_decode = _load("chat-1_prefill.json"), _load("chat-1_decode.json")
    original = _original(chat_decode["request"])
    _same(prefill_body(original), chat_prefill["request"], "chat-1 prefill body")
    _same(decode_body(original, chat_prefill["response"]), chat_decode["request"], "chat-1 decode body")
    return checked + 2


def self_test_rewrites():
    """The fields the capture does not exercise: stream options, min tokens, no mutation."""
    body = {
        "model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True,
        "stream_options": {"include_usage": True}, "max_completion_tokens": 30, "min_tokens": 3,
        "min_completion_tokens": 2, "temperature": 0, "kv_transfer_params": {"client": "supplied"},
    }
    before = copy.deepcopy(body)
    p = prefill_body(body)
    assert body == before, "prefill_body changed the client's body"
    assert p["stream"] is False and p["max_tokens"] == 1 and p["max_completion_tokens"] == 1, p
    assert "stream_options" not in p and "min_tokens" not in p and "min_completion_tokens" not in p, p
    assert p["kv_transfer_params"] == PREFILL_KV_TRANSFER_PARAMS and p["kv_transfer_params"] is not PREFILL_KV_TRANSFER_PARAMS
    assert p["messages"] == body["messages"] and p["temperature"] == 0
    assert "max_completion_tokens" not in prefill_body({"prompt": "x", "max_tokens": 5}), "max_completion_tokens added"
    order = list(prefill_body({"model": "m", "prompt": "x"}))
    assert order == ["model", "prompt", "kv_transfer_params", "stream", "max_tokens"], f"toy proxy's key order: {order}"
    params = {"do_remote_prefill": True, "remote_block_ids": [[3, 4]], "extra": {"kept": 1}}
    d = decode_body(body, {"kv_transfer_params": params})
    assert body == before, "decode_body changed the client's body"
    assert d["kv_transfer_params"] is params and d["stream"] is True and d["max_completion_tokens"] == 30
    assert d["stream_options"] == {"include_usage": True} and d["min_tokens"] == 3
    assert decode_body(body, {"kv_transfer_params": None}) == body, "no params: the body goes as it was"
    assert decode_body({"prompt": "x"}, {}) == {"prompt": "x"}


def self_test_sse():
    lines = [b"data: {\"a\": 1}\n", b"\n", b": comment\n", b"data:{\"b\":\n", b"data: 2}\r\n", b"\r\n", b"data: [DONE]\n", b"\n"]
    got = list(sse_data(lines))
    assert got == ['{"a": 1}', '{"b":\n2}', "[DONE]"], got


class _FakeEngines:
    """A prefill and a decode engine on loopback (http.server, chunked SSE) that record what they
    get. The decode stream holds its second event until the client saw the first: a client that
    buffered the whole stream would hang there (and fail on the timeout)."""

    def __init__(self):
        import http.server

        self.seen = []
        self.first_event_read = threading.Event()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.seen.append((self.path, dict(self.headers), body))
                if "do_remote_decode" in (body.get("kv_transfer_params") or {}):
                    self.send_json({"choices": [{"text": " A", "finish_reason": "length"}],
                                    "usage": {"prompt_tokens": 3}, "kv_transfer_params": {"do_remote_prefill": True, "remote_block_ids": [7]}})
                elif body.get("stream"):
                    self.send_stream(body)
                else:
                    self.send_json({"choices": [{"text": " A B", "finish_reason": "stop"}], "usage": {"prompt_tokens": 3}})

            def send_json(self, value):
                data = json.dumps(value).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Request-Id", self.headers.get("X-Request-Id", ""))
                self.end_headers()
                self.wfile.write(data)

            def chunk(self, text):
                data = text.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def send_stream(self, body):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("X-Request-Id", self.headers.get("X-Request-Id", ""))
                self.end_headers()
                self.chunk('data: {"choices":[{"text":" A","finish_reason":null}]}\n\n')
                if not fake.first_event_read.wait(10):
                    return
                self.chunk('data: {"choices":[{"text":" B","finish_reason":"stop"}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":3}}\n\n')
                self.chunk("data: [DONE]\n\n")
                self.wfile.write(b"0\r\n\r\n")

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the client closing its keep-alive connection is not news

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.first_event_read.set()
        self.server.shutdown()
        self.server.server_close()


def self_test_wire():
    """The driver over real sockets: headers on both calls, verbatim params, an incremental stream."""
    fake = _FakeEngines()
    try:
        body = {"model": "m", "prompt": "x", "max_tokens": 5, "stream": True, "stream_options": {"include_usage": True}}
        r = pd_request(fake.url, fake.url, "/v1/completions", body, api_key="k", timeout=20, on_event=lambda e: fake.first_event_read.set())
        (p_path, p_headers, p_body), (d_path, d_headers, d_body) = fake.seen
        assert p_path == d_path == "/v1/completions", (p_path, d_path)
        assert p_body == prefill_body(body) and d_body == {**body, "kv_transfer_params": {"do_remote_prefill": True, "remote_block_ids": [7]}}, d_body
        assert p_headers["X-Request-Id"] == d_headers["X-Request-Id"] == r.request_id and uuid.UUID(r.request_id), r.request_id
        assert p_headers["Authorization"] == d_headers["Authorization"] == "Bearer k"
        assert r.prefill.request_id == r.decode.request_id == r.request_id
        assert r.decode.done and r.decode.text == " A B" and r.decode.finish_reason == "stop" and r.decode.usage == {"prompt_tokens": 3}, r.decode
        assert len(r.decode.events) == 3
        fake.seen.clear()
        r = pd_request(fake.url, fake.url, "/v1/completions", {"prompt": "x", "max_tokens": 5}, request_id="given-id")
        assert [h["X-Request-Id"] for _, h, _ in fake.seen] == ["given-id", "given-id"] and "Authorization" not in fake.seen[0][1]
        assert r.decode.body["choices"][0]["text"] == " A B" and r.decode.text == " A B" and r.decode.events is None
    finally:
        fake.close()


def self_test():
    bodies = f"{self_test_capture()} captured vLLM proxy bodies rebuilt exactly (key order too)"
    self_test_rewrites()
    self_test_sse()
    self_test_wire()
    print(f"pd_proxy self-test passed: {bodies}; "
          "rewrites, SSE parsing, and both calls over loopback (one X-Request-Id, verbatim params, incremental stream)")


# MARK: - CLI


def summary(result):
    d = result.decode
    return {
        "request_id": result.request_id,
        "prefill": {"status": result.prefill.status, "seconds": round(result.prefill.seconds, 3), "text": result.prefill.text, "usage": result.prefill.usage,
                    "kv_transfer_params": result.kv_transfer_params},
        "decode": {"status": d.status, "seconds": round(d.seconds, 3), "text": d.text, "finish_reason": d.finish_reason, "usage": d.usage,
                   "error": d.error, "events": None if d.events is None else len(d.events), "done": d.done},
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description="Prefill on one engine, decode on another (vLLM's toy proxy calls).")
    ap.add_argument("--self-test", action="store_true", help="check the bodies against the vLLM capture and a fake engine pair")
    ap.add_argument("--prefill", help="prefill engine base URL, e.g. http://127.0.0.1:8100")
    ap.add_argument("--decode", help="decode engine base URL")
    ap.add_argument("--path", default="/v1/completions")
    ap.add_argument("--body", help="request JSON, or @FILE")
    ap.add_argument("--request-id")
    ap.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"))
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    ap.add_argument("--full", action="store_true", help="print both whole answers, not a summary")
    args = ap.parse_args(argv)
    if args.self_test:
        self_test()
        return 0
    if not (args.prefill and args.decode and args.body):
        ap.error("--prefill, --decode and --body are required")
    text = open(args.body[1:]).read() if args.body.startswith("@") else args.body
    try:
        result = pd_request(args.prefill, args.decode, args.path, json.loads(text), args.request_id, args.api_key, args.timeout)
    except PDError as e:
        print(json.dumps({"error": str(e)}), file=sys.stderr)
        return 1
    if args.full:
        print(json.dumps({"prefill": result.prefill.body, "decode": result.decode.body if result.decode.events is None else result.decode.events}, indent=1))
    else:
        print(json.dumps(summary(result), indent=1))
    return 0 if result.decode.ok else 1


if __name__ == "__main__":
    sys.exit(main())
