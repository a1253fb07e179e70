"""Acceptance 3 of the backends issue: OCR grounding with real weights (RapidOCR's PP-OCRv4 ONNX,
shipped in its wheel) picks the right printed label by phrase; composite routes quoted text to it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from grounding_node.geometry.boxes import box1024_to_pixels
from grounding_node.models.base import BackendConfig, Detection, GroundingBackend
from grounding_node.models.ocr import engine_kwargs, quoted_text, target_text, text_match
from grounding_node.models.registry import create_backend

W, H = 640, 480
LABELS = {"SUGAR": (60, 150), "FRAGILE": (300, 380), "TEA": (470, 120)}   # text -> baseline origin


def label_scene():
    """Two+ printed labels on 'boxes' (filled rectangles) and the true pixel box of each text."""
    img = np.full((H, W, 3), 200, np.uint8)
    truth = {}
    for text, (x, y) in LABELS.items():
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.6, 3)
        cv2.rectangle(img, (x - 20, y - th - 30), (x + tw + 20, y + base + 25), (235, 225, 190), -1)
        cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 3, cv2.LINE_AA)
        truth[text] = np.array([x, y - th, x + tw, y + base], dtype=np.float64)
    return img, truth


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="module")
def ocr():
    return create_backend("ocr", BackendConfig())


@pytest.mark.parametrize("phrase,label", [
    ('the box labelled "SUGAR"', "SUGAR"),
    ("the parcel marked 'FRAGILE'", "FRAGILE"),
    ("the tin labelled tea", "TEA"),
])
def test_ocr_grounds_the_named_label(ocr, phrase, label):
    img, truth = label_scene()
    dets = ocr.ground(img, [phrase])[0]
    assert dets, f"nothing found for {phrase!r}"
    best = box1024_to_pixels(np.asarray(dets[0].box_1024), W, H)
    assert iou(best, truth[label]) >= 0.5, (best, truth[label])
    assert dets[0].score >= 0.9
    for other, box in truth.items():    # and not one of the other labels
        if other != label:
            assert all(iou(box1024_to_pixels(np.asarray(d.box_1024), W, H), box) < 0.5 for d in dets)


def test_ocr_several_phrases_one_read_and_absent_text(ocr):
    img, truth = label_scene()
    out = ocr.ground(img, ['"FRAGILE"', '"SUGAR"', '"COFFEE"'])
    assert iou(box1024_to_pixels(np.asarray(out[0][0].box_1024), W, H), truth["FRAGILE"]) >= 0.5
    assert iou(box1024_to_pixels(np.asarray(out[1][0].box_1024), W, H), truth["SUGAR"]) >= 0.5
    assert out[2] == []


def test_text_helpers():
    assert quoted_text('the box labelled "SUGAR"') == "SUGAR"
    assert quoted_text("the can marked \u201cTEA\u201d") == "TEA"
    assert quoted_text("the mug's handle") is None
    assert target_text("the box labelled sugar") == "sugar"
    assert text_match("SUGAR", "SUGAR") == 1.0
    assert text_match("SUGAR", "BROWN SUGAR 1KG") == 1.0
    assert 0.6 < text_match("SUGAR", "SUCAR") < 1.0
    assert text_match("SUGAR", "FRAGILE") < 0.5


class _Recorder(GroundingBackend):
    """Object backend for the composite test: records what it was asked and answers a fixed box."""

    name = "recorder"
    calls = []

    def load(self):
        pass

    def ground(self, rgb, phrases):
        type(self).calls.append(list(phrases))
        return [[Detection((1.0, 2.0, 3.0, 4.0), 0.9)] for _ in phrases]


def test_composite_routes_quoted_text_to_ocr(monkeypatch):
    img, truth = label_scene()
    _Recorder.calls = []
    backend = create_backend("composite", BackendConfig(extra={"object_backend": f"{__name__}:_Recorder"}))
    out = backend.ground(img, ["the red mug", 'the box labelled "SUGAR"', "the blue cup"])
    assert _Recorder.calls == [["the red mug", "the blue cup"]]
    assert out[0][0].box_1024 == (1.0, 2.0, 3.0, 4.0) and out[2][0].box_1024 == (1.0, 2.0, 3.0, 4.0)
    assert iou(box1024_to_pixels(np.asarray(out[1][0].box_1024), W, H), truth["SUGAR"]) >= 0.5
    assert "ocr" in backend.describe()


def test_device_selects_onnxruntime_cuda_only_when_available():
    cuda = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    cpu = ["CPUExecutionProvider"]
    assert engine_kwargs("cpu", cuda) == {}
    assert engine_kwargs("auto", cpu) == {}
    assert engine_kwargs("auto", cuda) == {"det_use_cuda": True, "cls_use_cuda": True, "rec_use_cuda": True}
    assert engine_kwargs("cuda:0", cuda)["rec_use_cuda"] is True
    with pytest.raises(RuntimeError, match="onnxruntime-gpu"):
        engine_kwargs("cuda", cpu)
