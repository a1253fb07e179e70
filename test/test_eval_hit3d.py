"""The eval's 3D hit: a point of the object's visible surface counts, a centimetre off does not."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from grounding_node.training.eval import HIT3D_MARGIN, hit3d

# a 6 cm cube 0.8 m in front of the camera, turned 30 deg about the optical y axis (optical frame)
_R = np.array([[np.cos(0.5236), 0, np.sin(0.5236)], [0, 1, 0], [-np.sin(0.5236), 0, np.cos(0.5236)]])
_LOCAL = np.array([[x, y, z] for x in (-0.03, 0.03) for y in (-0.03, 0.03) for z in (-0.03, 0.03)])
CENTRE = np.array([0.05, -0.02, 0.8])
CORNERS = _LOCAL @ _R.T + CENTRE
FACE_NORMAL = -_R[:, 2]            # the local -z face, which faces the camera


def _obj(p):
    return SimpleNamespace(has_position=True, position=np.asarray(p, float))


def test_a_point_on_the_camera_facing_face_is_a_hit_even_half_a_millimetre_out():
    on_face = CENTRE + 0.03 * FACE_NORMAL + np.array([0.01, 0.005, 0.0]) @ _R.T
    assert hit3d(_obj(on_face), CORNERS)
    # 1 mm depth quanta put a surface point just outside the exact box: a hit within the tolerance ...
    out_half_mm = on_face + 0.0005 * FACE_NORMAL
    assert hit3d(_obj(out_half_mm), CORNERS) and not hit3d(_obj(out_half_mm), CORNERS, margin=0.0)


def test_centimetres_off_or_no_position_is_a_miss():
    assert HIT3D_MARGIN <= 0.002
    assert not hit3d(_obj(CENTRE + 0.04 * FACE_NORMAL), CORNERS)          # 1 cm in front of the face
    assert not hit3d(_obj(CENTRE + np.array([0.0, 0.0, 0.05])), CORNERS)  # 2 cm behind, along the ray
    assert not hit3d(SimpleNamespace(has_position=False, position=CENTRE), CORNERS)
    assert hit3d(_obj(CENTRE), CORNERS, margin=0.0)
