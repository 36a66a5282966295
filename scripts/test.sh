#!/usr/bin/env bash
# `make test`: every Swift suite on SQLite and PostgreSQL, then the browser test against a real server.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d /tmp/schoolbatch-test.XXXXXX)
chmod 755 "$work"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  scripts/pg.sh stop "$work/pg"
  # Every test's database, data directory and browser profile went under $work/tmp: nothing is left behind.
  rm -rf "$work"
}
trap cleanup EXIT

export DATABASE_URL=$(scripts/pg.sh start "$work/pg")
echo "Throwaway PostgreSQL: $DATABASE_URL"
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"

swift build --build-tests
# Store and server suites run each test on SQLite and, with DATABASE_URL set, on PostgreSQL too.
SCHOOLBATCH_TEST_POSTGRES_URL="$DATABASE_URL" swift test --skip-build

echo "== Browser test (headless Chromium) on SQLite"
data="$work/data"
password="browser-test-$RANDOM-pass"
env -u DATABASE_URL SCHOOLBATCH_BCRYPT_COST=4 .build/debug/schoolbatch demo --data-dir "$data" >/dev/null
echo "$password" | env -u DATABASE_URL SCHOOLBATCH_BCRYPT_COST=4 .build/debug/schoolbatch admin create \
  --data-dir "$data" --username browser --role system-admin --password-stdin
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# No in-process workers: the batch test watches a batch wait in the queue, then starts a worker process.
env -u DATABASE_URL SCHOOLBATCH_WORKERS=0 SCHOOLBATCH_RESOURCES="$root" .build/debug/schoolbatch serve --data-dir "$data" --port "$port" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
SCHOOLBATCH_URL="http://127.0.0.1:$port" SCHOOLBATCH_USER=browser SCHOOLBATCH_PASSWORD="$password" \
  SCHOOLBATCH_DATA_DIR="$data" SCHOOLBATCH_BIN="$root/.build/debug/schoolbatch" SCREENSHOT_DIR="$root/.build/screenshots" python3 -m pytest -q Tests/browser
echo "Screenshots: .build/screenshots"

# The load test (1,000 uploads of 2 MB per phase, curl and browser-like, sequential and 20 parallel) is
# `make loadtest`; here the streaming-limit test runs against a real server.
echo "== Upload limits against a real server: 500 MB bodies refused at the 20 MB limit, memory flat"
SCHOOLBATCH_BIN="$root/.build/debug/schoolbatch" python3 -m pytest -q -s Tests/load -k "500_mb"
