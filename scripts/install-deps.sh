#!/usr/bin/env bash
# Installs exactly the Debian packages of the toolchain that are missing. Idempotent.
# Usage: scripts/install-deps.sh [--peers]   (--peers adds haproxy, nginx, wrk for bench/)
set -euo pipefail

packages=(qt6-base-dev qt6-svg-dev libqcustomplot-dev nlohmann-json3-dev libboost1.81-dev
  libssl-dev libgtest-dev libgmock-dev libbenchmark-dev cmake g++ clang libclang-rt-14-dev
  ccache ninja-build xvfb libxkbcommon-dev openssl curl)
if [[ "${1:-}" == "--peers" ]]; then
  packages+=(haproxy nginx wrk)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "error: missing packages: ${missing[*]}" >&2
  echo "Run as root, or install them yourself: apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "Installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
