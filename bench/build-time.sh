#!/usr/bin/env bash
# Clean release build time that `telemetry` adds to a tool, next to `tracing` +
# `tracing-subscriber`. Builds four scratch binaries outside the repository, each with
# its own fresh target dir (dependencies already downloaded: `cargo fetch` first, so
# the network is not timed), one after the other:
#
#   empty             fn main() {}
#   telemetry         telemetry with default features (collect)
#   telemetry-all     telemetry --all-features (clap, http, otlp)
#   tracing           tracing + tracing-subscriber (default features)
#
#   bash bench/build-time.sh            # prints wall time per case and the difference
#
# Run by hand on an otherwise idle machine; CI never runs it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=${SCRATCH:-$(mktemp -d /tmp/telemetry-build-time.XXXXXX)}
lock="$repo/Cargo.lock"

make_crate() { # name, dependency lines
  local dir="$scratch/$1"
  mkdir -p "$dir/src"
  printf '[package]\nname = "bt-%s"\nversion = "0.0.0"\nedition = "2024"\n\n[dependencies]\n%s\n' \
    "$1" "$2" >"$dir/Cargo.toml"
  echo 'fn main() {}' >"$dir/src/main.rs"
  # The same dependency versions as the workspace.
  cp "$lock" "$dir/Cargo.lock"
}

make_crate empty ""
make_crate telemetry "telemetry = { path = \"$repo/telemetry\" }"
make_crate telemetry-all "telemetry = { path = \"$repo/telemetry\", features = [\"clap\", \"http\", \"otlp\"] }"
make_crate tracing 'tracing = "0.1"
tracing-subscriber = "0.3"'

for case in empty telemetry telemetry-all tracing; do
  dir="$scratch/$case"
  (cd "$dir" && cargo fetch -q 2>/dev/null || cargo fetch)
  start=$(date +%s%N)
  (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build -q --release)
  end=$(date +%s%N)
  printf '%-14s %6.1f s\n' "$case" "$(echo "($end - $start) / 1000000000" | bc -l)"
done
echo "scratch crates in $scratch (delete when done)"
