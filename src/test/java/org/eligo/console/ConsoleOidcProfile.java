package org.eligo.console;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.eligo.auth.AuthEnabledProfile;

import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.oidc.server.OidcWiremockTestResource;

/**
 * Authentication on, and the console's sign-in through an OpenID Connect provider: Quarkus's OIDC
 * test server (WireMock on a port of its own, started with the service: discovery, signing keys, a
 * login page and a token endpoint), no development sign-in.
 */
public class ConsoleOidcProfile implements QuarkusTestProfile {

    static final String CLIENT = "eligo-console";

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> overrides = new HashMap<>(new AuthEnabledProfile().getConfigOverrides());
        overrides.put("eligo.console.dev-sign-in", "false");
        overrides.put("quarkus.oidc.tenant-enabled", "true");
        overrides.put("quarkus.oidc.auth-server-url", "${keycloak.url}/realms/quarkus/");
        overrides.put("quarkus.oidc.client-id", CLIENT);
        overrides.put("quarkus.oidc.credentials.secret", "secret");
        return overrides;
    }

    @Override
    public List<TestResourceEntry> testResources() {
        return List.of(new TestResourceEntry(OidcWiremockTestResource.class));
    }
}
