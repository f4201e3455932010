package org.eligo.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.List;

import org.eligo.auth.DevToken;

/** Tokens signed with the test key pair in src/test/resources/auth (trusted by {@code AuthEnabledProfile}). */
public final class Tokens {

    public static final String ISSUER = "eligo-test";

    private Tokens() {
    }

    public static String agency(String... sources) {
        return token("agency-" + sources.length, List.of("agency"), List.of(sources));
    }

    public static String caseworker() {
        return token("casey", List.of("caseworker"), List.of());
    }

    public static String analyst() {
        return token("ana", List.of("analyst"), List.of());
    }

    public static String token(String subject, List<String> groups, List<String> sources) {
        return sign("auth/private.pem", ISSUER, subject, groups, sources, Duration.ofMinutes(10));
    }

    /**
     * A token signed with the trusted test key whose payload is exactly {@code claims} (as JSON):
     * for tokens the service must refuse although their signature is good (claims of the wrong type).
     */
    public static String signClaims(java.util.Map<String, Object> claims) {
        try (InputStream pem = Tokens.class.getClassLoader().getResourceAsStream("auth/private.pem")) {
            PrivateKey key = DevToken.readPrivateKey(new String(pem.readAllBytes(), StandardCharsets.US_ASCII));
            java.util.Base64.Encoder base64 = java.util.Base64.getUrlEncoder().withoutPadding();
            String payload = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(claims);
            String input = base64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
                    + base64.encodeToString(payload.getBytes(StandardCharsets.UTF_8));
            java.security.Signature signature = java.security.Signature.getInstance("SHA256withRSA");
            signature.initSign(key);
            signature.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + base64.encodeToString(signature.sign());
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The claims of a valid analyst token, to be changed one at a time. */
    public static java.util.Map<String, Object> analystClaims() {
        long now = java.time.Instant.now().getEpochSecond();
        java.util.Map<String, Object> claims = new java.util.LinkedHashMap<>();
        claims.put("iss", ISSUER);
        claims.put("sub", "ana");
        claims.put("upn", "ana");
        claims.put("groups", List.of("analyst"));
        claims.put("iat", now);
        claims.put("exp", now + 600);
        claims.put("jti", java.util.UUID.randomUUID().toString());
        return claims;
    }

    public static String sign(String keyResource, String issuer, String subject, List<String> groups, List<String> sources, Duration lifetime) {
        try (InputStream pem = Tokens.class.getClassLoader().getResourceAsStream(keyResource)) {
            PrivateKey key = DevToken.readPrivateKey(new String(pem.readAllBytes(), StandardCharsets.US_ASCII));
            return DevToken.sign(key, issuer, subject, groups, sources, lifetime);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
