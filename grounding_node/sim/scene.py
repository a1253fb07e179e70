"""A MuJoCo tabletop with 2-10 objects, rendered offscreen as RGB, depth and segmentation.

Camera domains (`camera=`): "classic" (the first model's training camera: 3-7 objects, two fixed sizes,
distance 0.62-0.8 m, pitch 45-65 deg down, yaw +-18 deg, no roll, the sim's fovy), "random" (domain
randomisation over what tabletop robots see: distance 0.35-1.3 m, pitch from 20 deg down to straight
down, yaw +-45 deg, roll +-10 deg, fovy 40-90 deg, light intensity/direction/colour, table colours and
textures, continuous object sizes, 2-10 objects, partial occlusion), "train" ("random" with the
held-out bands `OOD_BANDS` removed), "ood" (every camera parameter drawn from those bands) and "wrist"
(a set-up the default model never saw, for fine-tuning: a top-down wrist camera at 0.3-0.5 m, 2-6
objects, and two object kinds the default model has no word for, `NEW_SHAPES`: eggs and bottles).

One model is compiled once with a pool of geoms (every shape in every slot); a new scene only moves the
slots' mocap bodies, hides the shapes not used (geom group 3 is not rendered) and sets sizes, colours, the
table colour, the light and the camera. One `mujoco.Renderer` is reused. Seeded: the same seed gives the
same scene. Ground truth (3D boxes in the camera's optical frame, 2D boxes on the 0-1024 grid from the
segmentation render, visible pixel counts) comes with every render.

Frames: world z up, table top at z = 0. The camera's optical frame is REP 103 (+x right, +y down,
+z forward); MuJoCo cameras look along their local -z with +y up, converted explicitly below.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

os.environ.setdefault("MUJOCO_GL", "osmesa")

from grounding_node.geometry.camera import intrinsics_from_fovy  # noqa: E402

SHAPES = ("cube", "box", "can", "ball", "mug")
# Object kinds only the "wrist" set-up draws (the default model was never trained on them or their names).
NEW_SHAPES = ("egg", "bottle")
ALL_SHAPES = SHAPES + NEW_SHAPES
COLORS: Dict[str, Tuple[float, float, float]] = {
    "red": (0.85, 0.08, 0.08),
    "green": (0.08, 0.62, 0.12),
    "blue": (0.08, 0.2, 0.9),
    "yellow": (0.95, 0.85, 0.05),
    "orange": (1.0, 0.45, 0.02),
    "purple": (0.5, 0.12, 0.7),
    "white": (0.95, 0.95, 0.95),
    "black": (0.06, 0.06, 0.06),
}
TABLE_COLORS = ((0.55, 0.42, 0.3), (0.5, 0.5, 0.52), (0.72, 0.66, 0.55), (0.33, 0.36, 0.4), (0.6, 0.55, 0.45))
SIZES = ("small", "large")
# Half-extents (x, y, z) of each shape's bounding box, per size class (large is 1.5-1.7x small).
HALF_EXTENTS: Dict[Tuple[str, str], Tuple[float, float, float]] = {
    ("cube", "small"): (0.02, 0.02, 0.02), ("cube", "large"): (0.033, 0.033, 0.033),
    ("box", "small"): (0.04, 0.016, 0.016), ("box", "large"): (0.065, 0.026, 0.026),
    ("can", "small"): (0.02, 0.02, 0.03), ("can", "large"): (0.032, 0.032, 0.05),
    ("ball", "small"): (0.021, 0.021, 0.021), ("ball", "large"): (0.035, 0.035, 0.035),
    ("mug", "small"): (0.024, 0.024, 0.027), ("mug", "large"): (0.037, 0.037, 0.042),
    # lying on the table, long axis along x
    ("egg", "small"): (0.028, 0.02, 0.02), ("egg", "large"): (0.045, 0.032, 0.032),
    ("bottle", "small"): (0.055, 0.018, 0.018), ("bottle", "large"): (0.085, 0.028, 0.028),
}
MAX_OBJECTS = 10
HIDDEN_GROUP = 3
CAMERA_DOMAINS = ("classic", "random", "train", "ood", "wrist")
# Domain-randomisation ranges (camera: metres / degrees) and the bands held out of training ("ood").
DR_RANGES = {"distance": (0.35, 1.3), "pitch": (20.0, 90.0), "yaw": (-45.0, 45.0), "roll": (-10.0, 10.0),
             "fovy": (40.0, 90.0)}
OOD_BANDS = {"distance": ((0.56, 0.64), (1.02, 1.10)), "pitch": ((48.0, 54.0), (78.0, 84.0)),
             "yaw": ((-34.0, -28.0), (28.0, 34.0)), "roll": ((-8.0, -6.5), (6.5, 8.0)),
             "fovy": ((52.0, 57.0), (74.0, 78.0))}
# The "wrist" set-up: a camera on the gripper looking straight down (within 10 deg), turned with the wrist.
WRIST_RANGES = {"distance": (0.3, 0.5), "pitch": (80.0, 90.0), "yaw": (-90.0, 90.0), "roll": (-5.0, 5.0),
                "fovy": (42.0, 60.0)}
# continuous size factors on the small half-extents: two classes with a gap, so "small"/"large" stay true
SIZE_SCALE = {"small": (0.6, 1.15), "large": (1.45, 2.3)}
TABLE_HALF = (0.42, 0.3)


@dataclass
class SceneObject:
    index: int
    shape: str
    color: str
    size: str
    rgb: tuple
    center_cam: np.ndarray       # (3,) true 3D centre, optical frame, metres
    extent_cam: np.ndarray       # (3,) axis-aligned extent of the true 3D box in the optical frame
    corners_cam: np.ndarray      # (8, 3) corners of the oriented 3D box in the optical frame
    box_1024: np.ndarray         # (4,) from the segmentation render (visible pixels)
    visible_pixels: int
    center_world: np.ndarray     # (3,) world frame
    yaw: float = 0.0
    footprint: float = 0.0       # radius of the object's footprint on the table (m)
    half_extents: tuple = (0.0, 0.0, 0.0)   # of the shape's bounding box before yaw (x, y, z), metres


@dataclass
class RenderedScene:
    seed: int
    rgb: np.ndarray              # (H, W, 3) uint8
    depth: np.ndarray            # (H, W) float32 metres along the optical axis; 0 where nothing was hit
    seg: np.ndarray              # (H, W) int32 object index, -1 for table/background
    K: np.ndarray                # (3, 3)
    objects: List[SceneObject] = field(default_factory=list)
    shapes: Tuple[str, ...] = SHAPES   # the object kinds this set-up draws from (phrases may name any of them)
    camera_pose_world: np.ndarray = field(default_factory=lambda: np.eye(4))   # optical frame -> world
    camera: dict = field(default_factory=dict)   # the sampled camera (distance, pitch/elevation, yaw, fovy, ...)

    def depth_16uc1(self) -> np.ndarray:
        """uint16 millimetres with 0 = invalid (REP 118)."""
        mm = np.round(np.nan_to_num(self.depth, nan=0.0, posinf=0.0) * 1000.0)
        return np.clip(mm, 0, 65535).astype(np.uint16)


def _model_xml() -> str:
    slots = []
    for i in range(MAX_OBJECTS):
        geoms = [
            f'<geom name="s{i}_cube" type="box" size="0.02 0.02 0.02"/>',
            f'<geom name="s{i}_box" type="box" size="0.04 0.016 0.016"/>',
            f'<geom name="s{i}_can" type="cylinder" size="0.02 0.03"/>',
            f'<geom name="s{i}_ball" type="sphere" size="0.02"/>',
            f'<geom name="s{i}_mug" type="cylinder" size="0.024 0.027"/>',
            f'<geom name="s{i}_handle" type="box" size="0.006 0.004 0.012"/>',
            f'<geom name="s{i}_egg" type="ellipsoid" size="0.028 0.02 0.02"/>',
            f'<geom name="s{i}_bottle" type="capsule" size="0.018 0.037" quat="0.7071068 0 0.7071068 0"/>',
        ]
        slots.append(f'<body name="slot{i}" mocap="true" pos="0 0 -1">{"".join(geoms)}</body>')
    return f"""
