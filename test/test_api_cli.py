"""Acceptance 5 of the backends issue: the ROS-free API and CLI. The CLI runs on a PNG (with depth and
intrinsics: 3D through the node's geometry) and writes the JSON and the annotated PNG."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import yaml

import synthetic_camera as cam

from grounding_node.api import Grounder, load_camera_info, load_depth
from grounding_node.geometry.camera import Intrinsics

BACKEND = "pg_test_backends:ColorBackend"


@pytest.fixture
def scene_files(tmp_path):
    """A colour PNG, a 16-bit depth PNG (mm) and a camera_calibration YAML of the synthetic scene."""
    rgb, depth_m = cam.render()
    cv2.imwrite(str(tmp_path / "rgb.png"), rgb[:, :, ::-1])
    cv2.imwrite(str(tmp_path / "depth.png"), np.round(depth_m * 1000).astype(np.uint16))
    K = np.array([[cam.FX, 0, cam.CX], [0, cam.FY, cam.CY], [0, 0, 1]])
    (tmp_path / "K.yaml").write_text(yaml.safe_dump({
        "image_width": cam.WIDTH, "image_height": cam.HEIGHT,
        "camera_matrix": {"rows": 3, "cols": 3, "data": [float(v) for v in K.ravel()]}}))
    return tmp_path


def test_cli_writes_json_and_annotated_png_with_3d(scene_files):
    out_dir = scene_files / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "grounding_node.cli", str(scene_files / "rgb.png"), "--prompt", "red box; blue box",
         "--depth", str(scene_files / "depth.png"), "--camera-info", str(scene_files / "K.yaml"),
         "--backend", BACKEND, "--out-dir", str(out_dir)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = json.loads(proc.stdout)
    assert printed == json.loads((out_dir / "result.json").read_text())
    phrases = {p["phrase"]: p for p in printed["phrases"]}
    for name in ("red", "blue"):
        obj = phrases[f"{name} box"]["objects"][0]
        _, u0, v0, u1, v1, _ = cam.SCENE[name]
        np.testing.assert_allclose(obj["box_pixels"], [u0, v0, u1, v1], atol=0.01)
        assert obj["confidence"] in ("hi", "med", "low")
        assert obj["bboxes"] == [{"xywh": obj["box_xywh"], "page": 0}]
        np.testing.assert_allclose(obj["position"], cam.expected_position(name), atol=0.002)
    annotated = cv2.imread(printed["pages"][0]["annotated"])
    original = cv2.imread(str(scene_files / "rgb.png"))
    assert annotated.shape == original.shape and np.any(annotated != original)


def test_cli_rejects_bad_options(scene_files):
    proc = subprocess.run([sys.executable, "-m", "grounding_node.cli", str(scene_files / "rgb.png"), "--prompt", "x",
                           "--backend", BACKEND, "--options", "[1]", "--out-dir", str(scene_files / "o")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--options" in proc.stderr


def test_api_ndarray_pages_and_metadata():
    rgb, depth_m = cam.render()
    grounder = Grounder.from_config(backend=BACKEND, score_threshold=0.1)
    out = grounder(source=[rgb, rgb[:, ::-1].copy()], prompt="red box; nothing here")
    d = out.to_dict()
    assert [p["phrase"] for p in d["phrases"]] == ["red box", "nothing here"]
    pages = sorted(o["page"] for o in d["phrases"][0]["objects"])
    assert pages == [0, 1]                       # one red box on each page
    assert d["phrases"][1]["objects"] == []
    assert all(o["position"] is None for o in d["phrases"][0]["objects"])   # no depth given: 2D only
    assert "no depth image" in d["pages"][0]["warnings"][0]


def test_api_3d_from_arrays():
    rgb, depth_m = cam.render()
    intrinsics = Intrinsics(cam.FX, cam.FY, cam.CX, cam.CY, cam.WIDTH, cam.HEIGHT)
    out = Grounder.from_config(backend=BACKEND)(source=rgb, prompt="blue box", depth=depth_m.astype(np.float32),
                                                intrinsics=intrinsics)
    obj = out.pages[0].objects[0]
    assert obj.has_position
    np.testing.assert_allclose(obj.position, cam.expected_position("blue"), atol=0.002)


def test_api_rejects_unknown_settings():
    with pytest.raises(TypeError):
        Grounder.from_config(backend=BACKEND, score_treshold=0.5)


def test_loaders(tmp_path):
    (tmp_path / "ci.yaml").write_text(yaml.safe_dump({"width": 4, "height": 2, "k": [2, 0, 1, 0, 3, 1, 0, 0, 1]}))
    assert load_camera_info(tmp_path / "ci.yaml") == Intrinsics(2.0, 3.0, 1.0, 1.0, 4, 2)
    d16, enc = load_depth(np.zeros((2, 2), np.uint16))
    assert enc == "16UC1"
    _, enc = load_depth(np.zeros((2, 2), np.float64))
    assert enc == "32FC1"
    with pytest.raises(ValueError):
        load_depth(np.zeros((2, 2), np.int8))


def test_cli_selects_a_transformers_backend(tmp_path, tiny_checkpoint):
    """The CLI reaches the real families by name, with a local model directory and backend options."""
    cv2.imwrite(str(tmp_path / "rgb.png"), cam.render()[0][:, :, ::-1])
    proc = subprocess.run(
        [sys.executable, "-m", "grounding_node.cli", str(tmp_path / "rgb.png"), "--prompt", "red box; blue box",
         "--backend", "owlv2", "--model", tiny_checkpoint("owlv2"), "--score-threshold", "0",
         "--options", json.dumps({"candidate_threshold": 0.0}), "--out-dir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["backend"].startswith("owlv2")
    assert sum(len(p["objects"]) for p in result["phrases"]) > 0
    assert (tmp_path / "out" / "rgb_grounded.png").is_file()


def test_api_per_page_inputs():
    """One camera's intrinsics are shared by every page; a depth map belongs to one frame only."""
    rgb, depth_m = cam.render()
    intr = Intrinsics(cam.FX, cam.FY, cam.CX, cam.CY, cam.WIDTH, cam.HEIGHT)
    grounder = Grounder.from_config(backend=BACKEND)
    out = grounder(source=[rgb, rgb], prompt="red box", depth=[depth_m, depth_m], intrinsics=intr)
    assert all(page.objects[0].has_position for page in out.pages)
    with pytest.raises(ValueError, match="one per image"):
        grounder(source=[rgb, rgb], prompt="red box", depth=depth_m, intrinsics=intr)
    with pytest.raises(ValueError, match="1 given for 2"):
        grounder(source=[rgb, rgb], prompt="red box", depth=[depth_m], intrinsics=intr)


