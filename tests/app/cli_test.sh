#!/usr/bin/env bash
# satlink-cli as a user runs it: validate, presets, run, serve, usage errors and exit codes.
# usage: cli_test.sh SATLINK_CLI SCENARIOS_DIR
set -uo pipefail
cli="$1"
scenarios="$2"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
serve_pid=""
trap '[[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0
fail=0
check() {  # check NAME EXPECTED_STATUS COMMAND... ; output in $tmp/out
  local name="$1" want="$2"
  shift 2
  "$@" >"$tmp/out" 2>&1
  local got=$?
  if [[ "$got" == "$want" ]]; then
    pass=$((pass + 1)); echo "ok   - $name"
  else
    fail=$((fail + 1)); echo "FAIL - $name (exit $got, wanted $want)"; sed 's/^/       /' "$tmp/out"
  fi
}
verdict() {  # verdict NAME CONDITION...: ok when the condition holds
  local name="$1"
  shift
  if "$@"; then pass=$((pass + 1)); echo "ok   - $name"; else fail=$((fail + 1)); echo "FAIL - $name"; fi
}
contains() {  # contains NAME TEXT: the last command's output has TEXT
  if grep -qF -- "$2" "$tmp/out"; then
    pass=$((pass + 1)); echo "ok   - $1"
  else
    fail=$((fail + 1)); echo "FAIL - $1: no '$2' in:"; sed 's/^/       /' "$tmp/out"
  fi
}

check "--help exits 0" 0 "$cli" --help
contains "--help lists run" "run SCENARIO.json"
check "no command is a usage error" 2 "$cli"
check "unknown command is a usage error" 2 "$cli" frobnicate
contains "unknown command is named" "unknown command 'frobnicate'"
check "presets" 0 "$cli" presets
contains "presets list geo with its source" "Ookla medians"

