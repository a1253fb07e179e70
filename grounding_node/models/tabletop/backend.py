"""The `tabletop` backend: loads the shipped checkpoint once and grounds all phrases of a frame in one pass."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from grounding_node.models.base import DepthInput, Detection, GroundingBackend, check_rgb
from grounding_node.models.family import Family

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "weights" / "tabletop.pt"


def load_model(path, device: str = "cpu", dtype=None):
    """Checkpoint -> (model in eval mode, config). Weights only: no pickled code is executed."""
    import torch

    from grounding_node.models.tabletop.modeling import TabletopConfig, TabletopGrounder

    ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    cfg = ckpt["config"]
    cfg["image_size"] = tuple(cfg["image_size"])
    cfg["channels"] = tuple(cfg["channels"])
    config = TabletopConfig(**cfg)
    model = TabletopGrounder(config)
    model.load_state_dict(ckpt["state_dict"])
    model.eval().to(device=device, dtype=dtype or torch.float32)
    return model, config


def _flag(value) -> bool:
    """A backend option as a bool: a YAML/ROS string "false", "0", "no" or "off" is False, not truthy."""
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off", "")
    return bool(value)


FAMILY = Family(
    name="tabletop",
    default_score_threshold=0.3,
    threshold_source="docs/models/tabletop.md (the model card): evaluated at score threshold 0.3",
)


class TabletopBackend(GroundingBackend):
    name = "tabletop"
    families = (FAMILY,)
    # set by `load` (on for the shipped checkpoint); off for one built around an in-memory model without it
    # (`finetune.tabletop.backend_for`), which was not trained on the shipped checkpoint's frames alone
    normalize_exposure: bool = False

    def load(self) -> None:
        import torch

        from grounding_node.models.torch_utils import resolve_device_dtype

        path = Path(self.config.model) if self.config.model else DEFAULT_CHECKPOINT
        if path.is_dir():   # a fine-tuning output folder (python -m grounding_node.finetune)
            path = path / "tabletop.pt"
        if not path.is_file():
            raise FileNotFoundError(f"tabletop checkpoint not found: {path}")
        self.device, self.dtype = resolve_device_dtype(self.config.device, self.config.dtype)
        if self.device == "cpu":
            self.dtype = torch.float32   # the network is small; fp32 is fastest on CPU
        model, self.cfg = load_model(path, self.device)   # folded in float32, then cast (half precision on GPU)
        self.model = model.for_inference().to(dtype=self.dtype)   # BatchNorm folded, channels-last: faster
        self.reads_depth = bool(self.cfg.depth_tokens)
        self.max_candidates = int(self.config.extra.get("max_candidates", 16))
        self.candidate_threshold = float(self.config.extra.get("candidate_threshold", 0.25))
        # Lift frames darker than the training frames (`processing.normalize_exposure`). On by default only for
        # the shipped checkpoint, whose training range it encodes; a fine-tuned one may have been trained on
        # such frames as they are. Option `normalize_exposure: true/false` overrides.
        self.normalize_exposure = _flag(self.config.extra.get("normalize_exposure",
                                                              path.resolve() == DEFAULT_CHECKPOINT))
        self.path = path

    def _depth_features(self, depth: Optional[DepthInput], rgb_hw, size, lb, boxes):
        """(1,K,4) `depth_features` of the candidates on the letterboxed depth, or None when there is no
        usable depth: none given, not a 2D array, another aspect than the colour frame (not registered to
        it), or an encoding the geometry does not read."""
        import cv2
        import torch

        from grounding_node.models.tabletop.processing import depth_features, depth_metres, letterbox_depth

        if depth is None or not isinstance(depth.raw, np.ndarray) or depth.raw.ndim != 2 or min(depth.raw.shape) < 1:
            return None
        try:
            raw, dlb = letterbox_depth(depth.raw, size)
            if abs(dlb.w - lb.w) > 1 or abs(dlb.h - lb.h) > 1 or not np.isfinite(depth.fy):
                return None
            metres = depth_metres(raw, depth.encoding, depth.depth_scale)
        except (ValueError, TypeError, cv2.error):
            return None
        with np.errstate(invalid="ignore"):
            metres[(metres < depth.min_depth) | (metres > depth.max_depth)] = np.nan
        focal = float(depth.fy) * lb.h / float(rgb_hw[0])
        feats = depth_features(metres, boxes.float().cpu().numpy(), focal)
        return torch.from_numpy(feats)[None].to(self.device, self.dtype)

    def describe(self) -> str:
        return f"tabletop:{self.path.name}"

    def reading(self, phrase: str):
        """How this checkpoint's vocabulary reads `phrase` (`language.PhraseReading`)."""
        from grounding_node.models.tabletop.language import read_phrase

        return read_phrase(phrase, self.cfg.vocab)

    def phrase_warnings(self, phrases: Sequence[str]) -> List[str]:
        """A warning per phrase this model refuses (with why) or grounds without some of its words."""
        out = []
        for phrase in phrases:
            r = self.reading(phrase)
            shown = phrase if len(phrase) <= 80 else phrase[:77] + "..."
            if r.refusal:
                out.append(f"'{shown}' not grounded: {r.refusal}")
            elif r.unknown:
                unknown = ", ".join(f"'{w}'" for w in r.unknown)
                out.append(f"'{shown}' grounded as '{' '.join(r.words)}': the model has no word for {unknown}")
        return out

    def ground(self, rgb: np.ndarray, phrases: Sequence[str], depth: Optional[DepthInput] = None
               ) -> List[List[Detection]]:
        """`depth` (aligned, with the colour camera's fy) feeds a `depth_tokens` checkpoint the measured depth
        and metric size of each candidate; without it, or with depth that cannot be read, the same
        checkpoint grounds from colour alone (it was trained to)."""
        import torch

        from grounding_node.models.tabletop.processing import (
            apply_gain,
            box_crops,
            boxes_to_1024,
            crops_tensor,
            decode_candidates,
            encode_phrases,
            input_size,
            letterbox_uint8,
            normalize_exposure,
            to_tensor,
        )

        check_rgb(rgb)
        if not phrases:
            return []
        # a phrase the model cannot read is answered like one naming something absent (`read_phrase`)
        keep = [i for i, phrase in enumerate(phrases) if not self.reading(phrase).refusal]
        if len(keep) < len(phrases):
            out: List[List[Detection]] = [[] for _ in phrases]
            if keep:
                for i, dets in zip(keep, self.ground(rgb, [phrases[i] for i in keep], depth=depth)):
                    out[i] = dets
            return out
        with torch.inference_mode():
            base = self.cfg.image_size
            size = input_size((rgb.shape[1], rgb.shape[0]), base, self.cfg.stride)   # aspect kept
            img, lb = letterbox_uint8(rgb, size)
            gain = 1.0
            if self.normalize_exposure:   # only a frame darker than training's (processing.normalize_exposure)
                img, gain = normalize_exposure(img, lb)
            image = to_tensor(img).to(self.device, self.dtype)
            feats, det = self.model.encode_image(image)                      # once per frame
            cells, boxes, _ = decode_candidates(det[0].float(), self.max_candidates, self.candidate_threshold,
                                                wh_scale=(base[0] / size[0], base[1] / size[1]))
            if len(cells) == 0:
                return [[] for _ in phrases]
            measured = self._depth_features(depth, rgb.shape[:2], size, lb, boxes) if self.reads_depth else None
            crops = None
            if self.cfg.crop_size:   # each candidate as the camera saw it, not as the network input shows it
                crops = box_crops(rgb, lb.to_frame(boxes.float().cpu().numpy()), self.cfg.crop_size)
                crops = crops_tensor(apply_gain(crops, gain))   # lifted like the frame
                crops = crops[None].to(self.device, self.dtype)
            tokens = self.model.candidate_tokens(feats, cells[None], boxes[None].to(det.dtype), measured, crops)
            # a composed reading is scored as its trained parts, in the same batch: a plural negation or several
            # excluded attributes as a set difference (`PhraseReading.any_of`, `none_of`)
            spans, queries = [], []
            for phrase in phrases:
                r = self.reading(phrase)
                parts = (*r.any_of, *r.none_of) if r.any_of else (phrase,)
                spans.append((len(queries), len(r.any_of) or 1, len(r.none_of)))
                queries.extend(parts)
            words = encode_phrases(queries, self.cfg.vocab, self.cfg.max_words).to(self.device)
            p = words.shape[0]
            mask = torch.ones(p, tokens.shape[1], dtype=torch.bool, device=self.device)
            cand_boxes = boxes[None].to(det.dtype).expand(p, -1, -1)
            logits = self.model.score(tokens.expand(p, -1, -1), mask, words, cand_boxes)  # one batch
            query_scores = torch.sigmoid(logits.float()).cpu().numpy()
        scores = [_composed(query_scores[start:start + n_any + n_none], n_any) for start, n_any, n_none in spans]
        boxes_1024 = boxes_to_1024(boxes, lb)
        out: List[List[Detection]] = []
        for s in scores:
            order = np.argsort(-s)
            out.append([Detection(tuple(float(v) for v in boxes_1024[k]), float(s[k])) for k in order])
        return out


def _composed(rows: np.ndarray, n_any: int) -> np.ndarray:
    """Each candidate's score for one phrase from its parts' rows of scores: the first `n_any` rows pick (any
    of them), the rest exclude (none of them may): min(max(any), 1 - max(none)), a fuzzy AND of an OR and a
    NOR, since a part's sigmoid is its confidence and the weakest part bounds the whole."""
    score = rows[:n_any].max(axis=0)
    if len(rows) > n_any:
        score = np.minimum(score, 1.0 - rows[n_any:].max(axis=0))
    return score
