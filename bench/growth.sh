#!/usr/bin/env bash
# Growth: do claim latency and point look-ups stay flat from 1 million to 10 million messages?
# (issue 7, point 3). Starts a fresh PostgreSQL, lets the packaged service migrate it (monthly
# partitions), then bulk-loads processed messages spread over the past twelve months and measures,
# at GROWTH_FIRST and again at GROWTH_TOTAL messages:
#   - claim: the work queue's claim statement (org.eligo.queue.MessageQueue.CLAIM, 200 rows,
#     FOR UPDATE SKIP LOCKED) over a backlog of 10,000 unprocessed messages, rolled back each time;
#   - look-up by id: the message and its key (the idempotency look-up) for a random stored message.
# Latencies come from pgbench (prepared statements, GROWTH_CLIENTS clients, GROWTH_SECONDS each).
#
# The bulk load writes rows the way the service stores them (ids minted at their month, keys in
# message_key) but as the superuser with triggers off, so these rows are not hash-chained: the
# script measures how the tables grow, not how fast the service ingests (that is bench/run.sh).
#
# Usage: ./mvnw package -DskipTests && bench/growth.sh
set -euo pipefail
cd "$(dirname "$0")/.."

FIRST=${GROWTH_FIRST:-1000000}
TOTAL=${GROWTH_TOTAL:-10000000}
CLIENTS=${GROWTH_CLIENTS:-2}
SECONDS_EACH=${GROWTH_SECONDS:-15}
PGPORT=${GROWTH_PG_PORT:-15532}
PORT=${GROWTH_PORT:-18190}
JAVA=${JAVA:-java}
WORK=$(mktemp -d)
SERVICE_PID=

