#!/usr/bin/env bash
# The tabletop model's GPU stage (docs/models/tabletop.md, "A stage on the GPU with fresh scenes"), in one command on a CUDA
# machine with many cores:
#   1. checks the sim's ground truth, the parallel renderer and training on the GPU (pytest --device cuda);
#   2. renders 3 chunks of scenes no earlier stage saw (seeds 56,000-79,999), colour and depth in one pass,
#      on every core (`python -m grounding_node.training.data A B --with-depth --jobs N`, MuJoCo through EGL);
#   3. times 40 training steps on the GPU, and sizes the stage to the time left (STEPS overrides: pass the
#      count the card names to reproduce it exactly);
#   4. continues the shipped model on those scenes on the GPU; the checkpoint lands in $OUT.
# Averaging with the shipped model (`--average-with`) is done afterwards on the CPU, as every CPU stage does.
#
# Prerequisites that this repo cannot ship (the device machine has no registry): MuJoCo's wheels in .whl/ and
# the GL loader .debs in .gl/ (MuJoCo 4.0.0, mujoco-core, glfw, PyOpenGL as cp312 manylinux wheels, `pip download
# --no-deps`; libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 libvulkan1 via `apt-get download`), both
# excluded from git and carried to the machine with the tree; mujoco-studio is not needed (classic renderer).
set -uo pipefail
T0=$(date +%s)
BUDGET=${BUDGET:-560}                       # seconds the whole script may take
OUT=${OUT:-out/gpu_train}
mkdir -p "$OUT"
LOG="$OUT/gpu_train.log"
exec > >(tee -a "$LOG") 2>&1
say() { echo "[$(( $(date +%s) - T0 )) s] $*"; }

INSTALL=${INSTALL:-1}   # 0: use this machine's own MuJoCo and GL (a dry run)
if [ "$INSTALL" = 1 ] && [ -d .gl ]; then for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; fi
if [ "$INSTALL" = 1 ] && [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { say "wheel install failed"; exit 1; }
fi
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
export PYTHONPATH=/tmp/site:$PWD MUJOCO_GL=${MUJOCO_GL:-egl} PYTHONUNBUFFERED=1
DEVICE=${DEVICE:-cuda}   # DEVICE=cpu PER_CHUNK=16: a dry run of the wiring on any machine
PER=${PER_CHUNK:-8000}
JOBS=$(nproc)
say "$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null), $JOBS cores, $(python3 -c 'import torch, mujoco; print("torch", torch.__version__, "mujoco", mujoco.__version__)')"

# 1. the renderer and a training step on this device
# (test_sim.py: boxes against the 3D truth, which EGL's multisampled segmentation once broke)
python3 -m pytest --no-ros --device "$DEVICE" -q -p no:cacheprovider --timeout 180 \
  ${TESTS:-test/test_sim.py test/test_training_render_device.py} > "$OUT/pytest.log" 2>&1
rc=$?; tail -3 "$OUT/pytest.log"; say "tests rc $rc"
[ $rc -eq 0 ] || exit 1

# 2. fresh scenes, colour and depth in one pass
# (a chunk more while under RENDER_S seconds, so a slow machine still leaves time to train)
FIRST=56000; CHUNKS=0; MAX_CHUNKS=${MAX_CHUNKS:-3}; RENDER_S=${RENDER_S:-200}
while [ $CHUNKS -lt "$MAX_CHUNKS" ]; do
  a=$((FIRST + CHUNKS * PER)); b=$((a + PER))
  python3 -m grounding_node.training.data $a $b data --with-depth --jobs "$JOBS" 2>&1 | tr '\r' '\n' | tail -1
  [ -f "data/depth_train_$a-$b.npz" ] || { say "rendering $a-$b failed"; exit 1; }
  CHUNKS=$((CHUNKS + 1)); say "rendered $a-$b"
  [ $(( $(date +%s) - T0 )) -lt "$RENDER_S" ] || break
done
N=$((CHUNKS * PER))
ARGS=(--init grounding_node/models/tabletop/weights/tabletop.pt --first-scene $FIRST --scenes $N --cache data
      --device "$DEVICE" --threads 4 --seed 10 --lr 3e-4 --attr-weight 1.0 --oversample ordinal=1.8 extreme=1.8
      relation=1.4 negation=1.4 --no-progress)

# 3. the step time, then a stage that fits
if [ -z "${STEPS:-}" ]; then
  python3 -m grounding_node.train "${ARGS[@]}" --scenes "$PER" --steps 40 --out /tmp/probe.pt --log-every 1000 \
    > "$OUT/probe.log" 2>&1 || { say "probe failed"; tail -5 "$OUT/probe.log"; exit 1; }
  per=$(python3 -c "import torch; m=torch.load('/tmp/probe.pt', weights_only=True)['meta']; print(m['minutes'] * 60 / 40)")
  left=$(( BUDGET - ($(date +%s) - T0) - 45 ))   # 45 s: loading the scenes and saving
  STEPS=$(python3 -c "print(max(100, int($left / $per) // 100 * 100))")
  say "probe: $per s/step; $left s left -> $STEPS steps"
fi

# 4. the stage
python3 -m grounding_node.train "${ARGS[@]}" --steps "$STEPS" --out "$OUT/stage8gpu.pt" --log-every 250
say "done rc $?"
