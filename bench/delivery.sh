#!/usr/bin/env bash
# Delivery check of the exit (issue 12): what reaches a slow server, how often, and
# what is left on disk, after many short runs of the example tool. Run by hand, never
# by CI:
#
#   CARGO_TARGET_DIR=/work/target-bench bash bench/delivery.sh
#   RUNS=50 SCENARIOS="bg-i0 bg ae" bash bench/delivery.sh
#   GAP_MS=400 SCENARIOS=bg-i0 bash bench/delivery.sh   # a pause between runs: with
#                         interval 0, each run then finds the last uploader done
#
# The server (bench/loopback_server.py, 127.0.0.1 only) answers every POST after
# 300 ms and logs every request body (a JSON array of events) as soon as it has read
# it, with each event's `event_id`. Each scenario gets its own server and a fresh
# HOME, then runs `demo build --release` RUNS times back to back (DEMO_TELEMETRY=1,
# the endpoint on the slow server, the demo's exit deadline of 100 ms):
#
#   bg-i0   SendMode::Background with DEMO_UPLOAD_INTERVAL_MS=0: an uploader is due
#           at every exit (started when the previous one has finished)
#   bg      SendMode::Background with the default upload interval (10 min): the
#           first exit starts the only uploader of the scenario
#   ae      SendMode::AtExit (DEMO_SEND_AT_EXIT=1): every exit sends within its
#           100 ms deadline, as before issue 12; for contrast
#
# After the last run it waits until no uploader holds `<spool>/upload.lock` (polled
# with `flock -n`; at most WAIT_S seconds, 120 by default) and the server has answered
# every request it read, then reports: events recorded (the local log, one per run),
# requests and client connections, events received, unique event_ids, duplicates,
# events left in the spool, and events lost (recorded, never received, not in the
# spool). Also each scenario's wall time per run (bench/stats.py).
set -euo pipefail
RUNS=${RUNS:-50}
WAIT_S=${WAIT_S:-120}
SCENARIOS=${SCENARIOS:-"bg-i0 bg ae"}
GAP_MS=${GAP_MS:-0}
cd "$(dirname "$0")/.."
bench=$PWD/bench
target=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p telemetry --features clap,http --example demo
demo="$target/release/examples/demo"

