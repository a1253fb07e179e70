"""Importers (COCO, ODVG, Label Studio) and the Label Studio exporter, including the lossless round trip."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from grounding_node.data import ANNOTATIONS, Grounding, Sample, load_dataset, write_annotations
from grounding_node.data.cli import main
from grounding_node.data.coco import import_coco
from grounding_node.data.labelstudio import LABEL_CONFIG, config_path_for, export_labelstudio, import_labelstudio
from grounding_node.data.odvg import import_odvg

W, H = 80, 60


def _png(path: Path, w: int = W, h: int = H) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((h, w, 3), 128, np.uint8))


@pytest.fixture
def src(tmp_path: Path) -> Path:
    d = tmp_path / "src"
    _png(d / "a.jpg")
    _png(d / "sub" / "b.png", 160, 120)
    return d


# ---------------------------------------------------------------- COCO
def _coco(**extra) -> dict:
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": W, "height": H},
                   {"id": 2, "file_name": "sub/b.png", "width": 160, "height": 120}],
        "categories": [{"id": 7, "name": "cup"}, {"id": 8, "name": "ball"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 7, "bbox": [8, 6, 16, 12]},
            {"id": 2, "image_id": 1, "category_id": 7, "bbox": [40, 30, 40, 30.5]},  # sticks out by rounding
            {"id": 3, "image_id": 2, "category_id": 8, "bbox": [0, 0, 80, 60], "phrase": "the big ball",
             "type": "attribute"},
        ],
    }
    doc.update(extra)
    return doc


def test_coco_categories_or_per_annotation_phrases(src: Path, tmp_path: Path):
    (tmp_path / "coco.json").write_text(json.dumps(_coco()))
    res = import_coco(tmp_path / "coco.json", src)
    assert not res.errors
    a, b = res.samples
    assert (a.image, a.width, a.height) == ("images/a.jpg", W, H)
    assert a.groundings == [Grounding("cup", [[102.4, 102.4, 307.2, 307.2], [512.0, 512.0, 1024.0, 1024.0]])]
    assert b.image == "images/sub/b.png"
    assert b.groundings == [Grounding("the big ball", [[0.0, 0.0, 512.0, 512.0]], type="attribute")]
    res = import_coco(tmp_path / "coco.json", src, phrase_source="category", negatives=True)
    assert [(g.phrase, len(g.boxes_1024)) for g in res.samples[1].groundings] == [("ball", 1), ("cup", 0)]


def test_coco_bad_annotations_are_reported_not_dropped(src: Path, tmp_path: Path):
    doc = _coco()
    doc["annotations"] += [{"id": 9, "image_id": 2, "category_id": 8, "bbox": [10, 10, 0, 5]},
                           {"id": 10, "image_id": 3, "category_id": 8, "bbox": [1, 1, 2, 2]}]
    doc["images"].append({"id": 4, "file_name": "missing.png", "width": 5, "height": 5})
    (tmp_path / "coco.json").write_text(json.dumps(doc))
    res = import_coco(tmp_path / "coco.json", src)
    coco = tmp_path / "coco.json"
    assert res.errors == [
        f"{coco}: annotation id 10: image_id 3 is not in images",
        f"{coco}: annotation id 9: bbox [x, y, w, h] = [10, 10, 0, 5] has no area",
        f"{coco}: image id 4: image '{src / 'missing.png'}' not found",
    ]
    assert [s.image for s in res.samples] == ["images/a.jpg"]


def test_cli_import_coco_refuses_bad_input_unless_skip_invalid(src: Path, tmp_path: Path, capsys):
    doc = _coco()
    doc["annotations"].append({"id": 9, "image_id": 2, "category_id": 8, "bbox": [10, 10, 0, 5]})
    (tmp_path / "coco.json").write_text(json.dumps(doc))
    out = tmp_path / "out"
    args = ["import-coco", str(tmp_path / "coco.json"), "--images", str(src), "--out", str(out)]
    assert main(args) == 1 and not (out / ANNOTATIONS).exists()
    assert "nothing written" in capsys.readouterr().err
    assert main(args + ["--skip-invalid"]) == 0
    assert (out / "images" / "a.jpg").is_file() and not (out / "images" / "sub" / "b.png").exists()
    assert [s.image for s in load_dataset(out)] == ["images/a.jpg"]
    assert main(args + ["--skip-invalid"]) == 1  # never replaces a dataset unasked
    assert "pass --overwrite" in capsys.readouterr().err


# ---------------------------------------------------------------- ODVG
def test_odvg_detection_and_grounding_records(src: Path, tmp_path: Path):
    lines = [
        {"filename": "a.jpg", "height": H, "width": W,
         "detection": {"instances": [{"bbox": [8, 6, 24, 18], "label": 0, "category": "cup"},
                                     {"bbox": [40, 30, 80, 60], "label": 1}]}},
        {"filename": "sub/b.png", "height": 120, "width": 160,
         "grounding": {"caption": "a wire hanger with a paper cover",
                       "regions": [{"bbox": [0, 0, 80, 60], "phrase": "a wire hanger"},
                                   {"bbox": [[80, 60, 160, 120], [0, 60, 80, 120]], "phrase": "a paper cover"}]}},
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    res = import_odvg(tmp_path / "d.jsonl", src, label_map={0: "cup", 1: "ball", 2: "plate"}, negatives=True)
    assert not res.errors
    a, b = res.samples
    assert a.groundings == [Grounding("cup", [[102.4, 102.4, 307.2, 307.2]]),
                            Grounding("ball", [[512.0, 512.0, 1024.0, 1024.0]]), Grounding("plate", [])]
    assert b.groundings == [Grounding("a wire hanger", [[0.0, 0.0, 512.0, 512.0]]),
                            Grounding("a paper cover", [[512.0, 512.0, 1024.0, 1024.0], [0.0, 512.0, 512.0, 1024.0]])]


def test_odvg_errors_name_file_and_line(src: Path, tmp_path: Path):
    text = ('{"filename": "a.jpg", "height": 60, "width": 80, "detection": {"instances": [{"bbox": [8, 6, 4, 18], '
            '"label": 0, "category": "cup"}, {"bbox": [1, 1, 5, 5], "label": 5}]}}\n\nnot json\n')
    (tmp_path / "d.jsonl").write_text(text)
    res = import_odvg(tmp_path / "d.jsonl", src)
    f = tmp_path / "d.jsonl"
    assert res.errors == [
        f"{f}:1: detection.instances[0]: bbox [x1, y1, x2, y2] = [8, 6, 4, 18] has no area",
        f"{f}:1: detection.instances[1] has no category and its label is not in the label map",
        f"{f}:3: not valid JSON: Expecting value at column 1",
    ]


# ---------------------------------------------------------------- Label Studio
@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    _png(root / "images" / "a.png")
    _png(root / "images" / "b.png", 160, 120)
    _png(root / "images" / "c.png")
    (root / "depth").mkdir()
    cv2.imwrite(str(root / "depth" / "a.png"), np.full((H, W), 500, np.uint16))
    samples = [
        Sample("images/a.png", W, H, [
            Grounding("the blue ball", [], type="negation"),
            Grounding("the red cup", [[10.5, 20.25, 300.125, 400.0], [500.0, 600.0, 1024.0, 1024.0]], type="attribute"),
            Grounding("the mug left of the plate", [[0.0, 0.0, 33.3333, 1024.0]], type="relation",
                      extra={"score": 0.42}),
            Grounding("the green box", []),
        ], depth="depth/a.png", extra={"stamp_ns": 123}),
        Sample("images/b.png", 160, 120, [Grounding("a plate", [[1.0, 2.0, 3.0, 4.0]])]),
        Sample("images/c.png", W, H, []),  # unannotated
    ]
    write_annotations(root, samples)
    return root


def _without_extras(samples):
    for s in samples:
        for g in s.groundings:
            g.extra = {}
    return samples


def _assert_same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert (g.image, g.width, g.height, g.depth, g.camera_info, g.extra) == \
            (w.image, w.width, w.height, w.depth, w.camera_info, w.extra)
        assert [(x.phrase, x.type) for x in g.groundings] == [(x.phrase, x.type) for x in w.groundings]
        for x, y in zip(g.groundings, w.groundings):
            assert len(x.boxes_1024) == len(y.boxes_1024)
            if x.boxes_1024:
                np.testing.assert_allclose(x.boxes_1024, y.boxes_1024, atol=1e-9)


def test_labelstudio_export_then_import_is_lossless(dataset: Path, tmp_path: Path):
    out, cfg = export_labelstudio(dataset, tmp_path / "ls" / "tasks.json")
    assert cfg == config_path_for(out) and cfg.read_text() == LABEL_CONFIG
    tasks = json.loads(out.read_text())
    assert [t["data"]["image"] for t in tasks] == ["/data/local-files/?d=images/a.png",
                                                   "/data/local-files/?d=images/b.png",
                                                   "/data/local-files/?d=images/c.png"]
    pred = tasks[0]["predictions"][0]
    assert pred["score"] == pytest.approx(0.42)
    rect = pred["result"][0]
    assert rect["type"] == "rectangle" and rect["value"]["x"] == pytest.approx(10.5 / 10.24)
    assert pred["result"][1]["id"] == rect["id"] and pred["result"][1]["value"]["text"] == ["the red cup"]
    assert pred["result"][-1]["value"]["text"] == ["the blue ball", "the green box"]
    assert "predictions" not in tasks[2]
    res = import_labelstudio(out, dataset)
    assert not res.errors and res.notes == ["2 tasks had no annotation; their predictions were imported",
                                           "1 tasks had no annotation and were imported as unannotated images"]
    _assert_same(res.samples, _without_extras(load_dataset(dataset)))
    # Through the CLI into a fresh folder: images copied, the result passes check.
    back = tmp_path / "back"
    assert main(["import-labelstudio", str(out), "--images", str(dataset), "--out", str(back)]) == 0
    _assert_same(load_dataset(back), _without_extras(load_dataset(dataset)))
    assert (back / "images" / "b.png").is_file()


def test_labelstudio_round_trip_as_annotations(dataset: Path, tmp_path: Path):
    out, _ = export_labelstudio(dataset, tmp_path / "t.json", as_annotations=True)
    res = import_labelstudio(out, dataset, use_predictions=False)
    assert not res.errors
    _assert_same(res.samples, _without_extras(load_dataset(dataset)))


def test_labelstudio_import_of_a_reviewed_export(tmp_path: Path):
    """What Label Studio writes after a person worked on tasks it did not get from us: uploaded file
    names with a hash prefix, rectanglelabels, a cancelled annotation, a newer annotation, a rotated box."""
    images = tmp_path / "imgs"
    _png(images / "frame1.png", 200, 100)
    rect = {"original_width": 200, "original_height": 100, "image_rotation": 0, "to_name": "image"}
    tasks = [{
        "id": 11,
        "data": {"image": "/data/upload/3/1a2b3c4d-frame1.png"},
        "annotations": [
            {"id": 1, "was_cancelled": True, "result": []},
            {"id": 2, "updated_at": "2024-01-01T00:00:00Z", "result": [
                {**rect, "id": "old", "from_name": "box", "type": "rectangle",
                 "value": {"x": 1, "y": 1, "width": 5, "height": 5, "rotation": 0}}]},
            {"id": 3, "updated_at": "2024-02-01T00:00:00Z", "result": [
                {**rect, "id": "A", "from_name": "phrase", "type": "textarea",
                 "value": {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0,
                           "text": ["the red cup", "my coffee cup"]}},
                {**rect, "id": "A", "from_name": "box", "type": "rectangle",
                 "value": {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0}},
                {**rect, "id": "B", "from_name": "label", "type": "rectanglelabels",
                 "value": {"x": 50, "y": 0, "width": 10, "height": 10, "rotation": 90, "rectanglelabels": ["plate"]}},
                {"id": "N", "from_name": "negatives", "to_name": "image", "type": "textarea",
                 "value": {"text": ["the blue ball\nthe green box"]}},
            ]},
        ],
        "predictions": [{"result": []}],
    }]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    res = import_labelstudio(tmp_path / "export.json", images)
    assert not res.errors and not res.notes
    (s,) = res.samples
    assert (s.image, s.width, s.height) == ("images/frame1.png", 200, 100)
    got = {g.phrase: g.boxes_1024 for g in s.groundings}
    assert got["the red cup"] == got["my coffee cup"] == [[102.4, 204.8, 409.6, 614.4]]
    # 90 degrees about the top-left corner (100 px, 0): 20 x 10 px becomes 10 x 20 px to its left.
    np.testing.assert_allclose(got["plate"], [[460.8, 0.0, 512.0, 204.8]], atol=1e-3)
    assert got["the blue ball"] == got["the green box"] == []


def test_labelstudio_problems_are_reported(tmp_path: Path):
    images = tmp_path / "imgs"
    _png(images / "x.png")
    tasks = [
        {"id": 1, "data": {"image": "/data/local-files/?d=x.png"}, "annotations": [{"result": [
            {"id": "A", "from_name": "box", "to_name": "image", "type": "rectangle",
             "value": {"x": 1, "y": 1, "width": 5, "height": 5}},
            {"id": "P", "from_name": "poly", "to_name": "image", "type": "polygonlabels", "value": {}},
            {"id": "B", "from_name": "box", "to_name": "image", "type": "rectangle",
             "value": {"x": 1, "y": 1, "width": 5, "height": 5}},
            {"id": "B", "from_name": "phrase", "to_name": "image", "type": "textarea",
             "value": {"x": 1, "y": 1, "width": 5, "height": 5, "text": ["a cup"]}},
            {"id": "N", "from_name": "negatives", "to_name": "image", "type": "textarea",
             "value": {"text": ["a cup"]}}]}]},
        {"id": 2, "data": {"image": "/data/local-files/?d=gone.png"}},
        {"image": "x.png", "box": []},  # JSON_MIN
    ]
    f = tmp_path / "e.json"
    f.write_text(json.dumps(tasks))
    res = import_labelstudio(f, images)
    assert res.errors == [
        f"{f}: task 0 (id 1): result type 'polygonlabels' (id 'P') is not a rectangle or text area",
        f"{f}: task 0 (id 1): region 'A' has a box but no phrase",
        f"{f}: task 0 (id 1): phrase 'a cup' is listed as a negative but also has a box",
        f"{f}: task 1 (id 2): image '/data/local-files/?d=gone.png' not found under '{images}'",
        f"{f}: task 2: no \"data\" object (export with Label Studio's \"JSON\" format, not JSON_MIN or CSV)",
    ]
    assert res.samples == []


def test_cli_export_labelstudio_refuses_an_invalid_dataset(dataset: Path, tmp_path: Path, capsys):
    with open(dataset / ANNOTATIONS, "a") as fh:
        fh.write('{"image": "images/zzz.png", "width": 1, "height": 1, "groundings": []}\n')
    assert main(["export-labelstudio", str(dataset), "--out", str(tmp_path / "t.json")]) == 1
    assert 'image "images/zzz.png" not found' in capsys.readouterr().err
    assert not (tmp_path / "t.json").exists()


# ---------------------------------------------------------------- adversarial review: each defect's test
def _write_coco(tmp_path: Path, doc: dict) -> Path:
    f = tmp_path / "coco.json"
    f.write_text(json.dumps(doc))
    return f


def test_coco_negatives_are_categories_with_no_annotation_not_unused_phrases(src: Path, tmp_path: Path):
    f = _write_coco(tmp_path, _coco(images=[{"id": 1, "file_name": "a.jpg", "width": W, "height": H}], annotations=[
        {"id": 1, "image_id": 1, "category_id": 7, "bbox": [8, 6, 16, 12], "phrase": "the red cup"}]))
    res = import_coco(f, src, negatives=True)
    assert not res.errors
    # "cup" (id 7) is annotated as "the red cup": not a negative; "ball" (id 8) has no annotation: a negative.
    assert res.samples[0].groundings == [Grounding("the red cup", [[102.4, 102.4, 307.2, 307.2]]),
                                         Grounding("ball", [])]


def test_coco_duplicate_image_id_is_an_error_and_nothing_is_written(src: Path, tmp_path: Path, capsys):
    doc = _coco()
    doc["images"][1]["id"] = 1
    doc["annotations"] = doc["annotations"][:2]  # both on image id 1, which names two files
    f = _write_coco(tmp_path, doc)
    res = import_coco(f, src)
    assert res.errors == [f"{f}: image id 1 is listed twice (images[0] and images[1]); its annotations cannot "
                          "be told apart"]
    assert res.samples == []
    out = tmp_path / "out"
    assert main(["import-coco", str(f), "--images", str(src), "--out", str(out)]) == 1
    assert not (out / ANNOTATIONS).exists()


def test_coco_box_far_outside_the_image_is_an_error_not_clipped(src: Path, tmp_path: Path):
    f = _write_coco(tmp_path, _coco(annotations=[
        {"id": 1, "image_id": 1, "category_id": 7, "bbox": [40, 30, 50, 31]},      # x2 = 90 on an 80 px image
        {"id": 2, "image_id": 2, "category_id": 8, "bbox": [-1, 0, 81, 120.75]}]))  # out by <= 1 px: clipped
    res = import_coco(f, src)
    assert res.errors == [f"{f}: annotation id 1: bbox [x, y, w, h] = [40, 30, 50, 31] goes outside the 80x60 "
                          "image by more than 1 pixel"]
    assert res.samples[0].groundings == [Grounding("ball", [[0.0, 0.0, 512.0, 1024.0]])]


def test_coco_normalised_boxes_are_reported(src: Path, tmp_path: Path):
    f = _write_coco(tmp_path, _coco(annotations=[
        {"id": 1, "image_id": 1, "category_id": 7, "bbox": [0.1, 0.2, 0.3, 0.4]},
        {"id": 2, "image_id": 2, "category_id": 8, "bbox": [0.5, 0.5, 0.25, 0.5]}]))
    res = import_coco(f, src)
    assert res.errors == [f"{f}: every bbox lies within 0..1 (e.g. annotation id 1: [0.1, 0.2, 0.3, 0.4]); COCO "
                          "boxes are pixels, these look normalised (multiply by the image's width and height)"]
    assert res.samples == []


def test_huge_integer_box_is_a_problem_not_a_crash(src: Path, tmp_path: Path):
    f = _write_coco(tmp_path, _coco(annotations=[
        {"id": 1, "image_id": 1, "category_id": 7, "bbox": [0, 0, 10 ** 400, 5]}]))
    res = import_coco(f, src)
    assert res.errors == [f"{f}: annotation id 1: bbox [x, y, w, h] = [0, 0, 1{'0' * 49}... goes outside the 80x60 "
                          "image by more than 1 pixel"]


@pytest.mark.parametrize("content,message", [
    (b'{"images": [', "not valid JSON (line 1, column 13): Expecting value"),
    (None, "not found"),
    (b'{"images": [{"id": [1], "file_name": "a.jpg"}]}', 'images[0]: "id" must be a number or a string, '
     "got [1] (a list)"),
    (b'{"images": [{"id": 1, "file_name": "a.jpg"}], '
     b'"annotations": [{"id": 5, "image_id": [1], "bbox": [1, 1, 2, 2]}]}',
     "annotation id 5: image_id [1] is not in images"),
    (b'{"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 7, "name": "cup"}], '
     b'"annotations": [{"id": 5, "image_id": 1, "category_id": [7], "bbox": [1, 1, 2, 2]}]}',
     "annotation id 5: no phrase (no auto field or category name)"),
    (b'{"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 7, "name": ""}], '
     b'"annotations": [{"id": 5, "image_id": 1, "category_id": 7, "bbox": [1, 1, 2, 2]}]}',
     "annotation id 5: no phrase (no auto field or category name)"),
    (b'{"images": [{"id": 1, "file_name": "a.jpg", "width": 160, "height": 120}]}',
     "image id 1: size 160x120 disagrees with image '{src}', which is 80x60"),
], ids=["invalid-json", "missing", "list-id", "list-image-id", "list-category-id", "empty-category", "wrong-size"])
def test_cli_import_coco_bad_input_is_a_clear_message_and_nothing_is_written(
        src: Path, tmp_path: Path, capsys, content, message: str):
    f = tmp_path / "coco.json"
    if content is not None:
        f.write_bytes(content)
    out = tmp_path / "out"
    assert main(["import-coco", str(f), "--images", str(src), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{f}: {message.format(src=src / 'a.jpg')}" in err.splitlines()
    assert not (out / ANNOTATIONS).exists()


def test_json_sources_may_start_with_a_bom(src: Path, tmp_path: Path):
    f = tmp_path / "coco.json"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps(_coco()).encode())
    assert [s.image for s in import_coco(f, src).samples] == ["images/a.jpg", "images/sub/b.png"]
    g = tmp_path / "ls.json"
    g.write_bytes(b"\xef\xbb\xbf" + json.dumps([{"data": {"image": "/data/local-files/?d=a.jpg"}}]).encode())
    assert [s.image for s in import_labelstudio(g, src).samples] == ["images/a.jpg"]


def test_odvg_bad_input_is_reported_per_line(src: Path, tmp_path: Path):
    f = tmp_path / "d.jsonl"
    good = {"filename": "a.jpg", "height": H, "width": W}
    f.write_bytes(b'{"filename": "a.jpg", "x": "\xff"}\n'
                  + json.dumps(dict(good, detection={"instances": 5})).encode() + b"\n"
                  + json.dumps(dict(good, grounding={"regions": {"a": 1}})).encode() + b"\n"
                  + json.dumps(dict(good, detection={"instances": [{"bbox": [8, 6, 24, 18], "label": True}]})).encode())
    res = import_odvg(f, src, label_map={1: "cup"})
    assert res.errors == [
        f"{f}:1: not valid UTF-8 (byte 29)",
        f"{f}:2: detection.instances must be a list, got 5 (a number)",
        f'{f}:3: grounding.regions must be a list, got {{"a": 1}} (an object)',
        f"{f}:4: detection.instances[0] has no category and its label is not in the label map",
    ]
    assert res.samples == []


def test_cli_odvg_bad_label_map_and_missing_file(src: Path, tmp_path: Path, capsys):
    f = tmp_path / "d.jsonl"
    lm = tmp_path / "lm.json"
    lm.write_text('{"zero": "mug"}')
    out = tmp_path / "out"
    assert main(["import-odvg", str(f), "--images", str(src), "--out", str(out)]) == 1
    assert f"{f}: not found" in capsys.readouterr().err.splitlines()
    f.write_text("")
    assert main(["import-odvg", str(f), "--images", str(src), "--out", str(out), "--label-map", str(lm)]) == 1
    assert f'{lm}: label map key "zero" is not an integer label id' in capsys.readouterr().err.splitlines()
    assert not (out / ANNOTATIONS).exists()


def _ls_task(*results, **task) -> dict:
    return {"id": 7, "data": {"image": "/data/local-files/?d=frame.png"}, "annotations": [{"result": list(results)}],
            **task}


def _ls_rect(rid: str, x: float, y: float, w: float, h: float, size: bool = True, **value) -> dict:
    r = {"id": rid, "from_name": "box", "to_name": "image", "type": "rectangle",
         "value": {"x": x, "y": y, "width": w, "height": h, **value}}
    if size:
        r.update(original_width=200, original_height=100)
    return r


def _ls_text(rid: str, text: str) -> dict:
    return {"id": rid, "from_name": "phrase", "to_name": "image", "type": "textarea", "value": {"text": [text]}}


@pytest.fixture
def frame(tmp_path: Path) -> Path:
    images = tmp_path / "imgs"
    _png(images / "frame.png", 200, 100)
    return images


def _import_ls(tmp_path: Path, images: Path, tasks) -> tuple:
    f = tmp_path / "e.json"
    f.write_text(json.dumps(tasks))
    return f, import_labelstudio(f, images)


def test_labelstudio_box_far_outside_is_an_error_rounding_is_clipped(frame: Path, tmp_path: Path):
    f, res = _import_ls(tmp_path, frame, [_ls_task(_ls_rect("a", 90, 20, 30, 40), _ls_text("a", "the mug")),
                                          _ls_task(_ls_rect("b", -0.25, 20, 10.25, 40), _ls_text("b", "the mug"))])
    assert res.errors == [f"{f}: task 0 (id 7): region 'a' goes outside the image by more than 0.5% "
                          "(x 90..120, y 20..60, in percent of the image)"]
    assert res.samples[0].groundings == [Grounding("the mug", [[0.0, 204.8, 102.4, 614.4]])]


def test_labelstudio_value_not_an_object_and_invalid_json(frame: Path, tmp_path: Path, capsys):
    f, res = _import_ls(tmp_path, frame, [_ls_task({"id": "a", "type": "rectangle", "value": [1, 2]})])
    assert res.errors == [f'{f}: task 0 (id 7): result \'a\': "value" must be an object, got [1, 2] (a list)']
    f.write_bytes(b"[{")
    out = tmp_path / "out"
    assert main(["import-labelstudio", str(f), "--images", str(frame), "--out", str(out)]) == 1
    assert (f"{f}: not valid JSON (line 1, column 3): Expecting property name enclosed in double quotes"
            in capsys.readouterr().err.splitlines())


def test_labelstudio_bad_pg_size_is_reported_before_writing(frame: Path, tmp_path: Path, capsys):
    task = _ls_task(_ls_rect("a", 10, 20, 30, 40), _ls_text("a", "the mug"))
    task["data"]["pg"] = {"width": -5, "height": 100}
    f, res = _import_ls(tmp_path, frame, [task])
    assert res.errors == [f'{f}: task 0 (id 7): "width" must be a positive integer, got -5 (a number)']
    out = tmp_path / "out"
    assert main(["import-labelstudio", str(f), "--images", str(frame), "--out", str(out)]) == 1
    assert not (out / ANNOTATIONS).exists()


def test_labelstudio_rotated_box_without_original_size_uses_the_image_size(frame: Path, tmp_path: Path):
    # 20% x 40% of 200x100 at (100, 10) px = 40x40 px; 90 degrees about (100, 10) -> x 60..100, y 10..50 px.
    f, res = _import_ls(tmp_path, frame, [_ls_task(_ls_rect("a", 50, 10, 20, 40, size=False, rotation=90),
                                                   _ls_text("a", "the mug"))])
    assert not res.errors
    np.testing.assert_allclose(res.samples[0].groundings[0].boxes_1024, [[307.2, 102.4, 512.0, 512.0]], atol=1e-4)


def test_labelstudio_cancelled_annotation_does_not_import_the_prediction(frame: Path, tmp_path: Path):
    task = {"id": 7, "data": {"image": "/data/local-files/?d=frame.png"},
            "annotations": [{"was_cancelled": True, "result": []}],
            "predictions": [{"result": [_ls_rect("a", 10, 20, 30, 40), _ls_text("a", "the mug")]}]}
    f, res = _import_ls(tmp_path, frame, [task])
    assert not res.errors
    assert res.samples[0].groundings == []
    assert res.notes == ["1 tasks were skipped (cancelled) by the annotator and were imported as unannotated images"]


def test_phrase_with_a_line_break_is_refused_before_export_and_import(src: Path, tmp_path: Path):
    f = _write_coco(tmp_path, _coco(annotations=[
        {"id": 1, "image_id": 1, "category_id": 7, "bbox": [8, 6, 16, 12], "phrase": "the red\nmug"}]))
    res = import_coco(f, src)
    assert res.errors == [f'{f}: image id 1: groundings[0].phrase "the red\\nmug" contains a line break (a phrase '
                          "is one line; Label Studio would split it into two phrases)"]
