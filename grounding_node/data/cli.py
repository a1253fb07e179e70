"""`python -m grounding_node.dataset`: check, statistics, importers, the Label Studio exporter, from-bag.

Exit codes: 0 = done and valid; 1 = bad records or a failed import/export (every message printed to
stderr); 2 = wrong usage (argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from grounding_node.data._common import ImportResult, write_import
from grounding_node.data.stats import dataset_stats
from grounding_node.data.validate import DatasetError, check_dataset


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def _check_and_report(root: Path, skip_invalid: bool, as_json: bool = False, quiet_stats: bool = False) -> int:
    try:
        result = check_dataset(root)
    except DatasetError as e:
        for m in e.errors:
            _err(m)
        return 1
    for m in result.errors:
        _err(m)
    st = dataset_stats(result.samples)
    if as_json:
        print(json.dumps({"valid_records": len(result.samples), "invalid_records": len(result.bad),
                          "errors": result.errors, "stats": st.to_dict(), "hints": st.hints()}, indent=1))
    elif not quiet_stats:
        print(st.to_text())
        for h in st.hints():
            print(f"hint: {h}")
    n_bad = len(result.bad)
    if n_bad and skip_invalid:
        print(f"skipped {n_bad} invalid record(s); statistics cover the {len(result.samples)} valid ones",
              file=sys.stderr)
        return 0
    if n_bad:
        _err(f"{n_bad} invalid record(s) in {result.root} (fix them, or pass --skip-invalid to skip them)")
        return 1
    if not as_json:
        print(f"OK: {len(result.samples)} valid records")
    return 0


def _finish_import(res: ImportResult, args: argparse.Namespace) -> int:
    for n in res.notes:
        print(f"note: {n}")
    if res.errors:
        for m in res.errors:
            _err(m)
        if not args.skip_invalid:
            _err(f"{len(res.errors)} problem(s); nothing written (pass --skip-invalid to write the "
                 f"{len(res.samples)} good images and skip the rest)")
            return 1
        _err(f"skipped the records with {len(res.errors)} problem(s)")
    try:
        ann = write_import(res, args.out, link=args.link, overwrite=args.overwrite)
    except FileExistsError as e:
        _err(str(e))
        return 1
    print(f"wrote {len(res.samples)} samples to {ann}")
    return _check_and_report(Path(args.out), skip_invalid=False)


def _cmd_check(args: argparse.Namespace) -> int:
    return _check_and_report(Path(args.dir), args.skip_invalid, args.json)


def _cmd_stats(args: argparse.Namespace) -> int:
    return _check_and_report(Path(args.dir), skip_invalid=True, as_json=args.json)


def _cmd_import_coco(args: argparse.Namespace) -> int:
    from grounding_node.data.coco import import_coco

    return _finish_import(import_coco(args.src, args.images, args.phrase_field, args.negatives), args)


def _cmd_import_odvg(args: argparse.Namespace) -> int:
    from grounding_node.data.odvg import import_odvg, load_label_map

    try:
        label_map = load_label_map(args.label_map)
    except DatasetError as e:
        for m in e.errors:
            _err(m)
        return 1
    return _finish_import(import_odvg(args.src, args.images, label_map, args.negatives), args)


def _cmd_import_labelstudio(args: argparse.Namespace) -> int:
    from grounding_node.data.labelstudio import import_labelstudio

    return _finish_import(import_labelstudio(args.src, args.images, use_predictions=not args.no_predictions), args)


def _cmd_export_labelstudio(args: argparse.Namespace) -> int:
    from grounding_node.data.labelstudio import export_labelstudio

    try:
        out, cfg = export_labelstudio(args.dir, args.out, args.url_prefix, args.as_annotations, args.model_version)
    except DatasetError as e:
        for m in e.errors:
            _err(m)
        _err("not exported: fix the dataset first (python -m grounding_node.dataset check DIR)")
        return 1
    print(f"wrote {out} (tasks) and {cfg} (label config)")
    return 0


def _cmd_from_bag(args: argparse.Namespace) -> int:
    from grounding_node.data.bag import BagError, bag_to_dataset

    try:
        report = bag_to_dataset(args.bag, args.out, args.image_topic, args.depth_topic, args.info_topic,
                                every=args.every, slop=args.slop, append=args.append)
    except (BagError, FileNotFoundError) as e:
        _err(str(e))
        return 1
    for w in report.warnings:   # a truncated file: its frames before the cut were imported
        _err(f"warning: {w}")
    print(report.to_text())
    if not report.written:
        # Not a success: a bag whose frames all lack a partner is usually a wrong topic or --slop, and
        # checking a folder that was never written would only say annotations.jsonl is missing.
        _err(f"nothing written to {args.out}: no colour frame of {args.image_topic} had every part within "
             f"--slop {args.slop:g} s (see the counts above: check the topics, or a larger --slop)")
        return 1
    return _check_and_report(Path(args.out), skip_invalid=False)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m grounding_node.dataset",
                                description="Phrase-grounding datasets: check, import, export, record. "
                                            "Format: docs/dataset.md")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="validate a dataset folder and print its statistics")
    c.add_argument("dir", help="dataset folder (or its annotations.jsonl)")
    c.add_argument("--skip-invalid", action="store_true", help="report bad records but exit 0, counting them")
    c.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    c.set_defaults(func=_cmd_check)

    s = sub.add_parser("stats", help="statistics of the valid records (bad ones are listed and skipped)")
    s.add_argument("dir")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_cmd_stats)

    def add_import_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("src")
        sp.add_argument("--images", required=True, help="folder the source's image paths are relative to")
        sp.add_argument("--out", required=True, help="new dataset folder (images are copied into it)")
        sp.add_argument("--skip-invalid", action="store_true", help="write the good records, skip the bad")
        sp.add_argument("--link", action="store_true", help="symlink images instead of copying them")
        sp.add_argument("--overwrite", action="store_true", help="replace an existing annotations.jsonl")

    ic = sub.add_parser("import-coco", help="COCO detection JSON (category names or per-annotation phrase)")
    add_import_args(ic)
    ic.add_argument("--phrase-field", default="auto", choices=["auto", "category", "phrase", "caption"],
                    help="auto: annotation 'phrase', else 'caption', else the category name")
    ic.add_argument("--negatives", action="store_true",
                    help="add every category absent from an image as a negative (exhaustively labelled sets only)")
    ic.set_defaults(func=_cmd_import_coco)

    io = sub.add_parser("import-odvg", help="ODVG JSONL (Open-GroundingDino's detection/grounding format)")
    add_import_args(io)
    io.add_argument("--label-map", default=None, help="label map JSON {\"0\": \"name\", ...} for bare label ids")
    io.add_argument("--negatives", action="store_true",
                    help="add label-map categories absent from a detection record as negatives")
    io.set_defaults(func=_cmd_import_odvg)

    il = sub.add_parser("import-labelstudio", help="Label Studio JSON export (rectangles + per-region text)")
    add_import_args(il)
    il.add_argument("--no-predictions", action="store_true",
                    help="tasks nobody annotated become unannotated images instead of taking their predictions")
    il.set_defaults(func=_cmd_import_labelstudio)

    el = sub.add_parser("export-labelstudio", help="Label Studio import file with the groundings as predictions")
    el.add_argument("dir")
    el.add_argument("--out", required=True, help="tasks JSON file; the label config goes next to it")
    el.add_argument("--url-prefix", default="/data/local-files/?d=",
                    help="prefix of each image's dataset-relative path in the task (default: Label Studio "
                         "local files with LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT = the dataset folder)")
    el.add_argument("--as-annotations", action="store_true",
                    help="write the groundings as annotations instead of predictions (data already reviewed)")
    el.add_argument("--model-version", default="phrase_grounding")
    el.set_defaults(func=_cmd_export_labelstudio)

    fb = sub.add_parser("from-bag", help="rosbag2 MCAP recording -> unannotated samples")
    fb.add_argument("bag", help="the .mcap file")
    fb.add_argument("--image-topic", required=True, help="sensor_msgs/Image (rgb8/bgr8/rgba8/bgra8/mono8, "
                                                         "YUV 4:2:2, bayer_*8, 8UC1/3/4) or CompressedImage")
    fb.add_argument("--depth-topic", default=None, help="sensor_msgs/Image 16UC1 (mm) or 32FC1 (m)")
    fb.add_argument("--info-topic", default=None, help="sensor_msgs/CameraInfo")
    fb.add_argument("--every", type=int, default=1, help="keep every N-th paired frame")
    fb.add_argument("--slop", type=float, default=0.02, help="max header-stamp difference (s) to pair messages")
    fb.add_argument("--out", required=True)
    fb.add_argument("--append", action="store_true", help="add to an existing dataset")
    fb.set_defaults(func=_cmd_from_bag)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
