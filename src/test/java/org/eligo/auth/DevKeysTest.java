package org.eligo.auth;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigValue;

/**
 * Which configured keys the embedded quick start replaces: only the pair smallrye-jwt generates for
 * quarkus:run and quarkus:dev (a private key in smallrye.jwt.sign.key, issuer https://quarkus.io/issuer),
 * never a key an operator configured. (The README's start command itself is run by
 * scripts/ReadmeWalkthrough.java in CI.)
 */
class DevKeysTest {

    private static ConfigSourceContext context(Map<String, String> values) {
        return new ConfigSourceContext() {
            @Override
            public ConfigValue getValue(String name) {
                String value = values.get(name);
                return value == null ? null : ConfigValue.builder().withName(name).withValue(value).build();
            }

            @Override
            public Iterator<String> iterateNames() {
                return values.keySet().iterator();
            }
        };
    }

    @Test
    void quarkusRunsGeneratedPairIsRecognised() {
        assertTrue(DevKeysConfigSourceFactory.quarkusDevKeys(context(Map.of(
                "mp.jwt.verify.publickey", "MIIBIj…", "smallrye.jwt.sign.key", "MIIEv…",
                "mp.jwt.verify.issuer", "https://quarkus.io/issuer"))));
    }

    @Test
    void anOperatorsKeyIsNeverReplaced() {
        assertFalse(DevKeysConfigSourceFactory.quarkusDevKeys(context(Map.of(
                "mp.jwt.verify.publickey", "MIIBIj…", "mp.jwt.verify.issuer", "https://quarkus.io/issuer"))),
                "no generated private key beside it: someone configured this key");
        assertFalse(DevKeysConfigSourceFactory.quarkusDevKeys(context(Map.of(
                "mp.jwt.verify.publickey", "MIIBIj…", "smallrye.jwt.sign.key", "MIIEv…", "mp.jwt.verify.issuer", "https://idp.example"))),
                "another issuer: a real configuration that also signs tokens");
        assertFalse(DevKeysConfigSourceFactory.quarkusDevKeys(context(Map.of(
                "mp.jwt.verify.publickey.location", "https://idp.example/jwks", "smallrye.jwt.sign.key", "MIIEv…",
                "mp.jwt.verify.issuer", "https://quarkus.io/issuer"))),
                "a key location is an operator's choice");
        assertFalse(DevKeysConfigSourceFactory.quarkusDevKeys(context(Map.of())));
    }
}
