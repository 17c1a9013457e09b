#!/usr/bin/env bash
# The sweep simulation (docs/BENCHMARKS.md, "The sweep over a backlog"): builds the program in
# release and runs it. It seeds a real SQLite store in a temporary directory with ORGS x PER_ORG
# due emails, then sweeps them as the deployed notifier does (an invocation every minute, each
# with its deadline), every store call and send slowed as on AWS; it prints when the last
# organisation was reached and fully sent, and fails if any was not, or got a message twice.
#
#   bash tests/sweep.sh [flags]     e.g. bash tests/sweep.sh --orgs 10000 --per-org 10
# Flags: --orgs --per-org --store-ms --send-ms --every --timeout --limit (see the program).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p guardpost-bench --bin sweep
echo "machine: $(nproc) cores, $(uname -m); commit $(git rev-parse --short HEAD)"
exec target/release/sweep "$@"
