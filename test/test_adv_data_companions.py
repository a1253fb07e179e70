"""The depth and camera_info files a sample carries are checked before any writer writes them (adversarial
review): `write_sample` (from-bag, the node's ~/capture, the simulator) and the importers apply the same
tests `check` applies, which now include the view (a depth or calibration of another aspect ratio than the
image is another camera's) and the intrinsics (size present, finite, not an uncalibrated all-zero K).
Expectations are written out here, not derived from the code under test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import cv2
import numpy as np
import pytest
import yaml

from grounding_node.data import Sample, check_dataset, load_dataset, write_annotations, write_sample
from grounding_node.data.cli import main
from grounding_node.data.labelstudio import export_labelstudio, import_labelstudio

W, H = 64, 48
GOOD_K = [50.0, 0.0, 32.0, 0.0, 50.0, 24.0, 0.0, 0.0, 1.0]


def _rgb() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (H, W, 3), dtype=np.uint8)


def _files(root: Path) -> List[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ---------------------------------------------------------------- write_sample
@pytest.mark.parametrize("case,depth,info,message", [
    ("unaligned-depth", np.full((48, 48), 700, np.uint16), None,
     "depth 'depth/s.png' is 48x48, another aspect ratio than its 64x48 colour image"),
    ("depth-3-channels", np.zeros((H, W, 3), np.uint16), None, "depth 'depth/s.png': depth must be HxW"),
    ("zero-k", None, {"width": W, "height": H, "k": [0.0] * 9},
     "camera_info 'camera_info/s.yaml' is unusable: K is all zeros (an uncalibrated driver)"),
    ("nan-k", None, {"width": W, "height": H, "k": [float("nan")] + GOOD_K[1:]},
     "camera_info 'camera_info/s.yaml' has non-finite values in camera_matrix"),
    ("inf-d", None, {"width": W, "height": H, "k": GOOD_K, "d": [0.0, float("inf"), 0.0, 0.0, 0.0]},
     "camera_info 'camera_info/s.yaml' has non-finite values in distortion_coefficients"),
    ("other-camera", None, {"width": 640, "height": 640, "k": GOOD_K},
     "camera_info 'camera_info/s.yaml' is for a 640x640 image, another aspect ratio than its 64x48 colour image"),
    ("no-size", None, {"k": GOOD_K}, "camera_info 'camera_info/s.yaml' cannot be made from ['k']"),
])
def test_write_sample_refuses_bad_companions_and_writes_nothing(tmp_path: Path, case: str, depth: Any,
                                                                info: Dict, message: str):
    """Each of these was written as given, and all but the 3-channel depth then passed `check`."""
    with pytest.raises(ValueError) as err:
        write_sample(tmp_path / "ds", _rgb(), depth=depth, camera_info=info, name="s")
    assert message in str(err.value) and "nothing written" in str(err.value)
    assert _files(tmp_path / "ds") == []


def test_write_sample_keeps_registered_depth_and_full_sensor_calibration(tmp_path: Path):
    """Another resolution with the image's aspect ratio is the same view (what the node accepts)."""
    write_sample(tmp_path, _rgb(), depth=np.full((24, 32), 0.5, np.float32),
                 camera_info={"width": 128, "height": 96, "k": [100.0, 0, 64, 0, 100.0, 48, 0, 0, 1]}, name="s")
    (s,) = load_dataset(tmp_path)
    assert cv2.imread(str(tmp_path / s.depth), cv2.IMREAD_UNCHANGED).tolist() == [[500] * 32] * 24
    assert yaml.safe_load((tmp_path / s.camera_info).read_text())["image_width"] == 128


def test_write_sample_leaves_no_orphan_files_when_the_record_cannot_be_written(tmp_path: Path):
    """An extra that is not JSON fails at the append, after the image, depth and camera_info were written:
    they stayed behind, claiming the name, listed by no record."""
    with pytest.raises(TypeError):
        write_sample(tmp_path, _rgb(), depth=np.full((H, W), 700, np.uint16),
                     camera_info={"width": W, "height": H, "k": GOOD_K}, name="s", extra={"bad": object()})
    assert [f for f in _files(tmp_path) if f != "annotations.jsonl"] == []


# ---------------------------------------------------------------- check
def _dataset_with(tmp_path: Path, depth: np.ndarray, info_text: str) -> Path:
    root = tmp_path / "ds"
    (root / "images").mkdir(parents=True)
    cv2.imwrite(str(root / "images" / "a.png"), _rgb())
    (root / "depth").mkdir()
    cv2.imwrite(str(root / "depth" / "a.png"), depth)
    (root / "camera_info").mkdir()
    (root / "camera_info" / "a.yaml").write_text(info_text, encoding="utf-8")
    write_annotations(root, [Sample("images/a.png", W, H, [], depth="depth/a.png", camera_info="camera_info/a.yaml")])
    return root


