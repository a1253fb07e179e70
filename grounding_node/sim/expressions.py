"""Referring expressions with a guaranteed referent set, computed from the simulator's ground truth.

Each expression carries its meaning as data (`Expression.query`) next to its text, and its targets are
the objects that satisfy the query. Spatial and ordinal words are only used when the margins below
make them unambiguous, so a grounding model is never graded against a coin toss:
- left/right use the image column of the object's centre (margin `U_MARGIN` of the image width);
- near/far (in front of / behind) use the distance along the optical axis (margin `Z_MARGIN` metres);
- largest/smallest use the true volume (the size classes differ by >= 3x in volume).
Types: attribute, relation, extreme, ordinal, negation, plural, no_referent. Paraphrase templates and
synonyms vary the text; `VOCABULARY` is the closed set of words the generator can emit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.sim.scene import COLORS, HALF_EXTENTS, SHAPES, SIZES, RenderedScene, SceneObject

TYPES = ("attribute", "relation", "extreme", "ordinal", "negation", "plural", "no_referent")
U_MARGIN = 0.06   # fraction of image width between image columns for left/right/ordinal
Z_MARGIN = 0.06   # metres between depths for in front of / behind / nearest / farthest

SHAPE_WORDS: Dict[str, Tuple[str, ...]] = {
    "cube": ("cube", "block"), "box": ("box", "brick"), "can": ("can", "cylinder"),
    "ball": ("ball", "sphere"), "mug": ("mug", "cup"),
    # the "wrist" set-up's new kinds: not in VOCABULARY (the default model never saw these words)
    "egg": ("egg",), "bottle": ("bottle",),
}
PLURALS = {"cube": "cubes", "block": "blocks", "box": "boxes", "brick": "bricks", "can": "cans",
           "cylinder": "cylinders", "ball": "balls", "sphere": "spheres", "mug": "mugs", "cup": "cups",
           "object": "objects", "thing": "things", "egg": "eggs", "bottle": "bottles"}
SIZE_WORDS = {"small": ("small", "little", "tiny"), "large": ("large", "big")}
RELATION_WORDS = {"left": ("left of", "to the left of"), "right": ("right of", "to the right of"),
                  "front": ("in front of", "closer than"), "behind": ("behind", "farther away than")}
EXTREME_WORDS = {"leftmost": ("the leftmost {s}", "the {s} furthest to the left"),
                 "rightmost": ("the rightmost {s}", "the {s} furthest to the right"),
                 "nearest": ("the nearest {s}", "the {s} closest to the camera"),
                 "farthest": ("the farthest {s}", "the {s} furthest from the camera"),
                 "largest": ("the largest {s}", "the biggest {s}"),
                 "smallest": ("the smallest {s}", "the tiniest {s}")}
ORDINALS = {2: "second", 3: "third"}

_TEMPLATE_WORDS = """the a an all every of to that is isn't not non on table find pick up from left right
in front behind closer than farther away furthest closest camera leftmost rightmost nearest farthest largest
biggest smallest tiniest second third objects object things thing""".split()


def _vocabulary() -> Tuple[str, ...]:
    words = set(_TEMPLATE_WORDS) | set(COLORS)
    for shape in SHAPES:
        words |= set(SHAPE_WORDS[shape]) | {PLURALS[w] for w in SHAPE_WORDS[shape]}
    words |= {"objects", "things"}
    for names in SIZE_WORDS.values():
        words |= set(names)
    return tuple(sorted(words))


VOCABULARY = _vocabulary()


def tokenize(text: str) -> List[str]:
    """Lower-case words; hyphens split ("non-red" -> non, red). The tokenizer models use."""
    return [w for w in re.split(r"[\s\-]+", text.lower().strip()) if w]


@dataclass
class Expression:
    text: str
    type: str
    targets: List[int]
    query: Dict = field(default_factory=dict)   # the meaning, for independent checking


# -- object properties ---------------------------------------------------------------------------------
def image_u(obj: SceneObject, scene: RenderedScene) -> float:
    """Image column of the object's 3D centre, as a fraction of the width (0 = left edge)."""
    K = scene.K
    u = K[0, 0] * obj.center_cam[0] / obj.center_cam[2] + K[0, 2]
    return float((u + 0.5) / scene.rgb.shape[1])


