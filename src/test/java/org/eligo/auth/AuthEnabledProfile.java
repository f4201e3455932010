package org.eligo.auth;

import java.util.Map;

import org.eligo.testing.Tokens;

import io.quarkus.test.junit.QuarkusTestProfile;

/** Authentication on, as in production, trusting the test key pair. */
public class AuthEnabledProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "eligo.auth.enabled", "true",
                "mp.jwt.verify.publickey.location", "auth/public.pem",
                "mp.jwt.verify.issuer", Tokens.ISSUER);
    }
}
