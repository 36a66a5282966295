#!/usr/bin/env bash
# `make bench`: release-build benchmarks on SQLite and a throwaway PostgreSQL; figures go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/schoolbatch-bench.XXXXXX)
chmod 755 "$work"
trap 'scripts/pg.sh stop "$work/pg"' EXIT
export DATABASE_URL=$(scripts/pg.sh start "$work/pg")
swift build -c release --product schoolbatch-bench
echo "Command: make bench  (scripts/bench.sh → .build/release/schoolbatch-bench)"
.build/release/schoolbatch-bench
