package org.eligo.audit;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submitBatch;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.matchesPattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * Nobody changes history silently: the service's role cannot delete, triggers refuse changes even
 * to the owner, and a superuser who turns triggers off is caught by the hash chains (and, for a
 * rewritten chain, by the signed checkpoint). Every tampering is undone before the test ends.
 */
@QuarkusTest
class AuditTrailTest {

    @Inject
    Checkpoints checkpoints;

    private String beneficiary;
    private String firstMessage;
    private String revokedFact;
    private String activeFact;
    private String determination;

    @BeforeEach
    void someHistory() {
        String source = unique("audit");
        beneficiary = unique("A");
        List<String> ids = submitBatch(List.of(
                income(source, "1", beneficiary, 2027, 6, 100, null),
                income(source, "2", beneficiary, 2027, 6, 70000, null)));
        firstMessage = ids.get(0);
        revokedFact = awaitProcessed(ids.get(0)).path("fact_ids[0]");
        activeFact = awaitProcessed(ids.get(1)).path("fact_ids[0]");
        determination = post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", "2027-07")).then().statusCode(201)
                .extract().path("id");
        await().atMost(Duration.ofSeconds(30)).until(() -> Sql.count("SELECT count(*) FROM determination_queue WHERE beneficiary_id = ?", beneficiary) == 0);
        verifyOk();
    }

    private static Response verify() {
        return given().get("/v1/integrity/verify").then().statusCode(200).extract().response();
    }

    private static void verifyOk() {
        verify().then().body("ok", equalTo(true)).body("first_bad", org.hamcrest.Matchers.nullValue());
    }

    private static void verifyFinds(String table, String id) {
        verify().then().body("ok", equalTo(false)).body("first_bad.table", equalTo(table)).body("first_bad.id", equalTo(id));
    }

    @Test
    void oneAppendLinksSeveralRecordsOfAChainInOrderAndARerunChunkIsChainedInOneAppend() {
        // One batch is one INSERT, so one set-wise chain append: three links for one beneficiary, one for another.
        String source = unique("chain"), one = unique("A"), other = unique("A");
        List<String> ids = submitBatch(List.of(
                income(source, "1", one, 2027, 4, 100, null),
                income(source, "2", other, 2027, 4, 100, null),
                income(source, "3", one, 2027, 5, 100, null),
                income(source, "4", one, 2027, 6, 100, null)));
        // (Workers may already be chaining the messages' facts after them: only the message links are looked at.)
        List<Map<String, Object>> links = Sql.rows(
                "SELECT seq, record_id, recorded_at FROM audit_record WHERE beneficiary_id = ? AND kind = 'message' ORDER BY seq", one);
        assertEquals(List.of(1L, 2L, 3L), links.stream().map(link -> ((Number) link.get("seq")).longValue()).toList());
        // In message id order, as the chain trigger passes them; one append, one recorded_at.
        assertEquals(java.util.stream.Stream.of(ids.get(0), ids.get(2), ids.get(3)).sorted().toList(),
                links.stream().map(link -> link.get("record_id")).toList());
        assertEquals(1, links.stream().map(link -> link.get("recorded_at")).distinct().count());
        ids.forEach(id -> awaitProcessed(id));

        // The determinations of a rerun chunk: chained at commit, all by the first of their triggers.
        String run = post("/v1/reruns", Map.of("scope", "beneficiaries", "beneficiary_ids", List.of(one, other), "period", "2027-07"))
                .then().statusCode(202).extract().path("id");
        await().atMost(Duration.ofSeconds(60)).until(() -> Sql.count("SELECT count(*) FROM rerun WHERE id = ? AND status = 'DONE'", run) == 1);
        List<Map<String, Object>> chained = Sql.rows("""
                SELECT a.beneficiary_id, a.recorded_at FROM determination d
                  JOIN audit_record a ON a.record_table = 'determination' AND a.record_id = d.id
                 WHERE d.rerun_id = ?""", run);
        assertEquals(2, chained.size());
        assertEquals(1, chained.stream().map(link -> link.get("recorded_at")).distinct().count());
        verifyOk();
    }

