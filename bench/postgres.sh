# Sourced by the bench scripts: a fresh, throw-away PostgreSQL server in $WORK/pg on $PGPORT.
#   pg_find_binaries   sets PG_BIN (BENCH_PG_BIN, else the binaries the embedded PostgreSQL
#                      unpacked, else /usr/lib/postgresql/*/bin)
#   pg_start [opts]    initdb and start with the given server options; sets PSQL (an array)
#   pg_stop            stops it (as its owner: pg_ctl refuses to run as root, and a stop attempted
#                      as root used to leave the server running on its port after the script)
# PostgreSQL will not run as root, so under root the server runs as nobody.
# BENCH_CITUS=1: a Citus cluster instead (scripts/citus-cluster.sh: a coordinator on $PGPORT and two
# workers on the next ports, each with the given server options), in $WORK/citus; the service then
# runs with eligo.database.distribution=citus. Citus must be installed in $PG_BIN's PostgreSQL.

if [ "$(id -u)" = 0 ]; then PGUSER_OS=nobody; else PGUSER_OS=$(id -un); fi
as_pg() { if [ "$(id -u)" = 0 ]; then su -s /bin/sh "$PGUSER_OS" -c "$*"; else sh -c "$*"; fi; }

pg_find_binaries() {
  PG_BIN=${BENCH_PG_BIN:-$(ls -d /tmp/embedded-pg/PG-*/bin 2>/dev/null | head -1)}
  PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
  [ -x "$PG_BIN/pg_ctl" ] || { echo "bench: no PostgreSQL binaries; set BENCH_PG_BIN" >&2; exit 2; }
}

pg_start() {
  if [ "${BENCH_CITUS:-0}" = 1 ]; then
    chown "$PGUSER_OS" "$WORK" 2>/dev/null || true
    CITUS_PG_BIN=$PG_BIN CITUS_PORT=$PGPORT CITUS_SERVER_OPTS="$*" scripts/citus-cluster.sh start "$WORK/citus" >/dev/null
    PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h localhost -p "$PGPORT" -U postgres -d postgres)
    return
  fi
  mkdir -p "$WORK/pg" && chown "$PGUSER_OS" "$WORK" "$WORK/pg" 2>/dev/null || true
  as_pg "'$PG_BIN/initdb' -D '$WORK/pg' -U postgres -A trust -E UTF8 >/dev/null"
  as_pg "'$PG_BIN/pg_ctl' -D '$WORK/pg' -l '$WORK/pg.log' -o \"-p $PGPORT $* -c unix_socket_directories='$WORK'\" start >/dev/null"
  PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h localhost -p "$PGPORT" -U postgres -d postgres)
  until "${PSQL[@]}" -c 'select 1' >/dev/null 2>&1; do sleep 0.2; done
}

pg_stop() {
  if [ "${BENCH_CITUS:-0}" = 1 ]; then
    [ -n "${PG_BIN:-}" ] && CITUS_PG_BIN=$PG_BIN CITUS_PORT=$PGPORT scripts/citus-cluster.sh stop "$WORK/citus" || true
    return
  fi
  [ -n "${PG_BIN:-}" ] && [ -d "$WORK/pg" ] && as_pg "'$PG_BIN/pg_ctl' -D '$WORK/pg' -m fast stop >/dev/null 2>&1" || true
}
