#!/usr/bin/env bash
# Issue 13's GPU check in one command (at most ~8 minutes on an H100/H200 device machine):
#   1. the ROS-free tests (pytest --no-ros) with --device cuda --dtype bf16,
#   2. the tabletop model on CUDA at 1280x720, 1 and 8 phrases,
#   3. real-size random-weight Grounding DINO tiny, OWLv2 B/16, Florence-2 base/large, PaliGemma 2 3B-448 and
#      Qwen2.5-VL-3B through the product's backends: ground() at 1280x720, 1 and 8 phrases, eager vs optimised.
# Writes gpu.md + gpu.json (+ pytest.log, pytest.xml, harness.log) into $OUT when set (the device tool brings
# $OUT back), else into docs/bench/ (gpu.md, gpu.json) and bench/out/gpu/ (logs).
#
#   bash scripts/gpu_check.sh                        # on the device (see docs/bench/gpu-check.md)
#   bash scripts/gpu_check.sh --smoke --device cpu   # CPU smoke: tiny sizes, every code path, a few minutes;
#                                                    # writes bench/out/gpu-smoke/ only, never docs/bench/gpu.md
# Other arguments go to bench/gpu/harness.py (--models ..., --variants ..., --skip tests, --budget-s N ...).
# Needs only what the device image has (Python 3.12, torch, transformers 5.x, tokenizers, pillow, numpy,
# opencv-python-headless, pytest): no ROS, no venv. Wheels in .whl/ (carried) are installed first if present,
# and .gl/*.deb (carried) are unpacked for MuJoCo's EGL rendering if present (then the sim tests run too).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ -x "$ROOT/.venv/bin/python" ] && [ -z "${PYTHON:-}" ] && ! "$PY" -c "import transformers" 2>/dev/null; then
  PY="$ROOT/.venv/bin/python"
fi
SMOKE=0
for a in "$@"; do [ "$a" = "--smoke" ] && SMOKE=1; done

if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/pg_site .whl/*.whl \
    && export PYTHONPATH="/tmp/pg_site${PYTHONPATH:+:$PYTHONPATH}"
fi
if [ -d .gl ] && ls .gl/*.deb >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
  export MUJOCO_GL=egl PYOPENGL_PLATFORM=egl
fi

export PYTHONPATH="$ROOT:$ROOT/test${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export FASTDDS_DEFAULT_PROFILES_FILE="$ROOT/config/fastdds_loopback.xml" FASTRTPS_DEFAULT_PROFILES_FILE="$ROOT/config/fastdds_loopback.xml"

if [ "$SMOKE" = 1 ]; then
  DEST="$ROOT/bench/out/gpu-smoke"; MD=()
elif [ -n "${OUT:-}" ]; then
  DEST="$OUT"; MD=()
else
  DEST="$ROOT/bench/out/gpu"; MD=(--md "$ROOT/docs/bench/gpu.md")
fi
mkdir -p "$DEST"
start=$(date +%s)
"$PY" "$ROOT/bench/gpu/harness.py" --out "$DEST" "${MD[@]}" "$@" 2>&1 | tee "$DEST/harness.log"
rc=${PIPESTATUS[0]}
if [ "$SMOKE" = 0 ] && [ -z "${OUT:-}" ] && [ -f "$DEST/gpu.json" ]; then
  cp "$DEST/gpu.json" "$ROOT/docs/bench/gpu.json"
fi
echo "gpu_check: rc=$rc in $(( $(date +%s) - start )) s; results in $DEST"
exit "$rc"
