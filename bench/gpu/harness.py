"""Issue 13's GPU check: the ROS-free tests on CUDA, the tabletop model and real-size random-weight models,
timed end to end through the product's backends. Run it through `scripts/gpu_check.sh` (see
docs/bench/gpu-check.md); `--smoke --device cpu` runs every code path here at tiny sizes.

Timing: `backend.ground(rgb_1280x720, phrases)` for 1 and 8 phrases, warm-up excluded, median of N
(fewer for slow cases, never below 3), `torch.cuda.synchronize()` around each call. Generative families are
forced (a logits processor, as in test/test_hf_backends.py) to answer exactly one box per phrase, so random
weights do the same decode work as real ones.

Variants (what the product would select with backend options; see OPTION_CHANGES for what each needs):
  eager          attn_implementation="eager"
  sdpa           attn_implementation="sdpa" (today's default: load_model passes nothing, transformers picks sdpa)
  compile        detectors: model.forward = torch.compile(...)
  static_compile generative: sdpa + generation_config.cache_implementation="static"; on CUDA transformers then
                 compiles the decode step (CUDA graphs, "reduce-overhead"); on CPU: static cache only
  rows           generative, one prompt per phrase, all phrases batched as rows of one generate()
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for _p in (REPO, REPO / "test", HERE):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from configs import MODELS, ORDER  # noqa: E402

from build import PHRASES, build  # noqa: E402

W, H = 1280, 720

# The product changes each optimisation needs (grounding_node/models/ is owned elsewhere: the harness applies
# them from outside). Reported in gpu.md.
OPTION_CHANGES = {
    "eager": "hf.load_model: pass attn_implementation=extra['attn_implementation'] to from_pretrained",
    "sdpa": "none (transformers' default when the class supports it); explicit via the same option",
    "compile": "detector backends: after load, if extra['compile']: self.model.forward = torch.compile(...)",
    "static_compile": "GenerativeBackend.load: if extra['cache_implementation']: "
                      "self.model.generation_config.cache_implementation = it (and compile_config); "
                      "compilation itself is transformers' auto-compile of the decode step on CUDA",
    "rows": "PaliGemma/Qwen2.5-VL ground(): option to prompt one phrase per row and batch the rows "
            "(left padding), instead of one prompt listing every phrase",
}


# -- random weights through the product's own loading path -------------------------------------------

_INJECT: dict = {}


@contextlib.contextmanager
def random_weights(device: str, attn: str | None = None):
    """While active, `<ModelClass>.from_pretrained(folder, dtype=...)` builds the model from the folder's
    config with random weights directly on `device` (and the folder's generation_config), instead of
    reading weights. Everything else in the backends' load() is untouched."""
    import torch
    from transformers import AutoConfig, GenerationConfig
    from transformers.modeling_utils import PreTrainedModel

    original = PreTrainedModel.__dict__["from_pretrained"]

    def fake(cls, name, *args, dtype=None, config=None, **kwargs):
        cfg = config if config is not None and not isinstance(config, str) else AutoConfig.from_pretrained(name)
        extra = {"attn_implementation": attn} if attn else {}
        torch.manual_seed(0)
        with torch.device(device):
            model = cls._from_config(cfg, dtype=dtype or torch.float32, **extra)
        if os.path.exists(os.path.join(name, "generation_config.json")):
            model.generation_config = GenerationConfig.from_pretrained(name)
        _INJECT["attn"] = getattr(model.config, "_attn_implementation", None)
        return model.eval()

    PreTrainedModel.from_pretrained = classmethod(fake)
    try:
        yield
    finally:
        PreTrainedModel.from_pretrained = original


# -- forced answers -------------------------------------------------------------------------------------

def force_rows_processor():
    import torch
    from transformers import LogitsProcessor

    class ForceRows(LogitsProcessor):
        """Row b may only emit targets[b][step] (its last token once done): a fixed-length answer."""

        def __init__(self, targets):
            self.targets = [list(t) for t in targets]
            self.start = None
            self.table = None

        def __call__(self, input_ids, scores):
            if self.start is None:
                self.start = input_ids.shape[1]
                longest = max(len(t) for t in self.targets)
                rows = [t + [t[-1]] * (longest - len(t)) for t in self.targets]
                self.table = torch.tensor(rows, device=scores.device)
            step = min(input_ids.shape[1] - self.start, self.table.shape[1] - 1)
            forced = torch.full_like(scores, float("-inf"))
            forced.scatter_(1, self.table[: scores.shape[0], step: step + 1], 0.0)
            return forced

    return ForceRows


def _boxes(i: int):
    return (100 + 60 * i, 150 + 40 * i, 300 + 60 * i, 400 + 30 * i)


def answers(family: str, backend, phrases, rows: bool):
    """Token targets, one list per generate() row, each ending in the end token."""
    tok = backend.tokenizer
    enc = lambda s: tok(s, add_special_tokens=False).input_ids  # noqa: E731
    if family == "florence2":
        return [[tok.bos_token_id] + enc(p + "".join(f"<loc_{v}>" for v in _boxes(i))) + [tok.eos_token_id]
                for i, p in enumerate(phrases)]
    if family == "paligemma":
        items = ["".join(f"<loc{v:04d}>" for v in _boxes(i)) + " " + p for i, p in enumerate(phrases)]
        if rows:
            return [enc(it) + [tok.eos_token_id] for it in items]
        return [enc(" ; ".join(items)) + [tok.eos_token_id]]
    if family == "qwen2_5_vl":
        end = tok.convert_tokens_to_ids("<|im_end|>")
        items = ['\t{"bbox_2d": [%d, %d, %d, %d], "label": "%s"}' % (*_boxes(i), p) for i, p in enumerate(phrases)]
        wrap = lambda xs: "```json\n[\n" + ",\n".join(xs) + "\n]\n```"  # noqa: E731
        if rows:
            return [enc(wrap([it])) + [end] for it in items]
        return [enc(wrap(items)) + [end]]
    raise ValueError(family)


def ground_rows(family: str, backend, rgb, phrases):
    """The `rows` variant's ground(): one prompt per phrase (the family's own prompt), all phrases batched
    as rows of one generate() with left padding; decode/parse/score are the product's."""
    from grounding_node.models.hf import detections_from_text, to_pil

    image = to_pil(rgb)
    fam = backend.family
    backend.tokenizer.padding_side = "left"
    prompts = [fam.prompt([p]) for p in phrases]
    if family == "paligemma":
        inputs = backend.processor(text=["<image>" + p for p in prompts], images=[image] * len(prompts),
                                   return_tensors="pt", padding=True)
        inputs.pop("labels", None)
    else:
        texts = [backend.processor.apply_chat_template(
            [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": p}]}],
            add_generation_prompt=True, tokenize=False) for p in prompts]
        inputs = backend.processor(text=texts, images=[image] * len(texts), return_tensors="pt", padding=True)
    size = backend.answer_input_size(inputs)
    result = [[] for _ in phrases]
    for i, gen in enumerate(backend.generate(inputs)):
        detections_from_text(gen, backend.tokenizer, fam, phrases, [i], result, size)
    return result


# -- timing ---------------------------------------------------------------------------------------------

def _sync(device: str):
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def time_case(fn, device: str, repeats: int, warmup: int, case_budget_s: float):
    """Warm-up calls (compilation happens there), then timed calls: N = repeats, fewer (>= 3) when one call
    is slow enough that N would overrun `case_budget_s`."""
    t0 = time.perf_counter()
    for _ in range(warmup):
        fn()
    _sync(device)
    warm_s = time.perf_counter() - t0
    times = []
    n = repeats
    while len(times) < n:
        _sync(device)
        t = time.perf_counter()
        result = fn()
        _sync(device)
        times.append((time.perf_counter() - t) * 1000.0)
        if len(times) == 1:
            n = max(min(repeats, 3), min(repeats, int(case_budget_s * 1000.0 / max(times[0], 1e-3))))
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times), "n": len(times),
            "warmup_s": round(warm_s, 2), "detections": sum(len(d) for d in result)}, result


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


