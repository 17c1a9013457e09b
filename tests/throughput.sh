#!/usr/bin/env bash
# Closed-loop throughput of the cheapest reads (docs/BENCHMARKS.md, "Throughput"): builds
# guardpost in release, starts `guardpost serve` on a fresh data directory, makes a region with
# 50 sites and a guard (tests/throughput.py), then runs wrk (Debian: apt-get install wrk) on
# GET /health, GET /v1/me and GET /v1/sites, each for SECONDS with 2 threads and 16 connections.
#
#   bash tests/throughput.sh [SECONDS]        e.g. bash tests/throughput.sh 10
# GUARDPOST_BIN=path measures another build of guardpost (an older commit's) without building.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-10}
PORT=${GUARDPOST_THROUGHPUT_PORT:-18082}
command -v wrk > /dev/null || { echo "wrk is not installed (Debian: apt-get install wrk)" >&2; exit 1; }

BIN=${GUARDPOST_BIN:-}
if [[ -z "$BIN" ]]; then
  cargo build --release --quiet -p guardpost --bin guardpost
  BIN=target/release/guardpost
fi

source tests/serve.sh
fresh_data_dir
start_server "$PORT" "$BIN" serve
BASE="http://127.0.0.1:$PORT"
read -r ADMIN GUARD < <(python3 tests/throughput.py "$BASE" "$DATA/demo-admin-password")
echo "machine: $(nproc) cores, $(uname -m); ${GUARDPOST_BIN:-commit $(git rev-parse --short HEAD)}; wrk -t2 -c16 -d${SECONDS_EACH}s"
run() {
  local name=$1 path=$2 token=$3
  local out
  out=$(wrk -t2 -c16 -d"${SECONDS_EACH}s" ${token:+-H "Authorization: Bearer $token"} "$BASE$path")
  local rps non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<< "$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
  printf '%-40s %10s req/s   non-2xx: %s\n' "$name" "$rps" "${non2xx:-0}"
}
run "GET /health" /health ""
run "GET /v1/me (guard)" /v1/me "$GUARD"
run "GET /v1/sites (50 sites, administrator)" /v1/sites "$ADMIN"
