#!/usr/bin/env bash
# satlink-cli as a user runs it: validate, presets, run, usage errors and exit codes.
# usage: cli_test.sh SATLINK_CLI SCENARIOS_DIR
set -uo pipefail
cli="$1"
scenarios="$2"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
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
hars=$(ls "$tmp/run/har" | wc -l)
if [[ "$hars" == 4 ]]; then pass=$((pass + 1)); echo "ok   - a HAR per trial"; else fail=$((fail + 1)); echo "FAIL - $hars HAR files"; fi
if grep -q '"version": "1.2"' "$tmp/run/har/"*.har; then pass=$((pass + 1)); echo "ok   - HAR 1.2"; else fail=$((fail + 1)); echo "FAIL - HAR version"; fi
check "--set overrides a field" 0 "$cli" run "$here/tiny-scenario.json" --set 'experiment.modes=["close"]' --repetitions 1 --format csv --out "$tmp/run2" --quiet
rows=$(($(wc -l <"$tmp/run2/results.csv") - 1))
if [[ "$rows" == 1 ]]; then pass=$((pass + 1)); echo "ok   - --set and --repetitions shape the plan"; else fail=$((fail + 1)); echo "FAIL - $rows rows"; fi
if [[ ! -e "$tmp/run2/results.json" ]]; then pass=$((pass + 1)); echo "ok   - --format csv writes no JSON"; else fail=$((fail + 1)); echo "FAIL - JSON written"; fi

echo "$pass passed, $fail failed"
[[ "$fail" == 0 ]]
