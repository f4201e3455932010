#!/usr/bin/env bash
# Where a rerun's database CPU goes: one PostgreSQL, or a Citus coordinator and its two workers
# (docs/scaling.md, "Step 3"). Starts the database (BENCH_CITUS=1: scripts/citus-cluster.sh) and the
# packaged service, ingests BENCH_MESSAGES (20000) for a third as many beneficiaries, waits until
# everything is processed, then reruns every beneficiary and prints the CPU seconds of each server
# (its postmaster and every backend, ended ones included) and of the service, per determination.
#
#   ./mvnw package -DskipTests && bench/rerun-cpu.sh && BENCH_CITUS=1 BENCH_PG_BIN=/usr/lib/postgresql/15/bin bench/rerun-cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f target/quarkus-app/quarkus-run.jar ] || { echo "rerun-cpu: build first: ./mvnw package -DskipTests" >&2; exit 2; }
N=${BENCH_MESSAGES:-20000}; BENEFICIARIES=$((N / 3)); PGPORT=${BENCH_PG_PORT:-15532}; HTTP=${BENCH_PORT:-18290}
WORK=$(mktemp -d); SVC=
. bench/postgres.sh
pg_find_binaries
stop() { [ -n "$SVC" ] && { kill "$SVC" 2>/dev/null; wait "$SVC" 2>/dev/null || true; }; pg_stop; rm -rf "$WORK"; }
trap stop EXIT
pg_start -c max_connections=300 -c shared_buffers=512MB $([ "${BENCH_CITUS:-0}" = 1 ] && echo "-c shared_preload_libraries=citus")
if [ "${BENCH_CITUS:-0}" = 1 ]; then NODES=2; DIST=citus; DATA=("$WORK"/citus/node{0,1,2}); else NODES=0; DIST=none; DATA=("$WORK/pg"); fi
cpu() { # clock ticks of node $1's postmaster, its live children and its ended children
  local pm t c; pm=$(head -1 "${DATA[$1]}/postmaster.pid"); t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
  for c in $(pgrep -P "$pm"); do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}
snap() { local i s=""; for i in $(seq 0 $NODES); do s="$s $(cpu "$i")"; done; echo "$s $(awk '{ print $14 + $15 }' "/proc/$SVC/stat")"; }
mkdir -p "$WORK/keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/keys/private.pem" 2>/dev/null
openssl pkey -in "$WORK/keys/private.pem" -pubout -out "$WORK/keys/public.pem"
openssl genpkey -algorithm ed25519 -out "$WORK/keys/ledger.pem" 2>/dev/null
token() { java src/main/java/org/eligo/auth/DevToken.java --keys "$WORK/keys" "$@"; }
AGENCY=$(token agency bench); ANALYST=$(token analyst)
QUARKUS_DATASOURCE_JDBC_URL="jdbc:postgresql://localhost:$PGPORT/postgres" QUARKUS_DATASOURCE_USERNAME=postgres QUARKUS_DATASOURCE_PASSWORD= \
MP_JWT_VERIFY_PUBLICKEY_LOCATION="$WORK/keys/public.pem" MP_JWT_VERIFY_ISSUER=eligo-dev ELIGO_LEDGER_SIGNING_KEY="$(cat "$WORK/keys/ledger.pem")" \
ELIGO_DATABASE_DISTRIBUTION=$DIST ELIGO_CLOCK=2027-07-15T12:00:00Z ELIGO_INGEST_MAX_BACKLOG=100000000 QUARKUS_HTTP_PORT=$HTTP QUARKUS_LOG_LEVEL=WARN \
  java -jar target/quarkus-app/quarkus-run.jar > "$WORK/service.log" 2>&1 &
SVC=$!
until curl -sf "localhost:$HTTP/q/health/ready" >/dev/null; do kill -0 "$SVC" || { tail -30 "$WORK/service.log"; exit 1; }; sleep 0.2; done
java bench/Load.java ingest "http://localhost:$HTTP" "$AGENCY" "$N" "$BENEFICIARIES" ingest 4 1000 >/dev/null
until [ "$("${PSQL[@]}" -At -c "select (select count(*) from message where status = 'RECEIVED') + (select count(*) from determination_queue)")" = 0 ]; do sleep 0.5; done
sleep 2
read -r -a before < <(snap); t0=$(date +%s.%N)
id=$(curl -sf -H "Authorization: Bearer $ANALYST" -H 'Content-Type: application/json' -d '{"scope": "all", "period": "2027-07", "reason": "cpu"}' \
  "localhost:$HTTP/v1/reruns" | sed -n 's/.*"id":"\(run_[0-9A-Z]*\)".*/\1/p')
until curl -sf -H "Authorization: Bearer $ANALYST" "localhost:$HTTP/v1/reruns/$id" | grep -q '"status":"DONE"'; do sleep 0.2; done
read -r -a after < <(snap); t1=$(date +%s.%N)
hz=$(getconf CLK_TCK); last=$((NODES + 1))
line="$DIST: rerun of $BENEFICIARIES in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s; database CPU ms per determination:"
for i in $(seq 0 $NODES); do
  line="$line $([ "$i" = 0 ] && echo "$([ $NODES = 0 ] && echo server || echo coordinator)" || echo "worker $i") $(awk -v d=$((after[i] - before[i])) -v h="$hz" -v n="$BENEFICIARIES" 'BEGIN { printf "%.2f", 1000 * d / h / n }'),"
done
echo "$line service $(awk -v d=$((after[last] - before[last])) -v h="$hz" -v n="$BENEFICIARIES" 'BEGIN { printf "%.2f", 1000 * d / h / n }')"
