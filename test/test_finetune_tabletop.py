"""Issue 12: fine-tuning the tabletop model on a user's dataset (ROS-free).

Vocabulary growth is checked against the embedding it extends, partial labels against hand-made
annotations, and the command end to end (check, split, train, resume, model card, loads as a backend)
on a small capture of the simulator's `wrist` set-up, whose eggs and bottles the shipped model has no word for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from grounding_node.data.format import Grounding, Sample
from grounding_node.finetune import tabletop as T
from grounding_node.finetune.common import default_val_fraction, split_samples
from grounding_node.models.tabletop.backend import DEFAULT_CHECKPOINT, load_model
from grounding_node.sim.expressions import VOCABULARY

REPO = Path(__file__).resolve().parents[1]


def test_wrist_setup_names_objects_the_shipped_model_has_no_word_for():
    from grounding_node.sim.scene import NEW_SHAPES, TabletopSim

    _, cfg = load_model(DEFAULT_CHECKPOINT)
    for word in ("egg", "eggs", "bottle", "bottles"):
        assert word not in cfg.vocab and word not in VOCABULARY
    with TabletopSim(424, 240, camera="wrist") as sim:
        shapes = {o.shape for seed in range(12) for o in sim.new_scene(seed).objects}
    assert set(NEW_SHAPES) <= shapes


def test_new_words_need_two_sightings_and_skip_known_words():
    phrases = ["grab the red egg please", "the egg left of the cube", "the zqx", "all bottles", "the bottles"]
    assert T.new_words(phrases, ["<pad>", "<unk>", "the", "red", "cube"]) == ["bottles", "egg"]


def test_growing_the_vocabulary_keeps_every_known_embedding_and_starts_new_words_at_the_nouns():
    model, cfg = load_model(DEFAULT_CHECKPOINT)
    before = model.word_emb.weight.detach().clone()
    n = len(cfg.vocab)
    added = T.grow_vocabulary(model, cfg, ["egg", "eggs", "cube"])      # cube is known: not added again
    assert added == ["egg", "eggs"] and cfg.vocab[n:] == ["egg", "eggs"] and len(cfg.vocab) == n + 2
    w = model.word_emb.weight.detach()
    assert torch.equal(w[:n], before)
    idx = {v: i for i, v in enumerate(cfg.vocab[:n])}
    nouns = before[[idx[v] for v in ("cube", "cubes", "block", "blocks", "box", "boxes", "ball", "balls")]]
    # near the nouns' mean, far nearer than a random known word is
    assert (w[n] - before[2:n].mean(0)).norm() > 0
    assert (w[n:] - nouns.mean(0)).norm(dim=1).max() < 0.5 * (before[2:n] - nouns.mean(0)).norm(dim=1).mean()
    from grounding_node.models.tabletop.processing import encode_phrases

    ids = encode_phrases(["the egg"], cfg.vocab, cfg.max_words)
    assert cfg.vocab.index("egg") in ids[0].tolist()       # the new word is no longer dropped


def test_an_object_named_by_two_phrases_is_one_candidate(tmp_path):
    import cv2

    img = np.zeros((240, 320, 3), np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    box = [100.0, 200.0, 300.0, 400.0]
    s = Sample("a.png", 320, 240, [Grounding("the egg", [box]), Grounding("all eggs", [box, [600, 600, 700, 700]]),
                                   Grounding("the blue mug", [])])
    (item,) = T.make_items([s], tmp_path, (320, 240))
    assert item.objects.shape == (2, 4)
    assert item.phrases == [("the egg", [0]), ("all eggs", [0, 1]), ("the blue mug", [])]
    cx, cy, w, h = item.objects[0]
    assert np.allclose([cx, cy, w, h], [200 / 1024, 300 / 1024, 200 / 1024, 200 / 1024], atol=1e-6)


def test_training_images_get_the_backends_aspect_aware_input_and_batches_keep_one_size(tmp_path):
    """A 16:9 image trains at 424x240, as the backend grounds it (not letterboxed into 320x240), with the
    box mapped exactly; a mixed-aspect dataset is batched by input size, every item once per epoch."""
    import cv2

    cv2.imwrite(str(tmp_path / "wide.png"), np.zeros((720, 1280, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "four3.png"), np.zeros((480, 640, 3), np.uint8))
    box = [256.0, 512.0, 512.0, 768.0]
    wide = Sample("wide.png", 1280, 720, [Grounding("the egg", [box])])
    four3 = Sample("four3.png", 640, 480, [Grounding("the egg", [box])])
    items = T.make_items([wide, four3, wide, wide, four3], tmp_path, (320, 240))
    assert items[0].rgb.shape == (240, 424, 3) and items[1].rgb.shape == (240, 320, 3)
    # 1280x720 -> 424x238 at y0 = 1 inside 424x240: x unchanged, y squeezed by 238/240 around the bar
    cx, cy, w, h = items[0].objects[0]
    assert np.allclose([cx, w], [384 / 1024, 256 / 1024], atol=1e-6)
    assert np.allclose([cy, h], [(640 / 1024 * 238 + 1) / 240, 256 / 1024 * 238 / 240], atol=1e-6)
    batches = T.size_batches(items, 2, np.random.default_rng(0))
    assert sorted(i for b in batches for i in b) == list(range(5))
    assert all(len({items[i].rgb.shape for i in b}) == 1 and len(b) <= 2 for b in batches)
    assert len(batches) == 3                                  # 3 wide in 2 batches, 2 four3 in 1


def test_validation_split_follows_the_guidance_and_never_splits_an_image():
    assert default_val_fraction(100) == 0.15 and default_val_fraction(201) == 0.2
    samples = [Sample(f"{i}.png", 10, 10, [Grounding("x", [])]) for i in range(40)]
    tr, va = split_samples(samples, 0.15, seed=3)
    assert len(va) == 6 and len(tr) == 34 and not {s.image for s in tr} & {s.image for s in va}
    assert split_samples(samples, 0.15, seed=3) == (tr, va)
    assert split_samples(samples[:1], 0.15) == (samples[:1], [])


def _run(args, tmp_path, timeout=900):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-m", "grounding_node.finetune", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wrist_data(tmp_path_factory):
    from grounding_node.sim.capture import render_dataset

    root = tmp_path_factory.mktemp("wrist")
    # scenes chosen to hold eggs or bottles, so the new words occur in the training phrases
    render_dataset(root, "wrist", (424, 240), range(3_000_000, 3_000_010), progress=False)
    return root


@pytest.mark.timeout(900)
def test_finetune_command_trains_resumes_writes_a_card_and_loads_as_a_backend(wrist_data, tmp_path):
    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend

    out = tmp_path / "model"
    common = ["--backend", "tabletop", "--data", str(wrist_data), "--out", str(out), "--replay", "8",
              "--no-progress", "--batch-size", "4"]
    r = _run(common + ["--epochs", "1"], tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 1 and len(state["history"]) == 1
    r = _run(common + ["--epochs", "3", "--resume"], tmp_path)     # the saved settings win (1 epoch run)
    assert r.returncode == 0, r.stderr[-3000:]
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 1, "resume of a finished run must not train past its schedule"
    cfg = json.loads((out / "finetune_config.json").read_text())
    assert cfg["extra"]["added_words"] and set(cfg["extra"]["added_words"]) <= {"egg", "eggs", "bottle", "bottles"}
    card = (out / "README.md").read_text()
    for needle in ("## Data", "## Settings", "| acc50 |", "before | after", "backend:=tabletop model:="):
        assert needle in card, needle
    backend = create_backend("tabletop", BackendConfig(model=str(out), device="cpu"))
    _, ckpt_cfg = load_model(out / "tabletop.pt")
    assert "egg" in ckpt_cfg.vocab or "bottle" in ckpt_cfg.vocab
    dets = backend.ground(np.zeros((240, 424, 3), np.uint8), ["the egg", "the red cube"])
    assert len(dets) == 2


@pytest.mark.timeout(900)
def test_resume_continues_an_interrupted_run_to_its_schedule(wrist_data, tmp_path):
    out = tmp_path / "model"
    common = ["--backend", "tabletop", "--data", str(wrist_data), "--out", str(out), "--replay", "0",
              "--no-progress", "--batch-size", "4", "--epochs", "3"]
    # --max-minutes 0 stops after the first epoch, as an interruption would
    r = _run(common + ["--max-minutes", "0"], tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((out / "state.json").read_text())["epoch"] == 1
    r = _run(common + ["--resume"], tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 3 and [h["epoch"] for h in state["history"]] == [1, 2, 3]
    spe = json.loads((out / "finetune_config.json").read_text())["extra"]["steps_per_epoch"]
    assert state["step"] == 3 * spe       # no step lost or repeated across the interruption


def test_finetune_on_new_words_learns_them(wrist_data, tmp_path):
    """The point of vocabulary growth: after fine-tuning on phrases naming eggs and bottles, the training
    images' egg/bottle phrases are grounded far better than by the shipped model (which drops the words)."""
    from grounding_node.data.validate import load_dataset
    from grounding_node.finetune.common import FinetuneConfig, RunState

    samples = load_dataset(wrist_data)
    new = [s for s in samples if any(w in g.phrase for g in s.groundings for w in ("egg", "bottle"))]
    assert len(new) >= 4
    subset = [Sample(s.image, s.width, s.height, [g for g in s.groundings if not g.is_negative], s.depth,
                     s.camera_info) for s in new]
    torch.manual_seed(0)
    model, cfg = load_model(DEFAULT_CHECKPOINT)
    only_new = [Sample(s.image, s.width, s.height, [g for g in s.groundings
                                                     if any(w in g.phrase for w in ("egg", "bottle"))])
                for s in subset]
    base = T.phrase_accuracy(T.backend_for(model, cfg), only_new, wrist_data, 0.3)
    fc = FinetuneConfig(backend="tabletop", data=wrist_data, out=tmp_path / "m", method="full", epochs=25,
                        batch_size=4, progress=False, extra={"replay": 0})
    T.train(fc, subset, subset, wrist_data, RunState())
    tuned, tcfg = load_model(tmp_path / "m" / "tabletop.pt")
    after = T.phrase_accuracy(T.backend_for(tuned, tcfg), only_new, wrist_data, 0.3)
    assert after >= 0.9 and after >= base + 0.2, (base, after)


