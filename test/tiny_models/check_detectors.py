"""Build each tiny detector checkpoint, load it the way a backend would, run one 640x480 image.

Run:  python test/tiny_models/check_detectors.py   (exit code 0 on success)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor  # noqa: E402

from tiny_models import grounding_dino, owlv2  # noqa: E402

H, W = 480, 640


def _image():
    return Image.fromarray(np.random.RandomState(0).randint(0, 256, (H, W, 3), dtype=np.uint8))


def _dir_size(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def _load(d):
    proc = AutoProcessor.from_pretrained(d, local_files_only=True)
    model = AutoModelForZeroShotObjectDetection.from_pretrained(d, local_files_only=True).eval()
    return proc, model


def gd_phrase_index(logits, input_ids, sep_id):
    """Phrase index per query for Grounding DINO: token spans between '.' tokens, argmax of summed sigmoid.

    logits: (Q, max_text_len); input_ids: (L,). Returns LongTensor (Q,).
    """
    ids = input_ids.tolist()
    spans, start = [], 1  # skip [CLS]
    for i, t in enumerate(ids):
        if t == sep_id or i == len(ids) - 1:  # '.' or final [SEP]
            if i > start:
                spans.append((start, i))
            start = i + 1
    probs = logits[:, : len(ids)].sigmoid()
    per_phrase = torch.stack([probs[:, a:b].max(dim=-1).values for a, b in spans], dim=-1)
    return per_phrase.argmax(dim=-1), spans


def check_grounding_dino(tmp):
    d = os.path.join(tmp, "gdino")
    t0 = time.perf_counter()
    grounding_dino.build(d)
    t1 = time.perf_counter()
    proc, model = _load(d)
    text = "red mug. blue cup."
    inputs = proc(images=_image(), text=text, return_tensors="pt")
    with torch.no_grad():
        outputs = model(**inputs)
    res = proc.post_process_grounded_object_detection(
        outputs, inputs.input_ids, threshold=0.0, text_threshold=0.0, target_sizes=[(H, W)]
    )[0]
    t2 = time.perf_counter()
    dot = proc.tokenizer.convert_tokens_to_ids(".")
    idx, spans = gd_phrase_index(outputs.logits[0], inputs.input_ids[0], dot)
    boxes = res["boxes"]
    assert boxes.ndim == 2 and boxes.shape[1] == 4 and len(res["scores"]) == len(boxes) == len(res["text_labels"])
    assert len(spans) == 2 and set(idx.tolist()) <= {0, 1}
    assert torch.isfinite(boxes).all() and boxes[:, 0::2].min() >= -1 and boxes[:, 0::2].max() <= W + 1
    print(f"[grounding_dino] {type(model).__name__} / {type(proc).__name__} "
          f"({type(proc.image_processor).__name__}, {type(proc.tokenizer).__name__})")
    print(f"  tokens={proc.tokenizer.convert_ids_to_tokens(inputs.input_ids[0])} spans={spans}")
    print(f"  pixel_values={tuple(inputs.pixel_values.shape)} logits={tuple(outputs.logits.shape)} "
          f"pred_boxes={tuple(outputs.pred_boxes.shape)}")
    print(f"  result keys={sorted(res.keys())} boxes={tuple(boxes.shape)} scores={tuple(res['scores'].shape)} "
          f"text_labels[0]={res['text_labels'][0]!r} phrase_idx[:8]={idx[:8].tolist()}")
    print(f"  build {t1 - t0:.2f}s  load+forward+post {t2 - t1:.2f}s  size {_dir_size(d) / 1e6:.2f} MB")


def check_owl(tmp, name, builder, target):
    d = os.path.join(tmp, name)
    t0 = time.perf_counter()
    builder(d)
    t1 = time.perf_counter()
    proc, model = _load(d)
    queries = [["red mug", "blue cup"]]
    inputs = proc(images=_image(), text=queries, return_tensors="pt")
    with torch.no_grad():
        outputs = model(**inputs)
    res = proc.post_process_grounded_object_detection(
        outputs=outputs, threshold=0.0, target_sizes=[target], text_labels=queries
    )[0]
    t2 = time.perf_counter()
    boxes, labels = res["boxes"], res["labels"]
    assert boxes.shape[1] == 4 and len(labels) == len(boxes) == len(res["scores"]) > 0
    assert set(labels.tolist()) <= {0, 1}  # labels = query index into queries[0]
    assert res["text_labels"] == [queries[0][i] for i in labels.tolist()]
    tok = proc.tokenizer
    assert inputs.input_ids[0, 0] == tok.bos_token_id != 0 and tok.eos_token_id == len(tok) - 1
    assert tok("Red MUG").input_ids == tok("red mug").input_ids
    print(f"[{name}] {type(model).__name__} / {type(proc).__name__} "
          f"({type(proc.image_processor).__name__}, {type(tok).__name__}, vocab {len(tok)})")
    print(f"  tokens={tok.convert_ids_to_tokens(inputs.input_ids[0])[:5]} input_ids={tuple(inputs.input_ids.shape)} "
          f"pixel_values={tuple(inputs.pixel_values.shape)} logits={tuple(outputs.logits.shape)} "
          f"pred_boxes={tuple(outputs.pred_boxes.shape)}")
    print(f"  result keys={sorted(res.keys())} boxes={tuple(boxes.shape)} labels[:8]={labels[:8].tolist()} "
          f"text_labels[:2]={res['text_labels'][:2]}")
    print(f"  build {t1 - t0:.2f}s  load+forward+post {t2 - t1:.2f}s  size {_dir_size(d) / 1e6:.2f} MB")


def main() -> int:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        check_grounding_dino(tmp)
        s = max(H, W)
        check_owl(tmp, "owlv2", owlv2.build, (s, s))  # OWLv2 pads to a square
        check_owl(tmp, "owlvit", owlv2.build_owlvit, (H, W))  # OWL-ViT v1 stretches, no pad
    print(f"OK total {time.perf_counter() - t0:.2f}s (after imports)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
