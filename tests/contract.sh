#!/usr/bin/env bash
# The API contract (docs/API.md, "Checking the contract"): starts a fresh `guardpost serve` on
# loopback, makes a guard, and runs schemathesis with every check and every phase (examples,
# coverage, fuzzing, stateful through the document's links) against it, once as the demo
# administrator and once as the guard. Fails on any failure. Exclusions are named in
# tests/schemathesis.toml, each with its reason in docs/API.md.
#
#   bash tests/contract.sh [SCHEMATHESIS] [MAX_EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
ST=${1:-.tools/venv/bin/schemathesis}
EXAMPLES=${2:-10}
PORT=${GUARDPOST_CONTRACT_PORT:-18091}
BASE="http://127.0.0.1:$PORT"

cargo build --quiet -p guardpost --bin guardpost
source tests/serve.sh
fresh_data_dir
start_server "$PORT" target/debug/guardpost serve

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { curl -sf -X POST "$BASE$1" -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' -d "$2"; }
login() { curl -sf -X POST "$BASE/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"org\":\"demo\",\"login\":\"$1\",\"password\":\"$2\"}" | json '["access_token"]'; }

ADMIN=$(login admin@demo.example "$(cat "$DATA/demo-admin-password")")
REGION=$(post /v1/regions '{"name":"Contract"}' | json '["id"]')
SITE=$(post /v1/sites "{\"name\":\"Contract site\",\"region_id\":\"$REGION\",\"time_zone\":\"America/Toronto\"}" | json '["id"]')
GUARD_PASSWORD="Contract-guard-Passw0rd-1"
GUARD_ID=$(post /v1/employees "{\"employee_number\":\"C1\",\"first_name\":\"Carla\",\"last_name\":\"Contract\",\"username\":\"carla\",\"password\":\"$GUARD_PASSWORD\",\"force_change\":false}" | json '["id"]')
curl -sf -X PUT "$BASE/v1/sites/$SITE/employees/$GUARD_ID" -H "authorization: Bearer $ADMIN" > /dev/null
GUARD=$(login carla "$GUARD_PASSWORD")

status=0
# The guard first: the administrator's run may change the default roles (a superuser can).
for who in guard administrator; do
  token=$ADMIN; [[ $who == guard ]] && token=$GUARD
  echo "==> schemathesis as the $who"
  "$ST" --config-file tests/schemathesis.toml run "$BASE/openapi.json" \
    -H "Authorization: Bearer $token" --checks all --phases examples,coverage,fuzzing,stateful \
    --max-examples "$EXAMPLES" --seed 20261203 --workers 2 --no-color \
    > "$DATA/schemathesis-$who.log" 2>&1 || status=1
  mkdir -p .tools/logs && cp "$DATA/schemathesis-$who.log" ".tools/logs/schemathesis-$who.log"
  grep -E "^(  Tested|  ❌|  ✅|  ⏭|  ⚠️|  [0-9]+ generated|=+ .* in )" "$DATA/schemathesis-$who.log" || true
  if [[ $status != 0 ]]; then
    echo "contract: failures as the $who; the report is in .tools/logs/schemathesis-$who.log"
    break
  fi
done
exit $status
