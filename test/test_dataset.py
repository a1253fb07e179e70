"""The canonical dataset format: writer, reader, validation (one exact message per bad-record kind),
statistics and the `python -m grounding_node.dataset` check/stats commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from grounding_node.data import (
    ANNOTATIONS,
    DatasetError,
    Grounding,
    Sample,
    check_dataset,
    dataset_stats,
    load_dataset,
    write_annotations,
    write_sample,
)
from grounding_node.data.cli import main

REPO = Path(__file__).resolve().parent.parent
W, H = 64, 48


def _png(path: Path, w: int = W, h: int = H, seed: int = 0) -> np.ndarray:
    rgb = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), rgb[:, :, ::-1])
    return rgb


def _good(image: str = "images/a.png") -> dict:
    return {"image": image, "width": W, "height": H,
            "groundings": [{"phrase": "the red cup", "boxes_1024": [[10, 20, 300, 400]], "type": "attribute"},
                           {"phrase": "the blue ball", "boxes_1024": []}]}


@pytest.fixture
def ds(tmp_path: Path) -> Path:
    """A dataset folder with two valid images (a.png, b.png), a garbage 'image' and depth/camera_info files."""
    _png(tmp_path / "images" / "a.png")
    _png(tmp_path / "images" / "b.png", seed=1)
    (tmp_path / "images" / "broken.png").write_bytes(b"this is not a png")
    (tmp_path / "depth").mkdir()
    cv2.imwrite(str(tmp_path / "depth" / "a.png"), np.full((H, W), 700, np.uint16))
    (tmp_path / "camera_info").mkdir()
    (tmp_path / "camera_info" / "bad.yaml").write_text("image_width: 64\n", encoding="utf-8")
    return tmp_path


def _write_lines(root: Path, lines) -> Path:
    ann = root / ANNOTATIONS
    ann.write_text("".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines), encoding="utf-8")
    return ann


def _rec(**changes) -> dict:
    r = _good("images/b.png")
    r.update(changes)
    return r


def _g(**changes) -> dict:
    g = {"phrase": "a mug", "boxes_1024": [[0, 0, 512, 512]]}
    g.update(changes)
    return g


# (id, line 2 of the file, the exact message). Line 1 is always a valid record of images/a.png.
BAD = [
    ("malformed-json", '{"image": "images/b.png", "width": 64,', "not valid JSON: Expecting property name enclosed "
     "in double quotes at column 39"),
    ("not-an-object", "[1, 2]", "record must be a JSON object, got [1, 2] (a list)"),
    ("duplicate-key", '{"image": "images/b.png", "image": "images/a.png", "width": 64, "height": 48, '
     '"groundings": []}', 'duplicate key "image" in one object'),
    ("missing-image-key", {"width": W, "height": H, "groundings": []}, 'missing required key "image"'),
    ("missing-groundings", {"image": "images/b.png", "width": W, "height": H}, 'missing required key "groundings"'),
    ("image-not-string", _rec(image=5), '"image" must be a non-empty string, got 5 (a number)'),
    ("image-absolute", _rec(image="/tmp/x.png"),
     '"image" must be a relative path inside the dataset folder, got "/tmp/x.png"'),
    ("image-escapes", _rec(image="../x.png"),
     '"image" must be a relative path inside the dataset folder, got "../x.png"'),
    ("width-string", _rec(width="64"), '"width" must be a positive integer, got "64" (a string)'),
    ("height-float", _rec(height=48.0), '"height" must be a positive integer, got 48.0 (a number)'),
    ("width-zero", _rec(width=0), '"width" must be a positive integer, got 0 (a number)'),
    ("width-bool", _rec(width=True), '"width" must be a positive integer, got true (a boolean)'),
    ("groundings-not-list", _rec(groundings={"phrase": "x"}),
     '"groundings" must be a list, got {"phrase": "x"} (an object)'),
    ("grounding-not-object", _rec(groundings=["a mug"]), 'groundings[0] must be an object, got "a mug" (a string)'),
    ("grounding-missing-boxes", _rec(groundings=[{"phrase": "a mug"}]),
     'groundings[0]: missing required key "boxes_1024"'),
    ("phrase-not-string", _rec(groundings=[_g(phrase=7)]), "groundings[0].phrase must be a string, got 7 (a number)"),
    ("phrase-empty", _rec(groundings=[_g(phrase="")]), "groundings[0].phrase is empty"),
    ("phrase-whitespace", _rec(groundings=[_g(phrase=" \t ")]), "groundings[0].phrase is empty"),
    ("type-not-string", _rec(groundings=[_g(type=3)]),
     "groundings[0].type must be a non-empty string or null, got 3 (a number)"),
    ("duplicate-phrase", _rec(groundings=[_g(phrase="Red  cup"), _g(phrase="red cup")]),
     'groundings[1].phrase "red cup" repeats groundings[0] (list all its boxes in one grounding)'),
    ("boxes-not-list", _rec(groundings=[_g(boxes_1024="none")]),
     'groundings[0].boxes_1024 must be a list of [x1, y1, x2, y2] boxes, got "none" (a string)'),
    ("single-box-unwrapped", _rec(groundings=[_g(boxes_1024=[1, 2, 30, 40])]),
     "groundings[0].boxes_1024 must be a list of boxes, got the single box [1, 2, 30, 40] (write [[1, 2, 30, 40]])"),
    ("box-length", _rec(groundings=[_g(boxes_1024=[[1, 2, 3]])]),
     "groundings[0].boxes_1024[0] must be a list of 4 numbers [x1, y1, x2, y2], got [1, 2, 3] (3 values)"),
    ("box-not-list", _rec(groundings=[_g(boxes_1024=[[0, 0, 9, 9], 5])]),
     "groundings[0].boxes_1024[1] must be a list of 4 numbers [x1, y1, x2, y2], got 5 (a number)"),
    ("box-string-value", _rec(groundings=[_g(boxes_1024=[[0, "0", 9, 9]])]),
     'groundings[0].boxes_1024[0] must hold numbers, got [0, "0", 9, 9]'),
    ("box-nan", '{"image": "images/b.png", "width": 64, "height": 48, "groundings": [{"phrase": "a mug", '
     '"boxes_1024": [[NaN, 0, 9, 9]]}]}', "groundings[0].boxes_1024[0] is not finite: [NaN, 0, 9, 9]"),
    ("box-infinity", '{"image": "images/b.png", "width": 64, "height": 48, "groundings": [{"phrase": "a mug", '
     '"boxes_1024": [[0, 0, Infinity, 9]]}]}', "groundings[0].boxes_1024[0] is not finite: [0, 0, Infinity, 9]"),
    ("box-huge-int", '{"image": "images/b.png", "width": 64, "height": 48, "groundings": [{"phrase": "a mug", '
     '"boxes_1024": [[0, 0, 1' + "0" * 400 + ', 9]]}]}',
     "groundings[0].boxes_1024[0] is outside the 0-1024 grid: [0, 0, 1" + "0" * 49 + "..."),
    ("number-too-long", '{"image": "images/b.png", "width": 64, "height": 48, "groundings": [{"phrase": "a mug", '
     '"boxes_1024": [[0, 0, 1' + "0" * 5000 + ', 9]]}]}', "not valid JSON: a number has more than 4300 digits"),
    ("phrase-line-break", _rec(groundings=[_g(phrase="the red\nmug")]),
     'groundings[0].phrase "the red\\nmug" contains a line break (a phrase is one line; Label Studio would '
     "split it into two phrases)"),
    ("box-out-of-range", _rec(groundings=[_g(boxes_1024=[[0, 0, 1100, 9]])]),
     "groundings[0].boxes_1024[0] is outside the 0-1024 grid: [0, 0, 1100, 9]"),
    ("box-negative", _rec(groundings=[_g(boxes_1024=[[-0.5, 0, 10, 9]])]),
     "groundings[0].boxes_1024[0] is outside the 0-1024 grid: [-0.5, 0, 10, 9]"),
    ("box-inverted", _rec(groundings=[_g(boxes_1024=[[500, 0, 100, 9]])]),
     "groundings[0].boxes_1024[0] is inverted or empty (needs x1 < x2 and y1 < y2): [500, 0, 100, 9]"),
    ("box-empty", _rec(groundings=[_g(boxes_1024=[[100, 9, 200, 9]])]),
     "groundings[0].boxes_1024[0] is inverted or empty (needs x1 < x2 and y1 < y2): [100, 9, 200, 9]"),
    ("duplicate-image", _good("images/a.png"), 'image "images/a.png" is already listed on line 1'),
    ("duplicate-image-spelt-differently", _good("images/./a.png"),
     'image "images/./a.png" is already listed on line 1'),
    ("image-missing", _rec(image="images/nope.png"), 'image "images/nope.png" not found'),
    ("image-unreadable", _rec(image="images/broken.png"), 'image "images/broken.png" cannot be read as an image'),
    ("size-disagrees", _rec(width=640, height=480),
     'size 640x480 disagrees with image "images/b.png", which is 64x48'),
    ("depth-not-string", _rec(depth=3), '"depth" must be a non-empty string or null, got 3 (a number)'),
    ("depth-missing", _rec(depth="depth/nope.png"), 'depth "depth/nope.png" not found'),
    ("depth-wrong-kind", _rec(depth="images/a.png"), 'depth "images/a.png" must be a single-channel uint16 (mm) '
     "or float32 (m) image, got uint8 with 3 channel(s)"),
    ("camera-info-missing", _rec(camera_info="camera_info/nope.yaml"), 'camera_info "camera_info/nope.yaml" not found'),
    ("camera-info-no-k", _rec(camera_info="camera_info/bad.yaml"),
     'camera_info "camera_info/bad.yaml" has no camera_matrix.data (or k) with 9 numbers'),
]


@pytest.mark.parametrize("line,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_each_bad_record_kind_has_its_exact_message(ds: Path, line, message: str):
    ann = _write_lines(ds, [_good(), line])
    result = check_dataset(ds)
    assert result.errors == [f"{ann}:2: {message}"]
    assert [s.image for s in result.samples] == ["images/a.png"]  # the good line is kept, the bad one reported
    assert result.sample_lines == [1]


def test_a_record_reports_every_problem_and_nothing_is_dropped_silently(ds: Path):
    ann = _write_lines(ds, [_rec(width="64", groundings=[_g(phrase=""), _g(boxes_1024=[[0, 0, 2000, 5]])]),
                            "", "not json", _good()])
    result = check_dataset(ds)
    assert result.errors == [
        f'{ann}:1: "width" must be a positive integer, got "64" (a string)',
        f"{ann}:1: groundings[0].phrase is empty",
        f"{ann}:1: groundings[1].boxes_1024[0] is outside the 0-1024 grid: [0, 0, 2000, 5]",
        f"{ann}:3: not valid JSON: Expecting value at column 1",
    ]
    assert len(result.bad) == 2 and len(result.samples) == 1  # the blank line 2 is no record
    with pytest.raises(DatasetError) as e:
        load_dataset(ds)
    assert e.value.errors == result.errors
    assert [s.image for s in load_dataset(ds, skip_invalid=True)] == ["images/a.png"]


def test_missing_annotation_file_and_invalid_utf8(tmp_path: Path):
    with pytest.raises(DatasetError, match="annotations.jsonl: not found"):
        check_dataset(tmp_path)
    (tmp_path / ANNOTATIONS).write_bytes(b'{"image": "\xff"}\n')
    assert check_dataset(tmp_path).errors == [f"{tmp_path / ANNOTATIONS}:1: not valid UTF-8 (byte 12)"]


def test_reader_keeps_unknown_keys_and_round_trips(ds: Path):
    rec = _good()
    rec["camera_info"] = None
    rec["depth"] = "depth/a.png"
    rec["note"] = {"by": "someone else"}
    rec["groundings"][0]["score"] = 0.9
    _write_lines(ds, [rec])
    (s,) = load_dataset(ds)
    assert s.extra == {"note": {"by": "someone else"}} and s.groundings[0].extra == {"score": 0.9}
    assert s.groundings[0].type == "attribute" and s.groundings[1].is_negative and s.annotated
    assert s.depth == "depth/a.png" and s.camera_info is None
    np.testing.assert_allclose(s.groundings[0].boxes_px(W, H), [[10 * W / 1024, 20 * H / 1024, 300 * W / 1024,
                                                                 400 * H / 1024]])
    write_annotations(ds, [s])
    (s2,) = load_dataset(ds)
    assert s2 == s


def test_unannotated_image_is_valid_and_counted(ds: Path):
    _write_lines(ds, [_good(), {"image": "images/b.png", "width": W, "height": H, "groundings": []}])
    result = check_dataset(ds)
    assert result.ok
    st = dataset_stats(result.samples)
    assert (st.images, st.annotated_images, st.unannotated_images) == (2, 1, 1)
    assert any("1 images have no groundings yet" in h for h in st.hints())


def test_write_sample_writes_rgb_depth_camera_info_and_a_valid_record(tmp_path: Path):
    rgb = np.random.default_rng(3).integers(0, 256, (H, W, 3), dtype=np.uint8)
    depth_m = np.full((H, W), 0.75, np.float32)
    depth_m[0, 0] = np.nan
    depth_m[0, 1] = -1.0
    info = {"width": W, "height": H, "k": [50.0, 0, 32, 0, 50.0, 24, 0, 0, 1], "d": [0.1, 0, 0, 0, 0]}
    groundings = [{"phrase": "the red cup", "box_1024": np.array([10.0, 20, 300, 400]), "score": 0.8},
                  Grounding("the blue ball", [])]
    p1 = write_sample(tmp_path, rgb, depth_m, info, groundings, name="f")
    p2 = write_sample(tmp_path, rgb, name="f")  # the name is taken: never overwritten
    assert p1 == tmp_path / "images" / "f.png" and p2 == tmp_path / "images" / "f_1.png"
    assert np.array_equal(cv2.imread(str(p1))[:, :, ::-1], rgb)
    d = cv2.imread(str(tmp_path / "depth" / "f.png"), cv2.IMREAD_UNCHANGED)
    assert d.dtype == np.uint16 and d[5, 5] == 750 and d[0, 0] == 0 and d[0, 1] == 0
    doc = yaml.safe_load((tmp_path / "camera_info" / "f.yaml").read_text())
    assert doc["camera_matrix"]["data"] == info["k"] and (doc["image_width"], doc["image_height"]) == (W, H)
    assert doc["projection_matrix"]["data"] == [50.0, 0, 32, 0, 0, 50.0, 24, 0, 0, 0, 1, 0]
    assert doc["distortion_coefficients"]["data"] == info["d"]
    s1, s2 = load_dataset(tmp_path)
    assert s1.groundings[0].boxes_1024 == [[10.0, 20.0, 300.0, 400.0]] and s1.groundings[0].extra == {"score": 0.8}
    assert s1.depth == "depth/f.png" and s1.camera_info == "camera_info/f.yaml"
    assert not s2.annotated and s2.depth is None


def test_statistics(ds: Path):
    _write_lines(ds, [_good(), _rec(groundings=[_g(phrase="the Red cup", boxes_1024=[[0, 0, 9, 9], [20, 20, 40, 40]]),
                                                 _g(phrase="a mug", type="relation")])])
    st = dataset_stats(load_dataset(ds))
    assert (st.images, st.pairs, st.positives, st.negatives, st.boxes) == (2, 4, 3, 1, 4)
    assert st.pairs_per_image == 2.0 and (st.pairs_per_image_min, st.pairs_per_image_max) == (2, 2)
    assert st.phrases == 3  # "the red cup" twice, case-insensitively
    assert st.top_words[:2] == [("the", 3), ("red", 2)]
    assert st.by_type == {"(untyped)": 2, "attribute": 1, "relation": 1}
    assert "pairs:             4 (3 with boxes, 1 negatives), 4 boxes" in st.to_text()


def test_cli_check_exit_codes_and_skip_invalid(ds: Path, capsys):
    ann = _write_lines(ds, [_good(), _rec(width="64")])
    assert main(["check", str(ds)]) == 1
    out, err = capsys.readouterr()
    assert f'{ann}:2: "width" must be a positive integer, got "64" (a string)' in err
    assert "1 invalid record(s)" in err and "images:            1" in out
    assert main(["check", str(ds), "--skip-invalid"]) == 0
    out, err = capsys.readouterr()
    assert "skipped 1 invalid record(s)" in err
    assert main(["stats", str(ds), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["invalid_records"] == 1 and doc["stats"]["pairs"] == 2 and doc["stats"]["negatives"] == 1
    _write_lines(ds, [_good()])
    assert main(["check", str(ds / ANNOTATIONS)]) == 0
    assert "OK: 1 valid records" in capsys.readouterr().out


def test_python_m_entry_point_and_no_torch_or_rclpy(tmp_path: Path):
    code = ("import sys, grounding_node.data, grounding_node.data.cli, grounding_node.data.coco, "
            "grounding_node.data.odvg, grounding_node.data.labelstudio, grounding_node.data.bag; "
            "bad = [m for m in ('torch', 'rclpy', 'transformers') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    r = subprocess.run([sys.executable, "-m", "grounding_node.dataset", "check", str(tmp_path)], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 1 and "annotations.jsonl: not found" in r.stderr


def test_sample_dataclass_defaults():
    s = Sample("images/x.png", 10, 20)
    assert s.to_dict() == {"image": "images/x.png", "width": 10, "height": 20, "groundings": []}
    assert not s.annotated


def test_the_documented_example_checks(tmp_path: Path):
    """docs/dataset.md's example, written by hand as an outsider would, passes `check` as it stands."""
    doc = (REPO / "docs" / "dataset.md").read_text(encoding="utf-8")
    jsonl = doc.split("```jsonl\n", 1)[1].split("```", 1)[0]
    info = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / ANNOTATIONS).write_text(jsonl, encoding="utf-8")
    for line in jsonl.strip().splitlines():
        rec = json.loads(line)
        _png(tmp_path / rec["image"], rec["width"], rec["height"])
    (tmp_path / "depth").mkdir()
    cv2.imwrite(str(tmp_path / "depth" / "0001.png"), np.full((480, 848), 600, np.uint16))
    (tmp_path / "camera_info").mkdir()
    (tmp_path / "camera_info" / "0001.yaml").write_text(info, encoding="utf-8")
    result = check_dataset(tmp_path)
    assert result.ok, result.errors
    st = dataset_stats(result.samples)
    assert (st.annotated_images, st.unannotated_images, st.pairs, st.negatives, st.boxes) == (2, 1, 5, 1, 5)
    assert st.by_type == {"(untyped)": 2, "attribute": 1, "negation": 1, "relation": 1}


