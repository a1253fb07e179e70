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
import os
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


def _positive_int(value: str) -> int:
    """An integer >= 1 (argparse type): --max-objects 0 or -3 silently gave results without any object."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


class CliError(Exception):
    """A problem the user can fix, reported as one `error:` line with exit status `code` (no traceback):
    2 for bad arguments or input files, 1 for a backend that failed to load or to ground."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


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
    p.add_argument("--max-objects", type=_positive_int, default=5, help="per phrase (at least 1)")
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


def writable_dir_problem(path: Path) -> str:
    """Why `path` cannot be (made) a folder to write into, or "": checked before the backend loads, so an
    unwritable --out-dir is one line at once, not a traceback after the model load and the inference."""
    if path.exists():
        if not path.is_dir():
            return f"--out-dir {path}: exists and is not a folder"
        return "" if os.access(path, os.W_OK | os.X_OK) else f"--out-dir {path}: not writable"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return f"--out-dir {path}: {parent} is not a folder"
    return "" if os.access(parent, os.W_OK | os.X_OK) else f"--out-dir {path}: cannot create it in {parent}"


def _check_inputs(args: argparse.Namespace) -> None:
    """Read every input once before the (possibly slow) backend load; CliError naming the first bad one."""
    from grounding_node.api import load_camera_info, load_depth, load_image
    from grounding_node.grounding.command import parse_command

    if not parse_command(args.prompt).phrases:
        raise CliError(f"--prompt {args.prompt[:80]!r} has no phrases: give e.g. 'the red mug; the blue box'")
    checks = [(load_image, path, "image") for path in args.images]
    checks += [(load_depth, path, "--depth") for path in args.depth or []]
    checks += [(load_camera_info, args.camera_info, "--camera-info")] if args.camera_info else []
    for load, path, what in checks:
        try:
            load(path)
        except (ValueError, TypeError, OSError) as exc:
            raise CliError(f"{what} {path}: {exc}") from None


def _run(args: argparse.Namespace) -> int:
    import cv2

    from grounding_node.api import Grounder, load_image
    from grounding_node.models.registry import BackendNotFound
    from grounding_node.visualization import draw_objects

    try:
        options = json.loads(args.options)
        if not isinstance(options, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:
        raise CliError(f"--options: {exc}") from None
    if args.depth and len(args.depth) != len(args.images):
        raise CliError(f"{len(args.depth)} depth file(s) for {len(args.images)} image(s)")
    problems = (missing_files(args.images, "image") + missing_files(args.depth or [], "--depth")
                + missing_files([args.camera_info] if args.camera_info else [], "--camera-info"))
    if problems:
        raise CliError("\nerror: ".join(problems))   # one `error:` line per problem
    out_dir = Path(args.out_dir)
    problem = writable_dir_problem(out_dir)
    if problem:
        raise CliError(problem)
    _check_inputs(args)
    try:
        grounder = Grounder.from_config(backend=args.backend, model=args.model, device=args.device,
                                        dtype=args.dtype, local_files_only=not args.allow_download,
                                        options=options, score_threshold=args.score_threshold,
                                        max_objects_per_phrase=args.max_objects)
    except (BackendNotFound, ValueError, TypeError) as exc:   # a name or an option the user can fix
        raise CliError(f"--backend {args.backend}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a model that cannot load: one line, not a traceback
        raise CliError(f"backend '{args.backend}' failed to load: {type(exc).__name__}: {exc}", code=1) from None
    try:
        out = grounder(source=args.images, prompt=args.prompt, depth=args.depth or None,
                       intrinsics=[args.camera_info] * len(args.images) if args.camera_info else None)
    except Exception as exc:  # noqa: BLE001 - the inputs were checked: this is the backend's failure
        raise CliError(f"grounding failed: {type(exc).__name__}: {exc}", code=1) from None
    result = out.to_dict()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for page, (image, name, page_result) in enumerate(zip(args.images, annotated_names(args.images),
                                                              out.pages)):
            annotated = draw_objects(load_image(image), page_result.objects, header_text=out.backend)
            path = out_dir / name
            if not cv2.imwrite(str(path), annotated[:, :, ::-1]):
                raise OSError(f"could not write {path}")
            result["pages"][page]["annotated"] = str(path)
        (out_dir / "result.json").write_text(json.dumps(result, indent=2))
    except OSError as exc:
        print(json.dumps(result, indent=2))   # the grounding itself is not lost
        raise CliError(f"--out-dir {out_dir}: {exc}", code=1) from None
    print(json.dumps(result, indent=2))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """Run the CLI; the exit status: 0 done, 2 bad arguments or inputs, 1 the backend or the output failed,
    130 interrupted. User errors are one `error:` line on stderr each, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
