"""Approximate time pairing of colour and depth, keeping only the newest complete frame.

Why not a queue: grounding must use the newest frame, and a slow model must never let frames pile up.
So this keeps a small bounded window of recent images and depths to pair by stamp (within `slop`), and a
single slot for the newest complete pair: a newer complete pair replaces it. camera_info is paired by stamp
when one within `slop` of the image is among the last few (a zoom lens, or the randomised sim camera, changes
the intrinsics between frames: the newest info then belonged to another frame and put 3D points cm off);
otherwise the newest is used (intrinsics are static for most cameras, and some drivers stamp them apart).

When depth stops (images keep arriving for `depth_timeout` with no depth among them), images complete on
their own (2D only), so colour keeps flowing; when depth returns, pairing resumes. Silence is measured from
the first image since the last depth, not from the last depth: when both streams pause (a driver hiccup, a
1 Hz camera, the sim camera rendering a new scene), the first image after the pause still waits for the depth
that follows it. The same holds when depth keeps arriving but never pairs for `depth_timeout` (a
misconfigured driver stamping colour and depth apart), measured from the first depth since the last pair:
images complete 2D-only and each such frame's `unpaired_offset_s` says by how much the stamps disagree, so
the node can say why. "Never pairs" needs both streams: it is measured from the later of the first depth and the
first image since the last pair, so depth streaming alone (a driver that starts depth first, a colour pause) is
not mistaken for misstamped depth. An image completed 2D-only that way still waits in the window for its depth,
so pairing resumes by itself when the stamps agree again (it latched: a depth arriving after its image could
never pair again).

When the image stamps jump back (a bag played with `--loop`, a camera whose clock was reset), pairing restarts:
the pending images, depths and stamped infos of the old timeline are dropped (a short bag repeats its stamps
exactly, so they would pair with the new loop's frames), and "never back in time" counts from the jump (it
refused every pair of the new loop, whose stamps are all older than the old loop's last frame).

The windows hold `window` messages per stream (16: 533 ms at 30 Hz, 178 ms at 90 Hz): they must span the
latency difference between the streams (debayer/rectify on colour, registration on depth: 50-300 ms), else
the exact depth has left before its image arrives and a neighbour's depth, or none, is used (it was 4: 133 ms).
It is ROS-free (payloads are opaque) and thread-safe, so the node uses it from its sensor callbacks while
the worker reads `latest()`.

Why not message_filters' ApproximateTimeSynchronizer (present on robots, absent from the wheels): it only
emits complete tuples, so a dead depth stream would silence the 2D results too, and it has no notion of
"newest frame only". The pairing rule itself (nearest stamp within slop) is the same.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Optional, Tuple


@dataclass
class SyncedFrame:
    """A complete frame: image payload, depth payload (None = 2D only), info payload (may be None)."""

    image: Any
    depth: Any
    info: Any
    stamp_ns: int
    received_at: float   # monotonic seconds when it completed
    seq: int             # increases by one per completed frame
    unpaired_offset_s: Optional[float] = None   # 2D-only because depth flowed but never paired: the stamp gap


@dataclass
class SyncStats:
    images: int = 0
    depths: int = 0
    infos: int = 0
    complete: int = 0
    complete_without_depth: int = 0
    sync_failures: int = 0   # images superseded while depth was flowing but no depth matched them
    superseded: int = 0      # complete frames replaced before anyone used them
    unpaired_depth: int = 0  # images completed 2D-only although depth was flowing (stamps never within slop)
    stamp_offset_s: float = 0.0   # |image - newest depth| stamp difference when that last happened
    time_jumps: int = 0      # image stamps went back by more than slop (bag loop, clock reset): pairing restarted
    last_jump_s: float = 0.0   # by how much they went back, the last time


class FrameSync:
    """Pairs images with depth by stamp; `latest()` is the newest complete frame."""

    def __init__(
        self,
        slop_s: float = 0.05,
        window: int = 16,
        depth_timeout_s: float = 0.5,
        clock: Optional[Callable[[], float]] = None,
    ) -> None:
        import time

        self.slop_ns = int(slop_s * 1e9)
        self.depth_timeout_s = depth_timeout_s
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        # pending images: (stamp, payload, already completed 2D-only), oldest first
        self._images: Deque[Tuple[int, Any, bool]] = deque(maxlen=window)
        self._depths: Deque[Tuple[int, Any]] = deque(maxlen=window)
        self._info: Any = None
        self._infos: Deque[Tuple[int, Any]] = deque(maxlen=2 * window)   # (stamp, info), newest last
        self._depth_seen = False
        self._image_wait_since: Optional[float] = None   # arrival of the first image since the last depth
        self._unpaired_since: Optional[float] = None     # arrival of the first depth since the last pair
        self._image_unpaired_since: Optional[float] = None   # arrival of the first image since the last pair
        self._latest: Optional[SyncedFrame] = None
        self._latest_used = True
        self._newest_image_ns: Optional[int] = None      # stamp of the last image (time-jump detection)
        self._completed_ns: Optional[int] = None         # stamp of the newest frame completed since a jump
        self._seq = 0
        self.stats = SyncStats()

    # -- configuration -----------------------------------------------------------------------------
    def set_slop(self, slop_s: float) -> None:
        with self._lock:
            self.slop_ns = int(slop_s * 1e9)

    def reset(self) -> None:
        """Forget everything (on deactivate), so a stale frame is never grounded after re-activation."""
        with self._lock:
            self._images.clear()
            self._depths.clear()
            self._info = None
            self._infos.clear()
            self._depth_seen = False
            self._image_wait_since = None
            self._unpaired_since = None
            self._image_unpaired_since = None
            self._latest = None
            self._latest_used = True
            self._newest_image_ns = None
            self._completed_ns = None

    def resume(self) -> None:
        """After a pause of the sensor subscriptions: forget the old frames and restart the wait for the
        first depth (else the first image would complete 2D-only, depth looking 'stopped'). The camera
        info is kept: it is the same camera, and it may arrive after the first image."""
        with self._lock:
            info = self._info
        self.reset()
        with self._lock:
            self._info = info

    # -- inputs ------------------------------------------------------------------------------------
    def add_info(self, info: Any, stamp_ns: int = 0) -> None:
        with self._lock:
            self.stats.infos += 1
            self._info = info
            self._infos.append((stamp_ns, info))
            # Its frame may have completed first (its image and depth were taken before this info): give it
            # the info stamped for it, unless the frame is already in use.
            latest = self._latest
            if (latest is not None and stamp_ns and not self._latest_used
                    and abs(latest.stamp_ns - stamp_ns) <= self.slop_ns):
                latest.info = info

    def add_image(self, stamp_ns: int, image: Any) -> Optional[SyncedFrame]:
        with self._lock:
            self.stats.images += 1
            self._restart_if_time_jumped_back(stamp_ns)
            now = self._clock()
            if self._image_wait_since is None:
                self._image_wait_since = now
            if self._image_unpaired_since is None:
                self._image_unpaired_since = now
            match = self._pop_match(self._depths, stamp_ns)
            if match is not None:
                return self._complete(stamp_ns, image, match)
            if not self._depth_flowing():
                return self._complete(stamp_ns, image, None)
            frame = None
            if not self._depth_pairing():
                # Depth arrives but has not paired for depth_timeout: stamps out of step. Go 2D-only now, and
                # keep the image waiting too, so that its depth still pairs if the stamps agree again.
                self.stats.unpaired_depth += 1
                if self._depths:   # vs the newest depth: the one the driver sent with (or just before) this image
                    self.stats.stamp_offset_s = abs(self._depths[-1][0] - stamp_ns) / 1e9
                frame = self._complete(stamp_ns, image, None)
                frame.unpaired_offset_s = self.stats.stamp_offset_s
            if len(self._images) == self._images.maxlen and not self._images[0][2]:
                self.stats.sync_failures += 1   # the oldest pending image falls out unmatched (and unused)
            self._images.append((stamp_ns, image, frame is not None))
            return frame

    def add_depth(self, stamp_ns: int, depth: Any) -> Optional[SyncedFrame]:
        with self._lock:
            self.stats.depths += 1
            self._depth_seen = True
            self._image_wait_since = None
            if self._unpaired_since is None:
                self._unpaired_since = self._clock()
            # Pair with the newest pending image within slop; older pending images can no longer win.
            best = self._best_index(self._images, stamp_ns)
            if best is None:
                self._depths.append((stamp_ns, depth))
                return None
            image_stamp, image, _ = self._images[best]
            # pending images older than the matched one can no longer win: those never used are failures
            self.stats.sync_failures += sum(1 for i in range(best) if not self._images[i][2])
            for _ in range(best + 1):
                self._images.popleft()
            if self._completed_ns is not None and image_stamp < self._completed_ns:
                # a newer image has completed since (2D-only): the pair proves the stamps agree again, but
                # the latest frame never goes back in time (the same image completes again, with its depth)
                self._unpaired_since = self._image_wait_since = self._image_unpaired_since = None
                return None
            return self._complete(image_stamp, image, depth)

    # -- output ------------------------------------------------------------------------------------
    def latest(self) -> Optional[SyncedFrame]:
        with self._lock:
            return self._latest

    def take_latest(self) -> Optional[SyncedFrame]:
        """The newest frame, marked as used (so replacing it later does not count as superseded)."""
        with self._lock:
            self._latest_used = True
            return self._latest

    # -- internals (lock held) ---------------------------------------------------------------------
    def _restart_if_time_jumped_back(self, stamp_ns: int) -> None:
        """An image stamped more than slop before the previous image: the timeline restarted. Drop what
        belongs to the old one (stamped after this image) and let the new timeline complete frames."""
        newest, self._newest_image_ns = self._newest_image_ns, stamp_ns
        if newest is None or newest - stamp_ns <= self.slop_ns:
            return
        self.stats.time_jumps += 1
        self.stats.last_jump_s = (newest - stamp_ns) / 1e9
        keep = stamp_ns + self.slop_ns
        for items in (self._images, self._depths, self._infos):
            kept = [item for item in items if item[0] <= keep]   # (payloads may be arrays: no ==)
            items.clear()
            items.extend(kept)
        self._completed_ns = None
        self._unpaired_since = self._image_wait_since = self._image_unpaired_since = None

    def _depth_flowing(self) -> bool:
        """Images have not been arriving for longer than depth_timeout without a depth among them. Before
        any depth this is a grace period counted from the first image, not from construction: the node builds
        this object before configure loads the model (seconds for a real checkpoint), so a clock started then
        had run out before the first image, whose depth follows it, could wait for it."""
        return self._image_wait_since is None or self._clock() - self._image_wait_since < self.depth_timeout_s

    def _depth_pairing(self) -> bool:
        """Depths and images have not both been arriving for longer than depth_timeout without a pair. From the
        later of the two starts: depth alone (colour not started yet, or paused) has nothing to pair with."""
        if self._unpaired_since is None or self._image_unpaired_since is None:
            return True
        since = max(self._unpaired_since, self._image_unpaired_since)
        return self._clock() - since <= self.depth_timeout_s

    def _info_for(self, stamp_ns: int) -> Any:
        """The camera_info stamped closest to the frame within slop, else the newest one."""
        best = self._best_index(self._infos, stamp_ns) if stamp_ns else None
        return self._infos[best][1] if best is not None else self._info

    def _best_index(self, items: Deque[Tuple[int, Any]], stamp_ns: int) -> Optional[int]:
        best, best_dt = None, None
        for i, item in enumerate(items):
            dt = abs(item[0] - stamp_ns)
            if dt <= self.slop_ns and (best_dt is None or dt <= best_dt):
                best, best_dt = i, dt
        return best

    def _pop_match(self, items: Deque[Tuple[int, Any]], stamp_ns: int) -> Any:
        best = self._best_index(items, stamp_ns)
        if best is None:
            return None
        payload = items[best][1]
        del items[best]
        return payload

    def _complete(self, stamp_ns: int, image: Any, depth: Any) -> SyncedFrame:
        self._seq += 1
        frame = SyncedFrame(image, depth, self._info_for(stamp_ns), stamp_ns, self._clock(), self._seq)
        if not self._latest_used:
            self.stats.superseded += 1
        self._latest, self._latest_used = frame, False
        self._completed_ns = stamp_ns
        self.stats.complete += 1
        if depth is None:
            self.stats.complete_without_depth += 1
        else:   # a pair: neither this image nor depth is waiting any more
            self._unpaired_since = self._image_wait_since = self._image_unpaired_since = None
        return frame
