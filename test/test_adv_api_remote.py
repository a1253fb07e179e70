"""Adversarial review of the remote backend against a chat-completions server started here on 127.0.0.1:
redirects that would carry the API key to another host, a key echoed in an error page, a server that trickles
its answer past the timeout, malformed logprobs, content parts, non-JSON answers, 429 with Retry-After,
oversized answers and options that cannot work. No network beyond loopback."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from grounding_node.models import remote as remote_module
from grounding_node.models.base import BackendConfig
from grounding_node.models.registry import create_backend
from grounding_node.models.remote import RemoteGroundingError

IMAGE = np.random.default_rng(3).integers(0, 256, (120, 160, 3), dtype=np.uint8)
ANSWER = '[{"bbox_2d": [100, 200, 300, 400], "label": "mug"}]'
KEY = "sk-adv-SECRET-4242"
# qwen3_vl answers 0-1000 relative: the box on the 0-1024 grid, computed by hand
EXPECTED = (100 * 1.024, 200 * 1.024, 300 * 1.024, 400 * 1.024)


class Server:
    """A scripted server: `handler(h)` answers each POST; GET /models answers `get` (default: 200)."""

    def __init__(self, post=None, get=None):
        self.posts, self.gets = [], []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send(self, code, body, ctype="application/json", headers=()):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                outer.gets.append(dict(self.headers))
                (get or (lambda h: h.send(200, b'{"data": []}')))(self)

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append(time.monotonic())
                post(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    made = []
    yield lambda **kw: made.append(Server(**kw)) or made[-1]
    for s in made:
        s.close()


def chat(content, logprobs=None) -> bytes:
    choice = {"index": 0, "message": {"role": "assistant", "content": content}}
    if logprobs is not None:
        choice["logprobs"] = logprobs
    return json.dumps({"choices": [choice]}).encode()


def backend(url, **options):
    extra = {"url": url, "family": "qwen3_vl", "timeout": 0.5, "retries": 0, "backoff": 0.01}
    extra.update(options)
    return create_backend("remote", BackendConfig(model="m", extra=extra))


def test_a_redirect_never_takes_the_api_key_to_another_host(servers, monkeypatch):
    """urllib followed GET /models' 302 and sent `Authorization: Bearer <key>` to the host it named."""
    monkeypatch.setenv("PG_ADV_KEY", KEY)
    thief = servers()
    port = thief.httpd.server_address[1]
    redirect = servers(get=lambda h: h.send(302, b"", headers=[("Location", f"http://localhost:{port}/steal")]))
    with pytest.raises(RemoteGroundingError, match="not followed") as info:
        backend(redirect.url, api_key_env="PG_ADV_KEY")
    assert thief.gets == [] and KEY not in str(info.value)


def test_a_key_echoed_by_the_server_is_masked_in_the_error(servers, monkeypatch):
    monkeypatch.setenv("PG_ADV_KEY", KEY)
    echo = servers(post=lambda h: h.send(401, f"bad key {h.headers['Authorization']}".encode(), "text/plain"))
    with pytest.raises(RemoteGroundingError) as info:
        backend(echo.url, api_key_env="PG_ADV_KEY").ground(IMAGE, ["mug"])
    assert "HTTP 401" in str(info.value) and "Bearer ***" in str(info.value) and KEY not in str(info.value)


def test_a_trickling_answer_is_cut_at_the_timeout(servers):
    """The timeout bounded each socket read only: an answer sent one byte per 50 ms took minutes."""
    def trickle(h):
        body = chat(ANSWER)
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        try:
            for byte in body:
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    slow = servers(post=trickle)
    t0 = time.monotonic()
    with pytest.raises(RemoteGroundingError, match="no answer within 0.5 s"):
        backend(slow.url).ground(IMAGE, ["mug"])
    assert time.monotonic() - t0 < 1.5        # the whole answer would take len(body) * 0.05 s > 5 s


