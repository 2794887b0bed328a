#!/usr/bin/env bash
# An independent check of OtlpSink's report export: the Rust test
# (tests/tests/reports_sinks.rs, otlp::protobuf_export_decodes_with_the_official_definitions)
# writes the body its loopback server received to $OTLP_METRICS_CAPTURE, and PyPI's
# opentelemetry-proto decodes it and checks its structure (check_otlp_metrics.py).
#
# Needs python3 (with venv) and network access to PyPI; the venv lives in a temp dir and
# is removed at exit. Uses the caller's CARGO_TARGET_DIR, if set. Exits non-zero on any
# failure: install, Rust test, no body captured, decode, or a check.
set -euo pipefail

# Pinned: the versions this was verified with (protobuf is what opentelemetry-proto
# 1.45.2 resolved to at the time).
OTLP_PROTO_VERSION=1.45.2
PROTOBUF_VERSION=7.36.2
PYTHON=${PYTHON:-python3}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== venv ($("$PYTHON" --version 2>&1)), opentelemetry-proto==$OTLP_PROTO_VERSION protobuf==$PROTOBUF_VERSION"
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "opentelemetry-proto==$OTLP_PROTO_VERSION" "protobuf==$PROTOBUF_VERSION"

echo "== the Rust side: one report export captured from the loopback server"
body="$tmp/metrics.pb"
(cd "$root" && OTLP_METRICS_CAPTURE="$body" cargo test -q -p telemetry-tests --all-features \
    --test reports_sinks -- --exact otlp::protobuf_export_decodes_with_the_official_definitions)
if [ ! -s "$body" ]; then
    echo "run.sh: no body was captured at $body (was the test run?)" >&2
    exit 1
fi
echo "captured $(wc -c <"$body") bytes"

echo "== the Python side"
# The report of reports_sinks.rs: versions 1.0.0 and 1.1.0, 3 + 2 + 7 + 4 calls.
"$tmp/venv/bin/python" "$here/check_otlp_metrics.py" "$body" --resources 2 --calls 16 --self-test
echo "== OK"
