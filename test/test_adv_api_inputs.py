"""Adversarial review of the ROS-free API, the CLI and the pipeline with inputs as users pass them: empty
images (a segfault inside OpenCV, a ZeroDivisionError), PIL images, HxWx1, floats, files that are not images,
empty prompts, depth that is not HxW or not registered (another aspect), intrinsics of another resolution,
and CLI arguments that gave tracebacks."""

from __future__ import annotations

import numpy as np
import pytest

import synthetic_camera as cam

from grounding_node import cli
from grounding_node.api import Grounder, load_camera_info, load_depth, load_image
from grounding_node.geometry.camera import Intrinsics
from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame, GroundingSettings
from grounding_node.models.base import Detection, GroundingBackend

BACKEND = "pg_test_backends:ColorBackend"
RGB, DEPTH = cam.render()
INTR = Intrinsics(cam.FX, cam.FY, cam.CX, cam.CY, cam.WIDTH, cam.HEIGHT)


class Fixed(GroundingBackend):
    """Answers one box at a known place for every phrase, whatever the image."""

    name = "fixed"

    def load(self):
        pass

    def ground(self, rgb, phrases):
        return [[Detection((256.0, 256.0, 512.0, 512.0), 0.9)] for _ in phrases]


@pytest.fixture(scope="module")
def grounder():
    return Grounder.from_config(backend=BACKEND, score_threshold=0.0)


@pytest.mark.parametrize("shape", [(0, 0, 3), (10, 0, 3), (0, 10, 3)])
def test_an_empty_image_is_refused_before_the_backend(shape):
    """ColorBackend (cv2.connectedComponents) died with a segfault, tabletop with a ZeroDivisionError."""
    with pytest.raises(ValueError, match="empty"):
        load_image(np.zeros(shape, np.uint8))
    with pytest.raises(ValueError, match="empty"):   # the node's path too: never reaches the backend
        ground_frame(Fixed(), Frame(rgb=np.zeros(shape, np.uint8)), ["mug"], GroundingSettings())


def test_pil_and_single_channel_images_are_converted(grounder):
    from PIL import Image

    expected = grounder(source=RGB, prompt="red box").pages[0].objects[0].box_pixels
    got = grounder(source=Image.fromarray(RGB), prompt="red box").pages[0].objects[0].box_pixels
    np.testing.assert_array_equal(got, expected)       # was "cannot read image '<PIL.Image ...>'"
    grey = RGB[:, :, 1]
    np.testing.assert_array_equal(load_image(grey[:, :, None]), np.repeat(grey[:, :, None], 3, axis=2))


@pytest.mark.parametrize("image, hint", [(RGB / 255.0, r"\* 255"), (RGB > 128, "astype"),
                                         (RGB.astype(np.uint16) * 257, ">> 8")])
def test_a_non_uint8_image_is_refused_with_how_to_convert_it(image, hint):
    with pytest.raises(ValueError, match=hint):
        load_image(image)


def test_sources_that_are_not_images_say_what_they_are(tmp_path):
    (tmp_path / "notes.png").write_text("hello")
    with pytest.raises(ValueError, match="not an image format"):
        load_image(tmp_path / "notes.png")
    with pytest.raises(IsADirectoryError, match="folder"):
        load_image(tmp_path)
    with pytest.raises(TypeError, match="int"):
        load_image(5)


def test_a_call_without_phrases_or_images_is_an_error(grounder):
    for prompt in ("", "  ;; \n "):
        with pytest.raises(ValueError, match="no phrases"):     # was an empty result without a word
            grounder(source=RGB, prompt=prompt)
    with pytest.raises(ValueError, match="no images"):
        grounder(source=[], prompt="red box")


