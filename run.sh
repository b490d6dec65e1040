#!/usr/bin/env bash
# Installs what is missing, builds, and starts the main job: the Satlink Workbench window with the
# default scenario (the 600 ms satellite question) ready to run. Without a display, the same
# scenario runs headless through satlink-cli and its charts and CSV go to ./out/.
# Arguments go to the program: ./run.sh scenarios/origin-memory.json (a scenario to open or run).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
  exec build/release/app/gui/satlink "$@"
fi
echo "No display: running the default scenario headless into ./out/ (charts in ./out/charts/)."
scenario=scenarios/geo-600ms.json
if [[ $# -gt 0 && "$1" != -* ]]; then
  scenario="$1"
  shift
fi
exec build/release/app/satlink-cli run "$scenario" --out out "$@"
