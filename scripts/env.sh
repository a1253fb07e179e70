# Source this (bash/zsh) to use the project's venv, the built messages and the loopback-only DDS profile.
#   source scripts/env.sh                          # ROS 2 Kilted wheels: .venv, messages in install/
#   PG_ROS_DISTRO=jazzy source scripts/env.sh      # ROS 2 Jazzy wheels: .venv-jazzy, messages in install-jazzy/
# Optional:
#   PG_TEST_ENV=1    also the test-only interface packages (vision_msgs from test/interfaces/, built by
#                    scripts/setup.sh into <build>/test-interfaces/install). Tests only: never the demo/robot.
#   PG_PREFIX=none   leave out the plain-cmake message install (the colcon stage sources its own setup.bash).
# Every process that starts rclpy on a dev/CI machine must have FASTDDS_DEFAULT_PROFILES_FILE and
# FASTRTPS_DEFAULT_PROFILES_FILE (Jazzy reads only this one) set.
_pg_root="$(cd "$(dirname "${BASH_SOURCE[0]:-${(%):-%x}}")/.." && pwd)"
export PHRASE_GROUNDING_ROOT="$_pg_root"
case "${PG_ROS_DISTRO:-kilted}" in
  kilted) _pg_venv="$_pg_root/.venv"; _pg_inst="$_pg_root/install"; _pg_build="$_pg_root/build";;
  jazzy) _pg_venv="$_pg_root/.venv-jazzy"; _pg_inst="$_pg_root/install-jazzy"; _pg_build="$_pg_root/build-jazzy";;
  *) echo "env.sh: PG_ROS_DISTRO must be kilted or jazzy, not '${PG_ROS_DISTRO}'" >&2; return 1;;
esac
export PG_ROS_DISTRO="${PG_ROS_DISTRO:-kilted}"
if [ -d "$_pg_venv" ]; then
  export VIRTUAL_ENV="$_pg_venv"
  case ":$PATH:" in *":$VIRTUAL_ENV/bin:"*) ;; *) export PATH="$VIRTUAL_ENV/bin:$PATH";; esac
else
  echo "env.sh: $_pg_venv is missing: run bash scripts/setup.sh ${PG_ROS_DISTRO}" >&2
fi
_pg_prefix_add() { # _pg_prefix_add VAR DIR: put DIR first in a :-separated VAR once
  local cur; eval "cur=\${$1:-}"
  case ":$cur:" in *":$2:"*) ;; *) export "$1=$2${cur:+:$cur}";; esac
}
_pg_add_prefix() { # _pg_add_prefix PREFIX: an install prefix (ament index, CMake, libraries, Python)
  _pg_prefix_add AMENT_PREFIX_PATH "$1"
  _pg_prefix_add CMAKE_PREFIX_PATH "$1"
  _pg_prefix_add LD_LIBRARY_PATH "$1/lib"
  _pg_prefix_add PYTHONPATH "$1/lib/python3.11/site-packages"
}
_pg_prefix_add AMENT_PREFIX_PATH "$_pg_venv"
_pg_prefix_add CMAKE_PREFIX_PATH "$_pg_venv"
_pg_prefix_add LD_LIBRARY_PATH "$_pg_venv/lib"
if [ "${PG_TEST_ENV:-0}" = 1 ]; then
  _pg_add_prefix "$_pg_build/test-interfaces/install"
fi
if [ "${PG_PREFIX:-}" != none ]; then
  _pg_add_prefix "${PG_PREFIX:-$_pg_inst}"
fi
_pg_prefix_add PYTHONPATH "$_pg_root"
export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
export FASTDDS_DEFAULT_PROFILES_FILE="$_pg_root/config/fastdds_loopback.xml"
# Jazzy's Fast DDS 2.14 reads only the old name: without it a Jazzy process ignores the profile.
export FASTRTPS_DEFAULT_PROFILES_FILE="$FASTDDS_DEFAULT_PROFILES_FILE"
# A random domain per shell (tests pick their own too) so parallel runs never cross-talk.
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( (RANDOM % 100) + 1 ))}"
export MUJOCO_GL="${MUJOCO_GL:-osmesa}"
export PYOPENGL_PLATFORM="${PYOPENGL_PLATFORM:-osmesa}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
unset _pg_root _pg_inst _pg_venv _pg_build
unset -f _pg_add_prefix
