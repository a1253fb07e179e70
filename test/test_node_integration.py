"""Acceptance 2 of the node issue: real rclpy, separate processes (node, camera), analytic geometry."""

from __future__ import annotations

import numpy as np
import pytest

import synthetic_camera as cam
from ros_harness import ProbeNode, start_stack, unique_namespace, wait_ready

from grounding_node.launcher import wait_until


def _stamp_ns(stamp) -> int:
    return stamp.sec * 1_000_000_000 + stamp.nanosec


@pytest.mark.parametrize("depth_encoding", ["16UC1", "32FC1"])
def test_command_to_3d_result_through_real_dds(ros, launcher, depth_encoding):
    ns = unique_namespace()
    probe = ProbeNode(ns)
    probe.subscribe_raw_image(f"{ns}/image")
    node, _ = start_stack(launcher, ns, camera_args=["--depth-encoding", depth_encoding, "--rate", "30"])
    # Someone watches the debug image (it is only drawn for subscribers).
    try:
        wait_ready(probe, launcher, node)
        assert wait_until(lambda: len(probe.images) > 5, 20), "camera frames did not arrive"
        probe.send("red box; blue box")
        results = probe.wait_for_detections(1, 20)
        assert len(results) == 1, launcher.log(node)[-2000:]
        res = results[0]
        assert res.error == "", res.error
        assert res.command == "red box; blue box"
        # header equals the source frame's header
        assert res.header.frame_id == cam.FRAME_ID
        with probe.lock:
            stamps = {_stamp_ns(m.header.stamp) for m in probe.images}
        assert _stamp_ns(res.header.stamp) in stamps
        by_phrase = {o.phrase: o for o in res.objects}
        assert set(by_phrase) == {"red box", "blue box"}
        for name in ("red", "blue"):
            obj = by_phrase[f"{name} box"]
            box_1024 = np.array(obj.box_1024, dtype=np.float64)
            expected_px = box_1024 * np.array([cam.WIDTH, cam.HEIGHT, cam.WIDTH, cam.HEIGHT]) / 1024.0
            np.testing.assert_allclose(obj.box_pixels, expected_px, rtol=1e-6, atol=1e-4)
            _, u0, v0, u1, v1, _ = cam.SCENE[name]
            np.testing.assert_allclose(obj.box_pixels, [u0, v0, u1, v1], atol=1e-3)
            assert obj.has_position
            pos = np.array([obj.position.x, obj.position.y, obj.position.z])
            err = np.abs(pos - cam.expected_position(name)).max()
            assert err <= 0.002, f"{name}: {pos} vs {cam.expected_position(name)} (err {err * 1000:.2f} mm)"
            assert 0.0 < obj.score <= 1.0 and obj.confidence in ("hi", "med", "low")
            assert obj.depth_valid_fraction == pytest.approx(1.0)
        assert res.model.startswith("test_color") and res.inference_ms >= 0 and res.total_ms >= res.inference_ms
        # target: the best object of the first phrase, in the same header
        assert wait_until(lambda: len(probe.targets) >= 1, 5)
        tgt = probe.targets[-1]
        assert tgt.header.frame_id == cam.FRAME_ID
        assert abs(tgt.pose.position.z - 0.6) < 0.002
        # markers: DELETEALL first, then a cube and a label per located object
        assert wait_until(lambda: len(probe.markers) >= 1, 5)
        marks = probe.markers[-1].markers
        assert marks[0].action == 3  # DELETEALL
        assert [m.type for m in marks[1:]].count(1) == 2  # two CUBEs
        assert [m.type for m in marks[1:]].count(9) == 2  # two TEXT_VIEW_FACING
        assert wait_until(lambda: len(probe.debug_images) >= 1, 5)
        dbg = probe.debug_images[-1]
        assert (dbg.width, dbg.height, dbg.encoding) == (cam.WIDTH, cam.HEIGHT, "rgb8")
        # the service answers with the same grounding
        resp = probe.call_ground("blue box", timeout_s=2.0)
        assert resp is not None and resp.success, getattr(resp, "message", None)
        obj = resp.result.objects[0]
        assert obj.phrase == "blue box"
        pos = np.array([obj.position.x, obj.position.y, obj.position.z])
        assert np.abs(pos - cam.expected_position("blue")).max() <= 0.002
        # diagnostics flow and show the model
        assert wait_until(lambda: bool(probe.last_diag_values()), 5)
        diag = probe.last_diag_values()
        assert diag["model"].startswith("test_color") and int(diag["frames_received"]) > 0
    finally:
        probe.close()
