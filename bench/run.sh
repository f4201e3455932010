#!/usr/bin/env bash
# Eligo benchmark: one run prints the raw PostgreSQL ceiling and what the service reaches, each
# rate with its ratio to the raw COPY rate. See bench/README.md. Not a test: numbers, not verdicts.
#
#   ./mvnw package -DskipTests && bench/run.sh
#
# Settings (environment): BENCH_MESSAGES (default 100000), BENCH_BENEFICIARIES (messages / 3),
# BENCH_CLIENTS (4), BENCH_BATCH (1000), BENCH_DETERMINATIONS (1000000: reruns are repeated until the
# database holds this many), BENCH_READ_SECONDS (30), BENCH_READ_CLIENTS ("8 1": one read run per count), BENCH_INSTANCES
# (1; 3 also measures three instances draining one backlog), BENCH_JAVA (java), BENCH_JAVA_OPTS,
# BENCH_IMPORT_LINES (N: the bulk import's file), BENCH_PAGE_SECONDS (10: each console page's read), BENCH_ONLY (import: COPY and the import alone), BENCH_PG_BIN (a PostgreSQL bin directory; default: the binaries the embedded PostgreSQL unpacked,
# else /usr/lib/postgresql/*/bin), BENCH_CITUS (1: a Citus coordinator and two workers instead of one
# PostgreSQL, see bench/postgres.sh). The service and PostgreSQL share this machine.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${BENCH_MESSAGES:-100000}
BENEFICIARIES=${BENCH_BENEFICIARIES:-$((N / 3))}
CLIENTS=${BENCH_CLIENTS:-4}
BATCH=${BENCH_BATCH:-1000}
TARGET_DETERMINATIONS=${BENCH_DETERMINATIONS:-1000000}
READ_SECONDS=${BENCH_READ_SECONDS:-30}
READ_CLIENTS=${BENCH_READ_CLIENTS:-8 1}
INSTANCES=${BENCH_INSTANCES:-1}
JAVA=${BENCH_JAVA:-java}
PORT=${BENCH_PORT:-18090}
PGPORT=${BENCH_PG_PORT:-15432}
WORK=$(mktemp -d)
PIDS=()

[ -f target/quarkus-app/quarkus-run.jar ] || { echo "bench: build first: ./mvnw package -DskipTests" >&2; exit 2; }
. bench/postgres.sh
pg_find_binaries

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v r="$1" -v c="$COPY_RATE" 'BEGIN { printf "%.2f", r / c }'; }
report() { printf '%-58s %12s  %s\n' "$1" "$2" "${3:-}"; }

# --- PostgreSQL: a fresh server with durable settings (fsync and synchronous_commit on) -------------
PRELOAD=""; PGSS=0
[ -f "$("$PG_BIN/pg_config" --pkglibdir 2>/dev/null)/pg_stat_statements.so" ] && PRELOAD="-c shared_preload_libraries=pg_stat_statements"
[ "${BENCH_CITUS:-0}" = 1 ] && PRELOAD="-c shared_preload_libraries=citus${PRELOAD:+,pg_stat_statements}"
pg_start -c max_connections=200 -c shared_buffers=512MB $PRELOAD
echo "bench: PostgreSQL $("${PSQL[@]}" -At -c 'show server_version') from $PG_BIN$([ "${BENCH_CITUS:-0}" = 1 ] && echo ", $("${PSQL[@]}" -At -c "select citus_version()" | cut -d' ' -f1-2): a coordinator and $("${PSQL[@]}" -At -c "select count(*) from citus_get_active_worker_nodes()") workers"); $N messages for $BENEFICIARIES beneficiaries; $(nproc) cores"
if "${PSQL[@]}" -c "CREATE EXTENSION pg_stat_statements" 2>/dev/null && "${PSQL[@]}" -At -c "select 1 from pg_stat_statements limit 1" >/dev/null 2>&1; then PGSS=1; fi

