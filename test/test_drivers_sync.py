"""Colour/depth pairing against what real camera drivers do with rates, latencies and start-up order (ROS-free).

Each case replays a stream schedule: (arrival time, kind, stamp). The expected pairing is the exact one (a
depth with the image's own stamp exists in every case), so any frame completed 2D-only, or with another
frame's depth, is a defect: a lost or a temporally wrong 3D position.
"""

from __future__ import annotations

from typing import List, Tuple

import pytest

from grounding_node.ros.sync import FrameSync


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def replay(sync: FrameSync, clock: Clock, events: List[Tuple[float, str, float]]):
    """Feed (arrival_s, 'i' | 'd', stamp_s) in arrival order; return the completed frames."""
    frames = []
    for arrival, kind, stamp in sorted(events):
        clock.t = arrival
        ns = int(round(stamp * 1e9))
        # payload: the stamp in whole microseconds, so that pairs compare exactly
        frame = sync.add_image(ns, round(stamp * 1e6)) if kind == "i" else sync.add_depth(ns, round(stamp * 1e6))
        if frame is not None:
            frames.append(frame)
    return frames


def stream(kind: str, hz: float, latency_s: float, t0: float, t1: float, skip=()):
    """A driver publishing at `hz` from t0 to t1 (stamp = capture time), delivered `latency_s` later."""
    n0, n1 = int(round(t0 * hz)), int(round(t1 * hz))
    return [(i / hz + latency_s, kind, i / hz) for i in range(n0, n1) if not any(a <= i / hz < b for a, b in skip)]


def test_depth_streaming_before_colour_starts_still_pairs_every_frame():
    """A RealSense/Orbbec driver starts depth first (or colour reaches the node later); depth is delivered
    20 ms after colour. Depth flowing alone for 1 s used to count as 'depth never pairs', so every image
    completed 2D-only at once, was never kept for its depth, and 3D was lost for good (with a warning blaming
    the clocks although the stamps were identical)."""
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    events = stream("d", 30, 0.02, 0.0, 3.0) + stream("i", 30, 0.0, 1.0, 3.0)
    frames = replay(sync, clock, events)
    assert frames
    assert all(f.depth is not None and f.depth == f.image for f in frames), \
        [(f.image, f.depth) for f in frames if f.depth != f.image][:3]
    assert sync.stats.unpaired_depth == 0 and sync.stats.complete_without_depth == 0


def test_a_colour_pause_while_depth_continues_does_not_lose_3d():
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    events = stream("d", 30, 0.02, 0.0, 3.0) + stream("i", 30, 0.0, 0.0, 3.0, skip=[(1.0, 2.0)])
    frames = replay(sync, clock, events)
    assert all(f.depth == f.image for f in frames)
    assert len(frames) == 60


def test_pairing_recovers_after_a_stamp_glitch_when_depth_lags_colour():
    """The depth driver stamps 100 s off for 1 s (a clock step), then stamps right again, depth delivered 20 ms
    after colour. The 2D-only state used to latch: images no longer waited for their depth, so a depth that
    arrives after its image could never pair again."""
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    glitch = [(a, k, s + 100.0 if 1.0 <= s < 2.0 else s) for a, k, s in stream("d", 30, 0.02, 0.0, 4.0)]
    frames = replay(sync, clock, glitch + stream("i", 30, 0.0, 0.0, 4.0))
    late = [f for f in frames if f.stamp_ns >= 2.6e9]     # well after the clock is right again
    assert late and all(f.depth == f.image for f in late), [(f.image, f.depth) for f in late][:3]


@pytest.mark.parametrize("depth_hz,depth_lat,img_hz,img_lat", [
    (30, 0.0, 30, 0.2),      # colour through debayer + rectify + resize: 200 ms behind depth
    (30, 0.2, 30, 0.0),      # depth through depth_image_proc/register: 200 ms behind colour
    (90, 0.005, 30, 0.06),   # 90 Hz depth, 30 Hz colour 60 ms behind
    (30, 0.0, 6, 0.15),      # a throttled 6 Hz colour topic, 150 ms behind
])
def test_streams_at_other_rates_and_latencies_pair_with_the_exact_depth(depth_hz, depth_lat, img_hz, img_lat):
    """Within depth_timeout (0.5 s) a latency difference is not a lost stream: each image must get the depth
    with its own stamp. The buffers held 4 messages, so a lag over 4 frames (133 ms at 30 Hz, 44 ms at 90 Hz)
    lost the exact depth: frames went 2D-only (blamed on the clocks) or got a neighbour's depth."""
    clock = Clock()
    sync = FrameSync(slop_s=0.02, depth_timeout_s=0.5, clock=clock)
    frames = replay(sync, clock, stream("d", depth_hz, depth_lat, 0.0, 2.0) + stream("i", img_hz, img_lat, 0.0, 2.0))
    with_depth = [f for f in frames if f.depth is not None]
    wrong = [(f.image, f.depth) for f in with_depth if f.depth != f.image]
    assert not wrong, wrong[:3]
    assert len(with_depth) >= int(2.0 * min(img_hz, depth_hz)) - 1
    assert sync.stats.unpaired_depth == 0


def test_a_late_depth_never_makes_an_older_frame_the_latest():
    """Found reviewing the recovery above: an image completed 2D-only keeps waiting for its depth. When that depth
    came after a newer image had completed, the older image completed again and replaced the newer one as the
    latest frame: the node would ground a frame older than the newest it had."""
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    glitch = [(a, k, s + 100.0 if 1.0 <= s < 2.0 else s) for a, k, s in stream("d", 30, 0.02, 0.0, 4.0)]
    events = sorted(glitch + stream("i", 30, 0.0, 0.0, 4.0))
    newest = -1
    for arrival, kind, stamp in events:
        clock.t = arrival
        ns = int(round(stamp * 1e9))
        payload = round(stamp * 1e6)
        frame = sync.add_image(ns, payload) if kind == "i" else sync.add_depth(ns, payload)
        if frame is not None:
            # newer, or the same image again now with its depth
            assert frame.stamp_ns > newest or (frame.stamp_ns == newest and frame.depth == frame.image), (
                arrival, frame.stamp_ns, newest)
            newest = frame.stamp_ns
