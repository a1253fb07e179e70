#!/usr/bin/env bash
# One-command set-up for a machine without apt ROS 2 (dev laptops, this CI):
#   .venv with the pinned ROS 2 Kilted wheels + model/sim deps, the two CMake path fixes,
#   the message build into build/ and install/, and the loopback-only DDS profile.
# Idempotent: a second run only re-checks (a few seconds).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
PY=${PYTHON:-python3.11}
stamp() { sha256sum requirements.txt requirements-nodeps.txt requirements-ros-wheels.txt requirements-dev.txt | sha256sum | cut -c1-16; }

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

# 2. The venv and Python packages (skipped when the requirement files did not change).
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
if [ "$(cat "$VENV/.req-stamp" 2>/dev/null)" != "$(stamp)" ]; then
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r requirements-ros-wheels.txt -r requirements.txt -r requirements-dev.txt
  "$VENV/bin/pip" install -q --no-deps -r requirements-nodeps.txt
  stamp > "$VENV/.req-stamp"
fi

# 3. The two build-time paths baked into the rosidl Python CMake exports (notes/ros2-from-pypi.md).
PYINC="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
NPDIR="$("$VENV/bin/python" -c 'import numpy, os; print(os.path.dirname(numpy.__file__))')"
fix_link() {  # fix_link TARGET LINK: create LINK -> TARGET only if missing or dangling
  if [ ! -e "$2" ]; then
    if [ "$(id -u)" = 0 ] || [ -w "$(dirname "$2")" ]; then
      mkdir -p "$(dirname "$2")"; ln -sfn "$1" "$2"
    else
      echo "setup: cannot create $2 (needs root); the message build may fail" >&2
    fi
  fi
}
fix_link "$PYINC" /opt/python/cp311-cp311/include/python3.11
fix_link "$NPDIR" /opt/python/cp311-cp311/lib/python3.11/site-packages/numpy

# 4. Build the messages and install the package (ament_cmake) into install/.
# shellcheck disable=SC1091
source "$ROOT/scripts/env.sh"
srcs=$(find msg srv CMakeLists.txt package.xml setup.cfg grounding_node launch config rviz -type f -not -path '*/__pycache__/*' 2>/dev/null | sort | xargs sha256sum | sha256sum | cut -c1-16)
if [ "$(cat build/.src-stamp 2>/dev/null)" != "$srcs" ] || [ ! -d install/lib ]; then
  # CMake refuses exported include dirs inside the source dir, and the venv's numpy lives under the
  # repo root; so configure from a staging dir of symlinks (build/src) instead of the repo root.
  # On a robot, colcon builds the repo itself against the system numpy and needs none of this.
  rm -rf build/src && mkdir -p build/src
  for f in CMakeLists.txt package.xml setup.cfg msg srv grounding_node scripts launch config rviz; do
    ln -s "$ROOT/$f" "build/src/$f"
  done
  cmake -S build/src -B build/cmake -DCMAKE_INSTALL_PREFIX="$ROOT/install" -DPython3_EXECUTABLE="$VENV/bin/python" \
        -DBUILD_TESTING=OFF >build/cmake.log 2>&1 || { tail -40 build/cmake.log; exit 1; }
  cmake --build build/cmake -j2 >>build/cmake.log 2>&1 || { tail -40 build/cmake.log; exit 1; }
  cmake --install build/cmake >>build/cmake.log 2>&1 || { tail -40 build/cmake.log; exit 1; }
  echo "$srcs" > build/.src-stamp
fi
# The ROS-free core, editable, so tests and the CLI use the working tree.
"$VENV/bin/python" -c 'import grounding_node' 2>/dev/null || "$VENV/bin/pip" install -q --no-deps -e .

# 5. Smoke: serialise a message (imports alone can hide a missing install/lib, see the notes).
"$VENV/bin/python" - <<'PY'
from rclpy.serialization import serialize_message
from phrase_grounding.msg import GroundedObjectArray
assert serialize_message(GroundedObjectArray())
PY
echo "setup: ok ($ROOT/.venv, messages in $ROOT/install). Source scripts/env.sh to use it."
