#!/usr/bin/env bash
# One command for every benchmark figure: set up, then run bench/run_all.py, which writes
# docs/benchmarks.md and the plots in docs/bench/. About 15 minutes here (the soak is 10 of them).
#   bash scripts/bench.sh                                   # CPU, default model
#   bash scripts/bench.sh --device cuda --backend florence2 --model /opt/models/Florence-2-base   # a GPU robot
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
# Open3D's wheel links libusb; install it where we may (the side-by-side figure needs Open3D).
if ! ldconfig -p 2>/dev/null | grep -q libusb-1.0.so.0 && [ "$(id -u)" = 0 ]; then
  (apt-get install -y -qq libusb-1.0-0 >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq libusb-1.0-0 >/dev/null))
fi
"$ROOT/.venv/bin/pip" install -q -r "$ROOT/requirements-bench.txt"
# shellcheck disable=SC1091
source "$ROOT/scripts/env.sh"
cd "$ROOT"
exec python bench/run_all.py "$@"