def depth_of(obj: SceneObject) -> float:
    return float(obj.center_cam[2])


def volume(obj: SceneObject) -> float:
    hx, hy, hz = obj.half_extents if any(obj.half_extents) else HALF_EXTENTS[(obj.shape, obj.size)]
    return 8.0 * hx * hy * hz


def matches(obj: SceneObject, desc: Dict) -> bool:
    """desc: optional keys shape, color, size (None/absent = any)."""
    return all(desc.get(k) in (None, getattr(obj, k)) for k in ("shape", "color", "size"))


def select(objects: Sequence[SceneObject], desc: Dict) -> List[SceneObject]:
    return [o for o in objects if matches(o, desc)]


# -- wording -----------------------------------------------------------------------------------------
def _noun(rng, shape: Optional[str], plural: bool = False) -> str:
    word = rng.choice(SHAPE_WORDS[shape]) if shape else rng.choice(("object", "thing"))
    return PLURALS[word] if plural else word


def describe(rng, desc: Dict, plural: bool = False) -> str:
    parts = []
    if desc.get("size"):
        parts.append(rng.choice(SIZE_WORDS[desc["size"]]))
    if desc.get("color"):
        parts.append(desc["color"])
    parts.append(_noun(rng, desc.get("shape"), plural))
    return " ".join(parts)


def minimal_description(obj: SceneObject, objects: Sequence[SceneObject]) -> Optional[Dict]:
    """The shortest shape-based description that picks `obj` alone (colour preferred over size)."""
    for keys in (("shape",), ("color", "shape"), ("size", "shape"), ("size", "color", "shape")):
        desc = {k: getattr(obj, k) for k in keys}
        if len(select(objects, desc)) == 1:
            return desc
    return None


# -- generators per type -------------------------------------------------------------------------------
def _attribute(scene, rng) -> Optional[Expression]:
    objs = scene.objects
    target = objs[int(rng.integers(len(objs)))]
    desc = minimal_description(target, objs)
    if desc is None:
        return None
    if "color" not in desc and rng.random() < 0.5:   # natural over-specification, still unique
        desc = dict(desc, color=target.color)
    text = rng.choice(("the {d}", "{d}", "pick up the {d}", "the {d} on the table", "find the {d}"))
    return Expression(text.format(d=describe(rng, desc)), "attribute", [target.index],
                      {"desc": desc})


def relation_holds(rel: str, a: SceneObject, b: SceneObject, scene: RenderedScene, margin: float = 1.0) -> bool:
    """Does `a` stand in `rel` to `b`, by at least `margin` times the margin (negative margin: loosely)?"""
    if rel == "left":
        return image_u(a, scene) < image_u(b, scene) - margin * U_MARGIN
    if rel == "right":
        return image_u(a, scene) > image_u(b, scene) + margin * U_MARGIN
    if rel == "front":
        return depth_of(a) < depth_of(b) - margin * Z_MARGIN
    if rel == "behind":
        return depth_of(a) > depth_of(b) + margin * Z_MARGIN
    raise ValueError(rel)


OPPOSITE = {"left": "right", "right": "left", "front": "behind", "behind": "front"}


