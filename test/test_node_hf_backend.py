"""The node with real transformers backends (tiny random checkpoints) through real rclpy: selected by
the `backend`/`model` parameters, loaded on configure, grounding camera frames into results."""

from __future__ import annotations

import numpy as np
import pytest

import synthetic_camera as cam
from ros_harness import ProbeNode, process_report, start_stack, unique_namespace, wait_ready


def ground_once(launcher, backend: str, model: str, options: dict, command: str):
    """Start the sim camera and the node with `backend:=backend model:=model`, send one command, and return
    its one result (fails with the node's log if it does not come)."""
    ns = unique_namespace()
    probe = ProbeNode(ns)
    node, _ = start_stack(launcher, ns, backend=backend, model=model, backend_options=options,
                          score_threshold=0.0, camera_args=["--rate", "15"])
    try:
        wait_ready(probe, launcher, node, timeout=60)
        probe.send(command)
        results = probe.wait_for_detections(1, 60)
        assert len(results) == 1, process_report(launcher) + launcher.log(node)[-3000:]
        return results[0]
    finally:
        probe.close()


@pytest.mark.parametrize("backend,variant,options", [
    ("florence2", "florence2", {"max_new_tokens": 16}),
    ("grounding_dino", "grounding_dino", {"candidate_threshold": 0.0, "max_candidates": 3}),
])
def test_node_grounds_with_a_tiny_transformers_backend(ros, launcher, tiny_checkpoint, backend, variant, options):
    res = ground_once(launcher, backend, tiny_checkpoint(variant), options, "red box; blue box")
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


@pytest.mark.parametrize("backend,variant,options", [
    ("tabletop", None, {}),
    ("florence2", "florence2", {"max_new_tokens": 16}),
    ("grounding_dino", "grounding_dino", {"candidate_threshold": 0.0, "max_candidates": 3}),
])
def test_node_loads_a_finetune_output_folder(ros, launcher, tiny_checkpoint, tmp_path, backend, variant, options):
    """Issue 12: the folder `python -m grounding_node.finetune ... --out OUT` writes loads in the node as
    `backend:=X model:=OUT` and grounds through it (one epoch here: loading is the point, not accuracy)."""
    import cv2

    from grounding_node.data.format import Grounding, Sample
    from grounding_node.data.writer import write_annotations
    from grounding_node.finetune.cli import build_parser, config_from_args, run

    rgb, _ = cam.render()
    data = tmp_path / "data"
    data.mkdir()
    cv2.imwrite(str(data / "frame.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    boxes = {name: [u0 / cam.WIDTH * 1024, v0 / cam.HEIGHT * 1024, u1 / cam.WIDTH * 1024, v1 / cam.HEIGHT * 1024]
             for name, (_, u0, v0, u1, v1, _) in cam.SCENE.items()}
    write_annotations(data, [Sample("frame.png", cam.WIDTH, cam.HEIGHT,
                                    [Grounding("red box", [boxes["red"]]), Grounding("blue box", [boxes["blue"]])])])
    out = tmp_path / "model"
    args = ["--backend", backend, "--data", str(data), "--out", str(out), "--epochs", "1", "--no-progress"]
    args += ["--replay", "0"] if variant is None else ["--model", tiny_checkpoint(variant), "--method", "full"]
    run(config_from_args(build_parser().parse_args(args)))
    assert (out / "README.md").is_file()

    res = ground_once(launcher, backend, str(out), options, "red box")
    assert res.error == "" and res.model.startswith(backend), (res.error, res.model)
