package org.eligo.queue;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** Polling so slow that only a NOTIFY can wake the workers within a test's patience. */
public class SlowPollingProfile implements QuarkusTestProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("eligo.queue.poll-interval", "PT5M");
    }
}
