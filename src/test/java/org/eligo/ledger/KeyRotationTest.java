package org.eligo.ledger;

import static io.restassured.RestAssured.given;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;

/**
 * After a key rotation the earlier public key stays trusted (configuration says so), and the
 * public-key endpoint shows each trusted key with the period it signed in; a key only the database
 * lists is not shown.
 */
@QuarkusTest
@TestProfile(KeyRotationTest.EarlierKeyTrusted.class)
class KeyRotationTest {

    /** A key that signed before the current one, as an operator would list it after rotating. */
    static final String EARLIER = "-----BEGIN PUBLIC KEY-----MCowBQYDK2VwAyEARzFZ9CpJXYOtm06LhE8GKLRZCkPFNW7iog7O1EHjKPs=-----END PUBLIC KEY-----";

    public static class EarlierKeyTrusted implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("eligo.ledger.trusted-public-keys", EARLIER);
        }
    }

    @Inject
    LedgerKeys keys;

    @Inject
    Sealer sealer;

    @Test
    void theEarlierKeyIsListedWithThePeriodItSignedIn() {
        String earlierId = keys.trustedInOrder().get(1).keyId();
        String signingId = keys.signingKey().orElseThrow().keyId();
        // The earlier key signed blocks from long ago (as the table the sealer keeps would say), the current one since its first block.
        Sql.update("INSERT INTO ledger_key (key_id, public_key, first_block, first_used) VALUES (?, ?, 0, '2026-01-01T00:00:00Z') ON CONFLICT DO NOTHING",
                earlierId, EARLIER);
        awaitProcessed(submit(income(unique("rotation"), "1", unique("K"), 2027, 6, 60000, null)));
        sealer.seal();

        List<Map<String, Object>> listed = given().get("/v1/integrity/public-key").then().statusCode(200).extract().jsonPath().getList("$");
        assertEquals(2, listed.size(), String.valueOf(listed));
        Map<String, Object> earlier = listed.get(0);
        Map<String, Object> current = listed.get(1);
        assertEquals(earlierId, earlier.get("key_id"));
        assertEquals(false, earlier.get("signing"));
        assertEquals("2026-01-01T00:00:00.000000Z", earlier.get("in_use_from"));
        assertEquals(current.get("in_use_from"), earlier.get("in_use_until"), "in use until the next key's first block");
        assertEquals(signingId, current.get("key_id"));
        assertEquals(true, current.get("signing"));
        assertNotNull(current.get("in_use_from"));
        assertNull(current.get("in_use_until"));
        assertTrue(((String) earlier.get("public_key")).contains("BEGIN PUBLIC KEY"));
    }
}
