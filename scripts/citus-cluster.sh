#!/usr/bin/env bash
# A Citus cluster on this machine for the tests and the bench (docs/scaling.md, "Step 3"): a
# coordinator and two workers on loopback ports, each a fresh PostgreSQL with the citus extension
# in the database `postgres`. Citus itself is not part of Eligo: build and install it into
# PostgreSQL first (docs/scaling.md says how), then:
#
#   scripts/citus-cluster.sh start [DIR]   # initdb and start the three nodes under DIR
#   scripts/citus-cluster.sh stop  [DIR]
#
# Settings (environment): CITUS_PG_BIN (default /usr/lib/postgresql/15/bin), CITUS_PORT (the
# coordinator's port, default 9700; the workers take the next two), CITUS_WORKERS (2), and
# CITUS_SERVER_OPTS (more server options, e.g. "-c fsync=off" for tests). Prints the coordinator's
# JDBC URL. PostgreSQL will not run as root, so under root the nodes run as nobody.
set -euo pipefail

ACTION=${1:?start or stop}
DIR=${2:-/tmp/eligo-citus}
PG_BIN=${CITUS_PG_BIN:-/usr/lib/postgresql/15/bin}
PORT=${CITUS_PORT:-9700}
WORKERS=${CITUS_WORKERS:-2}

if [ "$(id -u)" = 0 ]; then PGUSER_OS=nobody; else PGUSER_OS=$(id -un); fi
as_pg() { if [ "$(id -u)" = 0 ]; then su -s /bin/sh "$PGUSER_OS" -c "$*"; else sh -c "$*"; fi; }
psql_at() { psql -X -q -v ON_ERROR_STOP=1 -h localhost -p "$1" -U postgres -d postgres -At -c "$2"; }

case "$ACTION" in
  start)
    [ -f "$("$PG_BIN/pg_config" --pkglibdir)/citus.so" ] || { echo "citus-cluster: citus is not installed in $PG_BIN's PostgreSQL" >&2; exit 2; }
    mkdir -p "$DIR" && chown "$PGUSER_OS" "$DIR"
    for i in $(seq 0 "$WORKERS"); do
      node="$DIR/node$i"; port=$((PORT + i))
      if [ ! -d "$node" ]; then
        as_pg "'$PG_BIN/initdb' -D '$node' -U postgres -A trust -E UTF8 >/dev/null"
        # What Eligo needs of a Citus cluster (docs/scaling.md, "Running it"):
        #  - enable_unsafe_triggers: the guards are triggers on distributed tables; they run on each
        #    shard and read nothing but their own rows and their beneficiary's;
        #  - propagate_set_commands: the SET LOCAL lock time-outs reach the workers;
        #  - skip_advisory_lock_permission_checks: an INSERT … ON CONFLICT into a reference table
        #    takes a shard lock Citus otherwise lets only roles with UPDATE or DELETE rights take, and
        #    eligo_service may only insert into its records;
        #  - max_prepared_transactions: transactions over several nodes commit in two phases.
        cat >> "$node/postgresql.conf" <<CONF
shared_preload_libraries = 'citus'
max_connections = 300
max_prepared_transactions = 300
timezone = 'Pacific/Chatham'
citus.enable_unsafe_triggers = on
citus.propagate_set_commands = 'local'
citus.skip_advisory_lock_permission_checks = on
CONF
      fi
      as_pg "'$PG_BIN/pg_ctl' -D '$node' -l '$node.log' -o \"-p $port -c unix_socket_directories='$DIR' ${CITUS_SERVER_OPTS:-}\" -w start >/dev/null"
      psql_at "$port" "CREATE EXTENSION IF NOT EXISTS citus" >/dev/null
    done
    psql_at "$PORT" "SELECT citus_set_coordinator_host('localhost', $PORT)" >/dev/null
    for i in $(seq 1 "$WORKERS"); do
      psql_at "$PORT" "SELECT 1 FROM citus_get_active_worker_nodes() WHERE node_port = $((PORT + i))" | grep -q 1 \
        || psql_at "$PORT" "SELECT citus_add_node('localhost', $((PORT + i)))" >/dev/null
    done
    echo "jdbc:postgresql://localhost:$PORT/postgres?user=postgres"
    ;;
  stop)
    for i in $(seq "$WORKERS" -1 0); do
      [ -d "$DIR/node$i" ] && as_pg "'$PG_BIN/pg_ctl' -D '$DIR/node$i' -m fast stop >/dev/null 2>&1" || true
    done
    ;;
  *) echo "citus-cluster: start or stop" >&2; exit 2 ;;
esac
