#!/usr/bin/env bash
# Whole-process exit overhead of the example tool (`demo build --release`, which sleeps
# 5 ms itself), run by hand, never by CI:
#
#   not linked        examples/demo_not_linked.rs: same CLI and work, no telemetry
#   disabled          demo, telemetry linked but no consent (the default)
#   local JSONL       DEMO_TELEMETRY=1: the local event log only
#   loopback HTTP     + DEMO_TELEMETRY_ENDPOINT on 127.0.0.1 answering 200
#   black-holed       + an endpoint whose listener never accepts (deadline 100 ms);
#                     afterwards the spool must hold one event per run
#
#   CARGO_TARGET_DIR=/work/target-bench bash bench/exit.sh
#
# Uses hyperfine (`apt-get install hyperfine`) when present, else a shell loop that
# prints mean / median / max. Each case gets a fresh HOME and an empty environment.
set -euo pipefail
RUNS=${RUNS:-40}
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p telemetry --features clap,http --example demo --example demo-not-linked
demo="$target/release/examples/demo"
twin="$target/release/examples/demo-not-linked"

port_file=$(mktemp)
python3 - "$port_file" <<'PY' &
import http.server, socket, sys, threading
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
ok = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
hole = socket.socket(); hole.bind(("127.0.0.1", 0)); hole.listen(4096)  # never accepted
open(sys.argv[1], "w").write(f"{ok.server_address[1]} {hole.getsockname()[1]}\n")
threading.Timer(900, ok.shutdown).start()
ok.serve_forever()
PY
server=$!
homes=()
cleanup() { kill "$server" 2>/dev/null || true; rm -f "$port_file"; rm -rf "${homes[@]}"; }
trap cleanup EXIT
until [ -s "$port_file" ]; do sleep 0.05; done
read -r ok_port hole_port < "$port_file"

measure() { # label, binary, env...
  local label=$1 bin=$2; shift 2
  local home; home=$(mktemp -d); homes+=("$home")
  local cmd=(env -i HOME="$home" PATH="$PATH" "$@" "$bin" build --release)
  if command -v hyperfine >/dev/null; then
    hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "$home.json" \
      -- "$(printf '%q ' "${cmd[@]}")" >/dev/null 2>&1
    python3 - "$label" "$home.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))["results"][0]
print(f"{sys.argv[1]:<28} mean {r['mean']*1e3:6.2f} ms  median {r['median']*1e3:6.2f} ms  "
      f"min {r['min']*1e3:6.2f} ms  max {r['max']*1e3:6.2f} ms  ({len(r['times'])} runs)")
PY
    rm -f "$home.json"
  else
    local times=()
    for _ in $(seq "$RUNS"); do
      local t0 t1
      t0=$(date +%s%N); "${cmd[@]}" >/dev/null 2>&1 || true; t1=$(date +%s%N)
      times+=($(( (t1 - t0) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v l="$label" '
      { t[NR] = $1; s += $1 } END { printf "%-28s mean %6.2f ms  median %6.2f ms  max %6.2f ms  (%d runs)\n",
        l, s / NR / 1000, t[int((NR + 1) / 2)] / 1000, t[NR] / 1000, NR }'
  fi
  LAST_HOME=$home
}

measure "not linked" "$twin"
measure "telemetry disabled" "$demo"
measure "enabled, local JSONL" "$demo" DEMO_TELEMETRY=1
measure "enabled, loopback HTTP" "$demo" DEMO_TELEMETRY=1 \
  DEMO_TELEMETRY_ENDPOINT="http://127.0.0.1:$ok_port/v1/events"
measure "enabled, black-holed" "$demo" DEMO_TELEMETRY=1 \
  DEMO_TELEMETRY_ENDPOINT="http://127.0.0.1:$hole_port/v1/events"

# Every event of the black-holed runs must still be on disk, in the spool.
spool="$LAST_HOME/.local/share/demo/telemetry/spool"
logged=$(cat "$LAST_HOME/.local/share/demo/telemetry/events.jsonl" 2>/dev/null | wc -l)
spooled=$(cat "$spool"/* 2>/dev/null | wc -l)
echo "black-holed: $logged events in the local log, $spooled events waiting in the spool"
