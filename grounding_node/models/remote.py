"""`remote`: send inference to a GPU server that speaks the OpenAI chat-completions protocol.

vLLM, SGLang, Ollama and LM Studio all serve `POST {url}/chat/completions`. The robot sends the
frame as a base64 PNG and the family's own prompt (`prompts`), and parses the answer with the
family's own parser (`parsers`), so a server-side model gives the same boxes as a local one.

- Scores: when the server returns per-token logprobs (requested; vLLM and SGLang do), a box scores
  the mean probability of its tokens, as the local generative backends do; otherwise
  `default_score` (1.0) and the docs say so.
- The family record (`family.Family`, found by the `family` option) gives the prompt, the parser, the
  batching, the referent rule and the extra request fields: the same record the local backend uses.
- Qwen-VL: the client resizes the frame to the size Qwen's processor would use (`qwen_smart_size`)
  with the budget shared with the local backend (`prompts.QWEN_MAX_PIXELS`, option `max_pixels`), so
  local and remote see the same resolution and Qwen2.5-VL's pixel answers refer to a size the client knows.
- PaliGemma ships no chat template: its record sends `chat_template` in the request (a vLLM field).
- Failures: per-request `timeout` (the whole exchange, not each socket read), `retries` with exponential
  backoff on connection errors, timeouts, 5xx and 429 (a `Retry-After` up to `timeout` is honoured); other
  4xx, redirects (not followed) and non-JSON answers are not retried. Every failure raises
  `RemoteGroundingError` with the URL and the cause, which the node reports as the result's `error`.
- The API key, if any, is read from the environment variable named by `api_key_env`: never a parameter.
  It is masked in every error message, and never sent anywhere but `url` (redirects are not followed).
"""

from __future__ import annotations

import base64
import http.client
import json
import math
import os
import re
import socket
import threading
import time
import urllib.parse
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.models.base import Detection, GroundingBackend, check_rgb
from grounding_node.models.family import Family, detections_from_answer, get_family, text_families
from grounding_node.models.prompts import QWEN_MAX_PIXELS, qwen_smart_size

#: The largest answer read (bytes). A grounding answer with per-token logprobs is tens of kB; a server or
#: proxy sending more is broken, and reading it all would take the robot's memory.
MAX_ANSWER_BYTES = 32 * 1024 * 1024


class RemoteGroundingError(RuntimeError):
    """The server could not be reached, timed out, or answered with an error."""


class _Failure(Exception):
    """One attempt's failure: the message, whether another attempt may help, and how long to wait first."""

    def __init__(self, message: str, retry: bool, wait: float = 0.0) -> None:
        super().__init__(message)
        self.message, self.retry, self.wait = message, retry, wait


def _read_capped(resp: http.client.HTTPResponse, limit: Optional[int] = None) -> bytes:
    """The whole body, or a non-retried _Failure past `limit` bytes (MAX_ANSWER_BYTES, read at call time)
    without reading the rest."""
    limit = MAX_ANSWER_BYTES if limit is None else limit
    declared = resp.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _Failure(f"answer of {int(declared)} bytes is larger than {limit} bytes", retry=False)
    chunks, total = [], 0
    while True:
        chunk = resp.read(65536)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise _Failure(f"answer larger than {limit} bytes", retry=False)
        chunks.append(chunk)


_TAG = re.compile(r"<[^>]*>")


def _error_detail(raw: bytes, limit: int = 200) -> str:
    """The start of an error body as one readable line: an HTML error page's text without its tags."""
    text = raw.decode("utf-8", "replace")
    if "<" in text and ">" in text:
        text = _TAG.sub(" ", text)
    return " ".join(text.split())[:limit]


def _retry_after(value: str) -> float:
    """A `Retry-After` header in seconds (0 when absent or an HTTP date, which then means the backoff)."""
    try:
        seconds = float(value.strip())
    except ValueError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _option(extra: dict, name: str, default: float, minimum: float, integer: bool = False,
            strict: bool = False) -> float:
    """A numeric backend option, refused on load when it is not a finite number >= `minimum` (> with
    `strict`): a timeout of 0 made every socket non-blocking, a negative one raised deep inside http.client."""
    value = extra.get(name, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < minimum or (strict and number <= minimum) or (
            integer and number != int(number)):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"remote backend option '{name}' must be {kind} {'>' if strict else '>='} {minimum:g}, "
                         f"got {value!r}")
    return int(number) if integer else number


def _message_text(choice: Any) -> Optional[str]:
    """`choices[0].message.content` as text: a string, null (no answer: ""), or a list of content parts
    (some servers answer `[{"type": "text", "text": ...}]`); None when it is anything else."""
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict) or "content" not in message:
        return None
    content = message["content"]
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        return "".join(str(part.get("text", "")) for part in content if part.get("type", "text") == "text")
    return None


