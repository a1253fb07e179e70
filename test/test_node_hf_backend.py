"""The node with real transformers backends (tiny random checkpoints) through real rclpy: selected by
the `backend`/`model` parameters, loaded on configure, grounding camera frames into results."""

from __future__ import annotations

import numpy as np
import pytest

import synthetic_camera as cam
from ros_harness import ProbeNode, process_report, start_stack, unique_namespace, wait_ready


@pytest.mark.parametrize("backend,variant,options", [
    ("florence2", "florence2", {"max_new_tokens": 16}),
    ("grounding_dino", "grounding_dino", {"candidate_threshold": 0.0, "max_candidates": 3}),
])
def test_node_grounds_with_a_tiny_transformers_backend(ros, launcher, tiny_checkpoint, backend, variant, options):
    ns = unique_namespace()
    probe = ProbeNode(ns)
    node, _ = start_stack(launcher, ns, backend=backend, model=tiny_checkpoint(variant), backend_options=options,
                          score_threshold=0.0, camera_args=["--rate", "15"])
    try:
        wait_ready(probe, launcher, node, timeout=60)
        probe.send("red box; blue box")
        results = probe.wait_for_detections(1, 60)
        assert len(results) == 1, process_report(launcher) + launcher.log(node)[-3000:]
        res = results[0]
        assert res.error == "", res.error
        assert res.model.startswith(backend), res.model
        assert res.inference_ms > 0
        assert res.header.frame_id == cam.FRAME_ID
        for obj in res.objects:
            assert obj.phrase in ("red box", "blue box")
            expected = np.array(obj.box_1024) * [cam.WIDTH, cam.HEIGHT, cam.WIDTH, cam.HEIGHT] / 1024.0
            np.testing.assert_allclose(obj.box_pixels, expected, rtol=1e-5, atol=1e-3)
        if backend == "grounding_dino":        # detector heads always give candidates: 3D goes through too
            assert res.objects and any(o.has_position for o in res.objects)
    finally:
        probe.close()