def env_info(device: str) -> dict:
    import torch
    import transformers

    info = {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            "device": device, "host": platform.node(), "cpu_count": os.cpu_count()}
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
        try:
            info["torchvision"] = __import__("torchvision").__version__
        except ImportError:
            info["torchvision"] = None
    else:
        info["gpu"] = None
    return info


# -- part 1: the ROS-free tests -------------------------------------------------------------------------

# Files that need MuJoCo (the simulator), or a dependency the device image lacks: ignored there (found by the
# first H100 run, 393 tests: 11 errors for mujoco, 5 for rapidocr, 1 collection error for mcap_ros2).
SIM_TESTS = ["test/test_sim.py", "test/test_tabletop_backend.py", "test/test_training_smoke.py",
             "test/test_sim_random.py", "test/test_eval_data.py", "test/test_finetune_tabletop.py"]
OPTIONAL = {"rapidocr_onnxruntime": ["test/test_ocr_backend.py"], "mcap_ros2": ["test/test_dataset_bag.py"]}


def run_tests(args, out_dir: Path, deadline: Deadline) -> dict:
    import importlib.util
    import xml.etree.ElementTree as ET

    cmd = [sys.executable, "-m", "pytest", "--no-ros", "--device", args.device, "--dtype", args.dtype,
           "-q", "-p", "no:cacheprovider", "-o", "addopts=-ra", f"--junitxml={out_dir / 'pytest.xml'}"]
    ignored = []
    if importlib.util.find_spec("mujoco") is None:   # the sim renders with MuJoCo: not on the device image
        ignored = list(SIM_TESTS)
    for module, files in OPTIONAL.items():
        if importlib.util.find_spec(module) is None:
            ignored += files
    cmd += [f"--ignore={p}" for p in ignored]
    if args.smoke:   # the whole selection is collected; a few backend tests run
        cmd += ["test/test_hf_backends.py", "-k", "florence2 and loads"]
    if importlib.util.find_spec("pytest_timeout") is not None:
        cmd += ["--timeout", "120"]
    cmd += args.pytest_args
    limit = max(30.0, min(args.tests_budget_s, deadline.left() - 200.0))
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "test"), os.environ.get("PYTHONPATH", "")]))
    t0 = time.perf_counter()
    log = out_dir / "pytest.log"
    try:
        with open(log, "w") as fh:
            rc = subprocess.run(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=limit).returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    result = {"cmd": " ".join(cmd), "rc": rc, "seconds": round(time.perf_counter() - t0, 1),
              "ignored_no_mujoco": ignored, "limit_s": round(limit)}
    try:
        root = ET.parse(out_dir / "pytest.xml").getroot()
        suite = root if root.tag == "testsuite" else root.find("testsuite")
        result.update({k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")})
        result["failed"] = [f"{c.get('classname')}::{c.get('name')}" for c in suite.iter("testcase")
                            if c.find("failure") is not None or c.find("error") is not None][:40]
    except (OSError, ET.ParseError, AttributeError):
        result["tests"] = None
    tail = log.read_text(errors="replace").splitlines()[-15:] if log.exists() else []
    result["tail"] = tail
    print(f"[tests] rc={rc} in {result['seconds']} s: {result.get('tests')} tests, "
          f"{result.get('failures')} failures, {result.get('errors')} errors", flush=True)
    return result


# -- part 2: tabletop --------------------------------------------------------------------------------

def run_tabletop(args, rgb) -> dict:
    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend

    t0 = time.perf_counter()
    backend = create_backend("tabletop", BackendConfig(device=args.device, dtype=args.dtype))
    res = {"load_s": round(time.perf_counter() - t0, 2), "device": str(getattr(backend, "device", args.device)),
           "cases": {}}
    phrases = ["the red cube", "the blue ball", "the green cylinder", "the yellow cube", "the red ball",
               "the blue cube", "the leftmost object", "the object closest to the camera"]
    for n in args.counts:
        stats, _ = time_case(lambda n=n: backend.ground(rgb, phrases[:n]), args.device, args.repeats, args.warmup,
                             5.0)
        res["cases"][n] = stats
        print(f"[tabletop] {n} phrase(s): {stats['median_ms']:.2f} ms", flush=True)
    backend.close()
    return res


# -- part 3: real-size models ------------------------------------------------------------------------

def variants_for(family: str, model_cls, device: str, wanted) -> list:
    if family in ("grounding_dino", "owlv2"):
        names = ["eager", "sdpa", "compile"]
    else:
        names = ["eager", "sdpa", "static_compile"] + (["rows"] if family in ("paligemma", "qwen2_5_vl") else [])
    return [v for v in names if not wanted or v in wanted]


def _model_class(backend_name: str, folder: str):
    import transformers
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(folder)
    name = cfg.architectures[0] if getattr(cfg, "architectures", None) else None
    if name is None:
        name = {"grounding-dino": "GroundingDinoForObjectDetection", "owlv2": "Owlv2ForObjectDetection",
                "florence2": "Florence2ForConditionalGeneration",
                "paligemma": "PaliGemmaForConditionalGeneration",
                "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration"}.get(cfg.model_type)
    return getattr(transformers, name) if name else None


def _case_fn(family: str, variant: str, backend, rgb, phrases):
    """The timed call for one case, with the forced answers (None for the detectors). The closures bind this
    call's backend and phrases (not the caller's loop variables)."""
    if family in ("grounding_dino", "owlv2"):
        return (lambda: backend.ground(rgb, phrases)), None
    targets = answers(family, backend, phrases, rows=(variant == "rows"))
    backend.logits_processors = [force_rows_processor()(targets)]
    backend.max_new_tokens = max(len(t) for t in targets) + 2

    def fn():   # the processor keeps its start step: a new one per call
        backend.logits_processors = [force_rows_processor()(targets)]
        if variant == "rows":
            return ground_rows(family, backend, rgb, phrases)
        return backend.ground(rgb, phrases)
    return fn, targets


def run_model(name: str, args, rgb, deadline: Deadline, work: Path) -> dict:
    import torch

    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend

    family, backend_name, _fig, goals = MODELS[name]
    res = {"family": family, "backend": backend_name, "goals": {str(k): v for k, v in goals.items()}, "variants": {}}
    t0 = time.perf_counter()
    folder = build(name, work / name, smoke=args.smoke)
    res["build_s"] = round(time.perf_counter() - t0, 2)
    cls = _model_class(backend_name, folder)
    supports_sdpa = bool(getattr(cls, "_supports_sdpa", False))
    on_cuda = args.device.startswith("cuda")
    for variant in variants_for(family, cls, args.device, args.variants):
        need = (args.compile_min_s if variant in ("compile", "static_compile") and on_cuda else args.variant_min_s)
        if deadline.left() < need:
            res["variants"][variant] = {"skipped": f"time: {deadline.left():.0f} s left < {need:.0f} s"}
            print(f"[{name}] {variant}: skipped (time)", flush=True)
            continue
        if variant == "sdpa" and not supports_sdpa:
            res["variants"][variant] = {"skipped": f"{cls.__name__} does not support SDPA"}
            continue
        # eager / sdpa explicit; the other variants get what the product gets today (transformers' default)
        attn = variant if variant in ("eager", "sdpa") else None
        entry = {"attn_requested": attn, "cases": {}}
        backend = fn = None
        try:
            if on_cuda:
                torch.cuda.reset_peak_memory_stats()
            t1 = time.perf_counter()
            config = BackendConfig(model=folder, device=args.device, dtype=args.dtype,
                                   extra={"candidate_threshold": 0.05, "max_new_tokens": 64})
            with random_weights(args.device, attn):
                backend = create_backend(backend_name, config)
            entry["load_s"] = round(time.perf_counter() - t1, 2)
            entry["attn"] = _INJECT.get("attn")
            entry["params_m"] = round(sum(p.numel() for p in backend.model.parameters()) / 1e6, 1)
            entry["image_processor"] = type(getattr(backend.processor, "image_processor", None)).__name__
            if variant == "compile":
                if on_cuda:
                    backend.model.forward = torch.compile(backend.model.forward, mode=args.compile_mode)
                    entry["compile_mode"] = args.compile_mode
                else:
                    entry["note"] = "no torch.compile on CPU (smoke): eager path timed"
            if variant == "static_compile":
                backend.model.generation_config.cache_implementation = "static"
                entry["note"] = "static cache; transformers compiles the decode step on CUDA" if on_cuda else \
                    "static cache only (transformers auto-compiles on CUDA alone)"
            for n in args.counts:
                fn, targets = _case_fn(family, variant, backend, rgb, PHRASES[:n])
                if targets is not None:
                    entry.setdefault("answer_tokens", {})[n] = [len(t) for t in targets]
                stats, out = time_case(fn, args.device, args.repeats,
                                       args.warmup + (1 if "compile" in variant and on_cuda else 0),
                                       args.case_budget_s)
                if family not in ("grounding_dino", "owlv2"):
                    stats["phrases_with_a_box"] = sum(1 for d in out if d)
                entry["cases"][n] = stats
                print(f"[{name}] {variant} {n} phrase(s): {stats['median_ms']:.1f} ms (n={stats['n']}, "
                      f"warm-up {stats['warmup_s']} s)", flush=True)
            if on_cuda:
                entry["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        except Exception as exc:  # one failing variant must not lose the others' figures
            if variant == "sdpa" and "does not support an attention implementation" in str(exc):
                entry["skipped"] = f"SDPA unsupported: {str(exc)[:90]}"
            entry["error"] = f"{type(exc).__name__}: {exc}"[:600]
            entry["traceback"] = traceback.format_exc()[-2000:]
            print(f"[{name}] {variant}: ERROR {entry['error']}", flush=True)
        finally:
            if backend is not None:
                backend.close()
            del backend, fn   # fn holds the backend: both go before the next variant loads
            gc.collect()
            if on_cuda:
                torch.cuda.empty_cache()
            with contextlib.suppress(Exception):
                torch._dynamo.reset()
        res["variants"][variant] = entry
    return res


# -- report -------------------------------------------------------------------------------------------

def _fmt(case) -> str:
    return f"{case['median_ms']:.1f}" if case else "-"


def verdicts(name: str, res: dict, many: int = 8) -> list:
    """(goal text, measured, verdict) with the best variant that ran (goals for 8 phrases apply to `many`)."""
    goals = {(many if k == 8 else k): v for k, v in MODELS[name][3].items()}
    ran = {v: e for v, e in res["variants"].items() if e.get("cases")}
    if not goals or not ran:
        return []
    rows = []

    def best(n):
        options = [(e["cases"][n]["median_ms"], v) for v, e in ran.items() if n in e["cases"]]
        return min(options) if options else (None, None)

    for key, goal in goals.items():
        if key == "ratio8":
            ratios = [(e["cases"][many]["median_ms"] / e["cases"][1]["median_ms"], v) for v, e in ran.items()
                      if 1 in e["cases"] and many in e["cases"]]
            if ratios:
                r, v = min(ratios)
                rows.append((f"{many} phrases <= {goal:g}x one phrase", f"{r:.2f}x ({v})",
                             "met" if r <= goal else "missed"))
        else:
            ms, v = best(key)
            if ms is not None:
                rows.append((f"{key} phrase(s) <= {goal:g} ms", f"{ms:.1f} ms ({v})",
                             "met" if ms <= goal else "missed"))
    return rows


def render_md(report: dict) -> str:
    env = report["env"]
    many = report["counts"][-1]
    lines = [f"# GPU check ({'SMOKE, not a measurement' if report['smoke'] else 'issue 13'})", "",
             f"Written by `scripts/gpu_check.sh` on {report['date']}. Device: **{env.get('gpu') or env['device']}**; "
             f"torch {env['torch']}, transformers {env['transformers']}, Python {env['python']}, "
             f"torchvision {env.get('torchvision')}; dtype {report['dtype']}; input {W}x{H} RGB. "
             f"Total {report['total_s']:.0f} s.", "",
             "Times are end-to-end `ground()` (processor on the CPU, model, decode, parse), median of n after "
             "warm-up, `torch.cuda.synchronize()` around each call. Real-size models have RANDOM weights built "
             "from the published config.json figures (bench/gpu/configs.py); generative families are forced to "
             "answer one box per phrase.", ""]
    t = report.get("tests")
    if t:
        lines += ["## 1. ROS-free tests on the device", "",
                  f"`{t['cmd']}`", "",
                  f"rc {t['rc']}, {t.get('tests')} tests, {t.get('failures')} failures, {t.get('errors')} errors, "
                  f"{t.get('skipped')} skipped, {t['seconds']} s. Not run for want of MuJoCo: "
                  f"{', '.join(t['ignored_no_mujoco']) or 'none'}.", ""]
        if t.get("failed"):
            lines += ["Failed:", ""] + [f"- `{f}`" for f in t["failed"]] + [""]
    tt = report.get("tabletop")
    if tt:
        lines += ["## 2. Tabletop model", "", "| phrases | ground() ms (median, min-max) | n |", "|---|---|---|"]
        for n, c in tt.get("cases", {}).items():
            lines.append(f"| {n} | {c['median_ms']:.2f} ({c['min_ms']:.2f}-{c['max_ms']:.2f}) | {c['n']} |")
        if tt.get("error"):
            lines.append(f"\nError: {tt['error']}")
        lines.append("")
    if report.get("models"):
        lines += ["## 3. Real-size models (random weights)", "",
                  f"| model | variant | attn | 1 phrase ms | {many} phrases ms | {many}/1 | "
                  f"answer tokens (1; {many}) | peak GiB | note |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, res in report["models"].items():
            for v, e in res.get("variants", {}).items():
                c = e.get("cases", {})
                one, eight = c.get(1), c.get(many)
                ratio = f"{eight['median_ms'] / one['median_ms']:.2f}x" if one and eight else "-"
                toks = e.get("answer_tokens", {})
                tok_s = f"{toks.get(1, '-')}; {toks.get(many, '-')}" if toks else "-"
                note = e.get("skipped") or e.get("error") or e.get("note") or ""
                lines.append(f"| {name} | {v} | {e.get('attn', '-')} | {_fmt(one)} | {_fmt(eight)} | {ratio} | "
                             f"{tok_s} | {e.get('peak_gib', '-')} | {note[:120]} |")
        lines += ["", "### Goals (issue 13), best variant that ran", "", "| model | goal | measured | verdict |",
                  "|---|---|---|---|"]
        for name, res in report["models"].items():
            for goal, measured, verdict in verdicts(name, res, many):
                lines.append(f"| {name} | {goal} | {measured} | {verdict} |")
        lines += ["", "### Product change each kept optimisation needs", ""]
        lines += [f"- `{k}`: {v}" for k, v in OPTION_CHANGES.items()]
        lines.append("")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--dtype", default=None, help="default: bf16 on CUDA, float32 on CPU")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, every code path (CPU check)")
    ap.add_argument("--out", default=None, help="folder for gpu.json / gpu.md / logs")
    ap.add_argument("--md", default=None, help="also write the markdown here (docs/bench/gpu.md)")
    ap.add_argument("--budget-s", type=float, default=440.0, help="wall-clock budget of this process")
    ap.add_argument("--tests-budget-s", type=float, default=150.0)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--case-budget-s", type=float, default=4.0, help="fewer repeats (>= 3) past this per case")
    ap.add_argument("--variant-min-s", type=float, default=25.0, help="skip a variant with less time left")
    ap.add_argument("--compile-min-s", type=float, default=100.0, help="... a compiled one with less left")
    ap.add_argument("--compile-mode", default="reduce-overhead",
                    help="torch.compile mode of the detector `compile` variant")
    ap.add_argument("--models", nargs="*", default=None, help=f"subset of {ORDER}")
    ap.add_argument("--variants", nargs="*", default=None, help="subset of eager sdpa compile static_compile rows")
    ap.add_argument("--skip", nargs="*", default=[], choices=["tests", "tabletop", "models"])
    ap.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[])
    args = ap.parse_args(argv)
    if args.dtype is None:
        args.dtype = "bfloat16" if args.device.startswith("cuda") else "float32"
    if args.smoke:   # a check of the code paths, not a measurement
        args.repeats, args.warmup, args.case_budget_s = min(args.repeats, 3), min(args.warmup, 1), 1.0
        args.counts = (1, 3)
    else:
        args.counts = (1, 8)
    report_counts = list(args.counts)
    deadline = Deadline(args.budget_s)
    t_start = time.perf_counter()
    out_dir = Path(args.out or (REPO / "bench" / "out" / ("gpu-smoke" if args.smoke else "gpu")))
    out_dir.mkdir(parents=True, exist_ok=True)

    import numpy as np

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    rgb[200:400, 300:500] = (200, 30, 30)     # a few flat blocks: not pure noise for the processors
    rgb[350:600, 800:1000] = (30, 30, 200)

    report = {"smoke": args.smoke, "dtype": args.dtype, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
              "env": env_info(args.device), "argv": sys.argv[1:],
              "counts": report_counts}

    def save():
        report["total_s"] = time.perf_counter() - t_start
        (out_dir / ("gpu-smoke.json" if args.smoke else "gpu.json")).write_text(
            json.dumps(report, indent=1, default=str))
        md = render_md(report)
        (out_dir / ("gpu-smoke.md" if args.smoke else "gpu.md")).write_text(md)
        if args.md and not args.smoke:
            Path(args.md).parent.mkdir(parents=True, exist_ok=True)
            Path(args.md).write_text(md)

    print(f"[env] {report['env']}", flush=True)
    if "tests" not in args.skip:
        report["tests"] = run_tests(args, out_dir, deadline)
        save()
    if "tabletop" not in args.skip:
        try:
            report["tabletop"] = run_tabletop(args, rgb)
        except Exception as exc:
            report["tabletop"] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-1500:]}
            print(f"[tabletop] ERROR {exc}", flush=True)
        save()
    if "models" not in args.skip:
        report["models"] = {}
        with tempfile.TemporaryDirectory(prefix="pg_gpu_models_") as work:
            for name in (args.models or ORDER):
                if deadline.left() < args.variant_min_s:
                    report["models"][name] = {"variants": {}, "skipped": "time"}
                    continue
                try:
                    report["models"][name] = run_model(name, args, rgb, deadline, Path(work))
                except Exception as exc:
                    report["models"][name] = {"variants": {}, "error": f"{type(exc).__name__}: {exc}",
                                              "traceback": traceback.format_exc()[-2000:]}
                    print(f"[{name}] ERROR {exc}", flush=True)
                save()
    save()
    print(f"[done] {time.perf_counter() - t_start:.0f} s; wrote {out_dir}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
