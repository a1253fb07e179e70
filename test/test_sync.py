"""Colour/depth pairing and the newest-frame slot (ROS-free)."""

from grounding_node.ros.sync import FrameSync

MS = 1_000_000


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_pairs_by_stamp_within_slop_in_either_arrival_order():
    clock = Clock()
    sync = FrameSync(slop_s=0.01, clock=clock)
    sync.add_info("K")
    assert sync.add_depth(100 * MS, "d1") is None          # depth first, no image yet
    frame = sync.add_image(105 * MS, "i1")                 # within 10 ms
    assert frame is not None and (frame.image, frame.depth, frame.info) == ("i1", "d1", "K")
    clock.t = 0.01
    assert sync.add_image(200 * MS, "i2") is None          # depth flowing: wait for its depth
    frame = sync.add_depth(202 * MS, "d2")
    assert (frame.image, frame.depth, frame.stamp_ns) == ("i2", "d2", 200 * MS)
    assert sync.latest() is frame


def test_out_of_slop_depth_does_not_pair():
    clock = Clock()
    sync = FrameSync(slop_s=0.01, clock=clock)
    sync.add_depth(100 * MS, "d")
    assert sync.add_image(150 * MS, "i") is None


def test_images_complete_without_depth_when_depth_stops_and_pair_again_when_it_returns():
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    sync.add_depth(0, "d0")
    sync.add_image(0, "i0")
    frames = []
    for i in range(1, 31):                                 # colour goes on at 30 Hz, depth is silent for 1 s
        clock.t = i / 30
        frames.append(sync.add_image(i * 33 * MS, f"i{i}"))
    done = [f for f in frames if f is not None]
    assert done and all(f.depth is None for f in done)
    assert done[0].received_at > 1 / 30 + 0.5 - 1e-9       # depth_timeout after the first image without depth
    assert sync.stats.complete_without_depth == len(done)
    clock.t = 1.1
    sync.add_depth(1100 * MS, "d2")                        # depth is back
    assert sync.add_image(1100 * MS, "i2").depth == "d2"


def test_newest_complete_frame_replaces_older_and_counts_superseded():
    sync = FrameSync(slop_s=0.01, clock=Clock())
    for i in range(5):
        sync.add_depth(i * 100 * MS, f"d{i}")
        sync.add_image(i * 100 * MS, f"i{i}")
    assert sync.latest().image == "i4" and sync.latest().seq == 5
    assert sync.stats.superseded == 4                      # nobody took frames 1..4
    assert sync.take_latest().image == "i4"
    sync.add_depth(500 * MS, "d5")
    sync.add_image(500 * MS, "i5")
    assert sync.stats.superseded == 4                      # the taken one does not count


def test_pending_window_is_bounded_and_counts_sync_failures():
    clock = Clock()
    sync = FrameSync(slop_s=0.001, window=3, clock=clock)
    sync.add_depth(0, "d")                                 # depth is flowing, but never matches
    for i in range(1, 10):
        sync.add_image(i * 100 * MS, f"i{i}")
    assert len(sync._images) == 3
    assert sync.stats.sync_failures == 6


def test_zero_stamps_still_pair_and_reset_forgets():
    sync = FrameSync(slop_s=0.01, clock=Clock())
    sync.add_depth(0, "d")
    assert sync.add_image(0, "i").depth == "d"
    sync.reset()
    assert sync.latest() is None


def test_first_images_wait_for_the_first_depth_then_degrade_after_the_grace_period():
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    assert sync.add_image(0, "i0") is None                 # depth not seen yet, but within the grace period
    assert sync.add_depth(1 * MS, "d0").image == "i0"      # ... and it pairs when depth comes
    other = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    clock.t = 1.0                                          # a camera without depth: its first image waits...
    assert other.add_image(1000 * MS, "i") is None
    clock.t = 1.6                                          # ... and images go 2D-only after the grace period
    assert other.add_image(1600 * MS, "j").depth is None


def test_grace_for_the_first_depth_starts_at_the_first_image_not_at_construction():
    """The node builds its FrameSync before configure loads the model (seconds for a real checkpoint) and
    subscribes only on activate. A grace period counted from construction had expired by then, so the first
    frames completed 2D-only and the first command after start-up got no 3D position (colcon CI, Grounding DINO)."""
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    clock.t = 8.0                                          # the model loaded; the subscriptions start now
    assert sync.add_image(8000 * MS, "i0") is None         # the first image waits for its depth
    frame = sync.add_depth(8000 * MS, "d0")
    assert frame is not None and (frame.image, frame.depth) == ("i0", "d0")
    assert sync.stats.complete_without_depth == 0


def test_resume_after_a_pause_waits_for_depth_again_and_keeps_the_camera_info():
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    sync.add_info("K")
    assert sync.add_depth(0, "d0") is None and sync.add_image(0, "i0").depth == "d0"
    clock.t = 10.0                                         # paused for 10 s: an image waits for its depth
    assert sync.add_image(10_000 * MS, "stale") is None
    sync.resume()                                          # resumed: old frames forgotten, grace restarts
    assert sync.add_image(10_100 * MS, "i1") is None
    frame = sync.add_depth(10_100 * MS, "d1")
    assert frame.image == "i1" and frame.depth == "d1" and frame.info == "K"


