package org.eligo.ledger;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.submit;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;

/**
 * A determination's receipt proves, to anyone with the public key and no access to the service or
 * its database, that the determination (its content, checks and fact ids) is in a signed block.
 */
@QuarkusTest
class ReceiptTest {

    @Inject
    Sealer sealer;

    @Test
    void aReceiptWaitsForTheSealThenProvesTheDeterminationOffline() throws Exception {
        String beneficiary = unique("R");
        awaitProcessed(submit(income(unique("receipt"), "1", beneficiary, 2027, 6, 61250, 35.5)));
        String id = post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", "2027-07")).then().statusCode(201).extract().path("id");

        // Not sealed yet: come back in a moment.
        given().get("/v1/determinations/" + id + "/receipt").then().statusCode(409).contentType("application/problem+json")
                .header("Retry-After", notNullValue()).body("detail", containsString("not sealed yet"));

        await().atMost(Duration.ofSeconds(30)).until(() -> {
            sealer.seal();
            return given().get("/v1/determinations/" + id + "/receipt").statusCode() == 200;
        });
        String receipt = given().header("X-Request-Id", "receipt-" + id).get("/v1/determinations/" + id + "/receipt").then().statusCode(200)
                .extract().asString();
        // The receipt holds the determination: its read is recorded under the beneficiary.
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> org.eligo.testing.Sql.count(
                "SELECT count(*) FROM access_log WHERE request_id = ? AND beneficiary_ids = ARRAY[?::text]", "receipt-" + id, beneficiary) == 1);
        String publicKeyPem = given().get("/v1/integrity/public-key").then().statusCode(200).extract().jsonPath()
                .getString("find { it.signing }.public_key");

        // From here on, only the receipt and the key: no call to the service, no query of the database.
        JsonPath proof = JsonPath.from(receipt);
        assertEquals("determination/" + id, proof.getString("leaf.label"));
        assertTrue(proof.getString("leaf.content").contains("\"checks\":[") && proof.getString("leaf.content").contains("\"fact_ids\":[\"fact_"));
        assertTrue(check(receipt, publicKeyPem), "the receipt checks");

        // A receipt whose content was changed does not check.
        String altered = receipt.replace("\\\"result\\\":\\\"PASSED\\\"", "\\\"result\\\":\\\"NOT_PASSED\\\"");
        assertFalse(altered.equals(receipt));
        assertFalse(check(altered, publicKeyPem), "an altered receipt does not check");
    }

    @Test
    void aReceiptForNothingIsA404AndOneForAnAlteredDeterminationA409() {
        given().get("/v1/determinations/det_01ARZ3NDEKTSV4RRFFQ69G5FAV/receipt").then().statusCode(404).contentType("application/problem+json");
        given().get("/v1/determinations/nonsense/receipt").then().statusCode(404);

        String beneficiary = unique("R");
        awaitProcessed(submit(income(unique("receipt"), "1", beneficiary, 2027, 6, 61250, null)));
        String id = post("/v1/beneficiaries/" + beneficiary + "/determinations", Map.of("period", "2027-07")).then().statusCode(201).extract().path("id");
        Sql.tamper("UPDATE determination SET result = 'NOT_PASSED' WHERE id = '" + id + "'");
        try {
            given().get("/v1/determinations/" + id + "/receipt").then().statusCode(409).body("detail", containsString("does not match the ledger"));
        } finally {
            Sql.tamper("UPDATE determination SET result = 'PASSED' WHERE id = '" + id + "'");
        }
    }

    /**
     * Checks a receipt as README "The ledger" describes, with nothing but the JDK: the leaf hash, the
     * two audit paths (RFC 9162, 2.1.3.2), the block root in the header, the digest, the signature.
     */
    static boolean check(String receiptJson, String publicKeyPem) throws Exception {
        JsonPath r = JsonPath.from(receiptJson);
        HexFormat hex = HexFormat.of();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update((byte) 0);
        sha.update(r.getString("leaf.label").getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(r.getString("leaf.content").getBytes(StandardCharsets.UTF_8));
        byte[] leaf = sha.digest();
        if (!hex.formatHex(leaf).equals(r.getString("leaf.hash"))) {
            return false;
        }
        byte[] entryRoot = fold(leaf, r.getInt("entry.leaf_index"), r.getInt("entry.leaf_count"), r.getList("entry.path"));
        if (entryRoot == null || !hex.formatHex(entryRoot).equals(r.getString("entry.root"))) {
            return false;
        }
        sha.reset();
        sha.update((byte) 0);
        sha.update(entryRoot);
        byte[] blockRoot = fold(sha.digest(), r.getInt("block.entry_index"), r.getInt("block.entry_count"), r.getList("block.path"));
        String header = r.getString("block.header");
        if (blockRoot == null || !header.contains("\"root\":\"" + hex.formatHex(blockRoot) + "\"")) {
            return false;
        }
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(header.getBytes(StandardCharsets.UTF_8));
        if (!hex.formatHex(digest).equals(r.getString("block.digest"))) {
            return false;
        }
        PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(
                Base64.getMimeDecoder().decode(publicKeyPem.replaceAll("-----[A-Z ]+-----", "").trim())));
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(key);
        verifier.update(digest);
        return verifier.verify(Base64.getDecoder().decode(r.getString("block.signature")));
    }

    /** RFC 9162's inclusion-proof verification, written out again here rather than borrowed from the service. */
    static byte[] fold(byte[] leafHash, int index, int size, List<String> path) throws Exception {
        long fn = index;
        long sn = size - 1L;
        byte[] r = leafHash;
        for (String p : path) {
            byte[] sibling = HexFormat.of().parseHex(p);
            if (sn == 0) {
                return null;
            }
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((byte) 1);
            if ((fn & 1) == 1 || fn == sn) {
                sha.update(sibling);
                sha.update(r);
                r = sha.digest();
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                sha.update(r);
                sha.update(sibling);
                r = sha.digest();
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 ? r : null;
    }
}