    @Test
    void theServiceRoleCannotDeleteTruncateOrRewrite() {
        for (String sql : List.of(
                "DELETE FROM message WHERE id = '" + firstMessage + "'",
                "TRUNCATE message CASCADE",
                "DELETE FROM fact WHERE id = '" + revokedFact + "'",
                "DELETE FROM determination WHERE id = '" + determination + "'",
                "UPDATE message SET data = '{}' WHERE id = '" + firstMessage + "'",
                "UPDATE determination SET result = 'PASSED' WHERE id = '" + determination + "'",
                "INSERT INTO audit_record SELECT beneficiary_id, seq + 1000, kind, record_table, record_id, content_hash, prev_hash, hash FROM audit_record LIMIT 1",
                "DELETE FROM determination_fact",
                "UPDATE determination SET checks = '[]' WHERE id = '" + determination + "'",
                "INSERT INTO audit_checkpoint (id, prev_digest, digest, heads) VALUES (999999, '\\x00', '\\x00', 0)",
                "UPDATE audit_head SET seq = seq WHERE beneficiary_id = '" + beneficiary + "'")) {
            String failure = Sql.firstFailure("SET ROLE eligo_service", sql);
            assertNotNull(failure, sql);
            assertTrue(failure.contains("permission denied"), sql + ": " + failure);
        }
    }

    @Test
    void triggersRefuseChangesEvenToTheOwner() {
        // A new determination, inserted by the statement that tries to give it fact links.
        String newDetermination = "WITH d AS (INSERT INTO determination (id, beneficiary_id, period, ruleset_id, ruleset_sha256, ruleset_version,"
                + " evaluated_at, facts_as_of, trigger, result, checks) SELECT eligo_ulid_floor('det_', clock_timestamp()), beneficiary_id, period,"
                + " ruleset_id, ruleset_sha256, ruleset_version, evaluated_at, facts_as_of, 'request', result, checks FROM determination WHERE id = '"
                + determination + "' RETURNING id)";
        for (String sql : List.of(
                "UPDATE message SET data = '{}' WHERE id = '" + firstMessage + "'",
                "UPDATE message SET beneficiary_id = 'X' WHERE id = '" + firstMessage + "'",
                "DELETE FROM message WHERE id = '" + firstMessage + "'",
                "TRUNCATE message CASCADE",
                "UPDATE fact SET revoked_at = now(), revoked_by = '" + activeFact + "' WHERE id = '" + revokedFact + "'",
                "UPDATE fact SET data = jsonb_set(data, '{amount_cents}', '1') WHERE id = '" + activeFact + "'",
                "UPDATE fact SET type = 'person.birthdate' WHERE id = '" + activeFact + "'",
                "DELETE FROM fact WHERE id = '" + activeFact + "'",
                "TRUNCATE fact CASCADE",
                "UPDATE determination SET result = 'NOT_PASSED' WHERE id = '" + determination + "'",
                "UPDATE determination SET checks = jsonb_set(checks, '{1,subchecks,4,result}', '\"NOT_PASSED\"') WHERE id = '" + determination + "'",
                "UPDATE determination_fact SET fact_id = '" + revokedFact + "' WHERE determination_id = '" + determination + "'",
                "DELETE FROM determination_fact WHERE determination_id = '" + determination + "'",
                "TRUNCATE determination CASCADE",
                "UPDATE audit_record SET hash = '\\x00' WHERE beneficiary_id = '" + beneficiary + "'",
                "TRUNCATE audit_record",
                "DELETE FROM audit_head WHERE beneficiary_id = '" + beneficiary + "'",
                "TRUNCATE audit_checkpoint CASCADE",
                // A backdated revocation, a self-revocation, a fact slipped into the past, a fact link added to a finished determination.
                "UPDATE fact SET revoked_at = '1999-01-01T00:00:00Z', revoked_by = '" + revokedFact + "' WHERE id = '" + activeFact + "'",
                "UPDATE fact SET revoked_at = clock_timestamp(), revoked_by = id WHERE id = '" + activeFact + "'",
                "INSERT INTO fact (id, beneficiary_id, message_id, created_at, type, fact_key, data) VALUES ('fact_PAST', '"
                        + beneficiary + "', '" + firstMessage + "', '2001-01-01T00:00:00Z', 'income.monthly', '2027-01',"
                        + " '{\"year\": 2027, \"month\": 1, \"amount_cents\": 1}')",
                "INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id) VALUES ('" + determination + "', '" + beneficiary + "', '"
                        + revokedFact + "')",
                // Fact links of no determination, and of a new determination but for another beneficiary (links have no foreign
                // keys: the parts guard checks).
                "INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id) VALUES (eligo_ulid_floor('det_', clock_timestamp()), '"
                        + beneficiary + "', '" + activeFact + "')",
                newDetermination + " INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id) SELECT id, 'someone-else', '"
                        + activeFact + "' FROM d",
                // A checkpoint naming a head that is no link of its chain.
                "SELECT eligo_audit_checkpoint(coalesce((SELECT max(id) FROM audit_checkpoint), 0) + 1, coalesce((SELECT digest FROM audit_checkpoint ORDER BY id DESC LIMIT 1), "
                        + "decode(repeat('00', 32), 'hex')), '\\x00', NULL, NULL, ARRAY['" + beneficiary + "'], ARRAY[999]::bigint[], ARRAY['\\x00'::bytea])")) {
            String failure = Sql.firstFailure(sql);
            assertNotNull(failure, sql);
            assertTrue(failure.contains("eligo:"), sql + ": " + failure);
        }
        // A determination's outcomes are its checks' (a generated column): nobody writes them apart.
        String outcomes = Sql.firstFailure("UPDATE determination SET outcomes = '{}' WHERE id = '" + determination + "'");
        assertTrue(outcomes != null && outcomes.contains("can only be updated to DEFAULT"), outcomes);
        // The one legitimate change to processing state still works.
        Sql.update("UPDATE message SET attempts = attempts WHERE id = ?", firstMessage);
        verifyOk();
    }

