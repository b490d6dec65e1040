#!/usr/bin/env bash
# Installs what is missing, builds, and starts the main job.
# Until the workbench GUI lands, the main job is the standalone proxy (satlink-proxy) in front
# of a demo origin, on 127.0.0.1. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"

bin=build/release
port="${SATLINK_PORT:-8080}"
mkdir -p out
origin_port_file=$(mktemp)
"$bin/tests/support/satlink-demo-origin" 0 >"$origin_port_file" &
origin_pid=$!
proxy_pid=""
trap 'kill $origin_pid ${proxy_pid:-} 2>/dev/null || true; rm -f "$origin_port_file"' EXIT
for _ in $(seq 50); do [[ -s "$origin_port_file" ]] && break; sleep 0.1; done
origin_port=$(head -n1 "$origin_port_file")
[[ -n "$origin_port" ]] || { echo "demo origin did not start" >&2; exit 1; }

cat >out/proxy.json <<JSON
{
  "client": { "bind": "127.0.0.1", "port": $port, "keep_alive": true },
  "server": { "keep_alive": true, "reuse": "safe" },
  "backends": [ { "name": "demo", "servers": [ { "name": "origin", "host": "127.0.0.1", "port": $origin_port } ] } ],
  "stats": { "enabled": true, "port": $((port + 1)) }
}
JSON
"$bin/proxycore/satlink-proxy" --config out/proxy.json --access-log out/access.log &
proxy_pid=$!
cat <<TXT

satlink-proxy is running in front of a demo origin (page: HTML + 30 images of 15 kB).
Try:
  curl -v http://127.0.0.1:$port/                       # the page
  curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:$port/img{1,2,3}.jpg   # 3 requests, 1 connection
  curl -s http://127.0.0.1:$((port + 1))/stats            # counters (JSON); /stats.csv for CSV
  tail -f out/access.log                                 # HAProxy-style timers per request
Config: out/proxy.json (edit and rerun; validate with: $bin/proxycore/satlink-proxy --config out/proxy.json --check)
Ctrl-C stops.
TXT
wait "$proxy_pid"
