"""Acceptance 4 of the backends issue: the remote backend against a chat-completions server started
by the test on 127.0.0.1 only: a known grounding answer, per-token logprobs as scores, a timeout, a
500, a server that is down. No network beyond loopback."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from grounding_node.models.base import BackendConfig
from grounding_node.models.parsers import pixels_to_1024, scaled_to_1024
from grounding_node.models.prompts import qwen_smart_size
from grounding_node.models.registry import create_backend
from grounding_node.models.remote import RemoteGroundingError

W, H = 640, 480
IMAGE = np.random.default_rng(1).integers(0, 256, (H, W, 3), dtype=np.uint8)


class FakeServer:
    """Speaks enough of the OpenAI chat-completions protocol; behaviour set per test via `mode`."""

    def __init__(self):
        self.mode = "ok"
        self.answer = ""
        self.logprob_tokens = None      # list of (token, logprob) or None
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code, payload):
                body = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._send(200, {"data": [{"id": "served-model"}]})

            def do_POST(self):
                length = int(self.headers["Content-Length"])
                request = json.loads(self.rfile.read(length))
                server.requests.append((self.path, dict(self.headers), request))
                if server.mode == "slow":
                    time.sleep(1.5)
                if server.mode == "error":
                    return self._send(500, {"error": "CUDA out of memory"})
                choice = {"index": 0, "message": {"role": "assistant", "content": server.answer}}
                if server.logprob_tokens:
                    choice["logprobs"] = {"content": [{"token": t, "logprob": lp} for t, lp in server.logprob_tokens]}
                self._send(200, {"choices": [choice]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


def remote(url, **options):
    extra = {"url": url, "timeout": 0.5, "retries": 1, "backoff": 0.05}
    extra.update(options)
    return create_backend("remote", BackendConfig(model="served-model", extra=extra))


def sent_image(request):
    url = request["messages"][0]["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    return cv2.imdecode(np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)


def test_qwen25_answer_in_pixels_of_the_image_sent(server, monkeypatch):
    monkeypatch.setenv("PG_TEST_KEY", "secret-from-env")
    w_in, h_in = qwen_smart_size(W, H)
    server.answer = ('```json\n[{"bbox_2d": [100, 50, 300, 250], "label": "red mug"},'
                     ' {"bbox_2d": [10, 10, 20, 20], "label": "blue cup"}]\n```')
    backend = remote(server.url, family="qwen2_5_vl", api_key_env="PG_TEST_KEY")
    out = backend.ground(IMAGE, ["blue cup", "red mug"])
    path, headers, request = server.requests[-1]
    assert path == "/v1/chat/completions" and request["model"] == "served-model"
    assert headers["Authorization"] == "Bearer secret-from-env"
    assert '"red mug"' in request["messages"][0]["content"][1]["text"]
    assert sent_image(request).shape[:2] == (h_in, w_in)      # resized by the client to Qwen's grid
    np.testing.assert_allclose(out[1][0].box_1024, pixels_to_1024((100, 50, 300, 250), w_in, h_in))
    np.testing.assert_allclose(out[0][0].box_1024, pixels_to_1024((10, 10, 20, 20), w_in, h_in))
    assert out[1][0].score == 1.0          # no logprobs from this server: default_score


def test_logprobs_become_scores(server):
    answer = '[{"bbox_2d": [100, 200, 300, 400], "label": "mug"}]'
    pieces = ['[{"', 'bbox_2d": [', "100", ", ", "200", ", ", "300", ", ", "400", '], "label": "mug"}]']
    lps = [-0.01, -0.01, np.log(0.5), np.log(0.9), np.log(0.5), np.log(0.9), np.log(0.5), np.log(0.9), np.log(0.5),
           -0.01]
    assert "".join(pieces) == answer
    server.answer, server.logprob_tokens = answer, list(zip(pieces, lps))
    out = remote(server.url, family="qwen3_vl").ground(IMAGE, ["mug"])
    np.testing.assert_allclose(out[0][0].box_1024, scaled_to_1024(100, 200, 300, 400, 1000))
    assert out[0][0].score == pytest.approx(np.mean([0.5, 0.9, 0.5, 0.9, 0.5, 0.9, 0.5]))
    assert server.requests[-1][2]["logprobs"] is True and server.requests[-1][2]["temperature"] == 0.0


def test_per_phrase_family_asks_once_per_phrase(server):
    server.answer = "<s>thing<loc_100><loc_200><loc_300><loc_400></s>"
    out = remote(server.url, family="florence2").ground(IMAGE, ["red mug", "blue cup"])
    prompts = [r[2]["messages"][0]["content"][1]["text"] for r in server.requests]
    # single noun phrases: the open-vocabulary task (answers with the one thing asked for)
    assert prompts == ["<OPEN_VOCABULARY_DETECTION>red mug", "<OPEN_VOCABULARY_DETECTION>blue cup"]
    assert all(r[2]["skip_special_tokens"] is False for r in server.requests)
    assert len(out[0]) == 1 and len(out[1]) == 1
    assert sent_image(server.requests[0][2]).shape[:2] == (H, W)   # other families get the frame as is


def test_malformed_answer_gives_empty_result(server):
    server.answer = '```json\n[{"bbox_2d": [1, 2'
    assert remote(server.url).ground(IMAGE, ["mug"]) == [[]]


def test_timeout_is_retried_then_reported(server):
    server.mode = "slow"
    backend = remote(server.url, timeout=0.3, retries=1)
    t0 = time.monotonic()
    with pytest.raises(RemoteGroundingError) as info:
        backend.ground(IMAGE, ["mug"])
    assert "no answer within 0.3 s" in str(info.value) and "2 attempt(s)" in str(info.value)
    assert len(server.requests) == 2 and time.monotonic() - t0 < 5


def test_500_is_retried_then_reported(server):
    server.mode = "error"
    with pytest.raises(RemoteGroundingError) as info:
        remote(server.url, retries=2).ground(IMAGE, ["mug"])
    assert "HTTP 500" in str(info.value) and "CUDA out of memory" in str(info.value)
    assert len(server.requests) == 3


def test_server_down_fails_on_load_with_a_clear_error():
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                      # nothing listens there now
    with pytest.raises(RemoteGroundingError) as info:
        remote(f"http://127.0.0.1:{port}/v1", retries=0)
    assert "cannot connect" in str(info.value) and str(port) in str(info.value)


def test_bad_options_are_rejected_on_load(server):
    with pytest.raises(ValueError):
        remote("", check_on_load=False)
    with pytest.raises(ValueError):
        remote(server.url, family="yolo")
