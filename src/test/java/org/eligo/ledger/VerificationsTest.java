package org.eligo.ledger;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.matchesPattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;

import jakarta.inject.Inject;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;

/**
 * Verification that scales: a full run as a background job with its progress, and the scheduled
 * incremental run, which checks only what was sealed since the last verified block (and that the
 * blocks up to it still end in the digest verified then).
 */
@QuarkusTest
class VerificationsTest {

    @Inject
    Sealer sealer;

    @Inject
    Verifications verifications;

    private void sealAll() {
        await().atMost(Duration.ofSeconds(30)).until(() -> sealer.seal().isEmpty()
                && Sql.count("SELECT count(*) FROM ledger_entry WHERE tx >= coalesce((SELECT to_tx FROM ledger_block ORDER BY id DESC LIMIT 1), '0'::xid8)") == 0);
    }

    @Test
    void aFullVerificationRunsInTheBackgroundAndReportsItsProgressAndAnswer() {
        awaitProcessed(submit(income(unique("full"), "1", unique("V"), 2027, 6, 60000, null)));
        sealAll();
        String id = given().post("/v1/integrity/verifications").then().statusCode(202)
                .body("id", matchesPattern("ver_[0-9A-Z]{26}")).body("kind", equalTo("full")).extract().path("id");
        await().atMost(Duration.ofSeconds(60)).until(() -> "DONE".equals(given().get("/v1/integrity/verifications/" + id).path("status")));
        given().get("/v1/integrity/verifications/" + id).then().statusCode(200)
                .body("result.ok", equalTo(true)).body("result.checked.messages", greaterThan(0))
                .body("progress.done", greaterThan(0)).body("requested_by", org.hamcrest.Matchers.notNullValue())
                .body("through_block", greaterThan(0));
        given().get("/v1/integrity/verifications/ver_01ARZ3NDEKTSV4RRFFQ69G5FAV").then().statusCode(404).contentType("application/problem+json");
        given().get("/v1/integrity/verifications/nonsense").then().statusCode(404);
    }

    @Test
    void anIncrementalRunChecksWhatWasSealedSinceTheLastVerifiedBlock() {
        sealAll();
        Verifications.Run first = verifications.incremental().orElseThrow();
        assertTrue(first.result().ok(), String.valueOf(first.result()));
        long through = first.throughBlock();

        // New writes, sealed: the next run starts after the block the first one verified.
        String beneficiary = unique("V");
        String message = submit(income(unique("inc"), "1", beneficiary, 2027, 6, 60000, null));
        awaitProcessed(message);
        sealAll();
        long newBlocks = Sql.count("SELECT count(*) FROM ledger_block WHERE id > ?", through);
        Verifications.Run second = verifications.incremental().orElseThrow();
        assertTrue(second.result().ok(), String.valueOf(second.result()));
        assertEquals(newBlocks, second.result().checked().blocks(), "only the blocks sealed since");
        assertTrue(second.result().checked().messages() >= 1);

        // A record of a newly sealed block altered: the next incremental run names it.
        String another = submit(income(unique("inc"), "1", unique("V"), 2027, 6, 60000, null));
        awaitProcessed(another);
        sealAll();
        Sql.tamper("UPDATE message SET data = jsonb_set(data, '{amount_cents}', '1') WHERE id = '" + another + "'");
        try {
            Verifications.Run found = verifications.incremental().orElseThrow();
            assertFalse(found.result().ok());
            assertEquals("message", found.result().firstBad().table());
            assertEquals(another, found.result().firstBad().id());
        } finally {
            Sql.tamper("UPDATE message SET data = jsonb_set(data, '{amount_cents}', '60000') WHERE id = '" + another + "'");
        }

        // The block a run verified, rewritten since: named, whatever came after it.
        Verifications.Run sound = verifications.incremental().orElseThrow();
        assertTrue(sound.result().ok(), String.valueOf(sound.result()));
        Map<String, Object> block = Sql.rows("SELECT id, encode(digest, 'hex') AS digest FROM ledger_block WHERE id = ?", sound.throughBlock()).get(0);
        Sql.tamper("UPDATE ledger_block SET digest = sha256(digest) WHERE id = " + block.get("id"));
        try {
            Verifications.Run found = verifications.incremental().orElseThrow();
            assertFalse(found.result().ok());
            assertEquals("ledger_block", found.result().firstBad().table());
            assertEquals(block.get("id").toString(), found.result().firstBad().id());
        } finally {
            Sql.tamper("UPDATE ledger_block SET digest = decode('" + block.get("digest") + "', 'hex') WHERE id = " + block.get("id"));
        }
        assertTrue(verifications.incremental().orElseThrow().result().ok());
    }
}
