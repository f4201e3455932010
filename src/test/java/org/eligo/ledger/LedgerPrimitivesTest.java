package org.eligo.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The ledger's building blocks, without a database: Merkle trees, canonical content, keys. */
class LedgerPrimitivesTest {

    private static List<byte[]> leaves(int n) {
        List<byte[]> leaves = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            leaves.add(Merkle.leafHash(("leaf " + i).getBytes(StandardCharsets.UTF_8)));
        }
        return leaves;
    }

    @Test
    void merkleRootsFollowRfc6962() {
        // RFC 6962's empty-string leaf: SHA-256(0x00).
        assertEquals("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", HexFormat.of().formatHex(Merkle.leafHash(new byte[0])));
        List<byte[]> three = leaves(3);
        // Three leaves split 2 + 1.
        assertArrayEquals(Merkle.nodeHash(Merkle.nodeHash(three.get(0), three.get(1)), three.get(2)), Merkle.root(three));
        List<byte[]> five = leaves(5);
        assertArrayEquals(Merkle.nodeHash(Merkle.root(five.subList(0, 4)), five.get(4)), Merkle.root(five));
        assertArrayEquals(three.get(0), Merkle.root(three.subList(0, 1)));
    }

    @Test
    void everyAuditPathLeadsToTheRootAndOnlyFromItsOwnLeaf() throws Exception {
        for (int size = 1; size <= 33; size++) {
            List<byte[]> leaves = leaves(size);
            byte[] root = Merkle.root(leaves);
            for (int index = 0; index < size; index++) {
                // Checked as a receipt's holder checks it (RFC 9162's fold, written out in ReceiptTest).
                List<String> path = Merkle.path(leaves, index).stream().map(HexFormat.of()::formatHex).toList();
                assertArrayEquals(root, ReceiptTest.fold(leaves.get(index), index, size, path), size + "/" + index);
                if (size > 1) {
                    int other = (index + 1) % size;
                    byte[] wrong = ReceiptTest.fold(leaves.get(other), index, size, path);
                    assertFalse(wrong != null && java.util.Arrays.equals(wrong, root), "another leaf at " + size + "/" + index);
                }
            }
        }
        assertNull(ReceiptTest.fold(leaves(1).get(0), 1, 2, List.of()));
    }

    @Test
    void canonicalContentIsSortedCompactAndExact() {
        String text = Canonical.object()
                .put("b", "say \"hi\"\\\n\u0001é")
                .put("a", 1L)
                .put("n", null)
                .put("d", new BigDecimal("35.50"))
                .put("t", Instant.parse("2027-05-02T10:00:00.120Z"))
                .put("day", LocalDate.of(2027, 2, 1))
                .put("ok", true)
                .put("list", List.of("x", 2))
                .putJson("data", "{\"z\": null, \"hours\": 1.0e2, \"cents\": 58000, \"y\": [1.50, -0.0], \"A\": {\"k\": \"v\"}}")
                .text();
        assertEquals("{\"a\":1,\"b\":\"say \\\"hi\\\"\\\\\\n\\u0001é\",\"d\":35.50,\"data\":{\"A\":{\"k\":\"v\"},\"cents\":58000,\"hours\":100,"
                + "\"y\":[1.50,0.0],\"z\":null},\"day\":\"2027-02-01\",\"list\":[\"x\",2],\"ok\":true,\"t\":\"2027-05-02T10:00:00.120000Z\"}", text);
        assertThrows(IllegalArgumentException.class, () -> Canonical.instant(Instant.parse("2027-05-02T10:00:00.000000001Z")));
    }

    /** The canonical bytes are UTF-8 for every width of character, and what is hashed is exactly those bytes. */
    @Test
    void canonicalBytesAreUtf8AndTheDigestHashesExactlyThem() throws Exception {
        String text = "x é ≥ 😀 \u001f \t end";
        Canonical content = Canonical.object().put("s", text).put("n", -1234567890123L).put("m", Long.MIN_VALUE).put("z", 0);
        String expected = "{\"m\":" + Long.MIN_VALUE + ",\"n\":-1234567890123,\"s\":\"x é ≥ 😀 \\u001f \\t end\",\"z\":0}";
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.getBytes(java.nio.charset.StandardCharsets.UTF_8), content.bytes());
        java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
        content.digestInto(digest);
        org.junit.jupiter.api.Assertions.assertArrayEquals(java.security.MessageDigest.getInstance("SHA-256").digest(content.bytes()), digest.digest());
        assertThrows(IllegalArgumentException.class, () -> Canonical.object().put("s", "lone \uD83D surrogate").bytes());
    }

    @Test
    void theSigningKeysPublicHalfIsDerivedFromTheKeyAlone() throws Exception {
        for (int i = 0; i < 5; i++) {
            KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            assertArrayEquals(pair.getPublic().getEncoded(), LedgerKeys.publicKeyOf(pair.getPrivate()).getEncoded());
        }
    }

    @Test
    void onlyATrustedKeyVerifies() throws Exception {
        KeyPair signing = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        KeyPair earlier = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        KeyPair stranger = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        LedgerKeys keys = new LedgerKeys(config(LedgerKeys.pem("PRIVATE KEY", signing.getPrivate().getEncoded()),
                LedgerKeys.pem("PUBLIC KEY", earlier.getPublic().getEncoded())));
        byte[] digest = Merkle.sha256().digest("block".getBytes(StandardCharsets.UTF_8));
        byte[] signature = keys.sign(digest);
        String id = LedgerKeys.keyId(signing.getPublic());
        assertTrue(keys.verify(id, digest, signature));
        assertFalse(keys.verify(id, Merkle.sha256().digest(digest), signature));
        assertFalse(keys.verify(LedgerKeys.keyId(earlier.getPublic()), digest, signature));
        // A stranger's key and signature: the key is not trusted, whatever the table says.
        java.security.Signature s = java.security.Signature.getInstance("Ed25519");
        s.initSign(stranger.getPrivate());
        s.update(digest);
        assertFalse(keys.verify(LedgerKeys.keyId(stranger.getPublic()), digest, s.sign()));
        assertFalse(keys.verify(null, digest, signature));
        assertEquals(2, keys.trusted().size());
    }

    @Test
    void aBadKeyIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LedgerKeys(config("not a key", null)));
        assertTrue(e.getMessage().contains("eligo.ledger.signing-key"), e.getMessage());
    }

    private static LedgerConfig config(String signingKey, String trusted) {
        return new LedgerConfig() {
            @Override
            public java.time.Duration sealInterval() {
                return java.time.Duration.ofSeconds(1);
            }

            @Override
            public java.util.Optional<String> signingKey() {
                return java.util.Optional.ofNullable(signingKey);
            }

            @Override
            public java.util.Optional<String> trustedPublicKeys() {
                return java.util.Optional.ofNullable(trusted);
            }

            @Override
            public java.time.Duration sealGrace() {
                return java.time.Duration.ofMinutes(5);
            }

            @Override
            public String verifyInterval() {
                return "5m";
            }

            @Override
            public int maxConcurrentVerifications() {
                return 2;
            }

            @Override
            public String devKeyDirectory() {
                return "data/dev-ledger";
            }
        };
    }
}
