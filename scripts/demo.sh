#!/usr/bin/env bash
# README command 1: set up what is missing, then run the demo (sim camera + grounding node over real DDS,
# one command per expression type, a verdict table, annotated images and a contact sheet in demo_output/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
# shellcheck disable=SC1091
source scripts/env.sh
export ROS_DOMAIN_ID=$(( (RANDOM % 100) + 1 ))
exec python -m grounding_node.demo --out "${DEMO_OUT:-$ROOT/demo_output}" "$@"
