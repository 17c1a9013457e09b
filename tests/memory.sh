#!/usr/bin/env bash
# Memory per function (docs/COST.md, "Memory per function"). Lambda gives a function CPU in
# proportion to its memory (a whole vCPU at 1,769 MB), and argon2id hashing is CPU: this runs
# `guardpost serve` in a cgroup whose CPU quota is a function's share at each memory size and
# times logins and password changes (tests/memory.py). Needs root and cgroup v1's cpu
# controller (/sys/fs/cgroup/cpu), as on these machines.
#
#   bash tests/memory.sh [N]          e.g. bash tests/memory.sh 10
# GUARDPOST_BIN=path measures another build without building.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
PORT=${GUARDPOST_MEMORY_PORT:-18083}
CPU=/sys/fs/cgroup/cpu
[[ -w $CPU ]] || { echo "needs a writable cgroup v1 cpu controller at $CPU (run as root)" >&2; exit 1; }

BIN=${GUARDPOST_BIN:-}
if [[ -z "$BIN" ]]; then
  cargo build --release --quiet -p guardpost --bin guardpost
  BIN=target/release/guardpost
fi
BIN=$(realpath "$BIN")

source tests/serve.sh
GROUP=$CPU/guardpost-memory-$$
mkdir "$GROUP"
fresh_data_dir
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"; rmdir "$GROUP" 2>/dev/null || true' EXIT
echo "machine: $(nproc) cores, $(uname -m); ${GUARDPOST_BIN:-commit $(git rev-parse --short HEAD)}; $N logins and password changes per size"
echo "| memory | CPU share | login p50 / max (ms) | password change p50 / max (ms) | USD per million logins (compute) | USD per million changes (compute) |"
echo "|---|---:|---:|---:|---:|---:|"
for MB in 128 256 512 1024 1769; do
  echo 100000 > "$GROUP/cpu.cfs_period_us"
  echo $(( MB * 100000 / 1769 )) > "$GROUP/cpu.cfs_quota_us"
  rm -rf "$DATA" && mkdir -p "$DATA"
  # The server joins the group before it starts, so every thread it makes is in it.
  start_server "$PORT" sh -c 'echo $$ > "$0/cgroup.procs" && exec "$1" serve' "$GROUP" "$BIN"
  python3 tests/memory.py "http://127.0.0.1:$PORT" "$DATA/demo-admin-password" "$N" "$MB"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
done