<mujoco model="tabletop">
  <visual><global offwidth="1920" offheight="1200" fovy="58"/><map znear="0.02" zfar="20"/>
    <headlight ambient="0.35 0.35 0.35" diffuse="0.45 0.45 0.45" specular="0.05 0.05 0.05"/></visual>
  <asset>
    <texture name="t_checker" type="2d" builtin="checker" rgb1="1 1 1" rgb2="0.75 0.75 0.75" width="256" height="256"/>
    <texture name="t_grain" type="2d" builtin="gradient" rgb1="1 1 1" rgb2="0.7 0.7 0.7" width="256" height="256"/>
    <texture name="t_speckle" type="2d" builtin="flat" rgb1="1 1 1" mark="random" random="0.25"
             markrgb="0.6 0.6 0.6" width="256" height="256"/>
    <material name="m_checker" texture="t_checker" texrepeat="6 6"/>
    <material name="m_grain" texture="t_grain" texrepeat="1 4"/>
    <material name="m_speckle" texture="t_speckle" texrepeat="3 3"/>
  </asset>
  <worldbody>
    <camera name="cam" pos="0 -0.6 0.6" xyaxes="1 0 0 0 0.7 0.7" fovy="58"/>
    <light name="key" pos="0.3 -0.4 1.5" dir="-0.2 0.25 -1" diffuse="0.6 0.6 0.6" castshadow="false"/>
    <geom name="floor" type="plane" size="5 5 0.1" pos="0 0 -0.75" rgba="0.25 0.25 0.27 1"/>
    <geom name="table" type="box" size="{TABLE_HALF[0]} {TABLE_HALF[1]} 0.02" pos="0 0 -0.02" rgba="0.55 0.42 0.3 1"/>
    {"".join(slots)}
  </worldbody>