[ -f target/quarkus-app/quarkus-run.jar ] || { echo "growth: build first: ./mvnw package -DskipTests" >&2; exit 2; }
. bench/postgres.sh
pg_find_binaries
PGBENCH=${PGBENCH:-$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBENCH" ] || { echo "growth: needs pgbench (apt-get install postgresql-client)" >&2; exit 2; }

cleanup() {
  [ -n "$SERVICE_PID" ] && kill "$SERVICE_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

pg_start -c shared_buffers=512MB -c max_wal_size=8GB
echo "growth: PostgreSQL $("${PSQL[@]}" -At -c 'show server_version'); $FIRST then $TOTAL messages; $(nproc) cores"

# --- Schema: the service migrates, then stops ----------------------------------------------------
QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://localhost:$PGPORT/postgres" QUARKUS_DATASOURCE_USERNAME=postgres \
  QUARKUS_DATASOURCE_PASSWORD= QUARKUS_HTTP_PORT=$PORT ELIGO_AUTH_ENABLED=false ELIGO_QUEUE_WORKERS=0 \
  "$JAVA" -jar target/quarkus-app/quarkus-run.jar >"$WORK/service.log" 2>&1 &
SERVICE_PID=$!
until curl -sf "http://localhost:$PORT/q/health/ready" >/dev/null 2>&1; do
  kill -0 "$SERVICE_PID" 2>/dev/null || { cat "$WORK/service.log" >&2; exit 1; }
  sleep 0.3
done
kill "$SERVICE_PID"; wait "$SERVICE_PID" 2>/dev/null || true; SERVICE_PID=

# Months for the past year (the service made this one and the next three).
"${PSQL[@]}" -c "SELECT eligo_create_month_partition(t.parent, (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => m))::date)
                   FROM eligo_partitioned_tables() t, generate_series(1, 12) m ORDER BY t.ord" >/dev/null

# Loads messages numbered $1+1 .. $2, spread evenly over the past twelve months, in 1M-row steps.
load() {
  local from=$1 to=$2 step
  while [ "$from" -lt "$to" ]; do
    step=$(( to - from < 1000000 ? to - from : 1000000 ))
    "${PSQL[@]}" <<SQL
SET session_replication_role = replica;
BEGIN;
CREATE TEMP TABLE batch ON COMMIT DROP AS
SELECT left(eligo_ulid_floor('msg_', ts), 14) || lpad(i::text, 16, '0') AS id, ts,
       'feed-' || (i % 7) AS source, 'x-' || i AS external_id, 'B-' || (i % 500000) AS beneficiary_id, i
  FROM (SELECT i, now() - interval '365 days' + (i::float8 / $TOTAL) * interval '364 days' AS ts
          FROM generate_series($((from + 1)), $((from + step))) AS i) AS g;
INSERT INTO message (id, source, external_id, type, beneficiary_id, received_at, data, status, attempts, processed_at)
SELECT id, source, external_id, 'income.monthly', beneficiary_id, ts,
       jsonb_build_object('year', 2027, 'month', 1 + i % 12, 'amount_cents', i % 90000), 'PROCESSED', 1, ts
  FROM batch;
INSERT INTO message_key (source, external_id, message_id) SELECT source, external_id, id FROM batch;
COMMIT;
SQL
    from=$((from + step))
    printf 'growth: %d messages loaded\n' "$from"
  done
  "${PSQL[@]}" -c "VACUUM ANALYZE message" -c "VACUUM ANALYZE message_key"
}

# A backlog of 10,000 unprocessed messages received now: the claim's working set.
backlog() {
  "${PSQL[@]}" <<'SQL'
SET session_replication_role = replica;
INSERT INTO message (id, source, external_id, type, beneficiary_id, data)
SELECT left(eligo_ulid_floor('msg_', clock_timestamp()), 14) || lpad(i::text, 16, 'Z'), 'backlog', 'b-' || i,
       'income.monthly', 'B-' || i, '{"year": 2027, "month": 1, "amount_cents": 1}'
  FROM generate_series(1, 10000) AS i;
VACUUM ANALYZE message;
SQL
}

# A random sample of the stored messages to look up.
sample() {
  "${PSQL[@]}" <<'SQL'
DROP TABLE IF EXISTS lookup_sample;
CREATE TABLE lookup_sample AS
SELECT row_number() OVER () AS n, message_id AS id, source, external_id FROM message_key TABLESAMPLE SYSTEM (1) LIMIT 100000;
CREATE UNIQUE INDEX ON lookup_sample (n);
ANALYZE lookup_sample;
SQL
}

cat > "$WORK/claim.sql" <<'SQL'
BEGIN;
SELECT id, type, beneficiary_id, data::text, attempts FROM message
 WHERE status = 'RECEIVED' AND next_attempt_at <= clock_timestamp() AND type = ANY('{income.monthly,person.birthdate}'::text[])
 ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED;
ROLLBACK;
SQL
cat > "$WORK/lookup.sql" <<'SQL'
\set r random(1, :samples)
SELECT id AS mid, source AS msource, external_id AS mext FROM lookup_sample WHERE n = :r \gset
SELECT m.id, m.status, m.data::text FROM message m WHERE m.id = :mid;
SELECT k.message_id FROM message_key k WHERE k.source = :msource AND k.external_id = :mext;
SQL

# Prints p50/p99 (ms) of one pgbench script's transactions.
measure() { # $1 = label, $2 = script
  local samples
  samples=$("${PSQL[@]}" -At -c "SELECT count(*) FROM lookup_sample")
  rm -f "$WORK"/pgbench_log.*
  (cd "$WORK" && "$PGBENCH" -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_EACH" -D samples="$samples" -l \
     -h localhost -p "$PGPORT" -U postgres -f "$2" postgres >"$WORK/pgbench.out" 2>&1) || { cat "$WORK/pgbench.out" >&2; exit 1; }
  cat "$WORK"/pgbench_log.* | awk '{print $3 / 1000}' | sort -n | awk -v label="$1" '
    { v[NR] = $1 } END { printf "  %-44s p50 %7.2f ms  p99 %7.2f ms  (%d runs)\n", label, v[int(NR * 0.5)], v[int(NR * 0.99)], NR }'
}

# The ledger's scheduled incremental verification (issue 18, point 4): the service runs with
# verification every 2 s; once its first run after start is done, 1,000 messages are submitted
# through the API (so the ledger gets entries and blocks), and the next run that starts after they
# were sealed is reported: the records it checked and how long it took. It checks what was sealed
# since the run before, however many messages are stored.
verify_incremental() {
  # A ledger signing key, as a Secret would give it (only the embedded quick start makes one itself): no key, no sealing.
  [ -f "$WORK/ledger.pem" ] || openssl genpkey -algorithm ed25519 -out "$WORK/ledger.pem" 2>/dev/null
  QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://localhost:$PGPORT/postgres" QUARKUS_DATASOURCE_USERNAME=postgres \
    QUARKUS_DATASOURCE_PASSWORD= QUARKUS_HTTP_PORT=$PORT ELIGO_AUTH_ENABLED=false ELIGO_QUEUE_WORKERS=0 ELIGO_LEDGER_VERIFY_INTERVAL=2s \
    ELIGO_LEDGER_SIGNING_KEY="$(cat "$WORK/ledger.pem")" \
    ELIGO_INGEST_MAX_BACKLOG=100000000 "$JAVA" -jar target/quarkus-app/quarkus-run.jar >>"$WORK/service.log" 2>&1 &
  SERVICE_PID=$!
  until curl -sf "http://localhost:$PORT/q/health/ready" >/dev/null 2>&1; do
    kill -0 "$SERVICE_PID" 2>/dev/null || { cat "$WORK/service.log" >&2; exit 1; }
    sleep 0.3
  done
  local since; since=$("${PSQL[@]}" -At -c "SELECT clock_timestamp()")
  until [ "$("${PSQL[@]}" -At -c "SELECT count(*) FROM ledger_verification WHERE kind = 'incremental' AND status = 'DONE' AND started_at > '$since'")" -gt 0 ]; do sleep 1; done
  local body='{"messages": ['
  for i in $(seq 1 1000); do
    [ "$i" -gt 1 ] && body+=','
    body+='{"source": "verify", "external_id": "v-'"$1-$i"'", "type": "income.monthly", "beneficiary_id": "B-v'"$i"'", "data": {"year": 2027, "month": 1, "amount_cents": 1}}'
  done
  printf '%s]}' "$body" > "$WORK/batch.json"
  since=$("${PSQL[@]}" -At -c "SELECT clock_timestamp()")
  curl -sf -o /dev/null -H 'Content-Type: application/json' --data-binary @"$WORK/batch.json" "http://localhost:$PORT/v1/messages/batch"
  # The first run after the submission that found the new block (the runs before it was sealed found nothing new).
  local found="(result -> 'checked' ->> 'messages')::bigint > 0"
  until [ "$("${PSQL[@]}" -At -c "SELECT count(*) FROM ledger_verification WHERE kind = 'incremental' AND status = 'DONE' AND started_at > '$since' AND $found")" -gt 0 ]; do sleep 0.5; done
  "${PSQL[@]}" -At -F ' ' -c "SELECT result -> 'checked' ->> 'messages', result -> 'checked' ->> 'blocks', result -> 'checked' ->> 'entries',
                                      round(extract(epoch FROM finished_at - started_at) * 1000), result ->> 'ok'
                                 FROM ledger_verification
                               WHERE kind = 'incremental' AND status = 'DONE' AND started_at > '$since' AND $found ORDER BY started_at LIMIT 1" |
    awk '{ printf "  %-44s %d messages, %d blocks, %d entries checked in %d ms (ok %s)\n", "incremental verification after 1,000 new", $1, $2, $3, $4, $5 }'
  kill "$SERVICE_PID"; wait "$SERVICE_PID" 2>/dev/null || true; SERVICE_PID=
}

report() { # $1 = count
  local size parts
  size=$("${PSQL[@]}" -At -c "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'message'::regclass")
  parts=$("${PSQL[@]}" -At -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'message'::regclass")
  echo "growth: $1 stored messages ($size in $parts partitions), backlog 10,000"
  measure "claim 200 (FOR UPDATE SKIP LOCKED, rolled back)" "$WORK/claim.sql"
  measure "look-up by id and by key" "$WORK/lookup.sql"
  verify_incremental "$1"
}

load 0 "$FIRST"
backlog
sample
report "$FIRST"
load "$FIRST" "$TOTAL"
sample
report "$TOTAL"
