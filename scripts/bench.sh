#!/usr/bin/env bash
# `make bench`: release-build benchmarks on SQLite and a throwaway PostgreSQL; figures go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/schoolbatch-bench.XXXXXX)
chmod 755 "$work"
trap 'scripts/pg.sh stop "$work/pg"' EXIT
export DATABASE_URL=$(scripts/pg.sh start "$work/pg")
swift build -c release --product schoolbatch-bench
# The photo benchmark uploads to a real release server and compares thumbnails with Pillow.
swift build -c release --product schoolbatch
export SCHOOLBATCH_BIN="$PWD/.build/release/schoolbatch"
python3 -c "import PIL" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check Pillow
echo "Command: make bench  (scripts/bench.sh → .build/release/schoolbatch-bench; BENCH_ONLY=emails|photos|roster for one part; roster-files prints the reading and checking alone)"
.build/release/schoolbatch-bench
