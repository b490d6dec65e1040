#!/usr/bin/env bash
# cmake --install puts the binaries, the desktop entry, the icon and the scenarios in place.
# usage: install_test.sh BUILD_DIR GUI(ON|OFF)
set -uo pipefail
build="$1"
gui="$2"
prefix="$(mktemp -d)"
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null || { echo "FAIL - cmake --install"; exit 1; }
want=(bin/satlink-cli bin/satlink-proxy share/satlink/scenarios/geo-600ms.json
  share/satlink/scenarios/schema/scenario.schema.json)
if [[ "$gui" == ON ]]; then
  want+=(bin/satlink share/applications/satlink.desktop share/icons/hicolor/scalable/apps/satlink.svg)
fi
fail=0
for f in "${want[@]}"; do
  if [[ -e "$prefix/$f" ]]; then echo "ok   - $f"; else echo "FAIL - no $f"; fail=1; fi
done
for f in bin/satlink-cli bin/satlink-proxy; do
  [[ -x "$prefix/$f" ]] || { echo "FAIL - $f is not executable"; fail=1; }
done
# The installed CLI validates the installed scenarios.
"$prefix/bin/satlink-cli" validate "$prefix"/share/satlink/scenarios/*.json >/dev/null ||
  { echo "FAIL - the installed scenarios do not validate"; fail=1; }
if [[ "$gui" == ON ]] && ! grep -q '^Exec=satlink' "$prefix/share/applications/satlink.desktop"; then
  echo "FAIL - the desktop entry does not start satlink"; fail=1
fi
exit "$fail"