def _token_probs(choice: dict, text: str) -> Tuple[Optional[List[str]], Optional[np.ndarray]]:
    """Per-token strings and probabilities of the answer, or (None, None) when the server sent none or sent
    them malformed: tokens that do not spell the answer, a logprob that is not a number, or one above 0
    (a probability over 1, which scored a box 148 before the pipeline clipped it to a confident 1.0)."""
    logprobs = choice.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list) or not content or not all(isinstance(c, dict) for c in content):
        return None, None
    tokens = [c.get("token") for c in content]
    if not all(isinstance(t, str) for t in tokens) or "".join(tokens) != text:
        return None, None
    values = []
    for c in content:
        value = c.get("logprob")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value > 1e-6:
            return None, None
        values.append(min(float(value), 0.0))
    return tokens, np.exp(np.array(values, dtype=np.float64))


def family_prompt(family: str, phrases: Sequence[str]) -> str:
    """The prompt a family's model is asked with for the first request (one phrase for per-phrase families)."""
    return get_family(family).requests(phrases)[0][1]


def encode_png(rgb: np.ndarray) -> str:
    """RGB image -> `data:image/png;base64,...` (lossless, so the server sees what the camera saw)."""
    import cv2

    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise ValueError("could not encode the image as PNG")
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode("ascii")


def token_spans(tokens: Sequence[str]) -> List[Tuple[int, int]]:
    """Character spans of consecutive token strings (the text is their concatenation)."""
    spans, pos = [], 0
    for tok in tokens:
        spans.append((pos, pos + len(tok)))
        pos += len(tok)
    return spans


