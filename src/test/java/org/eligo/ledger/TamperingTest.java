package org.eligo.ledger;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.submitBatch;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.eligo.facts.Facts;
import org.eligo.partitions.PartitionFunctions;
import org.eligo.testing.Sql;
import org.eligo.testing.TestLedger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * Nobody changes history silently. The service's role cannot delete or rewrite; triggers refuse
 * changes even to the owner; and whatever a superuser does with triggers off — alter, remove or
 * insert a record, rewrite or remove an entry or a block, sign with another key, revoke a fact
 * wrongly, purge a month that has not expired — verification names it. Every tampering is undone
 * before the test ends, and verification is green again.
 */
@QuarkusTest
class TamperingTest {

    @Inject
    Sealer sealer;

    private String beneficiary;
    private String firstMessage;
    private String revokedFact;
    private String activeFact;
    private String determination;
    private String otherBeneficiarysFact;

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
        otherBeneficiarysFact = awaitProcessed(submit(income(source, "3", unique("A"), 2027, 6, 70000, null))).path("fact_ids[0]");
        determination = post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", "2027-07")).then().statusCode(201)
                .extract().path("id");
        await().atMost(Duration.ofSeconds(30)).until(() -> Sql.count("SELECT count(*) FROM determination_queue WHERE beneficiary_id = ?", beneficiary) == 0);
        sealAll();
        verifyOk();
    }

    private void sealAll() {
        await().atMost(Duration.ofSeconds(30)).until(() -> sealer.seal().isEmpty()
                && Sql.count("SELECT count(*) FROM ledger_entry WHERE tx >= coalesce((SELECT to_tx FROM ledger_block ORDER BY id DESC LIMIT 1), '0'::xid8)") == 0);
    }

    private static Response verify() {
        return given().get("/v1/integrity/verify").then().statusCode(200).extract().response();
    }

    private static void verifyOk() {
        verify().then().log().ifValidationFails().body("ok", equalTo(true)).body("first_bad", nullValue());
    }

    private static void verifyFinds(String table, String id) {
        verify().then().log().ifValidationFails().body("ok", equalTo(false)).body("first_bad.table", equalTo(table)).body("first_bad.id", equalTo(id));
    }

    @Test
    void aSoundLedgerVerifiesAndNamesItsHead() {
        verify().then().body("ok", equalTo(true)).body("checked.blocks", greaterThan(0)).body("checked.determinations", greaterThan(0))
                .body("head", matchesPattern("[0-9a-f]{64}"))
                .body("head", equalTo(HexFormat.of().formatHex((byte[]) Sql.rows("SELECT digest FROM ledger_block ORDER BY id DESC LIMIT 1").get(0).get("digest"))));
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
                "DELETE FROM determination_fact",
                "UPDATE determination SET checks = '[]' WHERE id = '" + determination + "'",
                "UPDATE ledger_entry SET root = root",
                "DELETE FROM ledger_entry",
                "UPDATE ledger_block SET signature = signature",
                "DELETE FROM ledger_block",
                "TRUNCATE ledger_entry",
                "INSERT INTO retention_purge (table_name, partition, ids_from, ids_before) VALUES ('message', 'message_202409', 'msg_0', 'msg_1')")) {
            String failure = Sql.firstFailure("SET ROLE eligo_service", sql);
            assertNotNull(failure, sql);
            assertTrue(failure.contains("permission denied"), sql + ": " + failure);
        }
    }

    @Test
    void triggersRefuseChangesEvenToTheOwner() {
        for (String sql : List.of(
                "UPDATE message SET data = '{}' WHERE id = '" + firstMessage + "'",
                "DELETE FROM message WHERE id = '" + firstMessage + "'",
                "UPDATE fact SET data = jsonb_set(data, '{amount_cents}', '1') WHERE id = '" + activeFact + "'",
                "DELETE FROM fact WHERE id = '" + activeFact + "'",
                "UPDATE determination SET result = 'NOT_PASSED' WHERE id = '" + determination + "'",
                "DELETE FROM determination_fact WHERE determination_id = '" + determination + "'",
                "UPDATE ledger_entry SET root = root",
                "DELETE FROM ledger_entry",
                "TRUNCATE ledger_entry",
                "UPDATE ledger_block SET signature = signature",
                "DELETE FROM ledger_block",
                "TRUNCATE ledger_block",
                "UPDATE ledger_key SET public_key = public_key",
                // A revocation by another beneficiary's fact, and by an older fact of the key: refused when the transaction commits.
                "UPDATE fact SET revoked_at = now(), revoked_by = '" + otherBeneficiarysFact + "' WHERE id = '" + activeFact + "'",
                "UPDATE fact SET revoked_at = now(), revoked_by = '" + revokedFact + "' WHERE id = '" + activeFact + "'")) {
            String failure = Sql.firstFailure(sql);
            assertNotNull(failure, sql);
            // (A revoker of another beneficiary is refused by the foreign key fact_revoked_by even before the guard.)
            assertTrue(failure.contains("eligo:") || failure.contains("fact_revoked_by"), sql + ": " + failure);
        }
        verifyOk();
    }

    // ------------------------------------------------------------------------------------ records

    @Test
    void aMessageAlteredBehindTheServicesBackIsNamed() {
        Sql.tamper("UPDATE message SET data = jsonb_set(data, '{amount_cents}', '99999') WHERE id = '" + firstMessage + "'");
        verifyFinds("message", firstMessage);
        Sql.tamper("UPDATE message SET data = jsonb_set(data, '{amount_cents}', '100') WHERE id = '" + firstMessage + "'");
        verifyOk();
        // A null member is content too.
        Sql.tamper("UPDATE message SET data = data || '{\"note\": null}' WHERE id = '" + firstMessage + "'");
        verifyFinds("message", firstMessage);
        Sql.tamper("UPDATE message SET data = data - 'note' WHERE id = '" + firstMessage + "'");
        verifyOk();
    }

    @Test
    void aRemovedFactAndAMovedRevocationAreNamed() {
        Map<String, Object> row = Sql.rows("SELECT message_id, created_at::text AS created_at, data::text AS data FROM fact WHERE id = ?", activeFact).get(0);
        Sql.tamper("DELETE FROM fact WHERE id = '" + activeFact + "'");
        verifyFinds("fact", activeFact);
        Sql.tamper("INSERT INTO fact (id, beneficiary_id, message_id, created_at, type, fact_key, data) VALUES ('"
                + activeFact + "', '" + beneficiary + "', '" + row.get("message_id") + "', '" + row.get("created_at") + "', 'income.monthly', '2027-06', '"
                + row.get("data") + "')");
        verifyOk();

        Map<String, Object> revocation = Sql.rows("SELECT revoked_at::text AS at, revoked_by FROM fact WHERE id = ?", revokedFact).get(0);
        Sql.tamper("UPDATE fact SET revoked_at = '" + revocation.get("at") + "'::timestamptz + interval '1 day' WHERE id = '" + revokedFact + "'");
        verifyFinds("fact", revokedFact);
        Sql.tamper("UPDATE fact SET revoked_at = '" + revocation.get("at") + "', revoked_by = '" + revocation.get("revoked_by") + "' WHERE id = '" + revokedFact + "'");
        verifyOk();
    }

    @Test
    void aDeterminationWhoseChecksOrFactLinksWereAlteredIsNamed() {
        String id = "'" + determination + "'";
        Sql.tamper("UPDATE determination SET checks = jsonb_set(checks, '{1,subchecks,4,result}', '\"NOT_PASSED\"') WHERE id = " + id);
        verifyFinds("determination", determination);
        Sql.tamper("UPDATE determination SET checks = jsonb_set(checks, '{1,subchecks,4,result}', '\"PASSED\"') WHERE id = " + id);
        verifyOk();

        String link = " WHERE determination_id = " + id + " AND fact_id = '" + activeFact + "'";
        assertEquals(1, Sql.count("SELECT count(*) FROM determination_fact" + link));
        Sql.tamper("DELETE FROM determination_fact" + link);
        verifyFinds("determination", determination);
        Sql.tamper("INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id) VALUES (" + id + ", '" + beneficiary + "', '" + activeFact + "')");
        verifyOk();
        // Moved to another beneficiary: deleted and inserted again (on Citus a row cannot change its
        // distribution column, so the tamperer does it in two steps there; the same here).
        Sql.tamper("DELETE FROM determination_fact" + link,
                "INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id) VALUES (" + id + ", 'someone-else', '" + activeFact + "')");
        verifyFinds("determination", determination);
        Sql.tamper("DELETE FROM determination_fact" + link,
                "INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id) VALUES (" + id + ", '" + beneficiary + "', '" + activeFact + "')");
        verifyOk();
        Sql.tamper("INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id) VALUES (" + id + ", '" + beneficiary + "', '" + revokedFact + "')");
        verifyFinds("determination", determination);
        Sql.tamper("DELETE FROM determination_fact WHERE determination_id = " + id + " AND fact_id = '" + revokedFact + "'");
        verifyOk();
    }

    @Test
    void aDeterminationMovedOrRemovedIsNamed() {
        // (outcomes is generated: the copy's goes, and the database computes it again from checks.)
        String columns = "id, beneficiary_id, period, ruleset_id, ruleset_sha256, ruleset_version, evaluated_at, facts_as_of, trigger, rerun_id,"
                + " result, checks, ledger_tx";
        // Moved to another beneficiary: deleted and inserted again with the other beneficiary (on Citus
        // a row cannot change its distribution column, so the tamperer does it in two steps there).
        Sql.tamper("CREATE TABLE removed_determination AS SELECT * FROM determination WHERE id = '" + determination + "'",
                "DELETE FROM determination WHERE id = '" + determination + "'",
                "INSERT INTO determination (" + columns + ") SELECT " + columns.replace("beneficiary_id", "'someone-else'") + " FROM removed_determination");
        verifyFinds("determination", determination);
        Sql.tamper("DELETE FROM determination WHERE id = '" + determination + "'",
                "INSERT INTO determination (" + columns + ") SELECT " + columns + " FROM removed_determination", "DROP TABLE removed_determination");
        verifyOk();
        Sql.tamper("CREATE TABLE removed_determination AS SELECT * FROM determination WHERE id = '" + determination + "'",
                "DELETE FROM determination WHERE id = '" + determination + "'");
        verifyFinds("determination", determination);
        Sql.tamper("INSERT INTO determination (" + columns + ") SELECT " + columns + " FROM removed_determination", "DROP TABLE removed_determination");
        verifyOk();
    }

    @Test
    void aRecordInsertedBehindTheServicesBackIsNamed() {
        String id = "msg_" + com.github.f4b6a3.ulid.UlidCreator.getMonotonicUlid();
        // With every trigger on, as the owner: the row is sound in every way but one, that no ledger entry holds it.
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data, status) VALUES (?, 'forger', ?, 'person.birthdate', ?,"
                + " '{\"birth_date\": \"1990-01-01\"}', 'PROCESSED')", id, id, unique("F"));
        verifyFinds("message", id);
        Sql.tamper("DELETE FROM message WHERE id = '" + id + "'", "DELETE FROM message_key WHERE message_id = '" + id + "'");
        verifyOk();
    }

    // ------------------------------------------------------------------------------------ revocations

    @Test
    void aRevocationByAFactThatDoesNotSupersedeItIsNamedEvenWhenTheLedgerHoldsIt() {
        // As a compromised service would: another beneficiary's fact revokes this one, with its ledger record.
        Sql.tamper("UPDATE fact SET revoked_at = now(), revoked_by = '" + otherBeneficiarysFact + "' WHERE id = '" + activeFact + "'");
        verifyFinds("fact", activeFact);
        TestLedger.adopt(Facts.revocationLabel(activeFact));
        verify().then().body("ok", equalTo(false)).body("first_bad.table", equalTo("fact")).body("first_bad.id", equalTo(activeFact))
                .body("problem", org.hamcrest.Matchers.containsString("does not supersede"));
        Sql.tamper("UPDATE fact SET revoked_at = NULL, revoked_by = NULL WHERE id = '" + activeFact + "'",
                "DELETE FROM ledger_entry WHERE '" + Facts.revocationLabel(activeFact) + "' = ANY(labels)");
        verifyOk();
    }

    // ------------------------------------------------------------------------------------ entries and blocks

    @Test
    void anEntryRewrittenOrRemovedIsNamed() {
        Map<String, Object> entry = Sql.rows("SELECT id, tx::text AS tx, labels::text AS labels, encode(leaves, 'hex') AS leaves, encode(root, 'hex') AS root,"
                + " created_at::text AS created_at FROM ledger_entry WHERE 'determination/' || ? = ANY(labels)", determination).get(0);
        long id = ((Number) entry.get("id")).longValue();
        String block = blockOf(id);
        // A leaf changed: the entry's root no longer holds.
        Sql.tamper("UPDATE ledger_entry SET leaves = overlay(leaves PLACING '\\x00'::bytea FROM 1 FOR 1) WHERE id = " + id);
        verifyFinds("ledger_entry", Long.toString(id));
        // Its root recomputed to match: the block no longer holds.
        Sql.tamper("UPDATE ledger_entry SET root = sha256(root) WHERE id = " + id);
        verifyFinds("ledger_entry", Long.toString(id));
        Sql.tamper("UPDATE ledger_entry SET leaves = decode('" + entry.get("leaves") + "', 'hex'), root = decode('" + entry.get("root") + "', 'hex') WHERE id = " + id);
        verifyOk();
        byte[] leaves = HexFormat.of().parseHex((String) entry.get("leaves"));
        List<byte[]> hashes = new java.util.ArrayList<>();
        for (int i = 0; i < leaves.length; i += 32) {
            hashes.add(java.util.Arrays.copyOfRange(leaves, i, i + 32));
        }
        hashes.set(0, Merkle.leafHash("forged".getBytes()));
        byte[] packed = new byte[leaves.length];
        for (int i = 0; i < hashes.size(); i++) {
            System.arraycopy(hashes.get(i), 0, packed, 32 * i, 32);
        }
        Sql.tamper("UPDATE ledger_entry SET leaves = decode('" + HexFormat.of().formatHex(packed) + "', 'hex'), root = decode('"
                + HexFormat.of().formatHex(Merkle.root(hashes)) + "', 'hex') WHERE id = " + id);
        verifyFinds("ledger_block", block);
        Sql.tamper("UPDATE ledger_entry SET leaves = decode('" + entry.get("leaves") + "', 'hex'), root = decode('" + entry.get("root") + "', 'hex') WHERE id = " + id);
        verifyOk();

        // Removed: the block that sealed it no longer holds.
        Sql.tamper("DELETE FROM ledger_entry WHERE id = " + id);
        verifyFinds("ledger_block", block);
        Sql.tamper("INSERT INTO ledger_entry (id, tx, labels, leaves, root, created_at) OVERRIDING SYSTEM VALUE VALUES (" + id + ", '" + entry.get("tx")
                + "'::xid8, '" + entry.get("labels") + "'::text[], decode('" + entry.get("leaves") + "', 'hex'), decode('" + entry.get("root")
                + "', 'hex'), '" + entry.get("created_at") + "')");
        verifyOk();
    }

    @Test
    void aBlockRewrittenUnsignedOrSignedByAnotherKeyIsNamed() throws Exception {
        Map<String, Object> last = lastBlock();
        String id = last.get("id").toString();
        String restore = "UPDATE ledger_block SET sealed_at = '" + last.get("sealed_at") + "', digest = decode('" + last.get("digest")
                + "', 'hex'), signature = decode('" + last.get("signature") + "', 'hex'), key_id = '" + last.get("key_id") + "' WHERE id = " + id;
        // Its header changed: the digest is not over it.
        Sql.tamper("UPDATE ledger_block SET sealed_at = sealed_at + interval '1 second' WHERE id = " + id);
        verifyFinds("ledger_block", id);
        Sql.tamper(restore);
        // A signature that is not one.
        Sql.tamper("UPDATE ledger_block SET signature = decode(repeat('00', 64), 'hex') WHERE id = " + id);
        verifyFinds("ledger_block", id);
        Sql.tamper(restore);
        // Re-signed, digest and all, by someone else's key (the database lists whatever key it likes: it is not trusted).
        KeyPair stranger = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        String strangerId = LedgerKeys.keyId(stranger.getPublic());
        Map<String, Object> row = Sql.rows("SELECT id, from_tx::text AS from_tx, to_tx::text AS to_tx, entries, root, prev_digest, sealed_at FROM ledger_block WHERE id = ?",
                Long.parseLong(id)).get(0);
        Block forged = new Block(Long.parseLong(id), (String) row.get("from_tx"), (String) row.get("to_tx"), ((Number) row.get("entries")).intValue(),
                (byte[]) row.get("root"), (byte[]) row.get("prev_digest"), ((java.sql.Timestamp) row.get("sealed_at")).toInstant(), strangerId);
        Signature signature = Signature.getInstance("Ed25519");
        signature.initSign(stranger.getPrivate());
        signature.update(forged.digest());
        Sql.tamper("INSERT INTO ledger_key (key_id, public_key, first_block, first_used) VALUES ('" + strangerId + "', '"
                + LedgerKeys.pem("PUBLIC KEY", stranger.getPublic().getEncoded()) + "', " + id + ", clock_timestamp())",
                "UPDATE ledger_block SET key_id = '" + strangerId + "', digest = decode('" + HexFormat.of().formatHex(forged.digest()) + "', 'hex'),"
                        + " signature = decode('" + HexFormat.of().formatHex(signature.sign()) + "', 'hex') WHERE id = " + id);
        verify().then().body("ok", equalTo(false)).body("first_bad.table", equalTo("ledger_block")).body("first_bad.id", equalTo(id))
                .body("problem", org.hamcrest.Matchers.containsString("does not trust"));
        // Nor does the published list name it.
        given().get("/v1/integrity/public-key").then().statusCode(200).body("key_id", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem(strangerId)));
        Sql.tamper(restore, "DELETE FROM ledger_key WHERE key_id = '" + strangerId + "'");
        verifyOk();
    }

    @Test
    void aBlockRemovedIsNamedAndTheNewestOneOnceItsEntriesAreOverdue() {
        // Two more blocks, so one can go from the middle.
        awaitProcessed(submit(income(unique("more"), "1", unique("A"), 2027, 6, 100, null)));
        sealAll();
        awaitProcessed(submit(income(unique("more"), "1", unique("A"), 2027, 6, 100, null)));
        sealAll();
        List<Map<String, Object>> blocks = Sql.rows("SELECT id FROM ledger_block ORDER BY id DESC LIMIT 2");
        String newest = blocks.get(0).get("id").toString();
        String middle = blocks.get(1).get("id").toString();
        String copy = "CREATE TABLE removed_block AS SELECT * FROM ledger_block WHERE id = ";
        Sql.tamper(copy + middle, "DELETE FROM ledger_block WHERE id = " + middle);
        verifyFinds("ledger_block", newest);
        Sql.tamper("INSERT INTO ledger_block SELECT * FROM removed_block", "DROP TABLE removed_block");
        verifyOk();

        // The newest block removed: its entries are unsealed again, which is sound for seal-grace (1 h in tests) after they were written.
        Sql.tamper(copy + newest, "DELETE FROM ledger_block WHERE id = " + newest);
        verify().then().body("ok", equalTo(true)).body("checked.unsealed_entries", greaterThan(0));
        String overdue = Sql.rows("SELECT min(e.id)::text AS id FROM ledger_entry e, removed_block b WHERE e.tx >= b.from_tx AND e.tx < b.to_tx").get(0).get("id").toString();
        Sql.tamper("CREATE TABLE shifted AS SELECT e.id, e.created_at FROM ledger_entry e, removed_block b WHERE e.tx >= b.from_tx AND e.tx < b.to_tx",
                "UPDATE ledger_entry e SET created_at = e.created_at - interval '2 hours' FROM shifted s WHERE s.id = e.id");
        verifyFinds("ledger_entry", overdue);
        Sql.tamper("UPDATE ledger_entry e SET created_at = s.created_at FROM shifted s WHERE s.id = e.id", "DROP TABLE shifted",
                "INSERT INTO ledger_block SELECT * FROM removed_block", "DROP TABLE removed_block");
        verifyOk();
    }

    // ------------------------------------------------------------------------------------ retention

    @Test
    void aPurgeThatIsNotAWholeExpiredMonthIsNamedEvenWhenTheLedgerHoldsIt() {
        // A month still inside retention, "purged" (nothing dropped: the row is the lie).
        long id = ((Number) Sql.rows("INSERT INTO retention_purge (table_name, partition, ids_from, ids_before, retention_months)"
                + " VALUES ('message', 'message_202409', eligo_ulid_floor('msg_', '2024-09-01T00:00:00Z'), eligo_ulid_floor('msg_', '2024-10-01T00:00:00Z'), 84)"
                + " RETURNING id").get(0).get("id")).longValue();
        verifyFinds("retention_purge", Long.toString(id));
        // With its ledger record, as a compromised service would write it: still not a month that had expired.
        Map<String, Object> row = Sql.rows("SELECT table_name, partition, ids_from, ids_before, purged_at, retention_months FROM retention_purge WHERE id = ?", id).get(0);
        String label = PartitionFunctions.LEDGER_TABLE + "/" + id;
        byte[] leaf = Ledger.leaf(label, PartitionFunctions.canonical(id, (String) row.get("table_name"), (String) row.get("partition"),
                (String) row.get("ids_from"), (String) row.get("ids_before"), ((java.sql.Timestamp) row.get("purged_at")).toInstant(),
                ((Number) row.get("retention_months")).intValue())).hash();
        Sql.update("INSERT INTO ledger_entry (labels, leaves, root) VALUES (ARRAY[?], ?, ?)", label, leaf, Merkle.root(List.of(leaf)));
        verify().then().body("ok", equalTo(false)).body("first_bad.table", equalTo("retention_purge")).body("first_bad.id", equalTo(Long.toString(id)))
                .body("problem", org.hamcrest.Matchers.containsString("expired"));
        Sql.tamper("DELETE FROM retention_purge WHERE id = " + id, "DELETE FROM ledger_entry WHERE '" + label + "' = ANY(labels)");
        verifyOk();
    }

    private static Map<String, Object> lastBlock() {
        return Sql.rows("SELECT id, sealed_at::text AS sealed_at, encode(digest, 'hex') AS digest, encode(signature, 'hex') AS signature, key_id"
                + " FROM ledger_block ORDER BY id DESC LIMIT 1").get(0);
    }

    private static String blockOf(long entryId) {
        return Sql.rows("SELECT b.id::text AS id FROM ledger_block b, ledger_entry e WHERE e.id = ? AND e.tx >= b.from_tx AND e.tx < b.to_tx", entryId)
                .get(0).get("id").toString();
    }
}