@pytest.mark.timeout(900)
def test_a_hand_written_dataset_checks_trains_and_evaluates_with_no_other_step(tmp_path):
    """Acceptance 7: a dataset written by hand from the README's example (JPEG images in a folder of the
    writer's choosing, an extra key the format does not know, a negative phrase), then the three README
    commands, nothing else."""
    import cv2

    root = tmp_path / "my_data"
    (root / "pics").mkdir(parents=True)
    lines = []
    rng = np.random.default_rng(0)
    for i in range(6):
        img = np.full((360, 640, 3), 200, np.uint8)
        x = int(rng.integers(40, 400))
        cv2.rectangle(img, (x, 120), (x + 120, 220), (0, 0, 220), -1)          # BGR: a red block
        cv2.circle(img, (600 - x // 2, 260), 40, (220, 60, 0), -1)            # a blue disc
        cv2.imwrite(str(root / "pics" / f"shot{i}.jpg"), img)
        red = [x * 1024 / 640, 120 * 1024 / 360, (x + 120) * 1024 / 640, 220 * 1024 / 360]
        lines.append(json.dumps({"image": f"pics/shot{i}.jpg", "width": 640, "height": 360, "operator": "me",
                                 "groundings": [{"phrase": "the red block", "boxes_1024": [red]},
                                                {"phrase": "the green block", "boxes_1024": []}]}))
    (root / "annotations.jsonl").write_text("\n".join(lines) + "\n")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    py = lambda *a: subprocess.run([sys.executable, "-m", *a], cwd=REPO, env=env, capture_output=True,  # noqa: E731
                                   text=True, timeout=600)
    r = py("grounding_node.dataset", "check", str(root))
    assert r.returncode == 0, r.stdout + r.stderr
    r = py("grounding_node.finetune", "--backend", "tabletop", "--data", str(root), "--out", str(tmp_path / "m"),
           "--epochs", "2", "--replay", "0", "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    r = py("grounding_node.eval", "--backend", "tabletop", "--model", str(tmp_path / "m"), "--data", str(root),
           "--report", str(tmp_path / "report.md"), "--no-progress")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "report.md").is_file() and "Acc@0.5" in r.stdout


def test_augmentation_moves_each_box_with_its_pixels():
    rng = np.random.default_rng(1)
    img = np.zeros((240, 320, 3), np.uint8)
    img[100:140, 50:110] = 255
    item = T.Item(img, np.array([[80 / 320, 120 / 240, 60 / 320, 40 / 240]], np.float32), [("the block", [0])])
    for _ in range(5):
        out = T.augment(item, rng)
        ys, xs = np.nonzero(out.rgb[..., 0] > 180)
        cx, cy, w, h = out.objects[0] * np.array([320, 240, 320, 240])
        assert abs(cx - (xs.min() + xs.max() + 1) / 2) < 1.5 and abs(cy - (ys.min() + ys.max() + 1) / 2) < 1.5
        assert abs(w - (xs.max() + 1 - xs.min())) < 2 and abs(h - (ys.max() + 1 - ys.min())) < 2
        assert out.phrases == item.phrases


def test_a_second_run_writing_the_same_out_folder_is_refused_while_the_first_holds_it(wrist_data, tmp_path):
    """Two runs on one --out would interleave checkpoints, state.json and the card. The second is refused
    at once with a clear message; the lock dies with its holder (flock), so a crashed run blocks nothing."""
    import fcntl

    out = tmp_path / "model"
    out.mkdir()
    holder = open(out / ".finetune.lock", "a+")
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)          # a first run in progress
    try:
        r = _run(["--backend", "tabletop", "--data", str(wrist_data), "--out", str(out), "--epochs", "1",
                  "--no-progress"], tmp_path, timeout=300)
    finally:
        holder.close()
    assert r.returncode == 3, (r.returncode, r.stderr[-2000:])
    assert "another fine-tuning run" in r.stderr and str(out) in r.stderr
    assert not (out / "finetune_config.json").exists()           # nothing of the first run was touched


