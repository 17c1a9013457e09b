#!/usr/bin/env bash
# The load benchmark (docs/BENCHMARKS.md): builds guardpost and the load program in release,
# starts `guardpost serve` on a fresh data directory on loopback, sends a constant-rate mix of
# clock-ins, clock-outs and reads for a bounded time, checks that no accepted write was lost, and
# stops the server.
#
#   bash tests/load.sh [RATE] [SECONDS] [load flags...]     e.g. bash tests/load.sh 1600 60
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-1600}
DURATION=${2:-60}
shift $(( $# > 2 ? 2 : $# ))
PORT=${GUARDPOST_LOAD_PORT:-18080}

cargo build --release --quiet -p guardpost --bin guardpost -p guardpost-bench --bin load

DATA=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
# Every guard logs in from this one address: lift the per-address attempt limit for the run.
GUARDPOST_DATA_DIR="$DATA" GUARDPOST_ADDR="127.0.0.1:$PORT" RUST_LOG=warn \
  GUARDPOST_ADDRESS_ATTEMPTS_BURST=100000 GUARDPOST_ADDRESS_ATTEMPTS_PER_MINUTE=100000 \
  target/release/guardpost serve > "$DATA/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break
  sleep 0.1
done
echo "machine: $(nproc) cores; server pid $SERVER; data $DATA"
target/release/load --url "http://127.0.0.1:$PORT" --org demo --password-file "$DATA/demo-admin-password" \
  --rate "$RATE" --seconds "$DURATION" --server-pid "$SERVER" "$@"
