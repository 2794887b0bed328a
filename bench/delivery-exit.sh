#!/usr/bin/env bash
# Exit overhead of the example tool with telemetry off, on with a local endpoint that
# answers 200, and on with a black-holed endpoint (a listener that never accepts).
# Prints the mean and max wall time of RUNS runs of `demo build` per case.
#
#   CARGO_TARGET_DIR=/work/target-delivery bash bench/delivery-exit.sh
set -euo pipefail
RUNS=${RUNS:-30}
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
cargo build -q --release -p telemetry-tests --features http --bin demo
demo="$target/release/demo"

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
hole = socket.socket(); hole.bind(("127.0.0.1", 0)); hole.listen(1024)  # never accepted
open(sys.argv[1], "w").write(f"{ok.server_address[1]} {hole.getsockname()[1]}\n")
threading.Timer(600, ok.shutdown).start()
ok.serve_forever()
PY
server=$!
trap 'kill $server 2>/dev/null; rm -f "$port_file"' EXIT
until [ -s "$port_file" ]; do sleep 0.05; done
read -r ok_port hole_port < "$port_file"

measure() { # label, env...
  local label=$1; shift
  local home; home=$(mktemp -d)
  local total=0 max=0
  for _ in $(seq "$RUNS"); do
    local t0 t1 ms
    t0=$(date +%s%N)
    env -i HOME="$home" PATH="$PATH" "$@" "$demo" build >/dev/null 2>&1
    t1=$(date +%s%N)
    ms=$(( (t1 - t0) / 1000 ))
    total=$(( total + ms )); (( ms > max )) && max=$ms
  done
  printf '%-40s mean %6.1f ms   max %6.1f ms   (%s runs)\n' "$label" \
    "$(echo "$total / $RUNS / 1000" | bc -l)" "$(echo "$max / 1000" | bc -l)" "$RUNS"
  rm -rf "$home"
}

measure "telemetry disabled"
measure "enabled, local log only" DEMO_TELEMETRY=1
measure "enabled, endpoint up (200)" DEMO_TELEMETRY=1 DEMO_TELEMETRY_ENDPOINT="http://127.0.0.1:$ok_port/v1/events"
measure "enabled, endpoint black-holed" DEMO_TELEMETRY=1 DEMO_TELEMETRY_ENDPOINT="http://127.0.0.1:$hole_port/v1/events"
