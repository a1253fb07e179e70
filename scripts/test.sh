#!/usr/bin/env bash
# README command 2 (and .ci/run): set up if needed, then run the whole suite.
# As root, the suite runs in a private network namespace with only loopback up, so DDS cannot leave the
# machine even if a profile were missed; the pip/apt set-up runs before, outside it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
# shellcheck disable=SC1091
source scripts/env.sh
export ROS_DOMAIN_ID=$(( (RANDOM % 100) + 1 ))
PYTEST=(python -m pytest -q -p no:cacheprovider --timeout=600 "$@")
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null \
   && unshare -n true 2>/dev/null; then
  if unshare -n -m bash -c 'mount --make-rprivate / && mount -t tmpfs tmpfs /dev/shm' 2>/dev/null; then
    # Also a private /dev/shm: the tests kill DDS processes on purpose, and Fast DDS leaves each killed
    # participant's shared-memory segment behind; these now vanish with the namespace instead of piling up.
    echo "test: private network namespace (loopback only) and private /dev/shm, ROS_DOMAIN_ID=$ROS_DOMAIN_ID"
    exec unshare -n -m bash -c 'mount --make-rprivate / && mount -t tmpfs tmpfs /dev/shm \
      && ip link set lo up && exec "$@"' _ "${PYTEST[@]}"
  fi
  echo "test: running in a private network namespace (loopback only), ROS_DOMAIN_ID=$ROS_DOMAIN_ID"
  exec unshare -n bash -c 'ip link set lo up && exec "$@"' _ "${PYTEST[@]}"
else
  echo "test: not root or no unshare: relying on the loopback DDS profile only, ROS_DOMAIN_ID=$ROS_DOMAIN_ID"
  exec "${PYTEST[@]}"
fi