</mujoco>"""


def _yaw_matrix(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


class TabletopSim:
    """Renders seeded random tabletop scenes; reuse one instance (model and renderer are built once)."""

    def __init__(self, width: int = 640, height: int = 480, fovy_deg: float = 58.0, camera: str = "classic") -> None:
        import mujoco

        if camera not in CAMERA_DOMAINS:
            raise ValueError(f"camera must be one of {CAMERA_DOMAINS}, not {camera!r}")
        self._mj = mujoco
        self.domain = camera
        self.width, self.height, self.fovy = int(width), int(height), float(fovy_deg)
        self.model = mujoco.MjModel.from_xml_string(_model_xml())
        self.model.vis.global_.fovy = self.fovy
        self.data = mujoco.MjData(self.model)
        self.renderer = mujoco.Renderer(self.model, self.height, self.width)
        # Segmentation gets its own context without multisampling. Why: resolving a multisampled buffer
        # blends the ID colours of neighbouring geoms on some drivers (NVIDIA's EGL; Mesa's does not), and a
        # blend decodes to another geom's id, so stray pixels stretch other objects' boxes across the image.
        # The context reads `offsamples` once, when it is made; the colour renderer keeps its antialiasing.
        samples = self.model.vis.quality.offsamples
        self.model.vis.quality.offsamples = 0
        self._seg_renderer = mujoco.Renderer(self.model, self.height, self.width)
        self.model.vis.quality.offsamples = samples
        self.option = mujoco.MjvOption()
        self.option.geomgroup[HIDDEN_GROUP] = 0
        self.camera = mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FREE
        gid = lambda n: mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_GEOM, n)  # noqa: E731
        self._geom = {(i, s): gid(f"s{i}_{s}") for i in range(MAX_OBJECTS) for s in ALL_SHAPES + ("handle",)}
        self._table = gid("table")
        self._light = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_LIGHT, "key")
        self._floor = gid("floor")
        self._cam_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, "cam")
        self._materials = [-1] + [mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_MATERIAL, n)
                                  for n in ("m_checker", "m_grain", "m_speckle")]
        self._geom_slot = np.full(self.model.ngeom, -1, np.int64)
        for (i, _), g in self._geom.items():
            self._geom_slot[g] = i
            # The compiler marks geoms at their body's origin as "same frame" and kinematics then ignores
            # geom_pos; these geoms get their offsets per scene, so the flag must be off.
            self.model.geom_sameframe[g] = 0
        self.intrinsics = intrinsics_from_fovy(self.fovy, self.width, self.height)

    # -- context manager / cleanup --------------------------------------------------------------------
    def close(self) -> None:
        for name in ("renderer", "_seg_renderer"):
            if getattr(self, name, None) is not None:
                getattr(self, name).close()
                setattr(self, name, None)

    def __enter__(self) -> "TabletopSim":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- scenes ---------------------------------------------------------------------------------------
    def new_scene(self, seed: int, n_objects: Optional[int] = None) -> RenderedScene:
        """Sample and render the scene of `seed` (resampling layouts until every object is clearly visible)."""
        rng = np.random.default_rng(seed)
        min_px = 150 * (self.width * self.height) / (640 * 480)
        for _ in range(50):
            spec = self._sample(rng, n_objects)
            scene = self._render(seed, spec)
            if all(o.visible_pixels >= min_px for o in scene.objects) and not self._touches_border(scene):
                return scene
        return scene

    def _sample(self, rng: np.random.Generator, n_objects: Optional[int]) -> dict:
        if self.domain != "classic":
            return self._sample_random(rng, n_objects)
        n = int(n_objects) if n_objects else int(rng.integers(3, 8))
        objects = []
        placed: List[Tuple[float, float, float]] = []
        attempts = 0
        while len(objects) < n and attempts < 2000:
            attempts += 1
            shape = SHAPES[int(rng.integers(len(SHAPES)))]
            size = SIZES[int(rng.integers(2))]
            color = list(COLORS)[int(rng.integers(len(COLORS)))]
            hx, hy, hz = HALF_EXTENTS[(shape, size)]
            radius = math.hypot(hx, hy) + (0.012 if shape == "mug" else 0.0)
            x = float(rng.uniform(-0.24, 0.24))
            y = float(rng.uniform(-0.14, 0.14))
            if any(math.hypot(x - px, y - py) < radius + pr + 0.03 for px, py, pr in placed):
                continue
            placed.append((x, y, radius))
            objects.append(dict(shape=shape, size=size, color=color, x=x, y=y,
                                yaw=float(rng.uniform(-math.pi, math.pi)), radius=radius, half=(hx, hy, hz)))
        table = TABLE_COLORS[int(rng.integers(len(TABLE_COLORS)))]
        camera = dict(distance=float(rng.uniform(0.62, 0.8)), elevation=float(rng.uniform(-65, -45)),
                      azimuth=float(90 + rng.uniform(-18, 18)),
                      lookat=(float(rng.uniform(-0.03, 0.03)), float(rng.uniform(-0.03, 0.03)), 0.02))
        light = dict(diffuse=float(rng.uniform(0.4, 0.8)),
                     pos=(float(rng.uniform(-0.5, 0.5)), float(rng.uniform(-0.6, 0.2)), float(rng.uniform(1.0, 2.0))))
        return dict(objects=objects, table=table, camera=camera, light=light)

    def _camera_param(self, rng: np.random.Generator, name: str) -> float:
        if self.domain == "wrist":
            return float(rng.uniform(*WRIST_RANGES[name]))
        lo, hi = DR_RANGES[name]
        bands = OOD_BANDS[name]
        if self.domain == "ood":
            a, b = bands[int(rng.integers(len(bands)))]
            return float(rng.uniform(a, b))
        while True:
            v = float(rng.uniform(lo, hi))
            if self.domain == "random" or not any(a <= v <= b for a, b in bands):
                return v

    def _sample_random(self, rng: np.random.Generator, n_objects: Optional[int]) -> dict:
        cam = {k: self._camera_param(rng, k) for k in ("distance", "pitch", "yaw", "roll", "fovy")}
        lookat = (float(rng.uniform(-0.06, 0.06)), float(rng.uniform(-0.05, 0.05)), 0.02)
        # objects where the camera looks: the footprint of the view's vertical half-angle (aspect-free, so
        # the same seed gives the same scene at 4:3 and 16:9), within the table
        half = 0.8 * cam["distance"] * math.tan(math.radians(cam["fovy"]) / 2.0)
        sx = float(np.clip(1.2 * half, 0.07, TABLE_HALF[0] - 0.06))
        sy = float(np.clip(half, 0.06, TABLE_HALF[1] - 0.06))
        mx, my = TABLE_HALF[0] - 0.06 - sx, TABLE_HALF[1] - 0.06 - sy    # room left for the centre
        cx = float(np.clip(lookat[0], -mx, mx)) if mx > 0 else 0.0
        cy = float(np.clip(lookat[1], -my, my)) if my > 0 else 0.0
        scale_room = float(np.clip(half / 0.25, 0.45, 1.0))   # close cameras see few, smaller objects
        shapes = ALL_SHAPES if self.domain == "wrist" else SHAPES
        n_max = 6 if self.domain == "wrist" else MAX_OBJECTS    # a close wrist view holds a handful
        n = int(n_objects) if n_objects else int(rng.integers(2, n_max + 1))
        gap = float(rng.uniform(-0.004, 0.02))    # small or no gaps: neighbours partly occlude each other
        objects, placed, attempts = [], [], 0
        while len(objects) < n and attempts < 400:
            attempts += 1
            shape = shapes[int(rng.integers(len(shapes)))]
            size = SIZES[int(rng.integers(2))]
            color = list(COLORS)[int(rng.integers(len(COLORS)))]
            f = float(rng.uniform(*SIZE_SCALE[size])) * (scale_room if size == "large" else max(scale_room, 0.85))
            bx, by, bz = HALF_EXTENTS[(shape, "small")]
            hx, hy, hz = bx * f, by * f, bz * f
            radius = math.hypot(hx, hy) + (0.6 * hx if shape == "mug" else 0.0)
            x = cx + float(rng.uniform(-sx, sx))
            y = cy + float(rng.uniform(-sy, sy))
            if any(math.hypot(x - px, y - py) < radius + pr + gap for px, py, pr in placed):
                continue
            placed.append((x, y, radius))
            objects.append(dict(shape=shape, size=size, color=color, x=x, y=y, handle=0.25 * hx,
                                yaw=float(rng.uniform(-math.pi, math.pi)), radius=radius, half=(hx, hy, hz)))
        base = float(rng.uniform(0.2, 0.8))
        table = tuple(float(np.clip(base + rng.uniform(-0.12, 0.12), 0.05, 0.95)) for _ in range(3))
        tint = tuple(float(rng.uniform(0.75, 1.0)) for _ in range(3))
        intensity = float(rng.uniform(0.25, 0.9))
        light = dict(diffuse=intensity, color=tint, ambient=float(rng.uniform(0.15, 0.5)),
                     pos=(float(rng.uniform(-0.8, 0.8)), float(rng.uniform(-0.8, 0.8)), float(rng.uniform(0.6, 2.0))))
        return dict(objects=objects, table=table, material=int(rng.integers(len(self._materials))),
                    floor=tuple(float(rng.uniform(0.1, 0.5)) for _ in range(3)),
                    camera=dict(cam, lookat=lookat), light=light)

    def _set_fixed_camera(self, cam: dict) -> None:
        """Pose the model's fixed camera: look at `lookat` from `distance`, `pitch` degrees below the
        horizon, `yaw` degrees about the vertical (0 = looking along +y), `roll` degrees about the view axis."""
        m = self.model
        pitch, yaw, roll = (math.radians(cam[k]) for k in ("pitch", "yaw", "roll"))
        az = math.pi / 2 + yaw
        fwd = np.array([math.cos(pitch) * math.cos(az), math.cos(pitch) * math.sin(az), -math.sin(pitch)])
        right = np.array([math.sin(az), -math.cos(az), 0.0])
        up = np.cross(right, fwd)
        c, s_ = math.cos(roll), math.sin(roll)
        right, up = c * right + s_ * up, -s_ * right + c * up
        pos = np.asarray(cam["lookat"], np.float64) - cam["distance"] * fwd
        mat = np.stack([right, up, -fwd], axis=1)       # columns: camera x, y, z in world
        quat = np.zeros(4)
        self._mj.mju_mat2Quat(quat, mat.flatten())
        m.cam_pos[self._cam_id] = pos
        m.cam_quat[self._cam_id] = quat
        m.cam_fovy[self._cam_id] = cam["fovy"]

    def _apply(self, spec: dict) -> None:
        m, d = self.model, self.data
        for g in self._geom.values():
            m.geom_group[g] = HIDDEN_GROUP
        for i in range(MAX_OBJECTS):
            d.mocap_pos[i] = (0.0, 0.0, -1.0)
        for i, o in enumerate(spec["objects"]):
            hx, hy, hz = o["half"]
            d.mocap_pos[i] = (o["x"], o["y"], 0.0)
            half = o["yaw"] / 2.0
            d.mocap_quat[i] = (math.cos(half), 0.0, 0.0, math.sin(half))
            rgba = (*COLORS[o["color"]], 1.0)
            g = self._geom[(i, o["shape"])]
            m.geom_group[g] = 0
            m.geom_rgba[g] = rgba
            m.geom_pos[g] = (0.0, 0.0, hz)
            if o["shape"] in ("cube", "box"):
                m.geom_size[g] = (hx, hy, hz)
            elif o["shape"] == "ball":
                m.geom_size[g] = (hx, 0.0, 0.0)
            elif o["shape"] == "egg":       # ellipsoid semi-axes
                m.geom_size[g] = (hx, hy, hz)
            elif o["shape"] == "bottle":    # capsule lying along x (quat in the model): radius, half-length
                m.geom_size[g] = (hz, max(hx - hz, 1e-3), 0.0)
            else:   # can, mug: cylinder radius, half-height
                m.geom_size[g] = (hx, hz, 0.0)
            m.geom_rbound[g] = math.sqrt(hx * hx + hy * hy + hz * hz)
            if o["shape"] == "mug":
                h = self._geom[(i, "handle")]
                m.geom_group[h] = 0
                m.geom_rgba[h] = rgba
                hs = (o.get("handle", 0.006), 0.2 * hx + 0.002, 0.45 * hz)
                m.geom_size[h] = hs
                m.geom_pos[h] = (hx + hs[0], 0.0, hz)
                m.geom_rbound[h] = math.sqrt(sum(v * v for v in hs))
        m.geom_rgba[self._table] = (*spec["table"], 1.0)
        m.geom_matid[self._table] = self._materials[spec.get("material", 0)]
        m.geom_rgba[self._floor] = (*spec.get("floor", (0.25, 0.25, 0.27)), 1.0)
        light = spec["light"]
        m.light_diffuse[self._light] = np.array(light.get("color", (1.0, 1.0, 1.0))) * light["diffuse"]
        m.light_pos[self._light] = light["pos"]
        direction = -np.asarray(light["pos"], np.float64)
        m.light_dir[self._light] = direction / np.linalg.norm(direction) if "color" in light else (-0.2, 0.25, -1)
        m.vis.headlight.ambient[:] = (light.get("ambient", 0.35),) * 3
        cam = spec["camera"]
        if "pitch" in cam:
            self._set_fixed_camera(cam)
            self.camera.type = self._mj.mjtCamera.mjCAMERA_FIXED
            self.camera.fixedcamid = self._cam_id
        else:
            self.camera.type = self._mj.mjtCamera.mjCAMERA_FREE
            self.camera.distance, self.camera.elevation, self.camera.azimuth = (cam["distance"], cam["elevation"],
                                                                                cam["azimuth"])
            self.camera.lookat[:] = cam["lookat"]
            self.model.vis.global_.fovy = self.fovy
        self._mj.mj_forward(m, d)

    def _camera_pose(self) -> np.ndarray:
        """optical frame -> world, from the GL camera MuJoCo used (looks along forward, +up is image up)."""
        cams = self.renderer.scene.camera
        pos = np.mean([np.array(c.pos) for c in cams], axis=0)
        forward = np.array(cams[0].forward, dtype=np.float64)
        up = np.array(cams[0].up, dtype=np.float64)
        z = forward / np.linalg.norm(forward)
        y = -up / np.linalg.norm(up)
        x = np.cross(y, z)
        T = np.eye(4)
        T[:3, 0], T[:3, 1], T[:3, 2], T[:3, 3] = x, y, z, pos
        return T

    def _render(self, seed: int, spec: dict) -> RenderedScene:
        self._apply(spec)
        r = self.renderer
        r.update_scene(self.data, self.camera, self.option)
        rgb = r.render().copy()
        r.enable_depth_rendering()
        depth = r.render().astype(np.float32)
        r.disable_depth_rendering()
        sr = self._seg_renderer
        sr.update_scene(self.data, self.camera, self.option)
        sr.enable_segmentation_rendering()
        seg_raw = sr.render()
        sr.disable_segmentation_rendering()
        geom_ids = seg_raw[..., 0].astype(np.int64)
        is_geom = seg_raw[..., 1] == int(self._mj.mjtObj.mjOBJ_GEOM)
        seg = np.where(is_geom & (geom_ids >= 0), self._geom_slot[np.clip(geom_ids, 0, None)], -1).astype(np.int32)
        depth[(depth <= 0) | ~np.isfinite(depth) | (depth > 19.0)] = 0.0
        T = self._camera_pose()
        world_to_cam = np.linalg.inv(T)
        objects = []
        counts = np.bincount(seg[seg >= 0].ravel(), minlength=MAX_OBJECTS)
        for i, o in enumerate(spec["objects"]):
            hx, hy, hz = o["half"]
            handle = 2 * o.get("handle", 0.006) if o["shape"] == "mug" else 0.0
            # the oriented box in the object frame (the mug's handle extends +x)
            lo = np.array([-hx, -hy, 0.0])
            hi = np.array([hx + handle, hy, 2 * hz])
            corners_obj = np.array([[a, b, c] for a in (lo[0], hi[0]) for b in (lo[1], hi[1]) for c in (lo[2], hi[2])])
            R = _yaw_matrix(o["yaw"])
            corners_world = corners_obj @ R.T + np.array([o["x"], o["y"], 0.0])
            corners_cam = corners_world @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
            center_world = corners_world.mean(axis=0)
            ys, xs = np.nonzero(seg == i)
            if xs.size:
                box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float64)
                box_1024 = box * 1024.0 / np.array([self.width, self.height, self.width, self.height])
            else:
                box_1024 = np.zeros(4)
            objects.append(SceneObject(
                index=i, shape=o["shape"], color=o["color"], size=o["size"], rgb=COLORS[o["color"]],
                center_cam=corners_cam.mean(axis=0), extent_cam=corners_cam.max(axis=0) - corners_cam.min(axis=0),
                corners_cam=corners_cam, box_1024=box_1024, visible_pixels=int(counts[i]),
                center_world=center_world, yaw=o["yaw"], footprint=o["radius"], half_extents=tuple(o["half"])))
        fovy = spec["camera"].get("fovy", self.fovy)
        K = intrinsics_from_fovy(fovy, self.width, self.height).K
        return RenderedScene(seed=seed, rgb=rgb, depth=depth, seg=seg, K=K, objects=objects,
                             camera_pose_world=T, camera=dict(spec["camera"], fovy=fovy),
                             shapes=ALL_SHAPES if self.domain == "wrist" else SHAPES)

    def _touches_border(self, scene: RenderedScene) -> bool:
        edge = np.concatenate([scene.seg[0], scene.seg[-1], scene.seg[:, 0], scene.seg[:, -1]])
        return bool((edge >= 0).any())