def test_the_run_card_prints_fractions_as_percent_and_losses_and_rates_as_numbers(tmp_path):
    """A loss of 0.35 is not "35.0%", and a learning rate of 1e-4 is not "0.0%"."""
    from grounding_node.finetune.common import FinetuneConfig, RunState, write_card

    state = RunState(epoch=1, step=10, best_epoch=1, best_metric=0.9,
                     history=[{"epoch": 1, "val_loss": 0.35, "lr": 1e-4, "val_ok": 0.9, "seconds": 0.5}])
    cfg = FinetuneConfig(backend="tabletop", data=str(tmp_path), out=str(tmp_path))
    card = write_card(tmp_path, cfg, {}, (1, 1), (1, 1), {"acc50": 0.5, "mean_iou": 0.71},
                      {"acc50": 0.75, "mean_iou": 0.8}, state, 1.0).read_text()
    row = next(line for line in card.splitlines() if line.startswith("| 1 |"))
    cells = dict(zip(["epoch", "lr", "seconds", "val_loss", "val_ok"], [c.strip() for c in row.strip("|").split("|")]))
    assert cells == {"epoch": "1", "lr": "0.0001", "seconds": "0.5", "val_loss": "0.35", "val_ok": "90.0%"}
    assert "| acc50 | 50.0% | 75.0% |" in card and "(validation 90.0%)" in card