@pytest.mark.parametrize("depth_shape,info_text,messages", [
    ((48, 48), f"k: {GOOD_K}\nwidth: {W}\nheight: {H}\n",
     ['depth "depth/a.png" is 48x48, another aspect ratio than its 64x48 colour image, so it is not registered '
      '(aligned) to it']),
    ((H, W), f"k: {[0.0] * 9}\nwidth: {W}\nheight: {H}\n",
     ['camera_info "camera_info/a.yaml" is unusable: K is all zeros (an uncalibrated driver)']),
    ((H, W), f"camera_matrix: {{rows: 3, cols: 3, data: {GOOD_K}}}\n",
     ['camera_info "camera_info/a.yaml" has no image size (image_width and image_height as positive integers), '
      'so its camera_matrix applies to no resolution']),
    ((H, W), f"k: [.nan, 0, 32, 0, 50, 24, 0, 0, 1]\nwidth: {W}\nheight: {H}\n",
     ['camera_info "camera_info/a.yaml" has non-finite values in camera_matrix: [NaN, 0.0, 32.0, 0.0, 50.0, '
      '24.0, 0.0, 0.0, 1.0]']),
])
def test_check_reports_depth_and_camera_info_of_another_view_or_unusable(tmp_path: Path, depth_shape, info_text,
                                                                         messages):
    root = _dataset_with(tmp_path, np.full(depth_shape, 700, np.uint16), info_text)
    result = check_dataset(root)
    assert result.errors == [f"{root / 'annotations.jsonl'}:1: {m}" for m in messages]


# ---------------------------------------------------------------- Label Studio carries depth and camera_info
def _exported(tmp_path: Path, depth: np.ndarray, info: Dict[str, Any]) -> Path:
    """A valid dataset exported to Label Studio; then its depth and camera_info files are replaced (as a
    person re-recording or hand-editing them would) before the import."""
    root = tmp_path / "ds"
    write_sample(root, _rgb(), depth=np.full((H, W), 700, np.uint16),
                 camera_info={"width": W, "height": H, "k": GOOD_K}, name="a")
    tasks, _ = export_labelstudio(root, tmp_path / "tasks.json")
    cv2.imwrite(str(root / "depth" / "a.png"), depth)
    (root / "camera_info" / "a.yaml").write_text(yaml.safe_dump(info), encoding="utf-8")
    return tasks


def test_labelstudio_import_refuses_a_carried_depth_of_another_view(tmp_path: Path, capsys):
    tasks = _exported(tmp_path, np.full((10, 10), 5, np.uint16), {"width": W, "height": H, "k": GOOD_K})
    res = import_labelstudio(tasks, tmp_path / "ds")
    src = tmp_path / "ds" / "depth" / "a.png"
    assert res.errors == [f"{tasks}: task 0: depth {json.dumps(str(src))} is 10x10, another aspect ratio than its "
                          "64x48 colour image, so it is not registered (aligned) to it"]
    out = tmp_path / "new"
    assert main(["import-labelstudio", str(tasks), "--images", str(tmp_path / "ds"), "--out", str(out)]) == 1
    assert "nothing written" in capsys.readouterr().err and not out.exists()


def test_labelstudio_import_refuses_a_carried_uncalibrated_camera_info(tmp_path: Path):
    tasks = _exported(tmp_path, np.full((H, W), 700, np.uint16), {"width": W, "height": H, "k": [0.0] * 9})
    res = import_labelstudio(tasks, tmp_path / "ds")
    src = tmp_path / "ds" / "camera_info" / "a.yaml"
    assert res.errors == [f"{tasks}: task 0: camera_info {json.dumps(str(src))} is unusable: K is all zeros "
                          "(an uncalibrated driver)"]
    assert res.samples == []


def test_labelstudio_import_still_carries_good_companions(tmp_path: Path):
    tasks = _exported(tmp_path, np.full((H // 2, W // 2), 640, np.uint16),
                      {"width": W * 2, "height": H * 2, "k": [100.0, 0, 64, 0, 100.0, 48, 0, 0, 1]})
    out = tmp_path / "new"
    assert main(["import-labelstudio", str(tasks), "--images", str(tmp_path / "ds"), "--out", str(out)]) == 0
    (s,) = load_dataset(out)
    assert (s.depth, s.camera_info) == ("depth/a.png", "camera_info/a.yaml")
    assert np.all(cv2.imread(str(out / s.depth), cv2.IMREAD_UNCHANGED) == 640)


def test_a_capture_keeps_the_frame_and_drops_only_an_unusable_companion(tmp_path: Path):
    """Found reviewing the check above: with it, the node's ~/capture on a camera with an uncalibrated (all
    zero) K failed as a whole, "cannot write to capture_dir", and the frame a user wanted to label was lost.
    `usable_companions` keeps what passes and says why the rest is left out."""
    from grounding_node.data.writer import usable_companions

    depth = np.full((H, W), 0.7, np.float32)
    kept_depth, kept_info, notes = usable_companions(_rgb(), depth, {"width": W, "height": H, "k": [0.0] * 9})
    assert kept_depth is depth and kept_info is None
    assert len(notes) == 1 and "K is all zeros" in notes[0]
    path = write_sample(tmp_path, _rgb(), depth=kept_depth, camera_info=kept_info, name="cap")
    assert path.exists() and check_dataset(tmp_path).ok
    good = {"width": W, "height": H, "k": GOOD_K}
    kept_depth, kept_info, notes = usable_companions(_rgb(), np.zeros((48, 48), np.uint16), good)
    assert kept_depth is None and kept_info is good and "another aspect ratio" in notes[0]
    assert usable_companions(_rgb(), depth, good) == (depth, good, [])