def _exif_rotated_jpeg(root: Path) -> Path:
    """Stored 200x100 with EXIF orientation 6 (turn 90 degrees clockwise to display): a viewer, Label Studio
    and the person annotating see a 100x200 image. A red block fills the stored image's left quarter, so as
    displayed it lies along the top."""
    from PIL import Image

    (root / "images").mkdir(parents=True, exist_ok=True)
    stored = np.zeros((100, 200, 3), np.uint8)
    stored[:, :50] = (255, 0, 0)
    im = Image.fromarray(stored)
    exif = im.getexif()
    exif[0x0112] = 6
    path = root / "images" / "r.jpg"
    im.save(path, exif=exif.tobytes(), quality=95)
    return path


def test_an_exif_rotated_photo_is_read_as_displayed_everywhere(tmp_path: Path):
    """An adversarial review: the dataset check and the importers read an EXIF-rotated JPEG's size as stored
    (cv2 IMREAD_UNCHANGED ignores EXIF), tabletop training, evaluation and the API read it as displayed
    (IMREAD_COLOR applies it), and HF fine-tuning (PIL convert) as stored again: a record with the size a
    person sees was refused, and one with the stored size trained on boxes that no longer matched the
    pixels. Every reader now takes the image as displayed, as the node receives frames."""
    from grounding_node.api import load_image
    from grounding_node.data._common import image_size
    from grounding_node.finetune.hf_tasks import load_rgb
    from grounding_node.training.dataset_eval import read_rgb

    path = _exif_rotated_jpeg(tmp_path)
    assert image_size(path) == (100, 200)
    for rgb in (read_rgb(path), load_image(path), np.asarray(load_rgb(tmp_path, Sample("images/r.jpg", 100, 200)))):
        assert rgb.shape == (200, 100, 3)
        assert rgb[:40, :, 0].mean() > 200 and rgb[60:, :, 0].mean() < 30   # the red block along the top
    record = {"image": "images/r.jpg", "width": 100, "height": 200,
              "groundings": [{"phrase": "the red block", "boxes_1024": [[0, 0, 1024, 256]]}]}
    (tmp_path / ANNOTATIONS).write_text(json.dumps(record) + "\n")
    report = check_dataset(tmp_path)
    assert report.ok, report