def test_augmentation_moves_a_crop_models_larger_frame_with_the_image():
    """A crop model's items keep the image at twice the network input (`Item.frame`); zoom, shift and
    exposure must move it exactly as the network-sized image, or crops would be cut beside the objects."""
    rng = np.random.default_rng(2)
    img = np.zeros((240, 320, 3), np.uint8)
    img[100:140, 50:110] = 255
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[200:280, 100:220] = 255
    item = T.Item(img, np.array([[80 / 320, 120 / 240, 60 / 320, 40 / 240]], np.float32), [("the block", [0])],
                  frame)
    for _ in range(5):
        out = T.augment(item, rng)
        assert out.frame.shape == frame.shape
        cx, cy, w, h = out.objects[0] * np.array([640, 480, 640, 480])
        ys, xs = np.nonzero(out.frame[..., 0] > 180)
        assert abs(cx - (xs.min() + xs.max() + 1) / 2) < 2.5 and abs(cy - (ys.min() + ys.max() + 1) / 2) < 2.5
        assert abs(w - (xs.max() + 1 - xs.min())) < 3 and abs(h - (ys.max() + 1 - ys.min())) < 3
        assert abs(float(out.frame[ys, xs, 0].mean()) - float(out.rgb[out.rgb[..., 0] > 180][:, 0].mean())) < 2
    assert T.augment(T.Item(img, item.objects, item.phrases), rng).frame is None


