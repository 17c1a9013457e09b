# Sourced by tests/load.sh, tests/contract.sh and tests/instructions.sh: a `guardpost serve` of
# their own on loopback, on a fresh data directory removed on exit.
#
#   fresh_data_dir                 sets DATA (and the exit trap that cleans up)
#   start_server PORT COMMAND...   runs COMMAND (the server, perhaps under a wrapper) with that
#                                  data directory and address, sets SERVER, waits for /health
# The per-address login budget is lifted: every test user logs in from 127.0.0.1.

fresh_data_dir() {
  DATA=$(mktemp -d)
  trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
}

start_server() {
  local port=$1
  shift
  GUARDPOST_DATA_DIR="$DATA" GUARDPOST_ADDR="127.0.0.1:$port" RUST_LOG=warn \
    GUARDPOST_ADDRESS_ATTEMPTS_BURST=100000 GUARDPOST_ADDRESS_ATTEMPTS_PER_MINUTE=100000 \
    "$@" > "$DATA/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/health" > /dev/null && return 0
    sleep 0.2
  done
  echo "guardpost did not answer on port $port; see $DATA/server.log" >&2
  return 1
}
