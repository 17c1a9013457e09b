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

source tests/serve.sh
fresh_data_dir
start_server "$PORT" target/release/guardpost serve
echo "machine: $(nproc) cores; server pid $SERVER; data $DATA"
target/release/load --url "http://127.0.0.1:$PORT" --org demo --password-file "$DATA/demo-admin-password" \
  --rate "$RATE" --seconds "$DURATION" --server-pid "$SERVER" "$@"
