package org.eligo.operations;

import java.util.HashMap;
import java.util.Map;

import org.eligo.auth.AuthEnabledProfile;

/** Authentication on, and a small budget of buffered body bytes (8M) that a test can fill. */
public class BodyBoundsProfile extends AuthEnabledProfile {

    static final long BUDGET = 8L * 1024 * 1024;

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> overrides = new HashMap<>(super.getConfigOverrides());
        overrides.put("eligo.http.max-buffered-bytes", Long.toString(BUDGET));
        return overrides;
    }
}
