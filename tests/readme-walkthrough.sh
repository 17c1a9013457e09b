#!/usr/bin/env bash
# Runs the README's curl walkthrough, exactly as written, against a fresh `guardpost serve`
# (the README's run command, built without the AWS SDKs) in a temporary directory, and checks
# what it printed. Called by tests/run-all.sh; runs on its own too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build -q --release -p guardpost --bin guardpost
BIN="$ROOT/target/release/guardpost"

WORK=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SERVER_PID=""
cleanup() {
    [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

(cd "$WORK" && GUARDPOST_ADDR="127.0.0.1:$PORT" exec "$BIN" serve >"$WORK/serve.log" 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$WORK/serve.log"; echo "the server did not start" >&2; exit 1; }
grep -q 'Seeded the demo organisation' "$WORK/serve.log" || { cat "$WORK/serve.log"; echo "no demo seed message" >&2; exit 1; }

# The first bash block after the walkthrough heading, with the port swapped in.
awk '/^## Walkthrough with curl/{w=1} w&&/^```bash/{c=1;next} c&&/^```/{exit} c' README.md |
    sed "s/127.0.0.1:8080/127.0.0.1:$PORT/g" >"$WORK/walkthrough.sh"
[[ -s "$WORK/walkthrough.sh" ]] || { echo "no walkthrough found in README.md" >&2; exit 1; }
OUT=$(cd "$WORK" && bash -euo pipefail walkthrough.sh)
printf '%s\n' "$OUT"

expect() {
    grep -qF -- "$1" <<<"$OUT" || { echo "walkthrough: expected output containing: $1" >&2; exit 1; }
}
expect '"email":"admin@demo.example"'
expect '"name":"Harbour Mall - North Entrance"'
expect '204'
expect '"items":[{"id":'
expect 'Subject: Welcome to Demo Security: set your password'
expect 'Bearer'
expect '"unplanned":true'
expect "'status': 'clocked_in'"
expect 'problems/on-break'
expect '"employee_id":'
expect 'problems/validation-error'
expect 'problems/employee-number-taken'
expect 'mall before: 403'
expect 'mall covered: 200, entrance (a sub-site): 200'
expect "'shifts:view'"
expect 'no-assignment'
expect 'mall after: 403'
expect 'assignment.delete'
expect 'Subject: Demo Security invites you to its client portal'
expect 'link: 204, again: 401'
expect "['Harbour Mall', 'Harbour Mall - North Entrance']"
expect "'first_name': 'Ada'"
expect 'entrance: 404'
expect "['Harbour Mall']"
expect 'revoked'
expect 'client after revoke: 401'
echo "readme walkthrough: ok"
