"""A dataset sample with depth and camera_info is graded as the node grounds it: a backend that reads
depth gets the sample's aligned depth with the colour camera's fy (`eval --data`, and the tabletop
fine-tuner's validation). Before this, both graded colour only while the node passed depth."""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np
import pytest

from grounding_node.data import Grounding, load_dataset, write_sample
from grounding_node.grounding.types import GroundingSettings
from grounding_node.models.base import BackendConfig, DepthInput, Detection, GroundingBackend
from grounding_node.training.dataset_eval import ground_sample


class DepthRecorder(GroundingBackend):
    """Records the depth each call got; one fixed box."""

    name = "test_depth_recorder"
    reads_depth = True

    def load(self) -> None:
        self.seen: List[Optional[DepthInput]] = []

    def ground(self, rgb: np.ndarray, phrases: Sequence[str], depth: Optional[DepthInput] = None
               ) -> List[List[Detection]]:
        self.seen.append(depth)
        return [[Detection((100.0, 100.0, 300.0, 300.0), 0.9)] for _ in phrases]


def _dataset(tmp_path, depth=True, info=True):
    rgb = np.full((480, 640, 3), 90, np.uint8)
    dmm = np.full((240, 320), 750, np.uint16)          # registered, half resolution
    cam = {"width": 1280, "height": 960, "k": [1000.0, 0, 640, 0, 1000.0, 480, 0, 0, 1], "d": []}
    write_sample(tmp_path, rgb, depth=dmm if depth else None, camera_info=cam if info else None,
                 groundings=[Grounding("the red mug", [[100, 100, 300, 300]])], name="0001")
    return load_dataset(tmp_path)


def _backend():
    b = DepthRecorder(BackendConfig())
    b.load()
    return b


def test_eval_data_passes_the_samples_depth_with_the_colour_cameras_fy(tmp_path):
    ds = _dataset(tmp_path)
    backend = _backend()
    ground_sample(backend, tmp_path, ds[0], GroundingSettings())
    got = backend.seen[-1]
    assert got is not None
    assert got.raw.shape == (240, 320) and int(got.raw[0, 0]) == 750 and got.encoding == "16UC1"
    assert got.fy == pytest.approx(1000.0 * 480 / 960)   # the calibration is for 1280x960, the image 640x480


@pytest.mark.parametrize("depth,info", [(False, True), (True, False), (False, False)])
def test_without_depth_or_intrinsics_the_sample_is_graded_from_colour(tmp_path, depth, info):
    ds = _dataset(tmp_path, depth, info)
    backend = _backend()
    ground_sample(backend, tmp_path, ds[0], GroundingSettings())
    assert backend.seen == [None]


def test_depth_for_grounding_off_grades_colour_only(tmp_path):
    ds = _dataset(tmp_path)
    backend = _backend()
    ground_sample(backend, tmp_path, ds[0], GroundingSettings(depth_for_grounding=False))
    assert backend.seen == [None]


def test_the_finetuners_validation_passes_depth_too(tmp_path):
    from grounding_node.finetune.tabletop import phrase_accuracy

    ds = _dataset(tmp_path)
    backend = _backend()
    assert phrase_accuracy(backend, ds, tmp_path, 0.3) == 1.0
    assert backend.seen[-1] is not None and backend.seen[-1].fy == pytest.approx(500.0)


@pytest.mark.parametrize("broken", ["depth", "camera_info"])
def test_an_unreadable_depth_or_camera_info_file_grades_from_colour_and_says_so(tmp_path, capsys, broken):
    ds = _dataset(tmp_path)
    path = ds[0].depth_path(tmp_path) if broken == "depth" else ds[0].camera_info_path(tmp_path)
    path.write_bytes(b"not an image or yaml: {[")
    backend = _backend()
    ground_sample(backend, tmp_path, ds[0], GroundingSettings())   # no exception: the image is still graded
    assert backend.seen == [None]
    assert "graded from colour" in capsys.readouterr().err
