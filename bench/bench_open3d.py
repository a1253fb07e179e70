"""Side by side with a peer library: a box region's depth -> 3D points, ours against Open3D.

    source scripts/env.sh && pip install -r requirements-bench.txt && python bench/bench_open3d.py

Same RGB-D (a MuJoCo tabletop scene, 16UC1 millimetres), same intrinsics, same boxes (the objects'
ground-truth boxes, whole box: roi_fraction 1.0). Ours: `geometry.depth.roi_points`, the function the
node uses. Open3D: `PointCloud.create_from_depth_image` on the box's crop with the principal point
shifted by the crop origin. Both start from the raw uint16 array and end with an (N, 3) float array.
Checks that the points agree within 1 mm, and reports the time ratio. Goal: ours >= 3x faster.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from common import fmt, machine, save_results, summary, table, time_ms, write_section  # noqa: E402

MAX_DEPTH = 10.0


def run(width: int, height: int, repeats: int, seeds=(4_000_001, 4_000_002, 4_000_003)):
    import open3d as o3d

    from grounding_node.geometry.boxes import box1024_to_pixels
    from grounding_node.geometry.camera import Intrinsics
    from grounding_node.geometry.depth import roi_points
    from grounding_node.sim.scene import TabletopSim

    ours_ms, o3d_ms, max_err, n_points, boxes = [], [], 0.0, [], 0
    with TabletopSim(width, height) as sim:
        scenes = [sim.new_scene(seed) for seed in seeds]
    for scene in scenes:
        depth = scene.depth_16uc1()
        K = scene.K
        intr = Intrinsics.from_K(K, width, height)
        for obj in scene.objects:
            box = box1024_to_pixels(np.asarray(obj.box_1024, dtype=np.float64), width, height)
            u0, v0 = int(np.ceil(box[0] - 0.5)), int(np.ceil(box[1] - 0.5))
            u1, v1 = int(np.ceil(box[2] - 0.5)), int(np.ceil(box[3] - 0.5))
            if u1 - u0 < 2 or v1 - v0 < 2:
                continue

            def ours(depth=depth, box=box, intr=intr):
                return roi_points(depth, box, intr, (width, height), roi_fraction=1.0, min_depth=1e-9,
                                  max_depth=MAX_DEPTH, encoding="16UC1")[0]

            crop_intr = o3d.camera.PinholeCameraIntrinsic(u1 - u0, v1 - v0, intr.fx, intr.fy, intr.cx - u0,
                                                          intr.cy - v0)

            def theirs(depth=depth, u0=u0, u1=u1, v0=v0, v1=v1, crop_intr=crop_intr):
                img = o3d.geometry.Image(np.ascontiguousarray(depth[v0:v1, u0:u1]))
                pcd = o3d.geometry.PointCloud.create_from_depth_image(img, crop_intr, depth_scale=1000.0,
                                                                      depth_trunc=MAX_DEPTH, stride=1,
                                                                      project_valid_depth_only=True)
                return np.asarray(pcd.points)

            a, b = ours(), theirs()
            if len(a) != len(b):
                raise AssertionError(f"point counts differ: ours {len(a)}, Open3D {len(b)} (box {box})")
            if len(a):
                max_err = max(max_err, float(np.abs(a - b).max()))
            n_points.append(len(a))
            ours_ms += time_ms(ours, repeats)
            o3d_ms += time_ms(theirs, repeats)
            boxes += 1
    return ours_ms, o3d_ms, max_err, n_points, boxes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=100)
    args = ap.parse_args(argv)
    import open3d as o3d

    rows, checks, results = [], [], {}
    for w, h in [(640, 480), (1280, 720)]:
        ours, theirs, err, n_points, boxes = run(w, h, args.repeats)
        ratio = summary(theirs)["median"] / summary(ours)["median"]
        results[f"{w}x{h}"] = {"ours_ms": summary(ours)["median"], "open3d_ms": summary(theirs)["median"],
                               "ours_max_ms": summary(ours)["max"], "open3d_max_ms": summary(theirs)["max"],
                               "ratio": ratio, "max_err_mm": err * 1000, "boxes": boxes}
        rows.append((f"{w}x{h}", str(boxes), f"{int(np.median(n_points))} ({min(n_points)}-{max(n_points)})",
                     fmt(ours, 4), fmt(theirs, 4), f"{ratio:.1f}x", f"{err * 1000:.6f}"))
        checks.append((f"points agree ({w}x{h})", "<= 1 mm", f"{err * 1000:.6f} mm",
                       "met" if err <= 1e-3 else "missed"))
        checks.append((f"ours vs Open3D speed ({w}x{h})", ">= 3x faster", f"{ratio:.1f}x",
                       "met" if ratio >= 3 else "missed"))
    text = "\n".join([
        "## Box depth -> 3D points: ours vs Open3D (`bench/bench_open3d.py`)", "",
        f"Machine: {machine()}; Open3D {o3d.__version__}. Per box (whole box, 16UC1 mm depth of MuJoCo scenes, "
        f"ground-truth boxes of 3 scenes): median (min-max) ms over {args.repeats} repeats per box, all boxes "
        "pooled. "
        "Both start from the raw uint16 array and return an (N, 3) array of the valid pixels' points.", "",
        table(["resolution", "boxes", "points per box", "ours ms", "Open3D ms", "Open3D / ours", "max |diff| mm"],
              rows), "",
        table(["figure", "goal", "measured", "verdict"], checks), ""])
    print(text)
    write_section("bench_open3d", text)
    save_results("bench_open3d", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