    @Test
    void verifyNamesAMessageAlteredBehindTheServicesBack() {
        Sql.tamper("UPDATE message SET data = jsonb_set(data, '{amount_cents}', '99999') WHERE id = '" + firstMessage + "'");
        verifyFinds("message", firstMessage);
        Sql.tamper("UPDATE message SET data = jsonb_set(data, '{amount_cents}', '100') WHERE id = '" + firstMessage + "'");
        verifyOk();
    }

    @Test
    void verifyNamesAMessageWhoseDataGainedANullMember() {
        Sql.tamper("UPDATE message SET data = data || '{\"note\": null}' WHERE id = '" + firstMessage + "'");
        verifyFinds("message", firstMessage);
        Sql.tamper("UPDATE message SET data = data - 'note' WHERE id = '" + firstMessage + "'");
        verifyOk();
    }

    @Test
    void verifyNamesARemovedFact() {
        Map<String, Object> row = Sql.rows("SELECT message_id, created_at::text AS created_at, data::text AS data FROM fact WHERE id = ?", activeFact).get(0);
        Sql.tamper("DELETE FROM fact WHERE id = '" + activeFact + "'");
        verifyFinds("fact", activeFact);
        Sql.tamper("INSERT INTO fact (id, beneficiary_id, message_id, created_at, type, fact_key, data) VALUES ('"
                + activeFact + "', '" + beneficiary + "', '" + row.get("message_id") + "', '" + row.get("created_at") + "', 'income.monthly', '2027-06', '"
                + row.get("data") + "')");
        verifyOk();
    }

    @Test
    void verifyNamesAFactWhoseRevocationWasMoved() {
        // Making the superseded fact look active for a day longer (un-revoking it outright would also
        // collide with the active fact in the partial unique index).
        Map<String, Object> row = Sql.rows("SELECT revoked_at::text AS at, revoked_by FROM fact WHERE id = ?", revokedFact).get(0);
        Sql.tamper("UPDATE fact SET revoked_at = revoked_at + interval '1 day' WHERE id = '" + revokedFact + "'");
        verifyFinds("fact", revokedFact);
        Sql.tamper("UPDATE fact SET revoked_at = '" + row.get("at") + "', revoked_by = '" + row.get("revoked_by") + "' WHERE id = '" + revokedFact + "'");
        verifyOk();
    }

    @Test
    void verifyNamesADeterminationWhosePartsWereAltered() {
        // A subcheck's result in the checks document (and with it the outcomes the database derives from it).
        String id = "'" + determination + "'";
        String result = (String) Sql.rows("SELECT checks #>> '{1,subchecks,4,result}' AS result FROM determination WHERE id = ?", determination)
                .get(0).get("result");
        assertEquals("PASSED", result);
        Sql.tamper("UPDATE determination SET checks = jsonb_set(checks, '{1,subchecks,4,result}', '\"NOT_PASSED\"') WHERE id = " + id);
        assertEquals(1, Sql.count("SELECT count(*) FROM determination WHERE id = ? AND 'month_2027_06/income=NOT_PASSED' = ANY (outcomes)",
                determination));
        verifyFinds("determination", determination);
        Sql.tamper("UPDATE determination SET checks = jsonb_set(checks, '{1,subchecks,4,result}', '\"PASSED\"') WHERE id = " + id);
        verifyOk();

        // Its fact links: one removed, one moved to another beneficiary, one added.
        String link = " WHERE determination_id = " + id + " AND fact_id = '" + activeFact + "'";
        assertEquals(1, Sql.count("SELECT count(*) FROM determination_fact" + link));
        Sql.tamper("DELETE FROM determination_fact" + link);
        verifyFinds("determination", determination);
        Sql.tamper("INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id) VALUES (" + id + ", '" + beneficiary + "', '" + activeFact + "')");
        verifyOk();
        Sql.tamper("UPDATE determination_fact SET beneficiary_id = 'someone-else'" + link);
        verifyFinds("determination", determination);
        Sql.tamper("UPDATE determination_fact SET beneficiary_id = '" + beneficiary + "'" + link);
        verifyOk();
        Sql.tamper("INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id) VALUES (" + id + ", '" + beneficiary + "', '" + revokedFact + "')");
        verifyFinds("determination", determination);
        Sql.tamper("DELETE FROM determination_fact WHERE determination_id = " + id + " AND fact_id = '" + revokedFact + "'");
        verifyOk();
    }