def _relation(scene, rng) -> Optional[Expression]:
    objs = scene.objects
    anchor = objs[int(rng.integers(len(objs)))]
    anchor_desc = minimal_description(anchor, objs)
    if anchor_desc is None:
        return None
    rel = rng.choice(tuple(RELATION_WORDS))
    others = [o for o in objs if o.index != anchor.index]
    rng.shuffle(others)
    for target in others:
        for keys in (("shape",), ("color", "shape")):
            tdesc = {k: getattr(target, k) for k in keys}
            cands = [o for o in select(others, tdesc)]
            sat = [o for o in cands if relation_holds(rel, o, anchor, scene)]
            # unique and unambiguous: every other candidate clearly stands on the opposite side
            if sat == [target] and all(relation_holds(OPPOSITE[rel], o, anchor, scene)
                                       for o in cands if o is not target):
                text = rng.choice(("the {t} {r} the {a}", "the {t} that is {r} the {a}", "{t} {r} the {a}"))
                text = text.format(t=describe(rng, tdesc), r=rng.choice(RELATION_WORDS[rel]),
                                   a=describe(rng, anchor_desc))
                return Expression(text, "relation", [target.index],
                                  {"desc": tdesc, "rel": rel, "anchor": anchor.index, "anchor_desc": anchor_desc})
    return None


EXTREME_KEYS = {
    "leftmost": lambda o, s: image_u(o, s), "rightmost": lambda o, s: -image_u(o, s),
    "nearest": lambda o, s: depth_of(o), "farthest": lambda o, s: -depth_of(o),
    "largest": lambda o, s: -volume(o), "smallest": lambda o, s: volume(o),
}


def extreme_winner(kind: str, cands: Sequence[SceneObject], scene) -> Optional[SceneObject]:
    """The unique extreme with margin over the runner-up, else None."""
    if len(cands) < 2:
        return None
    ranked = sorted(cands, key=lambda o: EXTREME_KEYS[kind](o, scene))
    a, b = (EXTREME_KEYS[kind](o, scene) for o in ranked[:2])
    margin = {"leftmost": U_MARGIN, "rightmost": U_MARGIN, "nearest": Z_MARGIN, "farthest": Z_MARGIN}.get(kind)
    if margin is None:   # volume: the winner must be at least 2x the runner-up
        ok = (b / a >= 2.0) if kind == "smallest" else (a / b >= 2.0)
    else:
        ok = b - a >= margin
    return ranked[0] if ok else None


def _extreme(scene, rng) -> Optional[Expression]:
    kinds = list(EXTREME_WORDS)
    rng.shuffle(kinds)
    for kind in kinds:
        descs = [{}] + [{"shape": s} for s in scene.shapes] + [{"color": c} for c in COLORS]
        rng.shuffle(descs)
        for desc in descs:
            cands = select(scene.objects, desc)
            winner = extreme_winner(kind, cands, scene)
            if winner is not None:
                text = rng.choice(EXTREME_WORDS[kind]).format(s=describe(rng, desc))
                return Expression(text, "extreme", [winner.index], {"desc": desc, "kind": kind})
    return None


def ordinal_pick(desc: Dict, k: int, side: str, scene) -> Optional[SceneObject]:
    cands = sorted(select(scene.objects, desc), key=lambda o: image_u(o, scene))
    if side == "right":
        cands = cands[::-1]
    if len(cands) < k:
        return None
    us = [image_u(o, scene) for o in cands[: k + 1]]
    if any(abs(us[i + 1] - us[i]) < U_MARGIN for i in range(len(us) - 1)):
        return None
    return cands[k - 1]


def _ordinal(scene, rng) -> Optional[Expression]:
    descs = [{}] + [{"shape": s} for s in scene.shapes] + [{"color": c} for c in COLORS]
    rng.shuffle(descs)
    for desc in descs:
        for k in (2, 3):
            side = rng.choice(("left", "right"))
            pick = ordinal_pick(desc, k, side, scene)
            if pick is not None and len(select(scene.objects, desc)) >= 3:
                text = rng.choice(("the {o} {s} from the {side}", "the {o} {s} from {side}"))
                text = text.format(o=ORDINALS[k], s=describe(rng, desc), side=side)
                return Expression(text, "ordinal", [pick.index], {"desc": desc, "k": k, "side": side})
    return None