# --- Keys and tokens: an issuer of our own, as production would have ------------------------------
mkdir -p "$WORK/keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/keys/private.pem" 2>/dev/null
openssl pkey -in "$WORK/keys/private.pem" -pubout -out "$WORK/keys/public.pem"
token() { "$JAVA" src/main/java/org/eligo/auth/DevToken.java --keys "$WORK/keys" "$@"; }
# The ledger's signing key (Ed25519), as a Secret would give it: every instance seals, one at a time.
openssl genpkey -algorithm ed25519 -out "$WORK/keys/ledger.pem" 2>/dev/null
AGENCY=$(token agency bench); ANALYST=$(token analyst)

start_service() { # $1 = instance number, $2 = message workers
  local port=$((PORT + $1))
  QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://localhost:$PGPORT/postgres" QUARKUS_DATASOURCE_USERNAME=postgres QUARKUS_DATASOURCE_PASSWORD= \
  MP_JWT_VERIFY_PUBLICKEY_LOCATION="$WORK/keys/public.pem" MP_JWT_VERIFY_ISSUER=eligo-dev \
  ELIGO_LEDGER_SIGNING_KEY="$(cat "$WORK/keys/ledger.pem")" \
  ELIGO_DATABASE_DISTRIBUTION=$([ "${BENCH_CITUS:-0}" = 1 ] && echo citus || echo none) \
  ELIGO_CONSOLE_DEV_SIGN_IN=true ELIGO_CLOCK=2027-07-15T12:00:00Z ELIGO_QUEUE_WORKERS="$2" ELIGO_RERUNS_WORKERS="$2" ELIGO_INGEST_MAX_BACKLOG=100000000 \
  QUARKUS_HTTP_PORT=$port QUARKUS_LOG_LEVEL=WARN \
    "${SERVICE_JAVA:-$JAVA}" ${SERVICE_OPTS-${BENCH_JAVA_OPTS:-}} -jar "${SERVICE_JAR:-target/quarkus-app/quarkus-run.jar}" >>"$WORK/service-$1.log" 2>&1 &
  PIDS+=($!)
  local t0; t0=$(now)
  until curl -sf "localhost:$port/q/health/ready" >/dev/null; do
    kill -0 "${PIDS[-1]}" 2>/dev/null || { tail -30 "$WORK/service-$1.log"; exit 1; }
    sleep 0.05
  done
  READY_SECONDS=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
}
stop_services() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; PIDS=(); }
stat() { curl -sf -H "Authorization: Bearer $ANALYST" "localhost:$PORT/v1/stats"; }
await_drained() { # until no due message is unprocessed and no determination queued
  until [ "$("${PSQL[@]}" -At -c "select (select count(*) from message where status = 'RECEIVED' and next_attempt_at <> 'infinity') + (select count(*) from determination_queue)")" = 0 ]; do sleep 0.2; done
}

# CPU over an interval, from /proc: the machine's busy share, and the service JVMs' share of it
# (the rest is PostgreSQL, the load client and the system).
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
jvm_ticks() { local t=0 pid; for pid in "${PIDS[@]}"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0))); done; echo $t; }
cpu_mark() { read -r MARK_BUSY MARK_ALL < <(busy_ticks); MARK_JVM=$(jvm_ticks); }
cpu_since_mark() {
  local busy all jvm; read -r busy all < <(busy_ticks); jvm=$(jvm_ticks)
  awk -v b=$((busy - MARK_BUSY)) -v a=$((all - MARK_ALL)) -v j=$((jvm - MARK_JVM)) \
    'BEGIN { printf "CPU %.0f%% busy, service JVMs %.0f%% of the machine", 100 * b / a, 100 * j / a }'
}