check "every shipped scenario validates" 0 "$cli" validate "$scenarios"/*.json
printf '{"satlink_scenario": 1, "client_link": {"down": {"delay_ms": "fast"}}, "clinet": {}}' >"$tmp/bad.json"
check "a bad scenario exits 2" 2 "$cli" validate "$tmp/bad.json"
contains "the error names the path and reason" 'client_link.down.delay_ms: must be a number in 0..3600000, got "fast"'
contains "a typo is an unknown key" "clinet: unknown key"
printf '{"satlink_scenario": 1,' >"$tmp/broken.json"
check "broken JSON exits 2" 2 "$cli" validate "$tmp/broken.json"
contains "broken JSON says where" "invalid JSON at line 1"
check "a missing file exits 2" 2 "$cli" validate "$tmp/missing.json"

check "run without a scenario is a usage error" 2 "$cli" run
check "run with a bad option value" 2 "$cli" run "$here/tiny-scenario.json" --repetitions zero
contains "bad option value is named" "--repetitions must be 1..1000"
check "run with a bad --set" 2 "$cli" run "$here/tiny-scenario.json" --set client.connections_per_host=0 --out "$tmp/x"
contains "bad --set gives the loader's message" "client.connections_per_host: must be an integer in 1..64, got 0"

check "run the tiny scenario" 0 "$cli" run "$here/tiny-scenario.json" --out "$tmp/run" --events --quiet
contains "the answer in words follows the table" "Keep-alive on both sides"
for f in results.csv summary.csv requests.csv results.json events.jsonl; do
  if [[ -s "$tmp/run/$f" ]]; then pass=$((pass + 1)); echo "ok   - wrote $f"; else fail=$((fail + 1)); echo "FAIL - no $f"; fi
done
rows=$(($(wc -l <"$tmp/run/results.csv") - 1))
if [[ "$rows" == 4 ]]; then pass=$((pass + 1)); echo "ok   - results.csv has a row per trial"; else fail=$((fail + 1)); echo "FAIL - results.csv has $rows rows, wanted 4"; fi
if head -1 "$tmp/run/results.csv" | grep -q '^scenario,trial,mode,point,repetition,seed,error,page_load_ms,'; then
  pass=$((pass + 1)); echo "ok   - results.csv header"
else
  fail=$((fail + 1)); echo "FAIL - results.csv header: $(head -1 "$tmp/run/results.csv")"
fi
# Charts come with the Qt build only; a build without Qt says so when asked for one.
if [[ "$("$cli" run "$tmp/none.json" --format png 2>&1)" == *"this build has no Qt"* ]]; then
  echo "skip - charts: this build has no Qt"
else
  charts=$(ls "$tmp/run/charts" 2>/dev/null | wc -l)
  # comparison, breakdown, and per mode (2) a waterfall and connections: 6 charts x 3 formats
  if [[ "$charts" == 18 ]]; then pass=$((pass + 1)); echo "ok   - charts in PNG, SVG and PDF"; else fail=$((fail + 1)); echo "FAIL - $charts chart files, wanted 18"; fi
  if head -c 8 "$tmp/run/charts/comparison.png" | grep -q PNG; then pass=$((pass + 1)); echo "ok   - comparison.png is a PNG"; else fail=$((fail + 1)); echo "FAIL - comparison.png"; fi
  if head -c 5 "$tmp/run/charts/breakdown.pdf" | grep -q '%PDF'; then pass=$((pass + 1)); echo "ok   - breakdown.pdf is a PDF"; else fail=$((fail + 1)); echo "FAIL - breakdown.pdf"; fi
fi
hars=$(ls "$tmp/run/har" | wc -l)
if [[ "$hars" == 4 ]]; then pass=$((pass + 1)); echo "ok   - a HAR per trial"; else fail=$((fail + 1)); echo "FAIL - $hars HAR files"; fi
if grep -q '"version": "1.2"' "$tmp/run/har/"*.har; then pass=$((pass + 1)); echo "ok   - HAR 1.2"; else fail=$((fail + 1)); echo "FAIL - HAR version"; fi
check "--set overrides a field" 0 "$cli" run "$here/tiny-scenario.json" --set 'experiment.modes=["close"]' --repetitions 1 --format csv --out "$tmp/run2" --quiet
contains "a lone mode's answer says what it measured" "Only close ran here: page load"
rows=$(($(wc -l <"$tmp/run2/results.csv") - 1))
if [[ "$rows" == 1 ]]; then pass=$((pass + 1)); echo "ok   - --set and --repetitions shape the plan"; else fail=$((fail + 1)); echo "FAIL - $rows rows"; fi
if [[ ! -e "$tmp/run2/results.json" ]]; then pass=$((pass + 1)); echo "ok   - --format csv writes no JSON"; else fail=$((fail + 1)); echo "FAIL - JSON written"; fi

check "--trials runs part of the plan" 0 "$cli" run "$here/tiny-scenario.json" --trials 1,3 --format csv --out "$tmp/run3" --quiet
# The trial and seed columns (2 and 6) of trials 1 and 3 are those of the whole plan's run.
verdict "--trials keeps the plan's indexes and seeds" test \
  "$(cut -d, -f2,6 "$tmp/run3/results.csv" | tail -n +2)" = "$(cut -d, -f2,6 "$tmp/run/results.csv" | sed -n '3p;5p')"
check "--trials out of the plan" 2 "$cli" run "$here/tiny-scenario.json" --trials 0-4 --out "$tmp/x"
contains "the bad range is named with the plan's size" "'0-4' is not a trial index or range within 0..3 (the plan has 4 trials)"

# serve: one trial's chain without the replay client, for a real browser, until SIGINT.
check "serve without a scenario is a usage error" 2 "$cli" serve
check "serve with an unknown mode" 2 "$cli" serve "$here/tiny-scenario.json" --mode fast
contains "the unknown mode is named" "--mode must be one of"
check "serve with a name for --listen" 2 "$cli" serve "$here/tiny-scenario.json" --listen localhost
check "serve with a bad --port" 2 "$cli" serve "$here/tiny-scenario.json" --port 70000
check "serve an invalid scenario" 2 "$cli" serve "$tmp/bad.json"
check "serve elsewhere than loopback warns; a foreign address fails to bind" 1 \
  "$cli" serve "$here/tiny-scenario.json" --listen 192.0.2.1 --port 18080
contains "the warning says who can use it" "anyone who can reach this address can use the testbed"
contains "the bind failure names the address and port" "192.0.2.1:18080"

"$cli" serve "$here/tiny-scenario.json" --mode keep-alive >"$tmp/serve.out" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 1 100); do  # 10 s at most
  url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$tmp/serve.out" | head -1)
  [[ -n "$url" ]] && break
  sleep 0.1
done
port="${url##*:}"
port="${port%/}"
verdict "serve prints the URL" test -n "$url"
verdict "serve prints the chain with its ports" grep -qE 'client link 127\.0\.0\.1:[0-9]+ .* -> proxy 127\.0\.0\.1:[0-9]+ -> server link .* -> origin 127\.0\.0\.1:[0-9]+' "$tmp/serve.out"
verdict "serve says how to stop" grep -qF "Ctrl-C stops" "$tmp/serve.out"
if [[ -n "$url" ]]; then
  # A browser's request by hand (bash's /dev/tcp: no curl needed), Connection: close ends it.
  (exec 3<>"/dev/tcp/127.0.0.1/$port" &&
    printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 &&
    timeout 10 cat <&3) >"$tmp/page" 2>/dev/null
  verdict "a GET through the chain is answered 200" grep -q '^HTTP/1.1 200' "$tmp/page"
  verdict "the body is the origin's page" grep -qF '/css/0.css' "$tmp/page"
  check "serve on a port in use exits 1" 1 "$cli" serve "$here/tiny-scenario.json" --port "$port"
  contains "the port in use is named" "127.0.0.1:$port"
fi
kill -INT "$serve_pid"
for _ in $(seq 1 100); do  # 10 s at most
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$serve_pid" 2>/dev/null; then
  fail=$((fail + 1)); echo "FAIL - serve still runs 10 s after SIGINT"; kill -KILL "$serve_pid"
fi
wait "$serve_pid"
status=$?
serve_pid=""
verdict "serve exits 0 on SIGINT" test "$status" = 0
if [[ -n "$port" ]]; then
  verdict "the port no longer accepts" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"
fi

echo "$pass passed, $fail failed"
[[ "$fail" == 0 ]]
