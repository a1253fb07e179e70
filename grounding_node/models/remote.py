"""`remote`: send inference to a GPU server that speaks the OpenAI chat-completions protocol.

vLLM, SGLang, Ollama and LM Studio all serve `POST {url}/chat/completions`. The robot sends the
frame as a base64 PNG and the family's own prompt (`prompts`), and parses the answer with the
family's own parser (`parsers`), so a server-side model gives the same boxes as a local one.

- Scores: when the server returns per-token logprobs (requested; vLLM and SGLang do), a box scores
  the mean probability of its tokens, as the local generative backends do; otherwise
  `default_score` (1.0) and the docs say so.
- Qwen2.5-VL answers in pixels of the image it was given, so the client resizes the frame to the
  size Qwen's processor would use (`qwen_smart_size`) before sending: the coordinates then refer to
  a size the client knows, whatever the server does.
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
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.models.base import Detection, GroundingBackend, check_rgb
from grounding_node.models.hf import span_score
from grounding_node.models.parsers import PARSER_FAMILIES, assign_to_phrases, parse_output
from grounding_node.models.prompts import (
    florence2_prompt,
    kosmos2_prompt,
    paligemma_prompt,
    qwen2_prompt,
    qwen_json_prompt,
    qwen_smart_size,
)

# family -> (all phrases in one request?, extra request fields the family needs)
FAMILY_SETTINGS: Dict[str, Tuple[bool, Dict[str, Any]]] = {
    "qwen2_5_vl": (True, {}),
    "qwen3_vl": (True, {}),
    "paligemma": (True, {}),
    "qwen2_vl": (False, {"skip_special_tokens": False}),
    "florence2": (False, {"skip_special_tokens": False}),
    "kosmos2": (False, {"skip_special_tokens": False}),
}
assert set(FAMILY_SETTINGS) == set(PARSER_FAMILIES)


class RemoteGroundingError(RuntimeError):
    """The server could not be reached, timed out, or answered with an error."""


def family_prompt(family: str, phrases: Sequence[str]) -> str:
    """The prompt a family's model is asked with (one phrase for per-phrase families)."""
    if family == "qwen2_5_vl":
        return qwen_json_prompt(phrases, relative=False)
    if family == "qwen3_vl":
        return qwen_json_prompt(phrases, relative=True)
    if family == "paligemma":
        return paligemma_prompt(phrases)
    if family == "qwen2_vl":
        return qwen2_prompt(phrases[0])
    if family == "florence2":
        return florence2_prompt(phrases[0])
    if family == "kosmos2":
        return kosmos2_prompt(phrases[0])
    raise ValueError(f"unknown remote family '{family}'; use one of {sorted(FAMILY_SETTINGS)}")


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
        self.family = str(extra.get("family", "qwen2_5_vl"))
        family_prompt(self.family, ["x"])  # validate now, not per frame
        self.timeout = float(extra.get("timeout", 10.0))
        self.retries = int(extra.get("retries", 2))
        self.backoff = float(extra.get("backoff", 0.5))
        self.max_tokens = int(extra.get("max_tokens", 512))
        self.max_pixels = int(extra.get("max_pixels", 1280 * 28 * 28))
        self.default_score = float(extra.get("default_score", 1.0))
        self.extra_body = dict(FAMILY_SETTINGS[self.family][1], **dict(extra.get("extra_body", {})))
        key_env = str(extra.get("api_key_env", ""))
        self.api_key = os.environ.get(key_env, "") if key_env else ""
        if bool(extra.get("check_on_load", True)):
            self._request("GET", "/models", None)   # fail on configure, clearly, when the server is down

    def describe(self) -> str:
        return f"remote({self.family}):{self.config.model or '?'}@{self.url}"

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

    def _detections(self, text, tokens, probs, phrases, input_size, fixed: Optional[int]) -> List[List[Detection]]:
        parsed = parse_output(self.family, text, input_size)
        groups = [[] for _ in phrases]
        if fixed is not None:
            groups[fixed] = parsed
        else:
            groups = assign_to_phrases(parsed, phrases)
        spans = token_spans(tokens) if tokens is not None else None
        out = []
        for boxes in groups:
            dets = [Detection(b.box_1024, span_score(spans, probs, b.span) if spans else self.default_score)
                    for b in boxes]
            dets.sort(key=lambda d: -d.score)
            out.append(dets)
        return out

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        import cv2

        check_rgb(rgb)
        if not phrases:
            return []
        h, w = rgb.shape[:2]
        input_size = None
        if self.family == "qwen2_5_vl":
            input_size = qwen_smart_size(w, h, max_pixels=self.max_pixels)
            if input_size != (w, h):
                rgb = cv2.resize(rgb, input_size, interpolation=cv2.INTER_AREA)
        image_url = encode_png(rgb)
        if FAMILY_SETTINGS[self.family][0]:
            text, tokens, probs = self._ask(image_url, family_prompt(self.family, phrases))
            return self._detections(text, tokens, probs, phrases, input_size, None)
        result: List[List[Detection]] = []
        for index, phrase in enumerate(phrases):
            text, tokens, probs = self._ask(image_url, family_prompt(self.family, [phrase]))
            result.append(self._detections(text, tokens, probs, phrases, input_size, index)[index])
        return result
