"""Command line grounding without ROS.

    python -m grounding_node.cli IMAGE [IMAGE...] --prompt "the red mug; the blue box"
        [--depth D [D...] --camera-info K.yaml] [--backend tabletop] [--model ...] [--out-dir DIR]

Prints the JSON result (per phrase: objects with box_1024, pixel boxes, confidence, bboxes with
page index, and 3D position/size when depth and intrinsics are given) and writes one annotated PNG
per image into --out-dir: `NAME_grounded.png`, or `pageN_NAME_grounded.png` for every image when two
inputs share a file name (e.g. a/x.png and b/x.png), so no page's picture overwrites another's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from grounding_node.models.registry import BUILTIN_BACKENDS


def _threshold(value: str):
    """'auto' or a number (argparse type)."""
    from grounding_node.models.family import parse_threshold

    try:
        return parse_threshold(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m grounding_node.cli", description=__doc__.split("\n\n")[0])
    p.add_argument("images", nargs="+", help="colour image file(s); several images are pages 0, 1, ...")
    p.add_argument("--prompt", required=True, help="phrases separated by ';' (or newlines)")
    p.add_argument("--depth", nargs="*", default=None,
                   help="aligned depth per image: 16-bit PNG (mm), float TIFF or .npy")
    p.add_argument("--camera-info", default=None, help="intrinsics YAML (ROS camera_calibration or CameraInfo dump)")
    p.add_argument("--backend", default="tabletop", help=f"built-in: {', '.join(BUILTIN_BACKENDS)}; or module:Class")
    p.add_argument("--model", default="", help="hub id, local model directory or checkpoint (backend default if empty)")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="auto")
    p.add_argument("--options", default="{}", help="JSON object of backend options (see docs/backends.md)")
    p.add_argument("--allow-download", action="store_true",
                   help="allow contacting a model hub (default: local files only)")
    p.add_argument("--score-threshold", type=_threshold, default="auto",
                   help="'auto' (default): the backend family's recommended value (docs/backends.md); or a number")
    p.add_argument("--max-objects", type=int, default=5, help="per phrase")
    p.add_argument("--out-dir", default="grounding_output", help="where the annotated PNGs and result.json go")
    return p


def missing_files(paths: Sequence[str], what: str) -> List[str]:
    """One message per path that is not a regular file. Checked before the backend loads: a missing image or
    a folder was a FileNotFoundError traceback, after the (possibly slow) model load."""
    problems = []
    for path in paths:
        p = Path(path)
        if not p.exists():
            problems.append(f"{what} {path}: no such file")
        elif not p.is_file():
            problems.append(f"{what} {path}: not a file{' (a folder)' if p.is_dir() else ''}")
    return problems


def annotated_names(images: Sequence[str]) -> List[str]:
    """The annotated PNG's file name per image: `NAME_grounded.png`, or `pageN_NAME_grounded.png` for every
    page when two images share a file stem (a/x.png, b/x.png), which would otherwise write one file twice."""
    stems = [Path(image).stem for image in images]
    if len(set(stems)) == len(stems):
        return [f"{stem}_grounded.png" for stem in stems]
    return [f"page{page}_{stem}_grounded.png" for page, stem in enumerate(stems)]


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    import cv2

    from grounding_node.api import Grounder
    from grounding_node.visualization import draw_objects

    try:
        options = json.loads(args.options)
        if not isinstance(options, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        print(f"error: --options: {exc}", file=sys.stderr)
        return 2
    if args.depth and len(args.depth) != len(args.images):
        print(f"error: {len(args.depth)} depth file(s) for {len(args.images)} image(s)", file=sys.stderr)
        return 2
    problems = (missing_files(args.images, "image") + missing_files(args.depth or [], "--depth")
                + missing_files([args.camera_info] if args.camera_info else [], "--camera-info"))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return 2
    grounder = Grounder.from_config(backend=args.backend, model=args.model, device=args.device, dtype=args.dtype,
                                    local_files_only=not args.allow_download, options=options,
                                    score_threshold=args.score_threshold, max_objects_per_phrase=args.max_objects)
    out = grounder(source=args.images, prompt=args.prompt, depth=args.depth or None,
                   intrinsics=[args.camera_info] * len(args.images) if args.camera_info else None)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = out.to_dict()
    from grounding_node.api import load_image

    for page, (image, name, page_result) in enumerate(zip(args.images, annotated_names(args.images), out.pages)):
        annotated = draw_objects(load_image(image), page_result.objects, header_text=out.backend)
        path = out_dir / name
        cv2.imwrite(str(path), annotated[:, :, ::-1])
        result["pages"][page]["annotated"] = str(path)
    (out_dir / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
