#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on a loopback port, run as the postgres user.
#   pg.sh start DIR   → prints the DATABASE_URL
#   pg.sh stop DIR
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
dir=${2:?state directory}
case "$1" in
  start)
    rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$(dirname "$dir")"
    chown postgres "$dir" && chmod 700 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c max_connections=200" start >/dev/null
    runuser -u postgres -- "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres schoolbatch_test
    echo "postgres://postgres@127.0.0.1:$port/schoolbatch_test?sslmode=disable"
    ;;
  stop)
    [ -d "$dir/data" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
esac