def _cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "grounding_node.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize("make", ["missing", "directory"])
def test_cli_refuses_an_image_that_is_not_a_file_with_one_line(make, tmp_path):
    cv2.imwrite(str(tmp_path / "rgb.png"), cam.render()[0][:, :, ::-1])
    bad = tmp_path / "nope.png"
    if make == "directory":
        bad.mkdir()
    proc = _cli(tmp_path / "rgb.png", bad, "--prompt", "red box", "--backend", BACKEND,
                "--out-dir", tmp_path / "out")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and str(bad) in lines[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_cli_gives_images_of_the_same_name_in_two_folders_their_own_annotated_png(tmp_path):
    rgb = cam.render()[0]
    for folder, image in (("a", rgb), ("b", rgb[:, ::-1])):
        (tmp_path / folder).mkdir()
        cv2.imwrite(str(tmp_path / folder / "x.png"), np.ascontiguousarray(image[:, :, ::-1]))
    proc = _cli(tmp_path / "a" / "x.png", tmp_path / "b" / "x.png", "--prompt", "red box", "--backend", BACKEND,
                "--out-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr[-2000:]
    paths = [p["annotated"] for p in json.loads(proc.stdout)["pages"]]
    assert len(set(paths)) == 2 and sorted(p.name for p in (tmp_path / "out").glob("*.png")) == sorted(
        p.split("/")[-1] for p in paths)
    for path, original in zip(paths, (rgb, rgb[:, ::-1])):      # each page's own picture, not the other's
        annotated = cv2.imread(path)[:, :, ::-1].astype(int)
        assert np.mean(annotated == original) > np.mean(annotated == original[:, ::-1])
