#!/usr/bin/env bash
# Installs what is missing, builds, and starts the main job: the default scenario (the 600 ms
# satellite question) through the experiment engine, results in ./out/. The desktop workbench
# (issue 5) will open here when a display is present; until then the run is headless.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
exec build/release/app/satlink-cli run scenarios/geo-600ms.json --out out "$@"