def test_depth_stamped_apart_completes_2d_after_depth_timeout_and_reports_the_gap():
    """A driver stamping depth 1 s after colour used to give no frame at all ("no camera frames yet")."""
    clock = Clock()
    sync = FrameSync(slop_s=0.05, depth_timeout_s=0.5, clock=clock)
    frames = []
    for i in range(40):                       # 30 Hz for 1.3 s, depth stamped +1 s
        clock.t = i / 30.0
        stamp = int(i / 30.0 * 1e9)
        sync.add_depth(stamp + 1_000_000_000, f"d{i}")
        frame = sync.add_image(stamp, f"i{i}")
        if frame is not None:
            frames.append(frame)
    assert frames, "no frame completed"
    assert all(f.depth is None for f in frames)
    assert abs(frames[-1].unpaired_offset_s - 1.0) < 1e-6
    assert frames[0].received_at > 0.5 - 1e-9       # only after depth_timeout without a pair
    assert sync.stats.unpaired_depth == len(frames)


def test_depth_that_stops_is_not_reported_as_unpaired():
    clock = Clock()
    sync = FrameSync(slop_s=0.05, depth_timeout_s=0.3, clock=clock)
    for i in range(10):
        clock.t = i / 30.0
        sync.add_depth(int(i / 30.0 * 1e9), f"d{i}")
        assert sync.add_image(int(i / 30.0 * 1e9), f"i{i}").depth == f"d{i}"
    frames = []
    for i in range(10, 60):                         # colour goes on, depth has stopped
        clock.t = i / 30.0
        frames.append(sync.add_image(int(i / 30.0 * 1e9), f"late{i}"))
    done = [f for f in frames if f is not None]
    assert done and all(f.depth is None and f.unpaired_offset_s is None for f in done)
    assert sync.stats.unpaired_depth == 0


def test_camera_info_is_paired_by_stamp_when_intrinsics_change_between_frames():
    """A camera whose intrinsics change per frame (zoom, the randomised sim camera): the newest info may
    belong to the next frame; the frame must get the info with its own stamp."""
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.0, clock=clock)
    clock.t = 1.0                                             # no depth stream: frames complete on the image
    sync.add_info("K1", 1_000_000_000)
    sync.add_info("K2", 2_000_000_000)          # arrives before frame 1 completes
    assert sync.add_image(1_000_000_000, "i1").info == "K1"
    assert sync.add_image(2_000_000_000, "i2").info == "K2"
    assert sync.add_image(3_000_000_000, "i3").info == "K2"   # none within slop: the newest
    sync.add_info("K0", 0)                                    # an unstamped info is still used as the newest
    assert sync.add_image(4_000_000_000, "i4").info == "K0"


def test_info_arriving_just_after_its_frame_completed_is_attached_to_it():
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.0, clock=clock)
    clock.t = 1.0
    sync.add_info("K_old", 1_000_000_000)
    frame = sync.add_image(2_000_000_000, "i2")          # completes before its own info arrived
    assert frame.info == "K_old"
    sync.add_info("K_new", 2_000_000_000)
    assert sync.latest().info == "K_new"
    taken = sync.take_latest()
    sync.add_info("K_later", 2_000_000_000)             # once in use, a frame is never changed under the worker
    assert taken.info == "K_new"


def test_first_image_after_a_pause_of_both_streams_waits_for_its_depth():
    """A camera that pauses (a driver hiccup, or the sim camera rendering a new 1280x720 scene for 0.9 s)
    resumes with an image whose depth follows milliseconds later. Depth was not 'stopped': both streams
    paused. That image used to complete 2D-only at once, and a command taking it got no 3D positions
    (test_sim_integration at 1280x720 lost a whole scene's 3D hits that way)."""
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    for i in range(5):                                   # 30 Hz, depth after colour
        clock.t = i / 30
        assert sync.add_image(i * 33 * MS, f"i{i}") is None
        assert sync.add_depth(i * 33 * MS, f"d{i}").depth == f"d{i}"
    clock.t = 1.5                                        # both silent for ~1.4 s
    assert sync.add_image(1500 * MS, "after") is None    # waits for its depth ...
    clock.t = 1.51
    frame = sync.add_depth(1500 * MS, "d_after")          # ... which pairs with it
    assert (frame.image, frame.depth) == ("after", "d_after")
    assert sync.stats.complete_without_depth == 0 and sync.stats.unpaired_depth == 0


def test_a_low_rate_camera_pairs_every_frame():
    """1 Hz colour and depth (a low-rate or throttled camera): depth is always more than depth_timeout old
    when the next image arrives, but it is not stopped."""
    clock = Clock()
    sync = FrameSync(slop_s=0.01, depth_timeout_s=0.5, clock=clock)
    for i in range(4):
        clock.t = float(i)
        assert sync.add_image(i * 1000 * MS, f"i{i}") is None
        clock.t = i + 0.02
        assert sync.add_depth(i * 1000 * MS, f"d{i}").depth == f"d{i}"
    assert sync.stats.complete_without_depth == 0
