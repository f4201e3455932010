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

    public static String sign(String keyResource, String issuer, String subject, List<String> groups, List<String> sources, Duration lifetime) {
        try (InputStream pem = Tokens.class.getClassLoader().getResourceAsStream(keyResource)) {
            PrivateKey key = DevToken.readPrivateKey(new String(pem.readAllBytes(), StandardCharsets.US_ASCII));
            return DevToken.sign(key, issuer, subject, groups, sources, lifetime);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
