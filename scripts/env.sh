# Source this (bash/zsh) to use the project's venv, the built messages and the loopback-only DDS profile.
#   source scripts/env.sh
# Every process that starts rclpy on a dev/CI machine must have FASTDDS_DEFAULT_PROFILES_FILE and
# FASTRTPS_DEFAULT_PROFILES_FILE (Jazzy reads only this one) set.
_pg_root="$(cd "$(dirname "${BASH_SOURCE[0]:-${(%):-%x}}")/.." && pwd)"
export PHRASE_GROUNDING_ROOT="$_pg_root"
if [ -d "$_pg_root/.venv" ]; then
  export VIRTUAL_ENV="$_pg_root/.venv"
  case ":$PATH:" in *":$VIRTUAL_ENV/bin:"*) ;; *) export PATH="$VIRTUAL_ENV/bin:$PATH";; esac
  _pg_site="$("$VIRTUAL_ENV/bin/python" -c 'import sysconfig;print(sysconfig.get_paths()["purelib"])' 2>/dev/null)"
fi
_pg_inst="$_pg_root/install"
_pg_prefix_add() { # _pg_prefix_add VAR DIR: put DIR first in a :-separated VAR once
  local cur; eval "cur=\${$1:-}"
  case ":$cur:" in *":$2:"*) ;; *) export "$1=$2${cur:+:$cur}";; esac
}
_pg_prefix_add AMENT_PREFIX_PATH "$VIRTUAL_ENV"
_pg_prefix_add CMAKE_PREFIX_PATH "$VIRTUAL_ENV"
_pg_prefix_add LD_LIBRARY_PATH "$VIRTUAL_ENV/lib"
_pg_prefix_add AMENT_PREFIX_PATH "$_pg_inst"
_pg_prefix_add CMAKE_PREFIX_PATH "$_pg_inst"
_pg_prefix_add LD_LIBRARY_PATH "$_pg_inst/lib"
_pg_prefix_add PYTHONPATH "$_pg_inst/lib/python3.11/site-packages"
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
unset _pg_root _pg_inst _pg_site
