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
- Failures: per-request `timeout`, `retries` with exponential backoff on connection errors,
  timeouts and 5xx; 4xx are not retried. Every failure raises `RemoteGroundingError` with the URL
  and the cause, which the node reports as the result's `error`.
- The API key, if any, is read from the environment variable named by `api_key_env`: never a parameter.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import urllib.error
import urllib.request
from typing import List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.models.base import Detection, GroundingBackend, check_rgb
from grounding_node.models.family import Family, detections_from_answer, get_family, text_families
from grounding_node.models.prompts import QWEN_MAX_PIXELS, qwen_smart_size


class RemoteGroundingError(RuntimeError):
    """The server could not be reached, timed out, or answered with an error."""


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
        self.url = str(extra.get("url", "")).rstrip("/")
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("remote backend needs backend_options.url, e.g. 'http://gpu-server:8000/v1'")
        self._family: Family = get_family(str(extra.get("family", "qwen2_5_vl")))   # ValueError when unknown
        if not self._family.generative:
            raise ValueError(f"remote serves families that answer in text ({', '.join(text_families())}), "
                             f"not '{self._family.name}'")
        self.timeout = float(extra.get("timeout", 10.0))
        self.retries = int(extra.get("retries", 2))
        self.backoff = float(extra.get("backoff", 0.5))
        self.max_tokens = int(extra.get("max_tokens", 512))
        self.max_pixels = int(extra.get("max_pixels", QWEN_MAX_PIXELS))
        self.default_score = float(extra.get("default_score", 1.0))
        body = dict(self._family.remote_body, **dict(extra.get("extra_body", {})))
        self.extra_body = {k: v for k, v in body.items() if v is not None}   # null removes a family field
        key_env = str(extra.get("api_key_env", ""))
        self.api_key = os.environ.get(key_env, "") if key_env else ""
        if bool(extra.get("check_on_load", True)):
            self._request("GET", "/models", None)   # fail on configure, clearly, when the server is down

    def describe(self) -> str:
        return f"remote({self.family.name}):{self.config.model or '?'}@{self.url}"

    # -- HTTP ----------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Optional[dict]) -> dict:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode("utf-8", "replace")[:200]
                last = f"HTTP {exc.code} {exc.reason}: {detail}"
                if exc.code < 500:
                    break          # the request is wrong; asking again will not help
            except (socket.timeout, TimeoutError) as exc:
                last = f"no answer within {self.timeout:g} s ({exc})"
            except urllib.error.URLError as exc:
                reason = exc.reason
                last = (f"no answer within {self.timeout:g} s" if isinstance(reason, (socket.timeout, TimeoutError))
                        else f"cannot connect ({reason})")
            except (ValueError, OSError) as exc:
                last = f"{type(exc).__name__}: {exc}"
        raise RemoteGroundingError(f"grounding server {self.url}{path} failed after "
                                   f"{attempt + 1} attempt(s): {last}")

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
        try:
            choice = answer["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise RemoteGroundingError(f"grounding server {self.url} sent no choices[0].message.content") from exc
        content = ((choice.get("logprobs") or {}).get("content")) or []
        tokens = [c.get("token", "") for c in content if isinstance(c, dict)]
        if tokens and "".join(tokens) == text:
            probs = np.exp(np.array([float(c.get("logprob", -np.inf)) for c in content], dtype=np.float64))
            return text, tokens, probs
        return text, None, None

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        import cv2

        check_rgb(rgb)
        if not phrases:
            return []
        family = self.family
        h, w = rgb.shape[:2]
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