# What a phase cost the database: its committed transactions and the rows it inserted, updated and
# deleted, from pg_stat_database (flushed by the backends within a second or so of their work), and
# its statements when pg_stat_statements is loaded (BENCH_PG_BIN of a PostgreSQL that has it).
db_mark() {
  sleep 1.5
  read -r MARK_XACT MARK_ROWS < <("${PSQL[@]}" -At -F ' ' -c "select xact_commit, tup_inserted + tup_updated + tup_deleted from pg_stat_database where datname = 'postgres'")
  [ "$PGSS" = 1 ] && "${PSQL[@]}" -c "select pg_stat_statements_reset()" >/dev/null
  return 0
}
db_since_mark() { # $1 = the phase's unit count (messages, determinations), $2 = its name
  sleep 1.5
  local xact rows statements=""
  read -r xact rows < <("${PSQL[@]}" -At -F ' ' -c "select xact_commit, tup_inserted + tup_updated + tup_deleted from pg_stat_database where datname = 'postgres'")
  if [ "$PGSS" = 1 ]; then
    statements=$("${PSQL[@]}" -At -c "select sum(calls) from pg_stat_statements where dbid = (select oid from pg_database where datname = 'postgres') and query !~* 'pg_stat'")
    statements=$(awk -v s="$statements" -v n="$1" 'BEGIN { printf ", %.3f statements", s / n }')
  fi
  awk -v x=$((xact - MARK_XACT)) -v r=$((rows - MARK_ROWS)) -v n="$1" -v what="$2" -v st="$statements" \
    'BEGIN { printf "per %s: %.3f transactions, %.2f rows written%s", what, x / n, r / n, st }'
  # BENCH_STATEMENTS=1: the phase's five costliest statements (to stderr, beside the table).
  if [ "$PGSS" = 1 ] && [ "${BENCH_STATEMENTS:-0}" = 1 ]; then
    "${PSQL[@]}" -At -F ' | ' -c "select round(100 * total_exec_time / sum(total_exec_time) over ())::text || '%', calls,
        round(mean_exec_time::numeric, 3) || ' ms', left(regexp_replace(query, '\s+', ' ', 'g'), 110)
      from pg_stat_statements where dbid = (select oid from pg_database where datname = 'postgres') and query !~* 'pg_stat'
      order by total_exec_time desc limit 5" | sed 's/^/        /' >&2
  fi
}

