#!/usr/bin/env bash
# Smoke test of the quick start as a newcomer runs it: the packaged service on its embedded
# PostgreSQL, killed with SIGKILL in the middle of a rerun (the PostgreSQL it started is orphaned)
# and started again on the same data directory, where the rerun must resume and finish with every
# beneficiary done once; then stopped with SIGTERM, which must stop PostgreSQL too. Calls carry
# tokens minted as the README says, from the development key pair the first start creates.
# Needs target/quarkus-app (./mvnw package). Uses its own port and data directory.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${SMOKE_PORT:-18080}
WORK=$(mktemp -d)
DATA="$WORK/pg"
KEYS="$WORK/dev-jwt"
BASE="http://localhost:$PORT"
PID=
cleanup() {
  [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true
  pkill -INT -f -- "-D $DATA" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "smoke: FAILED: $*" >&2; tail -50 "$WORK/service.log" >&2 || true; exit 1; }

start() {
  java -Dquarkus.http.port="$PORT" -Deligo.embedded-postgres.data-dir="$DATA" -Deligo.auth.dev-key-directory="$KEYS" \
    -jar target/quarkus-app/quarkus-run.jar >>"$WORK/service.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 240); do
    curl -sf "$BASE/q/health/ready" >/dev/null && return 0
    kill -0 "$PID" 2>/dev/null || fail "service exited during start"
    sleep 0.25
  done
  fail "service not ready within 60 s"
}

token() { java src/main/java/org/eligo/auth/DevToken.java --keys "$KEYS" "$@"; }
# curl as the analyst (reads and reruns) or, with AS=agency, as the agency (submits).
api() { local t=$ANALYST; [ "${AS:-}" = agency ] && t=$AGENCY; curl -sf -H "Authorization: Bearer $t" "$@"; }

await_processed() {
  for _ in $(seq 1 120); do
    api "$BASE/v1/messages/$1" | grep -q '"status":"PROCESSED"' && return 0
    sleep 0.25
  done
  fail "message $1 not processed"
}

submit() {
  AS=agency api -H 'Content-Type: application/json' -d "$1" "$BASE/v1/messages" | sed -n 's/.*"id":"\(msg_[0-9A-Z]*\)".*/\1/p'
}

start
ANALYST=$(token analyst) && AGENCY=$(token agency smoke) || fail "could not mint development tokens"
status=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/v1/rulesets")
[ "$status" = 401 ] || fail "a request without a token answered $status, not 401"
first=$(submit '{"source":"smoke","external_id":"1","type":"person.birthdate","beneficiary_id":"S-1","data":{"birth_date":"1970-01-01"}}')
[ -n "$first" ] || fail "submit failed"
await_processed "$first"

# A rerun large enough to be killed in the middle of (beneficiaries need no facts to be determined),
# and, once it is under way, a backlog of 10,000 messages in 10 batches: the kill lands while both
# are being worked on. (The other order raced: with the backlog first, the workers could drain it
# before the rerun was seen under way.)
{ printf '{"scope":"beneficiaries","period":"2027-07","beneficiary_ids":['; seq 0 19999 | sed 's/.*/"S-&"/' | paste -sd, -; printf ']}'; } > "$WORK/rerun.json"
run=$(api -H 'Content-Type: application/json' --data-binary @"$WORK/rerun.json" "$BASE/v1/reruns" | sed -n 's/.*"id":"\(run_[0-9A-Z]*\)".*/\1/p')
[ -n "$run" ] || fail "rerun not accepted"
progress() { api "$BASE/v1/reruns/$run" | tee -a "$WORK/progress.log" | sed -n 's/.*"done":\([0-9]*\).*/\1/p'; }
for _ in $(seq 1 400); do d=$(progress); [ "${d:-0}" -gt 0 ] && break; sleep 0.05; done
for b in $(seq 0 9); do
  { printf '{"messages":['; seq $((b * 1000)) $((b * 1000 + 999)) \
      | sed 's/.*/{"source":"smoke","external_id":"bk-&","type":"income.monthly","beneficiary_id":"K-&","data":{"year":2027,"month":6,"amount_cents":&}}/' \
      | paste -sd, -; printf ']}'; } > "$WORK/batch.json"
  AS=agency api -o /dev/null -H 'Content-Type: application/json' --data-binary @"$WORK/batch.json" "$BASE/v1/messages/batch" || fail "backlog batch $b not accepted"
done
backlog=$(api "$BASE/v1/stats" | sed -n 's/.*"backlog":\([0-9]*\).*/\1/p')
before=$(progress)
[ "${before:-0}" -gt 0 ] && [ "${before:-0}" -lt 20000 ] || fail "could not catch the rerun mid-way (done=$before): $(tail -c 600 "$WORK/progress.log")"
[ "${backlog:-0}" -gt 0 ] || fail "could not catch the message backlog mid-way (backlog=$backlog)"

kill -9 "$PID"; wait "$PID" 2>/dev/null || true; PID=
pgrep -f -- "-D $DATA" >/dev/null || fail "expected the killed service's PostgreSQL to be left running"
start
await_processed "$first"
for _ in $(seq 1 600); do api "$BASE/v1/reruns/$run" | grep -q '"status":"DONE"' && break; sleep 0.25; done
api "$BASE/v1/reruns/$run" | grep -q '"status":"DONE"' || fail "the rerun did not resume and finish after the restart"
api "$BASE/v1/reruns/$run" | grep -q '"done":20000,' || fail "the resumed rerun did not do every beneficiary: $(api "$BASE/v1/reruns/$run")"
api "$BASE/v1/integrity/verify" | grep -q '"ok":true' || fail "integrity check failed after the crash: $(api "$BASE/v1/integrity/verify")"
second=$(submit '{"source":"smoke","external_id":"2","type":"disability.status","beneficiary_id":"S-1","data":{"disabled":true}}')
await_processed "$second"
# Every accepted message processed, none failed, and exactly one fact per message (each one is the
# only message for its key, so the facts are all active). The backlog and the failed are exact in
# /v1/stats; its totals are estimates, so the totals come from the ledger's verification, which
# reads every record.
for _ in $(seq 1 240); do api "$BASE/v1/stats" | grep -q '"backlog":0' && break; sleep 0.25; done
stats=$(api "$BASE/v1/stats")
for expected in '"failed":0' '"backlog":0'; do
  echo "$stats" | grep -q "$expected" || fail "after the crash not every message ended processed ($expected): $stats"
done
verified=$(api "$BASE/v1/integrity/verify")
for expected in '"messages":10002' '"facts":10002' '"ok":true'; do
  echo "$verified" | grep -q "$expected" || fail "after the crash not every message was stored and processed exactly once, with one fact ($expected): $verified"
done

kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=
for _ in $(seq 1 40); do pgrep -f -- "-D $DATA" >/dev/null || break; sleep 0.25; done
pgrep -f -- "-D $DATA" >/dev/null && fail "PostgreSQL still running after the service stopped"
grep -q "Embedded PostgreSQL stopped" "$WORK/service.log" || fail "no clean embedded PostgreSQL shutdown logged"
echo "smoke: quick start OK (start, SIGKILL mid-rerun at $before of 20000 with $backlog of 10000 messages unprocessed, restart on the same data, rerun resumed and done, every message processed once with one fact, SIGTERM)"
