"""Dataset statistics, and how they compare with the fine-tuning guidance.

Counting conventions (also in docs/dataset.md):
- a *pair* is one grounding: a phrase in one image with its boxes (a negative is a pair with no box);
- *pairs per image* is over annotated images only: a frame from a bag with `groundings: []` is waiting for
  annotation, not an image with zero pairs, and counting it would hide how dense the labelled part is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence, Tuple

from grounding_node.data.format import Sample, normalize_phrase, phrase_words

# The guidance of the product this project is modelled on (see issue #12 and docs/dataset.md).
MIN_PAIRS, RECOMMENDED_PAIRS, MIN_IMAGES = 100, 500, 20
PAIRS_PER_IMAGE = (5, 10)
UNTYPED = "(untyped)"


@dataclass
class DatasetStats:
    images: int = 0
    annotated_images: int = 0
    unannotated_images: int = 0
    pairs: int = 0
    positives: int = 0
    negatives: int = 0
    boxes: int = 0
    pairs_per_image_min: int = 0
    pairs_per_image_max: int = 0
    phrases: int = 0
    words: int = 0
    top_words: List[Tuple[str, int]] = field(default_factory=list)
    top_phrases: List[Tuple[str, int]] = field(default_factory=list)
    by_type: Dict[str, int] = field(default_factory=dict)
    with_depth: int = 0
    with_camera_info: int = 0

    @property
    def pairs_per_image(self) -> float:
        return self.pairs / self.annotated_images if self.annotated_images else 0.0

    def to_dict(self) -> Dict[str, Any]:
        return {
            "images": self.images, "annotated_images": self.annotated_images,
            "unannotated_images": self.unannotated_images, "pairs": self.pairs, "positives": self.positives,
            "negatives": self.negatives, "boxes": self.boxes,
            "pairs_per_image": {"mean": round(self.pairs_per_image, 3), "min": self.pairs_per_image_min,
                                "max": self.pairs_per_image_max},
            "vocabulary": {"phrases": self.phrases, "words": self.words,
                           "top_words": [list(w) for w in self.top_words],
                           "top_phrases": [list(p) for p in self.top_phrases]},
            "by_type": dict(self.by_type), "with_depth": self.with_depth, "with_camera_info": self.with_camera_info,
        }

    def hints(self) -> List[str]:
        """Where the set falls short of the guidance; advice, never errors (a 10-image set is fine for a test)."""
        out = []
        if self.annotated_images < MIN_IMAGES:
            out.append(f"{self.annotated_images} annotated images: at least {MIN_IMAGES} are recommended")
        if self.pairs < MIN_PAIRS:
            out.append(f"{self.pairs} pairs: at least {MIN_PAIRS} are needed, {RECOMMENDED_PAIRS}+ recommended")
        elif self.pairs < RECOMMENDED_PAIRS:
            out.append(f"{self.pairs} pairs: {RECOMMENDED_PAIRS}+ are recommended")
        if self.annotated_images and self.pairs_per_image < PAIRS_PER_IMAGE[0]:
            out.append(f"{self.pairs_per_image:.1f} pairs per image: {PAIRS_PER_IMAGE[0]}-{PAIRS_PER_IMAGE[1]} "
                       "are recommended")
        if self.unannotated_images:
            out.append(f"{self.unannotated_images} images have no groundings yet (annotate them, e.g. in "
                       "Label Studio via export-labelstudio)")
        return out

    def to_text(self) -> str:
        lines = [
            f"images:            {self.images} ({self.annotated_images} annotated, "
            f"{self.unannotated_images} unannotated)",
            f"pairs:             {self.pairs} ({self.positives} with boxes, {self.negatives} negatives), "
            f"{self.boxes} boxes",
            f"pairs per image:   {self.pairs_per_image:.2f} (min {self.pairs_per_image_min}, "
            f"max {self.pairs_per_image_max})",
            f"vocabulary:        {self.phrases} distinct phrases, {self.words} distinct words",
        ]
        if self.top_words:
            lines.append("top words:         " + ", ".join(f"{w} {n}" for w, n in self.top_words))
        if self.by_type:
            lines.append("by type:           " + ", ".join(f"{t} {n}" for t, n in self.by_type.items()))
        lines.append(f"depth / camera_info: {self.with_depth} / {self.with_camera_info} images")
        return "\n".join(lines)


def dataset_stats(samples: Sequence[Sample], top: int = 10) -> DatasetStats:
    """Statistics of valid samples (run `check_dataset` first: bad records are not counted)."""
    st = DatasetStats(images=len(samples))
    words: Counter = Counter()
    phrases: Counter = Counter()
    types: Counter = Counter()
    per_image: List[int] = []
    for s in samples:
        st.with_depth += s.depth is not None
        st.with_camera_info += s.camera_info is not None
        if not s.groundings:
            st.unannotated_images += 1
            continue
        st.annotated_images += 1
        per_image.append(len(s.groundings))
        for g in s.groundings:
            st.pairs += 1
            st.boxes += len(g.boxes_1024)
            if g.boxes_1024:
                st.positives += 1
            else:
                st.negatives += 1
            phrases[normalize_phrase(g.phrase)] += 1
            words.update(phrase_words(g.phrase))
            types[g.type or UNTYPED] += 1
    st.pairs_per_image_min = min(per_image, default=0)
    st.pairs_per_image_max = max(per_image, default=0)
    st.phrases, st.words = len(phrases), len(words)
    st.top_words = words.most_common(top)
    st.top_phrases = phrases.most_common(top)
    st.by_type = dict(sorted(types.items(), key=lambda kv: (-kv[1], kv[0])))
    return st


__all__ = ["DatasetStats", "dataset_stats"]
