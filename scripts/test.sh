#!/usr/bin/env bash
# README command 2 (and .ci/run): set up what is missing, then run every check, each stage timed:
#   ruff    ruff check . (ruff.toml)
#   kilted  the pytest suite with the ROS 2 Kilted wheels (.venv, numpy 2)
#   colcon  colcon build + colcon test of the package as on a robot, with the ROS 2 Jazzy wheels (.venv-jazzy,
#           rclpy 7.1.6, numpy 1.26), in build/colcon-ws: this is the suite on Jazzy, every test file one ctest test
#   jazzy   (not by default) the same Jazzy suite run by pytest straight from the source tree. It ran by default
#           until the suite passed 80 % of CI's 90 minutes: it ran every Jazzy test a second time (751 of 751,
#           the colcon stage runs the same 751), costing about 22 minutes. Pick it for a quick Jazzy check.
# Both suites and colcon test see the test-only vision_msgs (test/interfaces/, PG_TEST_ENV=1).
# Arguments go to pytest: `bash scripts/test.sh -x -k vision test/test_vision_msgs.py`. For colcon test, options
# travel in PYTEST_ADDOPTS and test file paths become `ctest -R` (one ctest test per test file).
# PG_STAGES picks stages: `PG_STAGES="ruff kilted" bash scripts/test.sh -k foo`, `PG_STAGES=jazzy ...`.
# As root, every stage that starts rclpy runs in a private network namespace with only loopback up (and a private
# /dev/shm), so DDS cannot leave the machine even if a profile were missed; the pip/apt set-up runs before, outside.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
read -ra STAGES <<< "${PG_STAGES:-ruff kilted colcon}"
has_stage() { [[ " ${STAGES[*]} " == *" $1 "* ]]; }

t0=$SECONDS
distros=(kilted)   # .venv also provides ruff
if has_stage jazzy || has_stage colcon; then distros+=(jazzy); fi
bash scripts/setup.sh --tests "${distros[@]}"
TIMES=("setup $((SECONDS - t0)) s")
RESULTS=()
export ROS_DOMAIN_ID=$(( (RANDOM % 100) + 1 ))

# sandbox CMD...: run CMD in a private network namespace (loopback only) and private /dev/shm when root.
# The private /dev/shm: the tests kill DDS processes on purpose, and Fast DDS leaves each killed participant's
# shared-memory segment behind; these vanish with the namespace instead of piling up.
SANDBOX=none
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null && unshare -n true 2>/dev/null; then
  SANDBOX=net
  if unshare -n -m bash -c 'mount --make-rprivate / && mount -t tmpfs tmpfs /dev/shm' 2>/dev/null; then SANDBOX=net+shm; fi
fi
sandbox() {
  case "$SANDBOX" in
    net+shm) unshare -n -m bash -c 'mount --make-rprivate / && mount -t tmpfs tmpfs /dev/shm \
               && ip link set lo up && exec "$@"' _ "$@";;
    net) unshare -n bash -c 'ip link set lo up && exec "$@"' _ "$@";;
    *) "$@";;
  esac
}
case "$SANDBOX" in
  none) echo "test: not root or no unshare: relying on the loopback DDS profile only, ROS_DOMAIN_ID=$ROS_DOMAIN_ID";;
  *) echo "test: private network namespace (loopback only)${SANDBOX#net}, ROS_DOMAIN_ID=$ROS_DOMAIN_ID";;
esac

stage() {  # stage NAME CMD...: run one stage, record its time and result, go on after a failure
  local name=$1 start=$SECONDS rc=0
  shift
  echo "=== stage $name"
  "$@" || rc=$?
  TIMES+=("$name $((SECONDS - start)) s")
  RESULTS+=("$name: $([ $rc = 0 ] && echo ok || echo "FAILED (rc $rc)")")
  echo "=== stage $name: $((SECONDS - start)) s, rc $rc"
}

ruff_stage() { "$ROOT/.venv/bin/ruff" check .; }

suite() {  # suite DISTRO PYTEST_ARGS...: the pytest suite in that distro's venv
  local distro=$1
  shift
  ( PG_ROS_DISTRO=$distro PG_TEST_ENV=1 source scripts/env.sh
    sandbox python -m pytest -q -p no:cacheprovider --timeout=600 "$@" )
}

colcon_stage() {  # colcon build + colcon test with the Jazzy venv, as on a robot (apt ROS replaced by the wheels)
  ( PG_ROS_DISTRO=jazzy PG_TEST_ENV=1 PG_PREFIX=none source scripts/env.sh
    local ws="$ROOT/build/colcon-ws" opts=() files=() a
    # A throwaway workspace under build/: its source is a staging dir of symlinks (as in setup.sh: CMake refuses
    # exported include dirs inside the source dir, and the venv's numpy lives under the repo root).
    rm -rf "$ws/src" && mkdir -p "$ws/src/phrase_grounding"
    for f in CMakeLists.txt package.xml setup.cfg setup.py pytest.ini msg srv grounding_node scripts launch config \
             rviz test; do
      ln -s "$ROOT/$f" "$ws/src/phrase_grounding/$f"
    done
    local common=(--base-paths "$ws/src" --build-base "$ws/build" --install-base "$ws/install")
    colcon --log-base "$ws/log" build "${common[@]}" --event-handlers console_cohesion- status- \
      --cmake-args -DPython3_EXECUTABLE="$VIRTUAL_ENV/bin/python" -DBUILD_TESTING=ON >"$ws/build.log" 2>&1 \
      || { tail -60 "$ws/build.log"; echo "colcon build failed, log: $ws/build.log"; return 1; }
    echo "colcon build: ok (log: $ws/build.log)"
    set +u   # colcon's setup.bash reads unset variables (COLCON_TRACE)
    # shellcheck disable=SC1091
    source "$ws/install/setup.bash"
    set -u
    for a in "$@"; do
      if [[ $a == *.py || $a == *::* ]]; then a=${a%%::*}; a=${a##*/}; files+=("${a%.py}")
      elif [[ $a == test || $a == test/ || $a == */test || $a == */test/ ]]; then :
      else opts+=("$a"); fi
    done
    local ctest=(--output-on-failure)
    [ ${#files[@]} = 0 ] || ctest+=(-R "^($(IFS='|'; echo "${files[*]}"))\$")
    export PYTEST_ADDOPTS
    PYTEST_ADDOPTS=$(python -c 'import shlex, sys; print(shlex.join(sys.argv[1:]))' -q --timeout=600 "${opts[@]}")
    rm -rf "$ws/build/phrase_grounding/test_results"
    sandbox colcon --log-base "$ws/log" test "${common[@]}" --return-code-on-test-failure \
      --event-handlers console_direct- console_cohesion+ status- --ctest-args "${ctest[@]}" >"$ws/test.log" 2>&1 \
      || rc=$?
    grep -E "Test +#[0-9]+:|tests passed|tests failed" "$ws/test.log" || tail -40 "$ws/test.log"
    colcon test-result --test-result-base "$ws/build/phrase_grounding" --verbose | tail -60 || true
    echo "colcon test: rc ${rc:-0} (log: $ws/test.log)"
    exit "${rc:-0}" )
}

has_stage ruff && stage ruff ruff_stage
has_stage kilted && stage kilted suite kilted "$@"
has_stage jazzy && stage jazzy suite jazzy "$@"
has_stage colcon && stage colcon colcon_stage "$@"

echo "=== times: $(IFS=,; echo "${TIMES[*]}"), total $((SECONDS - t0)) s"
printf '=== %s\n' "${RESULTS[@]}"
[[ " ${RESULTS[*]} " != *FAILED* ]]