@pytest.mark.parametrize("logprobs", [
    {"content": [{"token": ANSWER, "logprob": 5.0}]},          # a probability of 148
    {"content": [{"token": ANSWER, "logprob": "x"}]},          # not a number: was a ValueError
    {"content": [{"token": ANSWER, "logprob": float("nan")}]},
    [1, 2],                                                    # not an object: was an AttributeError
])
def test_malformed_logprobs_fall_back_to_the_default_score(servers, logprobs):
    srv = servers(post=lambda h: h.send(200, chat(ANSWER, logprobs)))
    out = backend(srv.url, default_score=0.6).ground(IMAGE, ["mug"])
    assert len(out[0]) == 1 and out[0][0].score == 0.6
    np.testing.assert_allclose(out[0][0].box_1024, EXPECTED, rtol=0, atol=1e-9)


def test_content_as_a_list_of_text_parts_is_read(servers):
    parts = [{"type": "text", "text": ANSWER[:20]}, {"type": "text", "text": ANSWER[20:]}]
    srv = servers(post=lambda h: h.send(200, chat(parts)))
    out = backend(srv.url).ground(IMAGE, ["mug"])          # was a TypeError inside the parser
    np.testing.assert_allclose(out[0][0].box_1024, EXPECTED, rtol=0, atol=1e-9)


def test_a_server_error_object_is_quoted(servers):
    srv = servers(post=lambda h: h.send(200, b'{"error": {"message": "model m not loaded"}}'))
    with pytest.raises(RemoteGroundingError, match="model m not loaded"):
        backend(srv.url).ground(IMAGE, ["mug"])


def test_a_non_json_answer_is_reported_and_not_retried(servers):
    srv = servers(post=lambda h: h.send(200, b"<html><body>Gateway login</body></html>", "text/html"))
    with pytest.raises(RemoteGroundingError, match="not JSON.*text/html.*Gateway login") as info:
        backend(srv.url, retries=2).ground(IMAGE, ["mug"])
    assert len(srv.posts) == 1 and "1 attempt(s)" in str(info.value)


def test_429_waits_retry_after_then_retries(servers):
    answers = iter([(429, b'{"error": "rate"}'), (200, chat(ANSWER))])

    def post(h):
        code, body = next(answers)
        h.send(code, body, headers=[("Retry-After", "0.3")] if code == 429 else [])

    srv = servers(post=post)
    out = backend(srv.url, retries=1, backoff=0.01, timeout=1.0).ground(IMAGE, ["mug"])
    np.testing.assert_allclose(out[0][0].box_1024, EXPECTED, rtol=0, atol=1e-9)
    assert len(srv.posts) == 2 and srv.posts[1] - srv.posts[0] >= 0.3


def test_a_retry_after_beyond_the_timeout_fails_at_once(servers):
    srv = servers(post=lambda h: h.send(503, b"busy", headers=[("Retry-After", "3600")]))
    t0 = time.monotonic()
    with pytest.raises(RemoteGroundingError, match="retry after 3600 s"):
        backend(srv.url, retries=3).ground(IMAGE, ["mug"])
    assert len(srv.posts) == 1 and time.monotonic() - t0 < 1.0


def test_an_oversized_answer_is_refused(servers, monkeypatch):
    monkeypatch.setattr(remote_module, "MAX_ANSWER_BYTES", 1000)
    srv = servers(post=lambda h: h.send(200, chat("x" * 5000)))
    with pytest.raises(RemoteGroundingError, match="larger than 1000 bytes"):
        backend(srv.url).ground(IMAGE, ["mug"])


@pytest.mark.parametrize("options, said", [
    ({"timeout": 0}, "timeout"), ({"timeout": "nan"}, "timeout"), ({"retries": -1}, "retries"),
    ({"retries": 1.5}, "retries"), ({"default_score": 2}, "default_score"),
])
def test_options_that_cannot_work_are_refused_on_load(options, said):
    with pytest.raises(ValueError, match=said):
        backend("http://127.0.0.1:9/v1", check_on_load=False, **options)


def test_credentials_in_the_url_are_refused_without_echoing_them():
    with pytest.raises(ValueError, match="api_key_env") as info:
        backend("http://user:hunter2@127.0.0.1:9/v1", check_on_load=False)
    assert "hunter2" not in str(info.value)