@pytest.mark.timeout(900)
def test_a_crop_model_fine_tunes_with_crops_from_the_larger_frame_and_replays_with_crops(wrist_data, tmp_path,
                                                                                         monkeypatch):
    from grounding_node.data.validate import load_dataset
    from grounding_node.finetune.common import FinetuneConfig, RunState
    from grounding_node.training.train import save, upgrade

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    samples = [s for s in load_dataset(wrist_data) if s.groundings]
    model, cfg = upgrade(*load_model(DEFAULT_CHECKPOINT), crop_size=16)
    save(model, cfg, tmp_path / "crop.pt", {})
    items = T.make_items(samples[:1], wrist_data, cfg.image_size, crop_source=True)
    assert items[0].frame.shape == (2 * items[0].rgb.shape[0], 2 * items[0].rgb.shape[1], 3)
    fc = FinetuneConfig(backend="tabletop", data=wrist_data, out=tmp_path / "m", model=str(tmp_path / "crop.pt"),
                        method="full", epochs=1, batch_size=4, progress=False, extra={"replay": 2})
    T.train(fc, samples[:4], samples[4:6], wrist_data, RunState())
    assert (tmp_path / "cache" / "grounding_node" / "crops_train_0-2_640x480.pkl").is_file()
    tuned, tcfg = load_model(tmp_path / "m" / "last.pt")
    assert tcfg.crop_size == 16
    assert tuned.crop_proj.weight.abs().sum() > 0   # the crop path trained (it starts at zero)


def test_replay_crop_frames_of_a_seed_with_another_layout_fall_back_to_the_scene_itself(tmp_path, monkeypatch):
    """Replay scene 17 settles on another layout at 640x480 than at 320x240 (as about 2 % of seeds do):
    its crops must come from its own frame, like in training; scene 16's from the 640x480 frame."""
    from grounding_node.training.data import render_samples

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    replay = render_samples(range(18), 320, 240, per_scene=0, progress=False)
    frames = T.replay_frames(replay, progress=False)
    assert len(frames) == 18
    assert frames[16].shape == (480, 640, 3)
    assert frames[17] is replay[17].rgb


# -- the command's input checks and resume (tiny data: each test takes seconds) ---------------------------
def _tiny_dataset(root: Path, n: int = 3) -> Path:
    """`n` 128x96 images, each with a red block named "the red egg" (a new word) and a negative phrase."""
    import cv2

    (root / "images").mkdir(parents=True)
    lines = []
    for i in range(n):
        img = np.full((96, 128, 3), 90, np.uint8)
        img[20:60, 10 + i * 10:50 + i * 10] = (40, 40, 220)                       # BGR: red
        cv2.imwrite(str(root / f"images/{i}.png"), img)
        x0 = (10 + i * 10) / 128 * 1024
        box = [x0, 20 / 96 * 1024, x0 + 40 / 128 * 1024, 60 / 96 * 1024]
        lines.append(json.dumps({"image": f"images/{i}.png", "width": 128, "height": 96, "groundings": [
            {"phrase": "the red egg", "boxes_1024": [box]}, {"phrase": "the blue ball", "boxes_1024": []}]}))
    (root / "annotations.jsonl").write_text("\n".join(lines) + "\n")
    return root


def _finetune(argv, capsys):
    """`python -m grounding_node.finetune ARGV` in this process: (exit code, stderr)."""
    from grounding_node.finetune.cli import main

    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:       # argparse
        code = exc.code
    return code, capsys.readouterr().err


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return _tiny_dataset(tmp_path / "data")