def test_depth_must_be_one_value_per_pixel():
    with pytest.raises(ValueError, match="HxW"):       # an XYZ cloud's X was taken as the depth
        load_depth(np.ones((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="HxW"):       # was "not enough values to unpack"
        load_depth(np.ones(10, np.float32))
    depth, encoding = load_depth(np.ones((4, 4, 1), np.uint16))
    assert depth.shape == (4, 4) and encoding == "16UC1"


def test_a_camera_info_file_that_is_not_a_mapping_is_named(tmp_path):
    (tmp_path / "k.yaml").write_text("just some text")
    with pytest.raises(ValueError, match="not a camera calibration"):   # was AttributeError: 'str' .get
        load_camera_info(tmp_path / "k.yaml")


def test_depth_of_another_aspect_gives_no_position(grounder):
    """A transposed depth array (640x480 -> 480x640) gave a confident position 0.12 m off, with no warning."""
    out = grounder(source=RGB, prompt="red box", depth=DEPTH.astype(np.float32).T.copy(), intrinsics=INTR)
    page = out.pages[0]
    assert page.objects and not page.objects[0].has_position
    assert any("another aspect ratio" in w and "2D results only" in w for w in page.warnings), page.warnings
    same = grounder(source=RGB, prompt="red box", depth=DEPTH.astype(np.float32)[::2, ::2].copy(), intrinsics=INTR)
    np.testing.assert_allclose(same.pages[0].objects[0].position, cam.expected_position("red"), atol=0.002)


def test_intrinsics_of_another_size_are_said(grounder):
    wide = Intrinsics(cam.FX * 2, cam.FY * 1.5, cam.CX * 2, cam.CY * 1.5, 1280, 720)
    out = grounder(source=RGB, prompt="red box", depth=DEPTH.astype(np.float32), intrinsics=wide)
    assert any("camera_info is 1280x720 but the image is 640x480" in w and "another aspect" in w
               for w in out.pages[0].warnings), out.pages[0].warnings


# -- CLI: user errors are one line and an exit status, never a traceback ---------------------------------

@pytest.fixture
def rgb_png(tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "rgb.png"), RGB[:, :, ::-1])
    return tmp_path / "rgb.png"


def run_cli(capsys, *args):
    code = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


@pytest.mark.parametrize("case", ["empty prompt", "not an image", "unknown backend", "out-dir is a file",
                                  "bad camera info", "bad remote url"])
def test_cli_user_errors_are_one_line_with_exit_2(case, rgb_png, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    args = {"empty prompt": [rgb_png, "--prompt", " ; "],
            "not an image": [tmp_path / "file", "--prompt", "red box"],
            "unknown backend": [rgb_png, "--prompt", "red box", "--backend", "no_such_backend"],
            "out-dir is a file": [rgb_png, "--prompt", "red box", "--out-dir", tmp_path / "file"],
            "bad camera info": [rgb_png, "--prompt", "red box", "--camera-info", tmp_path / "file"],
            "bad remote url": [rgb_png, "--prompt", "red box", "--backend", "remote", "--options",
                               '{"url": "ftp://x"}']}[case]
    backend = [] if "--backend" in args else ["--backend", BACKEND]
    out_dir = [] if "--out-dir" in args else ["--out-dir", tmp_path / "out"]
    code, lines = run_cli(capsys, *args, *backend, *out_dir)
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    assert not (tmp_path / "out").exists()


def test_cli_refuses_max_objects_below_one(rgb_png, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:      # argparse: exit 2 with its usage line
        cli.main([str(rgb_png), "--prompt", "red box", "--max-objects", "0", "--backend", BACKEND])
    assert info.value.code == 2 and "at least 1" in capsys.readouterr().err


def test_cli_a_server_that_is_down_is_one_line_with_exit_1(rgb_png, tmp_path, capsys):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    code, lines = run_cli(capsys, rgb_png, "--prompt", "red box", "--backend", "remote", "--options",
                          f'{{"url": "http://127.0.0.1:{port}/v1", "retries": 0}}', "--out-dir", tmp_path / "out")
    assert code == 1 and len(lines) == 1 and "cannot connect" in lines[0], lines


def test_cli_writes_into_a_new_nested_out_dir(rgb_png, tmp_path, capsys):
    code, _ = run_cli(capsys, rgb_png, "--prompt", "red box", "--backend", BACKEND, "--out-dir", tmp_path / "a" / "b")
    assert code == 0 and (tmp_path / "a" / "b" / "result.json").is_file()