# --- (a) the raw ceiling --------------------------------------------------------------------------
start_service 0 0 && stop_services   # migrates the schema, so the scratch table can copy message's shape
"$JAVA" bench/Load.java tsv "$WORK/messages.tsv" "$N" "$BENEFICIARIES" raw
# The fixed baseline (issue 18): COPY in text format, one transaction, into a table with the
# message's columns, its primary key and the idempotency key's unique index, and nothing else.
"${PSQL[@]}" -c "CREATE TABLE bench_copy (LIKE message INCLUDING DEFAULTS, PRIMARY KEY (id), UNIQUE (source, external_id))"
t0=$(now)
"${PSQL[@]}" -c "\\copy bench_copy (id, source, external_id, type, beneficiary_id, data) FROM '$WORK/messages.tsv'"
COPY_RATE=$(rate "$N" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")
# The claim loop's table has the message's indexes (the backlog's partial index among them).
"${PSQL[@]}" -c "CREATE TABLE bench_claim (LIKE message INCLUDING ALL)" -c "INSERT INTO bench_claim SELECT * FROM bench_copy"
"${PSQL[@]}" <<'SQL'
CREATE PROCEDURE bench_claim_loop(batch int) LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    LOOP
        UPDATE bench_claim SET status = 'PROCESSED', processed_at = clock_timestamp()
         WHERE id IN (SELECT id FROM bench_claim WHERE status = 'RECEIVED' ORDER BY id LIMIT batch FOR UPDATE SKIP LOCKED);
        GET DIAGNOSTICS n = ROW_COUNT;
        COMMIT;
        EXIT WHEN n = 0;
    END LOOP;
END $$;
SQL
t0=$(now)
for _ in 1 2; do "${PSQL[@]}" -c "CALL bench_claim_loop(200)" & done; wait
CLAIM_RATE=$(rate "$N" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")
report "(a) COPY of $N message rows (primary key + idempotency key)" "$COPY_RATE/s" "1.00"
report "(a) bare SKIP LOCKED claim-and-mark, 2 sessions x 200" "$CLAIM_RATE/s" "$(ratio "$CLAIM_RATE")"

if [ "${BENCH_ONLY:-}" != import ]; then   # BENCH_ONLY=import: (a) and (h) alone

# --- (b) HTTP batch ingest, no processing ---------------------------------------------------------
start_service 0 0
db_mark
INGEST=$("$JAVA" bench/Load.java ingest "http://localhost:$PORT" "$AGENCY" "$N" "$BENEFICIARIES" ingest "$CLIENTS" "$BATCH")
INGEST_RATE=$(echo "$INGEST" | awk '{ print $3 }')
report "(b) HTTP batch ingest, $CLIENTS clients x $BATCH" "$INGEST_RATE/s" "$(ratio "$INGEST_RATE")"
report "    database" "" "$(db_since_mark "$N" message)"
stop_services

# --- (c) end to end: the backlog of (b) received -> facts -> automatic determinations -------------
db_mark
t0=$(now)
start_service 0 "${BENCH_WORKERS:-2}"
await_drained
E2E_RATE=$(rate "$N" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")
report "(c) end to end, backlog -> facts -> determinations (incl. start)" "$E2E_RATE/s" "$(ratio "$E2E_RATE")"
report "    automatic determinations made" "$("${PSQL[@]}" -At -c "select count(*) from determination")"
report "    database (start-up's migration check included)" "" "$(db_since_mark "$N" message)"

# --- (d) a rerun of all beneficiaries, repeated up to the determination target --------------------
rerun() {
  local id; id=$(curl -sf -H "Authorization: Bearer $ANALYST" -H 'Content-Type: application/json' \
    -d '{"scope": "all", "period": "2027-07", "reason": "bench"}' "localhost:$PORT/v1/reruns" | sed -n 's/.*"id":"\(run_[0-9A-Z]*\)".*/\1/p')
  until curl -sf -H "Authorization: Bearer $ANALYST" "localhost:$PORT/v1/reruns/$id" | grep -q '"status":"DONE"'; do sleep 0.2; done
}
db_mark
t0=$(now); cpu_mark; rerun; RERUN_SECONDS=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
RERUN_CPU=$(cpu_since_mark)
TOTAL=$("${PSQL[@]}" -At -c "select count(distinct beneficiary_id) from fact_income_monthly")
RERUN_RATE=$(rate "$TOTAL" "$RERUN_SECONDS")
report "(d) rerun of all $TOTAL beneficiaries" "$RERUN_RATE/s" "$(ratio "$RERUN_RATE"), $RERUN_CPU"
report "    database" "" "$(db_since_mark "$TOTAL" determination)"
while [ "$("${PSQL[@]}" -At -c 'select count(*) from determination')" -lt "$TARGET_DETERMINATIONS" ]; do rerun; done

# --- (e) audit reads under concurrent load --------------------------------------------------------
DETERMINATIONS=$("${PSQL[@]}" -At -c 'select count(*) from determination')
"${PSQL[@]}" -At -c "select id from determination order by random() limit 20000" > "$WORK/ids.txt"
for clients in $READ_CLIENTS; do
  READ=$("$JAVA" bench/Load.java read "http://localhost:$PORT" "$ANALYST" "$WORK/ids.txt" "$clients" "$READ_SECONDS")
  report "(e) GET determination?expand=facts, $clients clients, $DETERMINATIONS stored" \
    "p50 $(echo "$READ" | awk '{ print $2 }') ms" "p99 $(echo "$READ" | awk '{ print $3 }') ms, $(echo "$READ" | awk -v s="$READ_SECONDS" '{ w = int(s / 4); if (w > 5) w = 5; printf "%.0f", $1 / (s - w) }')/s, errors $(echo "$READ" | awk '{ print $5 }')"
done

# --- (i) population reports over everything stored ----------------------------------------------
# Each report five times (median): the latest determinations of the period, the last rerun's, and
# the transitions between the last two reruns; JSON, and the outcomes as CSV.
report_ms() { # $1 = path and query, $2 = Accept
  local times=() i
  for i in 1 2 3 4 5; do
    times+=("$(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $ANALYST" -H "Accept: $2" "localhost:$PORT$1" | awk '{ printf "%.0f", $1 * 1000 }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 3p
}
read -r LAST_RUN PREVIOUS_RUN < <("${PSQL[@]}" -At -F ' ' -c "select max(id) filter (where rn = 1), max(id) filter (where rn = 2) from (select id, row_number() over (order by created_at desc) rn from rerun) r")
REPORT_BENEFICIARIES=$(curl -sf -H "Authorization: Bearer $ANALYST" "localhost:$PORT/v1/reports/outcomes?period=2027-07" | sed -n 's/.*"beneficiaries":\([0-9]*\).*/\1/p')
report "(i) GET /v1/reports/outcomes, latest of $REPORT_BENEFICIARIES, $DETERMINATIONS stored" "$(report_ms "/v1/reports/outcomes?period=2027-07" application/json) ms" "median of 5"
report "    the same as text/csv" "$(report_ms "/v1/reports/outcomes?period=2027-07" text/csv) ms"
report "    outcomes of the last rerun" "$(report_ms "/v1/reports/outcomes?period=2027-07&rerun_id=$LAST_RUN" application/json) ms"
report "    transitions, latest from the one before" "$(report_ms "/v1/reports/transitions?period=2027-07" application/json) ms"
report "    transitions between the last two reruns" "$(report_ms "/v1/reports/transitions?period=2027-07&from_rerun=$PREVIOUS_RUN&to_rerun=$LAST_RUN" application/json) ms"

# --- (j) console pages over everything stored --------------------------------------------------------
# Signed in as an analyst (the development sign-in), one client, for PAGE_SECONDS each: random
# beneficiaries' pages, random determinations' pages, the population page (its counts kept for 30 s,
# as an analyst moving about sees it), the same counted afresh each time, the operations page.
PAGE_SECONDS=${BENCH_PAGE_SECONDS:-10}
SIGN_IN=$(curl -sf -c "$WORK/cookies" "localhost:$PORT/console/sign-in")
CSRF=$(echo "$SIGN_IN" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -sf -o /dev/null -b "$WORK/cookies" -c "$WORK/cookies" --data-urlencode "csrf=$CSRF" --data-urlencode role=analyst \
  --data-urlencode name=bench "localhost:$PORT/console/sign-in"
SESSION="eligo_session=$(awk '$6 == "eligo_session" { print $7 }' "$WORK/cookies")"
"${PSQL[@]}" -At -c "select '/console/beneficiaries/' || beneficiary_id from determination_latest order by random() limit 2000" > "$WORK/page-beneficiaries.txt"
sed 's|^|/console/determinations/|' "$WORK/ids.txt" > "$WORK/page-determinations.txt"
echo "/console/population?period=2027-07" > "$WORK/page-population.txt"
echo "/console/population?period=2027-07&fresh=true" > "$WORK/page-population-counted-afresh.txt"
echo "/console/operations" > "$WORK/page-operations.txt"
for page in beneficiaries determinations population population-counted-afresh operations; do
  PAGES=$("$JAVA" bench/Load.java pages "http://localhost:$PORT" "$SESSION" "$WORK/page-$page.txt" 1 "$PAGE_SECONDS")
  report "(j) console page: $page, 1 client, $DETERMINATIONS stored" "p95 $(echo "$PAGES" | awk '{ print $3 }') ms" \
    "p50 $(echo "$PAGES" | awk '{ print $2 }'), p99 $(echo "$PAGES" | awk '{ print $4 }'), max $(echo "$PAGES" | awk '{ print $5 }') ms, errors $(echo "$PAGES" | awk '{ print $6 }')"
done

# --- (g) the audit trail: rows it wrote, and a full verification -----------------------------------
# Rows in the tables that prove the records (the hash chains' before issue 17, the ledger's after),
# per message end to end and after the reruns; then GET /v1/integrity/verify over everything.
audit_rows() {
  local total=0 table count
  for table in audit_record audit_checkpoint_head audit_checkpoint ledger_entry ledger_block; do
    count=$("${PSQL[@]}" -At -c "select count(*) from $table" 2>/dev/null || echo 0)
    total=$((total + count))
  done
  echo "$total"
}
report "(f) service peak RSS before the verification" "$(( $(awk '/VmHWM/ { print $2 }' "/proc/${PIDS[0]}/status") / 1024 )) MB"
report "(g) audit trail rows, all writes of the run" "$(audit_rows)" "per message and determination: $(awk -v r="$(audit_rows)" -v m="$N" -v d="$DETERMINATIONS" 'BEGIN { printf "%.3f", r / (m + d) }')"
t0=$(now)
VERIFY=$(curl -sf -m 3600 -H "Authorization: Bearer $ANALYST" "localhost:$PORT/v1/integrity/verify")
VERIFY_SECONDS=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
report "(g) full verification of $N messages, $DETERMINATIONS determinations" "$VERIFY_SECONDS s" "ok $(echo "$VERIFY" | sed -n 's/.*"ok":\([a-z]*\).*/\1/p')"

# --- (f) memory and start-up ----------------------------------------------------------------------
RSS_KB=$(awk '/VmHWM/ { print $2 }' "/proc/${PIDS[0]}/status")
report "(f) service peak RSS over the run" "$((RSS_KB / 1024)) MB"
stop_services
start_service 0 "${BENCH_WORKERS:-2}"
report "(f) start to ready (schema migrated, $DETERMINATIONS determinations)" "${READY_SECONDS} s" "$JAVA ${BENCH_JAVA_OPTS:-}"
report "(f) RSS right after start" "$(( $(awk '/VmRSS/ { print $2 }' "/proc/${PIDS[0]}/status") / 1024 )) MB"
stop_services
# JDK 25 with an AOT cache (JEP 483/514), if a JDK 25 and the aot-jar build are there (see README):
# the cache is trained on a full start against this database and a few reads, written when the
# JVM exits; then three starts with it, the median reported.
JAVA25=${BENCH_JAVA25:-$(ls /usr/lib/jvm/*25*/bin/java 2>/dev/null | head -1)}
AOT_JAR=${BENCH_AOT_JAR:-target/quarkus-aot/quarkus-run.jar}
if [ -x "${JAVA25:-}" ] && [ -f "$AOT_JAR" ]; then
  SERVICE_JAVA=$JAVA25 SERVICE_JAR=$AOT_JAR SERVICE_OPTS="-XX:AOTCacheOutput=$WORK/app.aot" start_service 0 "${BENCH_WORKERS:-2}"
  for id in $(head -20 "$WORK/ids.txt"); do
    curl -sf -o /dev/null -H "Authorization: Bearer $ANALYST" "localhost:$PORT/v1/determinations/$id?expand=facts" || true
  done
  stop_services
  STARTS=()
  for _ in 1 2 3; do
    SERVICE_JAVA=$JAVA25 SERVICE_JAR=$AOT_JAR SERVICE_OPTS="-XX:AOTCache=$WORK/app.aot" start_service 0 "${BENCH_WORKERS:-2}"
    STARTS+=("$READY_SECONDS"); stop_services
  done
  report "(f) start to ready, JDK 25 + AOT cache (median of 3)" "$(printf '%s\n' "${STARTS[@]}" | sort -n | sed -n 2p) s" "$JAVA25, $AOT_JAR"
else
  report "(f) start to ready, JDK 25 + AOT cache" "not run" "no JDK 25, or no $AOT_JAR (see bench/README.md)"
fi

fi

# --- (h) bulk import: a file of BENCH_IMPORT_LINES (default N) new messages ---------------------------
# POST /v1/messages/import to an instance whose workers only store imports (eligo.queue.kinds), timed
# from the first byte sent until the import is DONE; the upload alone (to the 202) is shown too. The
# instance runs with the JVM's default heap; its peak RSS is the import's memory.
IMPORT_LINES=${BENCH_IMPORT_LINES:-$N}
"$JAVA" bench/Load.java ndjson "$WORK/import.ndjson" "$IMPORT_LINES" "$BENEFICIARIES" import
ELIGO_QUEUE_KINDS=imports start_service 0 "${BENCH_WORKERS:-2}"
db_mark
t0=$(now)
IMPORT_ID=$(curl -sf -H "Authorization: Bearer $AGENCY" -H 'Content-Type: application/x-ndjson' --data-binary @"$WORK/import.ndjson" \
  "localhost:$PORT/v1/messages/import" | sed -n 's/.*"id":"\(imp_[0-9A-Z]*\)".*/\1/p')
UPLOAD_SECONDS=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
until curl -sf -H "Authorization: Bearer $AGENCY" "localhost:$PORT/v1/imports/$IMPORT_ID?limit=1" | grep -q '"status":"DONE"'; do sleep 0.1; done
IMPORT_RATE=$(rate "$IMPORT_LINES" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")
report "(h) bulk import of $IMPORT_LINES lines ($(( $(wc -c < "$WORK/import.ndjson") / 1048576 )) MB), to DONE" "$IMPORT_RATE/s" \
  "$(ratio "$IMPORT_RATE"); the upload to its 202: $(rate "$IMPORT_LINES" "$UPLOAD_SECONDS")/s"
report "    $(curl -sf -H "Authorization: Bearer $AGENCY" "localhost:$PORT/v1/imports/$IMPORT_ID?limit=1" | grep -o '"new_lines":[0-9]*')" "" "$(db_since_mark "$IMPORT_LINES" line)"
report "    the importing instance's peak RSS (heap: ${BENCH_JAVA_OPTS:-the JVM default})" "$(( $(awk '/VmHWM/ { print $2 }' "/proc/${PIDS[0]}/status") / 1024 )) MB"
stop_services
# Its messages stay unprocessed; held back, so that the instances below drain only their own.
"${PSQL[@]}" -c "UPDATE message SET next_attempt_at = 'infinity' WHERE status = 'RECEIVED'"

# --- more than one instance on one database --------------------------------------------------------
# For k = 1 .. BENCH_INSTANCES: a fresh backlog of N messages, held back (next_attempt_at in the
# future: the claim passes over it) while k instances start; then released at once, and timed until
# every message is processed and every automatic determination made. Then a rerun of all
# beneficiaries by the k instances. Starts are outside the times.
if [ "$INSTANCES" -gt 1 ] && [ "${BENCH_ONLY:-}" != import ]; then
  for k in $(seq 1 "$INSTANCES"); do
    start_service 0 0
    "$JAVA" bench/Load.java ingest "http://localhost:$PORT" "$AGENCY" "$N" "$BENEFICIARIES" "multi$k" "$CLIENTS" "$BATCH" >/dev/null
    stop_services
    "${PSQL[@]}" -c "UPDATE message SET next_attempt_at = 'infinity' WHERE status = 'RECEIVED'"
    for i in $(seq 0 $((k - 1))); do start_service "$i" "${BENCH_WORKERS:-2}"; done
    t0=$(now); cpu_mark
    "${PSQL[@]}" -c "UPDATE message SET next_attempt_at = clock_timestamp() WHERE status = 'RECEIVED' AND external_id LIKE 'multi$k-%'" -c "NOTIFY eligo_message_received"
    await_drained
    MULTI_RATE=$(rate "$N" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")
    report "    $k instance(s) x ${BENCH_WORKERS:-2} workers drain a held backlog of $N" "$MULTI_RATE/s" "$(ratio "$MULTI_RATE"), $(cpu_since_mark)"
    ALL=$("${PSQL[@]}" -At -c "select count(distinct beneficiary_id) from fact_income_monthly")
    t0=$(now); cpu_mark; rerun; MULTI_RERUN=$(rate "$ALL" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')")
    report "    $k instance(s): rerun of all $ALL beneficiaries" "$MULTI_RERUN/s" "$(ratio "$MULTI_RERUN"), $(cpu_since_mark)"
    stop_services
  done
  # Done twice? A message yielding two facts (outside replays); a rerun determining a beneficiary
  # twice; two automatic determinations of one beneficiary and month from the very same facts.
  report "    messages with more than one fact (must be 0)" \
    "$("${PSQL[@]}" -At -c "select count(*) from (select message_id from fact_income_monthly where replay_id is null group by 1 having count(*) > 1) d")"
  report "    beneficiaries determined twice by one rerun (must be 0)" \
    "$("${PSQL[@]}" -At -c "select count(*) from (select rerun_id, beneficiary_id from determination where rerun_id is not null group by 1, 2 having count(*) > 1) d")"
  report "    automatic determinations repeating another's facts (must be 0)" "$("${PSQL[@]}" -At -c "
    select count(*) - count(distinct (beneficiary_id, period, ruleset_id, facts)) from (
      select d.beneficiary_id, d.period, d.ruleset_id, string_agg(f.fact_id, ',' order by f.fact_id) as facts
        from determination d join determination_fact f on f.determination_id = d.id
       where d.trigger = 'ingest' group by d.id, d.beneficiary_id, d.period, d.ruleset_id) x")"
fi