@pytest.mark.timeout(300)
def test_an_interrupted_and_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tiny, tmp_path, capsys):
    """--resume continues the same run: epoch 2 sees the batches and augmentation it would have seen
    without the interruption, so the final weights are the uninterrupted run's."""
    common = ["--backend", "tabletop", "--data", tiny, "--replay", "0", "--no-progress", "--batch-size", "1",
              "--epochs", "2", "--seed", "3", "--val-split", "0.34"]
    assert _finetune(common + ["--out", tmp_path / "straight"], capsys)[0] == 0
    assert _finetune(common + ["--out", tmp_path / "cut", "--max-minutes", "0"], capsys)[0] == 0
    assert json.loads((tmp_path / "cut" / "state.json").read_text())["epoch"] == 1
    assert _finetune(common + ["--out", tmp_path / "cut", "--resume"], capsys)[0] == 0
    straight = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)["state_dict"]
    resumed = torch.load(tmp_path / "cut" / "last.pt", weights_only=True)["state_dict"]
    assert straight.keys() == resumed.keys()
    for k in straight:
        assert torch.allclose(straight[k].float(), resumed[k].float(), atol=1e-6, rtol=0), k
    losses = lambda out: [h["train_loss"] for h in json.loads((out / "state.json").read_text())["history"]]  # noqa
    assert np.allclose(losses(tmp_path / "straight"), losses(tmp_path / "cut"), atol=1e-6)


@pytest.mark.parametrize("args, option", [
    (["--epochs", "0"], "--epochs"), (["--batch-size", "-3"], "--batch-size"), (["--lr", "-1"], "--lr"),
    (["--lr", "0"], "--lr"), (["--val-split", "1.5"], "--val-split"), (["--val-split", "-0.1"], "--val-split"),
    (["--threads", "0"], "--threads"), (["--max-minutes", "-1"], "--max-minutes"), (["--replay", "-1"], "--replay"),
])
def test_bad_numbers_are_refused_by_the_parser_before_anything_is_written(args, option, tiny, tmp_path, capsys):
    out = tmp_path / "m"
    code, err = _finetune(["--backend", "tabletop", "--data", tiny, "--out", out, *args], capsys)
    assert code == 2 and option in err and "Traceback" not in err, err
    assert not out.exists()


def _one_line_error(code: int, err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    for n in needles:
        assert n in lines[0], (n, err)


def test_a_missing_dataset_is_a_one_line_error(tmp_path, capsys):
    out = tmp_path / "m"
    code, err = _finetune(["--backend", "tabletop", "--data", tmp_path / "nope", "--out", out], capsys)
    _one_line_error(code, err, "annotations.jsonl")
    assert not out.exists()


def test_a_split_that_leaves_no_training_image_is_refused_before_the_output_is_written(tiny, tmp_path, capsys):
    out = tmp_path / "m"
    code, err = _finetune(["--backend", "tabletop", "--data", tiny, "--out", out, "--val-split", "0.9",
                           "--replay", "0"], capsys)
    _one_line_error(code, err, "--val-split", "no training image")
    assert not out.exists()          # the before-metrics were written first, then the run failed


def test_an_output_folder_under_a_regular_file_is_a_one_line_error(tiny, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, err = _finetune(["--backend", "tabletop", "--data", tiny, "--out", tmp_path / "file" / "m"], capsys)
    _one_line_error(code, err, "--out", str(tmp_path / "file"))
    code, err = _finetune(["--backend", "tabletop", "--data", tiny, "--out", tmp_path / "file"], capsys)
    _one_line_error(code, err, "--out")
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.timeout(300)
def test_without_a_validation_split_the_card_says_the_metrics_are_on_the_training_images(tiny, tmp_path, capsys):
    out = tmp_path / "m"
    code, err = _finetune(["--backend", "tabletop", "--data", tiny, "--out", out, "--val-split", "0",
                           "--epochs", "1", "--replay", "0", "--no-progress"], capsys)
    assert code == 0, err
    card = (out / "README.md").read_text()
    assert "one image only" not in card
    assert "no validation split (--val-split 0): metrics on the 3 training images" in card
    assert "## Metrics on the training images" in card and "## Validation metrics" not in card


@pytest.mark.parametrize("n_train,n_val,fraction,note", [
    (3, 0, 0.0, "no validation split (--val-split 0): metrics on the 3 training images"),
    (1, 0, 0.15, "one image only: validated on the training image"),
    (3, 0, 0.15, "--val-split 0.15 of 3 images gives no validation image: metrics on the training images"),
])
def test_the_card_says_what_the_metrics_were_measured_on(n_train, n_val, fraction, note):
    """Without a validation image the card said "one image only" whatever the count (three images at the
    default share of 0.15 have none either)."""
    from grounding_node.finetune.cli import validation_notes

    assert validation_notes(n_train, n_val, fraction) == [note]
    assert validation_notes(n_train, 1, fraction) == []
