package org.eligo.auth;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** {@code eligo.auth.*}: token checks are on unless switched off explicitly. */
@ConfigMapping(prefix = "eligo.auth")
public interface AuthConfig {

    /** Only an explicit {@code false} turns authentication off (the service then warns at start). */
    @WithDefault("true")
    boolean enabled();

    /**
     * Where the embedded quick start keeps its development key pair (created when missing). Used
     * only when the service runs on its embedded PostgreSQL and no verification key is configured;
     * a service with a real database must be given its issuer's public key.
     */
    @WithDefault("data/dev-jwt")
    String devKeyDirectory();
}