def _negation(scene, rng) -> Optional[Expression]:
    shapes = list(scene.shapes)
    rng.shuffle(shapes)
    for shape in shapes:
        cands = select(scene.objects, {"shape": shape})
        if len(cands) < 2:
            continue
        for attr, values in (("color", tuple(COLORS)), ("size", SIZES)):
            for value in values:
                keep = [o for o in cands if getattr(o, attr) != value]
                if len(keep) == 1 and len(cands) - len(keep) >= 1:
                    word = value if attr == "color" else rng.choice(SIZE_WORDS[value])
                    noun = _noun(rng, shape)
                    text = rng.choice(("the {n} that is not {w}", "the {n} that isn't {w}", "the non-{w} {n}"))
                    return Expression(text.format(n=noun, w=word), "negation", [keep[0].index],
                                      {"desc": {"shape": shape}, "not": {attr: value}})
    return None


def _plural(scene, rng) -> Optional[Expression]:
    options = ([{"color": c} for c in COLORS] + [{"shape": s} for s in scene.shapes]
               + [{"size": z, "shape": s} for z in SIZES for s in scene.shapes])
    rng.shuffle(options)
    for desc in options:
        hits = select(scene.objects, desc)
        if len(hits) >= 2:
            text = rng.choice(("all {p}", "every {s}", "all the {p}", "all of the {p}"))
            text = text.format(p=describe(rng, desc, plural=True), s=describe(rng, desc))
            return Expression(text, "plural", sorted(o.index for o in hits), {"desc": desc})
    return None


def _no_referent(scene, rng) -> Optional[Expression]:
    for _ in range(50):
        desc = {"color": rng.choice(tuple(COLORS)), "shape": rng.choice(scene.shapes)}
        if rng.random() < 0.3:
            desc["size"] = rng.choice(SIZES)
        if not select(scene.objects, desc):
            text = rng.choice(("the {d}", "{d}", "pick up the {d}"))
            return Expression(text.format(d=describe(rng, desc)), "no_referent", [], {"desc": desc})
    return None


_GENERATORS = {"attribute": _attribute, "relation": _relation, "extreme": _extreme, "ordinal": _ordinal,
               "negation": _negation, "plural": _plural, "no_referent": _no_referent}


def generate(scene: RenderedScene, rng: np.random.Generator, type: Optional[str] = None,
             attempts: int = 20) -> Optional[Expression]:
    """One expression of `type` (random type when None), or None when the scene cannot support it."""
    kind = type or TYPES[int(rng.integers(len(TYPES)))]
    for _ in range(attempts):
        expr = _GENERATORS[kind](scene, rng)
        if expr is not None:
            return expr
    return None


def generate_all(scene: RenderedScene, rng: np.random.Generator, per_type: int = 1) -> List[Expression]:
    out = []
    for kind in TYPES:
        for _ in range(per_type):
            expr = generate(scene, rng, kind)
            if expr is not None:
                out.append(expr)
    return out


