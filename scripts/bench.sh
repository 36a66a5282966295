#!/usr/bin/env bash
# `make bench`: list queries at district scale (200,000 students) on a release build; figures to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product schoolbatch-bench
.build/release/schoolbatch-bench "$@" | tee /tmp/schoolbatch-bench.txt
