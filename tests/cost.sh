#!/usr/bin/env bash
# docs/COST.md from measured figures: the cold-start program measures what warm Lambda
# instances spend per request against DynamoDB Local (CPU, calls, consumed capacity, partitions
# written) into docs/cost-figures.json, then tests/cost.py prices them and runs the
# hot-partition simulation, rewriting the generated part of docs/COST.md.
#
#   bash tests/cost.sh [REQUESTS]        e.g. bash tests/cost.sh 500
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${1:-500}
bash tests/coldstart.sh 1 --cost "$REQUESTS" --figures docs/cost-figures.json
python3 tests/cost.py docs/cost-figures.json docs/COST.md
