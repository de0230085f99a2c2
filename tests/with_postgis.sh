#!/usr/bin/env bash
# Runs the [postgis] tests against a real, throwaway PostgreSQL + PostGIS server started from
# Debian's packages (postgresql-15, postgresql-15-postgis-3): initdb in a temporary directory, a
# free port on 127.0.0.1, stopped and removed at the end. PostgreSQL refuses to run as root, so
# as root the server runs as the `postgres` user. Skips with a message only where no server can
# start (packages missing).
#   tests/with_postgis.sh path/to/twin_tests
set -u
TESTS=$1
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "SKIP: no PostgreSQL server binaries (apt-get install postgresql-15 postgresql-15-postgis-3); [postgis] tests not run"
  exit 0
fi
if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
  echo "SKIP: PostGIS is not installed (apt-get install postgresql-15-postgis-3); [postgis] tests not run"
  exit 0
fi
DIR=$(mktemp -d /tmp/twin-pg.XXXXXX)
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$DIR"
}
trap cleanup EXIT
if ! as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1; then
  echo "FAIL: initdb failed:"; cat "$DIR/initdb.log"; exit 1
fi
if ! as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
     -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; then
  echo "FAIL: the PostgreSQL server did not start:"; cat "$DIR/server.log"; exit 1
fi
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($DIR)"
TWIN_TEST_PG="postgresql://postgres@127.0.0.1:$PORT/postgres" "$TESTS" "[postgis]"
