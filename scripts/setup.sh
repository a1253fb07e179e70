#!/usr/bin/env bash
# One-command set-up for a machine without apt ROS 2 (dev laptops, this CI). Nothing is written outside the repo.
#   bash scripts/setup.sh                    # Kilted: .venv, messages in build/ and install/ (the demo's set-up)
#   bash scripts/setup.sh jazzy              # Jazzy: .venv-jazzy (numpy 1.26), build-jazzy/ and install-jazzy/
#   bash scripts/setup.sh --tests kilted jazzy   # also the test-only interface packages (scripts/test.sh)
# Per distro: the venv with the pinned ROS 2 wheels + model/sim/dev deps (-c constraints-dev.txt: this machine's
# CPU torch), the build-time paths in the wheels' CMake exports rewritten to this venv, the message build.
# --tests: test/interfaces/* (vision_msgs, not on PyPI) built into <build>/test-interfaces/install, which only
# the test environment (PG_TEST_ENV=1 source scripts/env.sh) puts on the paths; never installed, never the demo's.
# Idempotent: a second run only re-checks (a few seconds per distro).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY=${PYTHON:-python3.11}
TESTS=0
DISTROS=()
for arg in "$@"; do
  case "$arg" in
    --tests) TESTS=1;;
    kilted|jazzy) DISTROS+=("$arg");;
    all) DISTROS+=(kilted jazzy);;
    *) echo "usage: bash scripts/setup.sh [--tests] [kilted] [jazzy] [all]" >&2; exit 2;;
  esac
