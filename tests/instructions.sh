#!/usr/bin/env bash
# Instructions per request (docs/BENCHMARKS.md): builds guardpost in release, starts
# `guardpost serve` under valgrind's callgrind with instrumentation off, and runs
# tests/instructions.py, which counts N requests of each of the hottest operations.
#
#   bash tests/instructions.sh [N]        e.g. bash tests/instructions.sh 50
# Needs valgrind (Debian: apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
PORT=${GUARDPOST_INSTRUCTIONS_PORT:-18081}
command -v valgrind > /dev/null || { echo "valgrind is not installed (Debian: apt-get install valgrind)" >&2; exit 1; }

cargo build --release --quiet -p guardpost --bin guardpost

source tests/serve.sh
fresh_data_dir
start_server "$PORT" valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file="$DATA/callgrind.out.%p" target/release/guardpost serve
echo "machine: $(nproc) cores, $(uname -m); commit $(git rev-parse --short HEAD); $N requests per operation"
python3 tests/instructions.py "http://127.0.0.1:$PORT" "$DATA/demo-admin-password" "$SERVER" "$DATA" "$N"
