#!/usr/bin/env bash
# Whole-process wall time of the example tool (`demo build --release`, which sleeps
# 5 ms itself), and its overhead over the twin built without telemetry, measured in the
# same run. Run by hand, never by CI:
#
#   CARGO_TARGET_DIR=/work/target-bench bash bench/exit.sh
#   RUNS=40 WARMUP=3 RUNNER=loop CASES="twin bg-slow ae-slow" bash bench/exit.sh
#
# Cases (keys for CASES; all by default):
#
#   twin        not linked: examples/demo_not_linked.rs, same CLI and work, no telemetry
#   disabled    demo, telemetry linked but no consent (the default)
#   jsonl       DEMO_TELEMETRY=1: the local event log only
#   reports     DEMO_TELEMETRY=1 DEMO_REPORTS=1: report mode (the call folded into the
#               week's report file, `<data dir>/reports/`; no event log, no spool, no
#               endpoint)
#   bg-ok       + DEMO_TELEMETRY_ENDPOINT on 127.0.0.1 answering 200 at once
#   bg-slow     + an endpoint that answers after 300 ms
#   bg-hole     + an endpoint whose listener never accepts (black-holed)
#   bg-slow-i0  bg-slow with DEMO_UPLOAD_INTERVAL_MS=0: an uploader is due at every exit
#               (started whenever the previous one has finished)
#   bg-nosync   diagnostic, only where libeatmydata is installed (`apt-get install
#               eatmydata`): bg-slow with fsync/fdatasync made no-ops (LD_PRELOAD), to
#               show the share of the syncs; not a budget case. twin-nosync: the twin
#               with the same LD_PRELOAD (loading the library costs a little by itself):
#               the syncs' share is (bg-slow - twin) - (bg-nosync - twin-nosync)
#   ae-ok, ae-slow, ae-hole
#               the same endpoints with DEMO_SEND_AT_EXIT=1 (SendMode::AtExit: the
#               exit sends, within the demo's 100 ms deadline), for contrast
#
# bg-* is the default SendMode::Background: the exit persists the event (synced spool
# file) and sends nothing; an uploader (`demo --telemetry-uploader`) is started at
# most once per upload interval (10 min by default, so once per case here, by the
# first warm-up run). Budget checked: background at most 2 ms over the twin (median
# and p95), whatever the endpoint's latency.
#
# Runners: RUNNER=hyperfine (the default when `hyperfine` is installed:
# `apt-get install hyperfine`) times each case in turn with `hyperfine -N`; RUNNER=loop
# (the default otherwise) times every case once per round, round after round, with
# bash's $EPOCHREALTIME around the command (no extra process; the fork of bash is in
# every case and cancels out in the overheads). Either way: WARMUP untimed runs, then
# RUNS timed runs per case (>= 30), each case with its own fresh HOME and an empty
# environment (`env -i HOME=... PATH=...`). bench/stats.py prints mean, median, p95
# (nearest rank), min, max and the overheads.
set -euo pipefail
RUNS=${RUNS:-40}
WARMUP=${WARMUP:-3}
eatmydata=$(ls /usr/lib/*/libeatmydata.so /usr/lib/libeatmydata.so 2>/dev/null | head -1 || true)
ALL_CASES="twin disabled jsonl reports bg-ok bg-slow bg-hole bg-slow-i0 ${eatmydata:+twin-nosync bg-nosync }ae-ok ae-slow ae-hole"
CASES=${CASES:-$ALL_CASES}
if [ -z "${RUNNER:-}" ]; then
  if command -v hyperfine >/dev/null; then RUNNER=hyperfine; else RUNNER=loop; fi
fi
case $RUNNER in hyperfine | loop) ;; *) echo "RUNNER must be hyperfine or loop" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.."
bench=$PWD/bench
target=${CARGO_TARGET_DIR:-target}
# Report mode's code only when its case is asked for: it makes the demo ~0.8 MB larger,
# which every case would pay in loading time, and a tool that sends events does not
# build it (feature `reports`, off by default).
features=clap,http
case " $CASES " in *" reports "*) features=$features,reports ;; esac
echo "demo built with features $features"
cargo build -q --release -p telemetry --features "$features" --example demo --example demo-not-linked
demo="$target/release/examples/demo"
twin="$target/release/examples/demo-not-linked"

work=$(mktemp -d "${TMPDIR:-/tmp}/exit-bench.XXXXXX")
server_pid=
# Lock files of the spools whose uploader may still run.
wait_uploaders() { # seconds
  local deadline=$((SECONDS + $1)) lock
  for lock in "$work"/home-*/.local/share/demo/telemetry/spool/upload.lock; do
    [ -e "$lock" ] || continue
    until flock -n "$lock" true; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        echo "note: an uploader still holds $lock" >&2
        break
      fi
      sleep 0.2
    done
  done
}
cleanup() {
  set +e
  # The uploaders are bounded (30 s); wait for them before deleting their HOME.
  wait_uploaders 40
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 "$bench/loopback_server.py" "$work/ports" "$work/server" 1800 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/ports" ] && break; sleep 0.1; done
[ -s "$work/ports" ] || { echo "the loopback server did not start" >&2; exit 1; }
read -r ok_port slow_port hole_port <"$work/ports"
url() { echo "http://127.0.0.1:$1/v1/events"; }

# One case: key, label, binary, environment...
declare -A LABEL BIN ENVS
define() {
  local key=$1
  LABEL[$key]=$2
  BIN[$key]=$3
  shift 3
  ENVS[$key]="$*"
}
define twin "not linked (twin)" "$twin"
define disabled "telemetry disabled" "$demo"
define jsonl "enabled, local JSONL only" "$demo" DEMO_TELEMETRY=1
define reports "report mode, report file only" "$demo" DEMO_TELEMETRY=1 DEMO_REPORTS=1
define bg-ok "background, loopback 200" "$demo" DEMO_TELEMETRY=1 \
  "DEMO_TELEMETRY_ENDPOINT=$(url "$ok_port")"
define bg-slow "background, loopback 300 ms" "$demo" DEMO_TELEMETRY=1 \
  "DEMO_TELEMETRY_ENDPOINT=$(url "$slow_port")"
define bg-hole "background, black-holed" "$demo" DEMO_TELEMETRY=1 \
  "DEMO_TELEMETRY_ENDPOINT=$(url "$hole_port")"
define bg-slow-i0 "background, 300 ms, interval 0" "$demo" DEMO_TELEMETRY=1 \
  "DEMO_TELEMETRY_ENDPOINT=$(url "$slow_port")" DEMO_UPLOAD_INTERVAL_MS=0
if [ -n "$eatmydata" ]; then
  define twin-nosync "not linked, LD_PRELOAD (diag.)" "$twin" "LD_PRELOAD=$eatmydata"
  define bg-nosync "background, 300 ms, no fsync (diag.)" "$demo" DEMO_TELEMETRY=1 \
    "DEMO_TELEMETRY_ENDPOINT=$(url "$slow_port")" "LD_PRELOAD=$eatmydata"
fi
define ae-ok "at-exit, loopback 200" "$demo" DEMO_TELEMETRY=1 DEMO_SEND_AT_EXIT=1 \
  "DEMO_TELEMETRY_ENDPOINT=$(url "$ok_port")"
define ae-slow "at-exit, loopback 300 ms" "$demo" DEMO_TELEMETRY=1 DEMO_SEND_AT_EXIT=1 \
  "DEMO_TELEMETRY_ENDPOINT=$(url "$slow_port")"
define ae-hole "at-exit, black-holed" "$demo" DEMO_TELEMETRY=1 DEMO_SEND_AT_EXIT=1 \
  "DEMO_TELEMETRY_ENDPOINT=$(url "$hole_port")"

keys=()
for key in $CASES; do
  [ -n "${LABEL[$key]+x}" ] || { echo "unknown case $key (cases: $ALL_CASES)" >&2; exit 2; }
  keys+=("$key")
  mkdir -p "$work/home-$key"
  echo "${LABEL[$key]}" >"$work/$key.label"
  : >"$work/$key.txt"
done
# The command of a case, as words (the environment values hold no spaces).
command_of() { # key
  local key=$1
  # shellcheck disable=SC2206
  CMD=(env -i "HOME=$work/home-$key" "PATH=$PATH" ${ENVS[$key]} "${BIN[$key]}" build --release)
}

machine() {
  echo "$(date -u +%FT%TZ)  $(uptime | sed 's/.*load/load/')  nproc $(nproc)"
  if [ -r /proc/pressure/io ]; then echo "io pressure: $(head -1 /proc/pressure/io)"; fi
}
echo "== bench/exit.sh: $RUNNER, $WARMUP warm-up + $RUNS timed runs per case"
machine
echo "HOME dirs on: $(df -T "$work" | awk 'NR == 2 { print $2, $1 }')"

if [ "$RUNNER" = hyperfine ]; then
  for key in "${keys[@]}"; do
    command_of "$key"
    hyperfine -N --style none --warmup "$WARMUP" --runs "$RUNS" \
      --export-json "$work/$key.json" -- "$(printf '%q ' "${CMD[@]}")" >/dev/null 2>&1
    python3 -c '
import json, sys
for t in json.load(open(sys.argv[1]))["results"][0]["times"]:
    print(round(t * 1e6))' "$work/$key.json" >"$work/$key.txt"
  done
else
  # Round after round, every case once per round, the order rotated each round, so
  # that a change of the machine's load hits every case alike.
  n=${#keys[@]}
  for round in $(seq $((WARMUP + RUNS))); do
    for i in $(seq 0 $((n - 1))); do
      key=${keys[$(((i + round) % n))]}
      command_of "$key"
      t0=$EPOCHREALTIME
      "${CMD[@]}" >/dev/null 2>&1 || true
      t1=$EPOCHREALTIME
      if [ "$round" -gt "$WARMUP" ]; then
        echo $((${t1//[.,]/} - ${t0//[.,]/})) >>"$work/$key.txt"
      fi
    done
  done
fi

echo
budget_keys=$(printf '%s\n' "${keys[@]}" | grep '^bg-' | grep -v nosync | paste -sd, || true)
python3 "$bench/stats.py" "$work" twin 2 "$budget_keys" "${keys[@]}"
machine

# Every event of every run must be on disk: in the local log, and (with an endpoint)
# either delivered or still in the spool.
echo
echo "after the runs (each case: $((WARMUP + RUNS)) runs):"
for key in "${keys[@]}"; do
  if [ "$key" = reports ]; then
    python3 -c '
import glob, json, sys
rows = [r for f in glob.glob(sys.argv[1] + "/*.json") for r in json.load(open(f))["report"]["rows"]]
calls = sum(r["count"] for r in rows)
print(f"  {sys.argv[2]:<38} {calls:3d} calls in the report files ({len(rows)} rows)")' \
      "$work/home-$key/.local/share/demo/telemetry/reports" "${LABEL[$key]}"
    continue
  fi
  case $key in bg-* | ae-*) ;; *) continue ;; esac
  data="$work/home-$key/.local/share/demo/telemetry"
  logged=$(cat "$data/events.jsonl" 2>/dev/null | wc -l)
  # Event lines only: each spool file starts with a process line ({"spool":...).
  spooled=$(find "$data/spool" -maxdepth 1 -type f -name '*.jsonl*' -exec cat {} + 2>/dev/null |
    grep -cv '^{"spool":' || true)
  printf '  %-38s %3d events in the local log, %3d waiting in the spool\n' \
    "${LABEL[$key]}" "$logged" "$spooled"
done
for label in ok slow; do
  log="$work/server/$label.jsonl"
  [ -s "$log" ] || continue
  python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
got = [r for r in recs if r["kind"] == "received"]
ids = [i for r in got for i in (r["events"] or [])]
print(f"  server {sys.argv[2]:<4}: {len(got)} requests, {len(ids)} events, {len(set(ids))} unique "
      "(all cases using it; the uploaders may still be sending)")' "$log" "$label"
done