done
[ ${#DISTROS[@]} -gt 0 ] || DISTROS=(kilted)

# 1. System packages: OSMesa for MuJoCo offscreen rendering, iproute2 for test network namespaces.
need_apt=()
[ -e /usr/lib/x86_64-linux-gnu/libOSMesa.so.8 ] || ls /usr/lib/*/libOSMesa.so* >/dev/null 2>&1 || need_apt+=(libosmesa6)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install ${need_apt[*]} (apt); continuing without" >&2
  fi
fi

# cmake_build NAME SRC BUILDDIR PREFIX: configure, build and install one ament_cmake package (log in BUILDDIR.log).
cmake_build() {
  local log="$3.log"
  mkdir -p "$(dirname "$3")"
  { cmake -S "$2" -B "$3" -DCMAKE_INSTALL_PREFIX="$4" -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF \
      && cmake --build "$3" -j2 && cmake --install "$3"; } >"$log" 2>&1 \
    || { tail -40 "$log"; echo "setup: building $1 failed, log: $log" >&2; return 1; }
}

setup_distro() {  # runs in a subshell: env.sh is sourced for one distro only
  local distro=$1 ros_req build inst cons=(-c constraints-dev.txt)
  case "$distro" in
    kilted) VENV="$ROOT/.venv"; ros_req=requirements-ros-wheels.txt; build=build; inst=install;;
    jazzy) VENV="$ROOT/.venv-jazzy"; ros_req=requirements-ros-jazzy.txt; build=build-jazzy; inst=install-jazzy
           cons+=(-c constraints-numpy1.txt);;   # numpy 1.26 and opencv<4.11, as apt's Jazzy on Ubuntu 24.04
  esac
  local files=("$ros_req" requirements.txt requirements-dev.txt requirements-nodeps.txt constraints-dev.txt)
  [ "$distro" = kilted ] || files+=(constraints-numpy1.txt)
  local stamp; stamp=$(sha256sum "${files[@]}" | sha256sum | cut -c1-16)

  # 2. The venv and Python packages (skipped when the requirement files did not change).
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  if [ "$(cat "$VENV/.req-stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "setup[$distro]: installing Python packages into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -r "$ros_req" -r requirements.txt -r requirements-dev.txt "${cons[@]}"
    "$VENV/bin/pip" install -q --no-deps -r requirements-nodeps.txt
    stamp_written=1
  fi

  # 3. The build-time paths baked into the wheels' rosidl Python CMake exports (/opt/python/cp311-cp311/...,
  # see docs of the wheels): rewritten in place to this interpreter's include dir and this venv's numpy. Re-run
  # every time (cheap): pip rewrites these files whenever it reinstalls a message wheel.
  "$VENV/bin/python" - <<'PY'
import glob, numpy, re, sys, sysconfig
pyinc, npinc = sysconfig.get_paths()["include"], numpy.get_include()
changed = 0
for path in glob.glob(f"{sys.prefix}/share/*/cmake/export_*__rosidl_generator_pyExport.cmake"):
    with open(path) as f:
        text = f.read()
    new = re.sub(r'[^";]*/include/python3\.\d+(?=[";])', lambda m: pyinc, text)
    new = re.sub(r'[^";]*/numpy/(?:_core|core)/include(?=[";])', lambda m: npinc, new)
    if new != text:
        with open(path, "w") as f:
            f.write(new)
        changed += 1
if changed:
    print(f"setup: rewrote the Python/numpy include dirs in {changed} CMake export files -> {pyinc}, {npinc}")
PY
  [ -z "${stamp_written:-}" ] || echo "$stamp" > "$VENV/.req-stamp"

  # shellcheck disable=SC1091
  PG_ROS_DISTRO=$distro PG_TEST_ENV=$TESTS source "$ROOT/scripts/env.sh"

  # 4. Build the messages and install the package (ament_cmake) into $inst/.
  local srcs
  srcs=$(find msg srv CMakeLists.txt package.xml setup.cfg grounding_node launch config rviz -type f \
         -not -path '*/__pycache__/*' 2>/dev/null | sort | xargs sha256sum | sha256sum | cut -c1-16)
  if [ "$(cat "$build/.src-stamp" 2>/dev/null)" != "$srcs" ] || [ ! -d "$inst/lib" ]; then
    echo "setup[$distro]: building the messages into $inst/"
    # CMake refuses exported include dirs inside the source dir, and the venv's numpy lives under the repo
    # root; so configure from a staging dir of symlinks ($build/src) instead of the repo root.
    # On a robot, colcon builds the repo itself against the system numpy and needs none of this.
    rm -rf "$build/src" && mkdir -p "$build/src"
    for f in CMakeLists.txt package.xml setup.cfg msg srv grounding_node scripts launch config rviz; do
      ln -s "$ROOT/$f" "$build/src/$f"
    done
    cmake_build phrase_grounding "$build/src" "$build/cmake" "$ROOT/$inst"
    echo "$srcs" > "$build/.src-stamp"
  fi
  # The ROS-free core, editable, so tests and the CLI use the working tree.
  "$VENV/bin/python" -c 'import grounding_node' 2>/dev/null || "$VENV/bin/pip" install -q --no-deps -e .

  # 5. Test-only interface packages (vision_msgs): into $build/test-interfaces/install, never into $inst.
  if [ "$TESTS" = 1 ]; then
    local tsrc; tsrc=$( { find test/interfaces -type f | sort | xargs sha256sum; echo "$VENV"; } | sha256sum | cut -c1-16)
    if [ "$(cat "$build/test-interfaces/.src-stamp" 2>/dev/null)" != "$tsrc" ] \
       || [ ! -d "$build/test-interfaces/install/lib" ]; then
      echo "setup[$distro]: building the test-only interfaces into $build/test-interfaces/install"
      rm -rf "$build/test-interfaces"
      for pkg in test/interfaces/*/; do
        pkg=$(basename "$pkg")
        cmake_build "$pkg" "$ROOT/test/interfaces/$pkg" "$build/test-interfaces/build/$pkg" \
          "$ROOT/$build/test-interfaces/install"
      done
      echo "$tsrc" > "$build/test-interfaces/.src-stamp"
    fi
  fi

  # 6. Smoke: serialise a message (imports alone can hide a missing install/lib, see the notes).
  TESTS=$TESTS "$VENV/bin/python" - <<'PY'
import os
from rclpy.serialization import serialize_message
from phrase_grounding.msg import GroundedObjectArray
assert serialize_message(GroundedObjectArray())
if os.environ["TESTS"] == "1":
    from vision_msgs.msg import Detection2DArray, Detection3DArray
    assert serialize_message(Detection2DArray()) and serialize_message(Detection3DArray())
PY
  echo "setup[$distro]: ok ($VENV, messages in $ROOT/$inst). Use: PG_ROS_DISTRO=$distro source scripts/env.sh"
}

for d in "${DISTROS[@]}"; do
  ( setup_distro "$d" )
done
