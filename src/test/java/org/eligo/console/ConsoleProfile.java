package org.eligo.console;

import java.util.HashMap;
import java.util.Map;

import org.eligo.auth.AuthEnabledProfile;

import io.quarkus.test.junit.QuarkusTestProfile;

/** Authentication on, as in production, with the development sign-in of the embedded quick start; reruns are not worked on. */
public class ConsoleProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> overrides = new HashMap<>(new AuthEnabledProfile().getConfigOverrides());
        overrides.put("eligo.console.dev-sign-in", "true");
        // Reruns stay queued (no worker takes them), so a test can cancel one before it ends.
        overrides.put("eligo.reruns.workers", "0");
        return overrides;
    }
}