class RemoteBackend(GroundingBackend):
    name = "remote"

    def load(self) -> None:
        extra = self.config.extra
        self.url = str(extra.get("url", "")).strip().rstrip("/")
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("remote backend needs backend_options.url, e.g. 'http://gpu-server:8000/v1'")
        if parts.username is not None or parts.password is not None:
            # never echo the URL here: it holds the credentials
            raise ValueError("remote backend url must not hold credentials (user:password@): put the key in "
                             "the environment variable named by api_key_env")
        if parts.query or parts.fragment:
            raise ValueError(f"remote backend url '{self.url}' must not have a query or fragment")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"remote backend url '{self.url}': {exc}") from None
        self._scheme, self._host, self._base_path = parts.scheme, parts.hostname, parts.path
        self._port = port or (443 if parts.scheme == "https" else 80)
        self._family: Family = get_family(str(extra.get("family", "qwen2_5_vl")))   # ValueError when unknown
        if not self._family.generative:
            raise ValueError(f"remote serves families that answer in text ({', '.join(text_families())}), "
                             f"not '{self._family.name}'")
        self.timeout = _option(extra, "timeout", 10.0, 0.0, strict=True)
        self.retries = int(_option(extra, "retries", 2, 0, integer=True))
        self.backoff = _option(extra, "backoff", 0.5, 0.0)
        self.max_tokens = int(_option(extra, "max_tokens", 512, 1, integer=True))
        self.max_pixels = int(_option(extra, "max_pixels", QWEN_MAX_PIXELS, 1, integer=True))
        self.default_score = _option(extra, "default_score", 1.0, 0.0)
        if self.default_score > 1.0:
            raise ValueError(f"remote backend option 'default_score' must be in 0..1, got {self.default_score!r}")
        body = dict(self._family.remote_body, **dict(extra.get("extra_body", {})))
        self.extra_body = {k: v for k, v in body.items() if v is not None}   # null removes a family field
        key_env = str(extra.get("api_key_env", ""))
        self.api_key = os.environ.get(key_env, "") if key_env else ""
        if bool(extra.get("check_on_load", True)):
            self._request("GET", "/models", None)   # fail on configure, clearly, when the server is down

    def describe(self) -> str:
        return f"remote({self.family.name}):{self.config.model or '?'}@{self.url}"

    # -- HTTP ----------------------------------------------------------------------------------------
    def _redact(self, text: str) -> str:
        """`text` with the API key masked: a server (or proxy) that echoes the request's headers into its
        error page would otherwise put the key into the exception, hence into the node's log and results."""
        return text.replace(self.api_key, "***") if self.api_key else text

    def _request(self, method: str, path: str, body: Optional[dict]) -> dict:
        """One JSON request with `retries`; RemoteGroundingError (key masked) when every attempt fails.

        Connection errors, timeouts, 5xx and 429 are retried with exponential backoff (a `Retry-After` of at
        most `timeout` seconds is honoured; a longer one fails now instead of stalling the node); other 4xx,
        redirects and answers that are not JSON are not: asking again would get the same answer."""
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last, wait, attempt = "", 0.0, 0
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(max(self.backoff * (2 ** (attempt - 1)), wait))
            try:
                return self._attempt(method, path, data, headers)
            except _Failure as failure:
                last, wait = failure.message, failure.wait
                if not failure.retry:
                    break
        raise RemoteGroundingError(self._redact(f"grounding server {self.url}{path} failed after "
                                                f"{attempt + 1} attempt(s): {last}"))

    def _attempt(self, method: str, path: str, data: Optional[bytes], headers: dict) -> dict:
        """One HTTP exchange, bounded by `timeout` in total: a watchdog shuts the socket down at the deadline.

        urllib's timeout bounds each socket read only, so a server trickling its answer a byte at a time
        held a command for minutes. Redirects are not followed: urllib forwarded the Authorization header to
        whatever host a redirect named. The answer is read up to MAX_ANSWER_BYTES."""
        conn_cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(self._host, self._port, timeout=self.timeout)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)   # wakes the blocked read in the calling thread
                except OSError:
                    pass

        watchdog = threading.Timer(self.timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        connected = False
        try:
            conn.connect()
            connected = True
            if expired.is_set():
                raise socket.timeout("connect took the whole timeout")
            conn.request(method, self._base_path + path, body=data, headers=headers)
            resp = conn.getresponse()
            status, reason = resp.status, resp.reason
            raw = _read_capped(resp)
            content_type = resp.getheader("Content-Type", "") or ""
            location = resp.getheader("Location", "") or ""
            retry_after = resp.getheader("Retry-After", "") or ""
            if expired.is_set():   # the watchdog's shutdown ends a read like the end of the answer would
                raise socket.timeout("the answer was still arriving")
        except _Failure:
            raise
        except (socket.timeout, TimeoutError) as exc:
            raise _Failure(f"no answer within {self.timeout:g} s ({exc})", retry=True) from None
        except (http.client.HTTPException, OSError, ValueError) as exc:
            if expired.is_set():
                raise _Failure(f"no answer within {self.timeout:g} s", retry=True) from None
            if not connected:
                raise _Failure(f"cannot connect ({exc})", retry=True) from None
            raise _Failure(f"{type(exc).__name__}: {exc}", retry=True) from None
        finally:
            watchdog.cancel()
            conn.close()
        if 300 <= status < 400:
            raise _Failure(f"HTTP {status} {reason}: redirected to '{location}', which is not followed (the "
                           "API key would go with it): set url to the server's own address", retry=False)
        if status >= 400:
            detail = _error_detail(raw)
            message = f"HTTP {status} {reason}: {detail}"
            if status == 429 or status >= 500:
                delay = _retry_after(retry_after)
                if delay > self.timeout:
                    raise _Failure(f"{message} (the server asks to retry after {delay:g} s, more than the "
                                   f"timeout {self.timeout:g} s)", retry=False)
                raise _Failure(message, retry=True, wait=delay)
            raise _Failure(message, retry=False)   # the request is wrong; asking again will not help
        try:
            answer = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            raise _Failure(f"HTTP {status} answer is not JSON (Content-Type '{content_type}'): "
                           f"{_error_detail(raw)}", retry=False) from None
        if not isinstance(answer, dict):
            raise _Failure(f"HTTP {status} answer is JSON but not an object: {_error_detail(raw)}", retry=False)
        return answer

    # -- grounding -----------------------------------------------------------------------------------
    def _ask(self, image_url: str, prompt: str) -> Tuple[str, Optional[List[str]], Optional[np.ndarray]]:
        body = {
            "model": self.config.model,
            "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": image_url}},
                {"type": "text", "text": prompt},
            ]}],
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
            "logprobs": True,
            **self.extra_body,
        }
        answer = self._request("POST", "/chat/completions", body)
        choices = answer.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        text = _message_text(choice)
        if text is None:
            error = answer.get("error")
            error = error.get("message", error) if isinstance(error, dict) else error
            said = f" (it said: {str(error)[:200]})" if error else ""
            raise RemoteGroundingError(self._redact(f"grounding server {self.url} sent no text in "
                                                    f"choices[0].message.content{said}"))
        tokens, probs = _token_probs(choice, text)
        return text, tokens, probs

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        import cv2

        check_rgb(rgb)
        if not phrases:
            return []
        family = self.family
        h, w = rgb.shape[:2]
        if h < 1 or w < 1:
            raise ValueError(f"cannot ground on an empty {w}x{h} image")
        input_size = None
        if family.resize_factor:
            input_size = qwen_smart_size(w, h, factor=family.resize_factor, max_pixels=self.max_pixels)
            if input_size != (w, h):
                rgb = cv2.resize(rgb, input_size, interpolation=cv2.INTER_AREA)
        image_url = encode_png(rgb)
        result: List[List[Detection]] = [[] for _ in phrases]
        for indices, prompt in family.requests(phrases):
            text, tokens, probs = self._ask(image_url, prompt)
            detections_from_answer(family, text, token_spans(tokens) if tokens is not None else None, probs,
                                   phrases, indices, input_size, self.default_score, result)
        return result