work=$(mktemp -d "${TMPDIR:-/tmp}/delivery-bench.XXXXXX")
server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
# Waits until no uploader holds the lock of `home`'s spool; prints the seconds waited.
wait_uploader() { # home, seconds
  local lock="$1/.local/share/demo/telemetry/spool/upload.lock" t0=$EPOCHREALTIME
  local deadline=$((SECONDS + $2))
  if [ -e "$lock" ]; then
    until flock -n "$lock" true; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        echo "note: an uploader still holds $lock after $2 s" >&2
        break
      fi
      sleep 0.05
    done
  fi
  local t1=$EPOCHREALTIME
  echo $(((${t1//[.,]/} - ${t0//[.,]/}) / 1000))
}
cleanup() {
  set +e
  stop_server
  for home in "$work"/home-*; do
    [ -d "$home" ] && wait_uploader "$home" 40 >/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

declare -A LABEL ENVS
LABEL[bg-i0]="background, DEMO_UPLOAD_INTERVAL_MS=0"
ENVS[bg-i0]="DEMO_UPLOAD_INTERVAL_MS=0"
LABEL[bg]="background, default interval (10 min)"
ENVS[bg]=""
LABEL[ae]="at-exit (DEMO_SEND_AT_EXIT=1), deadline 100 ms"
ENVS[ae]="DEMO_SEND_AT_EXIT=1"

echo "== bench/delivery.sh: $RUNS runs per scenario, ${GAP_MS} ms apart, against a server answering after 300 ms"
echo "$(date -u +%FT%TZ)  $(uptime | sed 's/.*load/load/')  nproc $(nproc)"
keys=()
for key in $SCENARIOS; do
  [ -n "${LABEL[$key]+x}" ] || { echo "unknown scenario $key" >&2; exit 2; }
  keys+=("$key")
  home="$work/home-$key"
  mkdir -p "$home"
  echo "${LABEL[$key]}" >"$work/$key.label"
  : >"$work/$key.txt"
  python3 "$bench/loopback_server.py" "$work/ports-$key" "$work/server-$key" 900 &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$work/ports-$key" ] && break; sleep 0.1; done
  [ -s "$work/ports-$key" ] || { echo "the loopback server did not start" >&2; exit 1; }
  read -r _ slow_port _ <"$work/ports-$key"
  # shellcheck disable=SC2206
  cmd=(env -i "HOME=$home" "PATH=$PATH" DEMO_TELEMETRY=1
    "DEMO_TELEMETRY_ENDPOINT=http://127.0.0.1:$slow_port/v1/events" ${ENVS[$key]}
    "$demo" build --release)
  for _ in $(seq "$RUNS"); do
    t0=$EPOCHREALTIME
    "${cmd[@]}" >/dev/null 2>&1 || true
    t1=$EPOCHREALTIME
    echo $((${t1//[.,]/} - ${t0//[.,]/})) >>"$work/$key.txt"
    if [ "$GAP_MS" -gt 0 ]; then sleep "$(printf '%d.%03d' $((GAP_MS / 1000)) $((GAP_MS % 1000)))"; fi
  done
  waited=$(wait_uploader "$home" "$WAIT_S")
  # Every request the server read answered (or its client gone): at most 5 s more.
  for _ in $(seq 50); do
    python3 -c '
import json, sys
kinds = [json.loads(l)["kind"] for l in open(sys.argv[1])] if __import__("os").path.exists(sys.argv[1]) else []
sys.exit(0 if kinds.count("received") == kinds.count("answered") else 1)' \
      "$work/server-$key/slow.jsonl" && break
    sleep 0.1
  done
  stop_server
  echo
  echo "-- ${LABEL[$key]}"
  python3 - "$home/.local/share/demo/telemetry" "$work/server-$key/slow.jsonl" "$waited" <<'PY'
import collections, glob, json, os, sys

data, log, waited = sys.argv[1], sys.argv[2], int(sys.argv[3])

def ids_of(path):
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    out.append(json.loads(line)["event_id"])
                except (ValueError, KeyError, TypeError):
                    pass
    except OSError:
        pass
    return out

recorded = ids_of(os.path.join(data, "events.jsonl"))
spool_files = [p for p in glob.glob(os.path.join(data, "spool", "*.jsonl*"))]
spooled = [i for p in spool_files for i in ids_of(p)]
reqs = []
if os.path.exists(log):
    with open(log, encoding="utf-8") as f:
        reqs = [r for r in map(json.loads, f) if r["kind"] == "received"]
received = [i for r in reqs for i in (r["events"] or [])]
counts = collections.Counter(received)
unique = set(received)
dups = len(received) - len(unique)
not_received = [i for i in recorded if i not in unique]
lost = [i for i in not_received if i not in set(spooled)]
sizes = collections.Counter(len(r["events"] or []) for r in reqs)
print(f"  events recorded (local log)      {len(recorded)}")
print(f"  requests received                {len(reqs)} from {len({r['peer'] for r in reqs})} client connections")
print(f"  events received                  {len(received)}")
print(f"  unique event_ids received        {len(unique)}")
print(f"  duplicates                       {dups} (most copies of one event: {max(counts.values(), default=0)})")
print(f"  recorded, not received           {len(not_received)}")
print(f"  events left in the spool         {len(spooled)} in {len(spool_files)} files")
print(f"  lost (neither received nor kept) {len(lost)}")
print(f"  received, never recorded         {len(unique - set(recorded))}")
print(f"  wait for the uploader after the last run: {waited / 1000:.1f} s")
if len(sizes) <= 8:
    print("  requests by size: " + ", ".join(f"{n} of {k} events" for k, n in sorted(sizes.items())))
else:
    print(f"  requests by size: {min(sizes)} to {max(sizes)} events ({len(sizes)} sizes)")
PY
done

echo
python3 "$bench/stats.py" "$work" - 0 "" "${keys[@]}"
echo "(wall time of each run of each scenario; no twin measured here: see bench/exit.sh)"
echo "$(date -u +%FT%TZ)  $(uptime | sed 's/.*load/load/')"
