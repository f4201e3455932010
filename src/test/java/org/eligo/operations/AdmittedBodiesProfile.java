package org.eligo.operations;

import java.util.HashMap;
import java.util.Map;

import org.eligo.auth.AuthEnabledProfile;

/** Authentication on, and a short body deadline (2 s) that a test can outlast. */
public class AdmittedBodiesProfile extends AuthEnabledProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> overrides = new HashMap<>(super.getConfigOverrides());
        overrides.put("eligo.http.body-timeout", "2s");
        return overrides;
    }
}
