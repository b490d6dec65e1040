#!/usr/bin/env bash
# satlink-proxy as a user runs it: --check on good and bad configurations, the command line, a
# running daemon in front of the demo origin (requests, stats endpoint, access log), graceful stop
# on SIGTERM, and start-up failures (port in use, unopenable access log).
#
# usage: daemon_test.sh PATH-TO-satlink-proxy PATH-TO-satlink-demo-origin
# Every wait is bounded (polling a file or a process a bounded number of times, curl --max-time,
# timeout); every background process is killed on exit.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 PATH-TO-satlink-proxy PATH-TO-satlink-demo-origin" >&2
  exit 2
fi
PROXY=$1
ORIGIN=$2
for bin in "$PROXY" "$ORIGIN"; do
  [[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "curl is required" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/satlink-daemon-test.XXXXXX")
PIDS=()
cleanup() {
  exec 3>&- 2>/dev/null || true
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
skipped=0
pass() {
  passed=$((passed + 1))
  echo "ok   - $1"
}
# fail WHAT [DETAILS]: records a failed check and says which one, with what was seen.
fail() {
  failed=$((failed + 1))
  echo "FAIL - $1" >&2
  if [[ -n ${2-} ]]; then sed 's/^/       | /' <<<"$2" >&2; fi
}
check() {  # check WHAT CONDITION-COMMAND... [-- DETAILS]: pass or fail on the command's status
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what" "${details-}"; fi
}
# known_bug WHAT BUG CONDITION-COMMAND...: the condition states the correct behaviour. While it
# fails, the check is skipped with a clear "KNOWN BUG" line; once it holds, it counts as passed.
known_bug() {
  local what=$1 bug=$2
  shift 2
  if "$@"; then
    pass "$what (known bug appears fixed: remove the known_bug marker)"
  else
    skipped=$((skipped + 1))
    echo "SKIP - $what: KNOWN BUG: $bug"
  fi
}

# run CMD...: runs a command that must end by itself (bounded by timeout); sets rc, out, err.
run() {
  rc=0
  timeout 20 "$@" >"$TMP/run.out" 2>"$TMP/run.err" || rc=$?
  out=$(<"$TMP/run.out")
  err=$(<"$TMP/run.err")
  details="exit status: $rc
stdout: $out
stderr: $err"
}
contains() { [[ $1 == *"$2"* ]]; }

# wait_for_line FILE REGEX PID: polls (bounded: 200 x 50 ms) until FILE has a line matching
# REGEX; gives up early when PID has exited. Prints the line.
wait_for_line() {
  local file=$1 regex=$2 pid=$3 line
  for _ in $(seq 200); do
    if line=$(grep -E -m1 "$regex" "$file" 2>/dev/null); then
      printf '%s\n' "$line"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  grep -E -m1 "$regex" "$file" 2>/dev/null
}

# wait_exit PID SECONDS: waits (bounded) for PID to exit; sets exit_rc (or returns 1 if it
# is still running after SECONDS).
wait_exit() {
  local pid=$1 tries=$(($2 * 20))
  for _ in $(seq "$tries"); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then return 1; fi
  exit_rc=0
  wait "$pid" || exit_rc=$?
  return 0
}

# start_proxy NAME CONFIG [ARGS...]: starts the daemon in the background, output in
# $TMP/NAME.out/.err; sets proxy_pid.
start_proxy() {
  local name=$1 config=$2
  shift 2
  "$PROXY" --config "$config" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  proxy_pid=$!
  PIDS+=("$proxy_pid")
}

# proxy_config FILE CLIENT_PORT STATS_PORT THREADS [CLIENT_TLS]: a configuration in front of the
# demo origin.
proxy_config() {
  local file=$1 client_port=$2 stats_port=$3 threads=$4 tls=${5:-false}
  cat >"$file" <<EOF
{
  "client": {"bind": "127.0.0.1", "port": $client_port, "tls": {"enabled": $tls}},
  "server": {"keep_alive": true},
  "timeouts": {"grace_ms": 10000},
  "threads": $threads,
  "stats": {"enabled": true, "port": $stats_port},
  "backends": [
    {"name": "demo", "servers": [{"name": "origin", "host": "127.0.0.1", "port": $origin_port}]}
  ]
}
EOF
}

# --- The demo origin ---------------------------------------------------------------------------

"$ORIGIN" 0 >"$TMP/origin.out" 2>"$TMP/origin.err" &
origin_pid=$!
PIDS+=("$origin_pid")
origin_port=$(wait_for_line "$TMP/origin.out" '^[0-9]+$' "$origin_pid" || true)
if [[ -z $origin_port ]]; then
  fail "the demo origin prints its port" "$(cat "$TMP/origin.out" "$TMP/origin.err")"
  echo "$passed passed, $failed failed"
  exit 1
fi
pass "the demo origin listens on port $origin_port"

# --- --check and the command line --------------------------------------------------------------

proxy_config "$TMP/valid.json" 0 0 1
run "$PROXY" --config "$TMP/valid.json" --check
details="$details" check "--check on a valid configuration: exit 0, \"configuration OK\"" \
  eval '[[ $rc -eq 0 ]] && contains "$out" "configuration OK"'

cat >"$TMP/bad-port.json" <<'EOF'
{"backends": [{"name": "b", "servers": [{"host": "127.0.0.1", "port": "http"}]}]}
EOF
run "$PROXY" --config "$TMP/bad-port.json" --check
check "--check: a server port \"http\" is exit 2 naming backends[0].servers[0].port" \
  eval '[[ $rc -eq 2 ]] && contains "$err" "backends[0].servers[0].port" && contains "$err" "\"http\""'

cat >"$TMP/unknown-key.json" <<'EOF'
{"client": {"keepalive": true}, "backends": [{"name": "b", "servers": [{"port": 80}]}]}
EOF
run "$PROXY" --config "$TMP/unknown-key.json" --check
check "--check: an unknown key is exit 2 naming it (client.keepalive)" \
  eval '[[ $rc -eq 2 ]] && contains "$err" "client.keepalive" && contains "$err" "unknown key"'

printf '{\n  "backends": [\n    {"name": "b",, "servers": []}\n  ]\n}\n' >"$TMP/malformed.json"
run "$PROXY" --config "$TMP/malformed.json" --check
check "--check: malformed JSON is exit 2 with the line (3)" \
  eval '[[ $rc -eq 2 ]] && contains "$err" "line 3"'

cat >"$TMP/two-errors.json" <<'EOF'
{"threads": 0, "routes": [{"backend": "nowhere"}],
 "backends": [{"name": "b", "servers": [{"port": 70000}]}]}
EOF
run "$PROXY" --config "$TMP/two-errors.json" --check
check "--check: every error is reported at once (threads, routes[0].backend, port)" \
  eval '[[ $rc -eq 2 ]] && contains "$err" "threads" && contains "$err" "routes[0].backend" &&
        contains "$err" "backends[0].servers[0].port"'

run "$PROXY" --config "$TMP/valid.json" --bogus
check "an unknown argument is exit 2 with the usage" \
  eval '[[ $rc -eq 2 ]] && contains "$err" "--bogus" && contains "$err" "usage:"'

run "$PROXY"
check "no --config is exit 2 with the usage" \
  eval '[[ $rc -eq 2 ]] && contains "$err" "--config" && contains "$err" "usage:"'

run "$PROXY" --config
check "--config without a file is exit 2" eval '[[ $rc -eq 2 ]] && contains "$err" "usage:"'

run "$PROXY" --config "$TMP/does-not-exist.json" --check
check "an unreadable configuration (missing file) is exit 2 naming it" \
  eval '[[ $rc -eq 2 ]] && contains "$err" "does-not-exist.json" && contains "$err" "cannot read"'

mkdir "$TMP/a-directory.json"
run "$PROXY" --config "$TMP/a-directory.json" --check
check "an unreadable configuration (a directory) is exit 2" \
  eval '[[ $rc -eq 2 ]] && contains "$err" "a-directory.json"'

run "$PROXY" --help
check "--help is exit 0 with the usage on stdout" \
  eval '[[ $rc -eq 0 ]] && contains "$out" "usage:"'

# A configuration that cannot start must not pass --check (the daemon validates TLS files and
# addresses only when it starts).
cat >"$TMP/missing-cert.json" <<EOF
{"client": {"tls": {"enabled": true, "cert_file": "$TMP/no-cert.pem", "key_file": "$TMP/no-key.pem"}},
 "backends": [{"name": "b", "servers": [{"port": $origin_port}]}]}
EOF
run "$PROXY" --config "$TMP/missing-cert.json" --check
check "--check rejects a missing client TLS certificate file" \
  eval '[[ $rc -ne 0 ]] && contains "$err" "no-cert.pem"'
run "$PROXY" --config "$TMP/missing-cert.json"
check "starting with a missing TLS certificate file is exit 1 naming it" \
  eval '[[ $rc -eq 1 ]] && contains "$err" "no-cert.pem"'

# --- A running daemon --------------------------------------------------------------------------

proxy_config "$TMP/run.json" 0 0 1
start_proxy proxy "$TMP/run.json" --access-log "$TMP/access.log"
pid=$proxy_pid
listen=$(wait_for_line "$TMP/proxy.out" '^satlink-proxy listening on http://127\.0\.0\.1:[0-9]+' "$pid" || true)
stats=$(wait_for_line "$TMP/proxy.out" '^stats: http://127\.0\.0\.1:[0-9]+/stats' "$pid" || true)
port=$(sed -nE 's|^satlink-proxy listening on http://127\.0\.0\.1:([0-9]+).*|\1|p' <<<"$listen")
stats_port=$(sed -nE 's|^stats: http://127\.0\.0\.1:([0-9]+)/stats.*|\1|p' <<<"$stats")
if [[ -z $port || -z $stats_port ]]; then
  fail "the daemon prints its listening and stats addresses" \
    "$(cat "$TMP/proxy.out" "$TMP/proxy.err")"
  echo "$passed passed, $failed failed"
  exit 1
fi
pass "the daemon listens on $port, stats on $stats_port"

base="http://127.0.0.1:$port"
rc=0
codes=$(curl -s --max-time 10 -w '%{http_code} %{num_connects}\n' \
  -o "$TMP/page.html" "$base/index.html" -o /dev/null "$base/img1.jpg" \
  -o /dev/null "$base/img2.jpg") || rc=$?
details="curl exit $rc, got:
$codes" check "3 requests over one connection are 200 (one connect, two reuses)" \
  [ "$rc $(tr '\n' ' ' <<<"$codes")" = "0 200 1 200 0 200 0 " ]
details="$(cat "$TMP/page.html" 2>/dev/null)" check "the page came through the proxy" \
  grep -q '<img src="/img30.jpg">' "$TMP/page.html"

rc=0
json=$(curl -s --max-time 5 "http://127.0.0.1:$stats_port/stats") || rc=$?
details="$json" check "GET /stats is JSON with \"requests\": 3" \
  eval '[[ $rc -eq 0 && $json == "{"* ]] && grep -q "\"requests\": 3," <<<"$json"'
details="$json" check "/stats: one client connection, one server connection kept alive" \
  eval 'grep -q "\"client_conns_accepted\": 1," <<<"$json" &&
        grep -q "\"server_conns_opened\": 1," <<<"$json"'

rc=0
csv=$(curl -s --max-time 5 "http://127.0.0.1:$stats_port/stats.csv") || rc=$?
header=$(sed -n 1p <<<"$csv")
values=$(sed -n 2p <<<"$csv")
details="$csv" check "/stats.csv is a header line and a value line of the same width" \
  eval '[[ $rc -eq 0 && $(wc -l <<<"$csv") -eq 2 ]] && contains "$header" "requests" &&
        [[ $values =~ ^[0-9]+(,[0-9]+)*$ ]] &&
        [[ $(tr -cd , <<<"$header" | wc -c) -eq $(tr -cd , <<<"$values" | wc -c) ]]'

rc=0
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$stats_port/nope") ||
  rc=$?
check "the stats endpoint answers 404 elsewhere" [ "$code" = 404 ]

# The access log line of a request is written after its response: poll (bounded).
for _ in $(seq 100); do
  [[ $(grep -c ' 200 ' "$TMP/access.log" 2>/dev/null || true) -ge 3 ]] && break
  sleep 0.05
done
log=$(cat "$TMP/access.log" 2>/dev/null || true)
details="$log" check "the access log has one \" 200 \" line per request (3)" \
  eval '[[ $(grep -c " 200 " <<<"$log") -eq 3 && $(wc -l <<<"$log") -eq 3 ]] &&
        contains "$log" "\"GET /img1.jpg\"" && contains "$log" "demo/origin"'

# Graceful stop with a kept-alive client connection open and idle: the daemon closes it and exits
# 0 at once, well before the 10 s grace.
status_line=""
if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
  printf 'GET /img3.jpg HTTP/1.1\r\nHost: demo\r\n\r\n' >&3
  IFS= read -r -t 5 status_line <&3 || true
fi
check "a raw keep-alive request gets 200" eval 'contains "$status_line" "HTTP/1.1 200"'
kill -TERM "$pid"
if wait_exit "$pid" 5; then
  details="exit status $exit_rc; stderr: $(cat "$TMP/proxy.err")" \
    check "SIGTERM: the daemon exits 0 within 5 s (an idle connection open)" [ "$exit_rc" -eq 0 ]
  check "SIGTERM: the daemon says it is stopping" grep -q "stopping" "$TMP/proxy.err"
else
  fail "SIGTERM: the daemon exits within 5 s" "still running; stderr: $(cat "$TMP/proxy.err")"
fi
rc=0
timeout 5 cat <&3 >/dev/null || rc=$?
check "SIGTERM: the idle client connection was closed" [ "$rc" -eq 0 ]
exec 3>&-

# --- Start-up failures -------------------------------------------------------------------------

# A port already in use: held by a running daemon (one thread, so no SO_REUSEPORT).
proxy_config "$TMP/holder.json" 0 0 1
start_proxy holder "$TMP/holder.json"
holder_pid=$proxy_pid
listen=$(wait_for_line "$TMP/holder.out" '^satlink-proxy listening on' "$holder_pid" || true)
busy_port=$(sed -nE 's|.*127\.0\.0\.1:([0-9]+).*|\1|p' <<<"$listen")
stats=$(wait_for_line "$TMP/holder.out" '^stats: ' "$holder_pid" || true)
busy_stats=$(sed -nE 's|.*127\.0\.0\.1:([0-9]+)/stats.*|\1|p' <<<"$stats")
if [[ -n $busy_port && -n $busy_stats ]]; then
  proxy_config "$TMP/busy.json" "$busy_port" 0 1
  run "$PROXY" --config "$TMP/busy.json"
  check "a client port in use is exit 1 with a clear message" \
    eval '[[ $rc -eq 1 ]] && contains "$err" "cannot listen on 127.0.0.1:$busy_port" &&
          contains "$err" "in use"'
  proxy_config "$TMP/busy-stats.json" 0 "$busy_stats" 1
  run "$PROXY" --config "$TMP/busy-stats.json"
  check "a stats port in use is exit 1 with a clear message" \
    eval '[[ $rc -eq 1 ]] && contains "$err" "cannot listen on 127.0.0.1:$busy_stats"'
  proxy_config "$TMP/busy4.json" "$busy_port" 0 4
  run "$PROXY" --config "$TMP/busy4.json"
  check "a client port in use is exit 1 for a 4-thread daemon too" \
    eval '[[ $rc -eq 1 ]] && contains "$err" "cannot listen on 127.0.0.1:$busy_port"'
else
  fail "a daemon holding a port starts" "$(cat "$TMP/holder.out" "$TMP/holder.err")"
fi
kill -TERM "$holder_pid"
wait_exit "$holder_pid" 5 || fail "the port-holding daemon stops on SIGTERM"

# Two multi-threaded daemons on one port: SO_REUSEPORT on every listener lets the second bind
# the first's port, and the kernel then splits connections between the two processes.
proxy_config "$TMP/mt.json" 0 0 2
start_proxy mt "$TMP/mt.json"
mt_pid=$proxy_pid
listen=$(wait_for_line "$TMP/mt.out" '^satlink-proxy listening on' "$mt_pid" || true)
mt_port=$(sed -nE 's|.*127\.0\.0\.1:([0-9]+).*|\1|p' <<<"$listen")
if [[ -n $mt_port ]]; then
  proxy_config "$TMP/mt2.json" "$mt_port" 0 2
  start_proxy mt2 "$TMP/mt2.json"
  mt2_pid=$proxy_pid
  # Either it fails at once (correct) or it comes up listening (the bug): wait for one of the two.
  second=$(wait_for_line "$TMP/mt2.out" '^satlink-proxy listening on' "$mt2_pid" || true)
  mt2_rc=running
  if wait_exit "$mt2_pid" 1; then mt2_rc=$exit_rc; else kill -TERM "$mt2_pid"; wait_exit "$mt2_pid" 5 || true; fi
  check "a second 2-thread daemon on a 2-thread daemon's port is exit 1" \
    [ "$mt2_rc" = 1 ]
else
  fail "a 2-thread daemon starts" "$(cat "$TMP/mt.out" "$TMP/mt.err")"
fi
kill -TERM "$mt_pid"
wait_exit "$mt_pid" 5 || fail "the 2-thread daemon stops on SIGTERM"

run "$PROXY" --config "$TMP/valid.json" --access-log "$TMP/a-directory.json"
check "an access log that cannot be opened is exit 1 naming it" \
  eval '[[ $rc -eq 1 ]] && contains "$err" "cannot open" && contains "$err" "a-directory.json"'

# --- TLS towards clients -----------------------------------------------------------------------

proxy_config "$TMP/tls.json" 0 0 1 true
start_proxy tls "$TMP/tls.json"
tls_pid=$proxy_pid
listen=$(wait_for_line "$TMP/tls.out" '^satlink-proxy listening on https://' "$tls_pid" || true)
tls_port=$(sed -nE 's|.*https://127\.0\.0\.1:([0-9]+).*|\1|p' <<<"$listen")
if [[ -n $tls_port ]]; then
  rc=0
  codes=$(curl -sk --max-time 10 -w '%{http_code} %{num_connects}\n' \
    -o /dev/null "https://127.0.0.1:$tls_port/index.html" \
    -o /dev/null "https://127.0.0.1:$tls_port/img1.jpg") || rc=$?
  details="curl exit $rc: $codes" check "https with a generated certificate: 2 requests, 1 connection" \
    [ "$rc $(tr '\n' ' ' <<<"$codes")" = "0 200 1 200 0 " ]
else
  fail "the TLS daemon prints an https address" "$(cat "$TMP/tls.out" "$TMP/tls.err")"
fi
kill -TERM "$tls_pid"
if wait_exit "$tls_pid" 5; then
  check "the TLS daemon exits 0 on SIGTERM" [ "$exit_rc" -eq 0 ]
else
  fail "the TLS daemon exits within 5 s of SIGTERM"
fi

kill -TERM "$origin_pid"
wait_exit "$origin_pid" 5 || fail "the demo origin stops on SIGTERM"

# -----------------------------------------------------------------------------------------------
summary="$passed passed, $failed failed"
[[ $skipped -gt 0 ]] && summary="$summary ($skipped skipped: known bugs)"
echo "$summary"
[[ $failed -eq 0 ]]