# -- everyday speech ------------------------------------------------------------------------------------
# Other wordings of the same meanings: command verbs, politeness, contractions and several forms of each
# superlative, ordinal, relation and negation. Two disjoint sets: "train" (used in training) and
# "heldout" (only in the out-of-distribution evaluation). The model reads them through its normaliser
# (`grounding_node/models/tabletop/language.py`); the hand-written paraphrase set in
# grounding_node/training/paraphrases.tsv is a third, independent wording.
_WRAP = {
    "train": ("grab {x}", "please pick up {x}", "can you get {x}", "give me {x}", "{x} please", "i want {x}",
              "pick {x} up", "take {x}", "get me {x}, please", "select {x}"),
    "heldout": ("could you hand me {x}", "would you fetch {x} please", "i'd like {x}", "bring me {x}, thanks",
                "where's {x}?", "go ahead and lift {x}", "kindly point at {x}", "okay, now {x}"),
}
_REL = {
    "train": {"left": ("on the left side of", "to the left of"), "right": ("on the right side of", "right of"),
              "front": ("nearer than", "closer to the camera than"), "behind": ("in back of", "further away than")},
    "heldout": {"left": ("on the left of", "left from"), "right": ("on the right of", "to the right side of"),
                "front": ("closer to me than", "nearer to the camera than"),
                "behind": ("beyond", "farther from me than")},
}
_EXT = {
    "train": {"leftmost": ("the {s} on the far left", "the left-most {s}", "the first {s} from the left"),
              "rightmost": ("the {s} on the far right", "the right-most {s}", "the first {s} from the right"),
              "nearest": ("the {s} closest to me", "the frontmost {s}", "the closest {s}"),
              "farthest": ("the {s} at the back", "the {s} farthest away", "the furthest {s}"),
              "largest": ("the largest {s}", "the biggest {s}"), "smallest": ("the littlest {s}", "the smallest {s}")},
    "heldout": {"leftmost": ("the {s} furthest left", "the {s} on the very left", "the last {s} on the left"),
                "rightmost": ("the {s} furthest right", "the {s} on the very right", "the last {s} on the right"),
                "nearest": ("the {s} at the front", "the {s} nearest to you"),
                "farthest": ("the backmost {s}", "the {s} furthest from me"),
                "largest": ("the greatest {s}", "the biggest {s}"),
                "smallest": ("the teeniest {s}", "the tiniest {s}")},
}
_ORD = {
    "train": ("the {n} {s} from the {side}", "the {o} {s} counting from the {side}", "the {o} {s} from {side}"),
    "heldout": ("from the {side}, the {o} {s}", "the {o} {s} from the {side} side"),
}
_NEG = {
    "train": ("the {n}, not the {w} one", "the {n} other than the {w} one", "the {n} that's not {w}",
              "the {n} that is not {w}"),
    "heldout": ("any {n} but the {w} one", "the {n} except the {w} one", "the {n} which is not {w}"),
}
_PLU = {"train": ("all the {p} please", "grab every {s}", "the {p}", "all of the {p}"),
        "heldout": ("get all of the {p} for me", "each {s}", "pick up all {p}")}
_NUM = {2: "2nd", 3: "3rd"}


def restyle(expr: Expression, rng: np.random.Generator, split: str = "train", p: float = 0.5) -> Expression:
    """The same meaning (query, targets) in everyday words from `split` ("train" or "heldout"); with
    probability 1 - p (train) the generator's own wording is kept."""
    if split == "train" and rng.random() >= p:
        return expr
    q, kind = expr.query, expr.type
    desc = q.get("desc", {})
    if kind in ("attribute", "no_referent"):
        core = "the " + describe(rng, desc)
    elif kind == "relation":
        core = f"the {describe(rng, desc)} {rng.choice(_REL[split][q['rel']])} the {describe(rng, q['anchor_desc'])}"
    elif kind == "extreme":
        core = rng.choice(_EXT[split][q["kind"]]).format(s=describe(rng, desc))
    elif kind == "ordinal":
        core = rng.choice(_ORD[split]).format(n=_NUM[q["k"]], o=ORDINALS[q["k"]], s=describe(rng, desc),
                                              side=q["side"])
    elif kind == "negation":
        (attr, value), = q["not"].items()
        w = value if attr == "color" else rng.choice(SIZE_WORDS[value])
        core = rng.choice(_NEG[split]).format(n=_noun(rng, desc.get("shape")), w=w)
    elif kind == "plural":
        core = rng.choice(_PLU[split]).format(p=describe(rng, desc, plural=True), s=describe(rng, desc))
    else:
        return expr
    if kind != "plural" and rng.random() < 0.6:
        core = rng.choice(_WRAP[split]).format(x=core)
    return Expression(core, kind, list(expr.targets), dict(q, style=split))