    @Test
    void verifyNamesADeterminationMovedToAnotherBeneficiaryOrRemoved() {
        String owner = (String) Sql.rows("SELECT beneficiary_id FROM determination WHERE id = ?", determination).get(0).get("beneficiary_id");
        Sql.tamper("UPDATE determination SET beneficiary_id = 'someone-else' WHERE id = '" + determination + "'");
        verifyFinds("determination", determination);
        Sql.tamper("UPDATE determination SET beneficiary_id = '" + owner + "' WHERE id = '" + determination + "'");
        verifyOk();
        Sql.tamper("CREATE TABLE removed_determination AS SELECT * FROM determination WHERE id = '" + determination + "'",
                "DELETE FROM determination WHERE id = '" + determination + "'");
        verifyFinds("determination", determination);
        // (outcomes is generated: the copy's goes, and the database computes it again from checks.)
        Sql.tamper("ALTER TABLE removed_determination DROP COLUMN outcomes", "INSERT INTO determination SELECT * FROM removed_determination",
                "DROP TABLE removed_determination");
        verifyOk();
    }

    @Test
    void verifyNoticesALinkRemovedFromTheEndOfAChain() {
        Map<String, Object> last = Sql.rows("SELECT *, recorded_at::text AS at FROM audit_record WHERE beneficiary_id = ? ORDER BY seq DESC LIMIT 1", beneficiary).get(0);
        Sql.tamper("DELETE FROM audit_record WHERE beneficiary_id = '" + beneficiary + "' AND seq = " + last.get("seq"));
        verify().then().body("ok", equalTo(false));
        Sql.tamper("INSERT INTO audit_record SELECT '" + beneficiary + "', " + last.get("seq") + ", '" + last.get("kind") + "', '" + last.get("record_table")
                + "', '" + last.get("record_id") + "', decode('" + hex((byte[]) last.get("content_hash")) + "', 'hex'), decode('"
                + hex((byte[]) last.get("prev_hash")) + "', 'hex'), decode('" + hex((byte[]) last.get("hash")) + "', 'hex'), '" + last.get("at") + "'");
        verifyOk();
    }

    @Test
    void aChainRewrittenToMatchAlteredDataIsCaughtByTheSignedCheckpoint() {
        assertTrue(checkpoints.checkpoint().isPresent() || Sql.count("SELECT count(*) FROM audit_checkpoint") > 0);
        verify().then().body("ok", equalTo(true)).body("checked.checkpoints", greaterThan(0))
                .body("head", matchesPattern("[0-9a-f]{64}"));

        rewriteChain(99999);
        Response found = verify();
        found.then().body("ok", equalTo(false)).body("first_bad.table", equalTo("audit_record"));
        assertTrue(((String) found.path("first_bad.id")).startsWith(beneficiary + "/"), (String) found.path("first_bad.id"));

        rewriteChain(100);
        verifyOk();
    }

    /** What a superuser covering their tracks would do: change the data, then recompute the chain after it. */
    private void rewriteChain(int amount) {
        Sql.tamper("UPDATE message SET data = jsonb_set(data, '{amount_cents}', '" + amount + "') WHERE id = '" + firstMessage + "'",
                "SET timezone = 'UTC'",
                """
                DO $$
                DECLARE r record; prev bytea; content bytea; link bytea;
                BEGIN
                  FOR r IN SELECT * FROM audit_record WHERE beneficiary_id = '%s' ORDER BY seq LOOP
                    prev := coalesce(prev, r.prev_hash);
                    content := CASE WHEN r.record_id = '%s'
                        THEN sha256(convert_to(eligo_canonical_message((SELECT m FROM message m WHERE m.id = r.record_id)), 'UTF8'))
                        ELSE r.content_hash END;
                    link := eligo_link_hash(prev, content, r.kind, r.record_table, r.record_id, r.recorded_at);
                    UPDATE audit_record SET prev_hash = prev, content_hash = content, hash = link WHERE beneficiary_id = r.beneficiary_id AND seq = r.seq;
                    prev := link;
                  END LOOP;
                  UPDATE audit_head SET hash = prev WHERE beneficiary_id = '%s';
                END $$
                """.formatted(beneficiary, firstMessage, beneficiary));
    }

    private static String hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }
}
