#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest.
# SATLINK_PRESET=asan ./test.sh runs the same suite under ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")"
preset="${SATLINK_PRESET:-release}"
scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset"
