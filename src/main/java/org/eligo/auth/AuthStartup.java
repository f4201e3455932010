package org.eligo.auth;

import java.util.Optional;

import jakarta.annotation.Priority;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;

/**
 * Says at start how callers are checked, and refuses to start with authentication on but nothing
 * to verify tokens with (every request would be a 401, which looks like an outage).
 */
public class AuthStartup {

    private static final Logger LOG = Logger.getLogger(AuthStartup.class);

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event, AuthConfig auth, Config config) {
        if (!auth.enabled()) {
            LOG.warn("AUTHENTICATION IS OFF (eligo.auth.enabled=false): anyone who can reach this service may read and change "
                    + "beneficiaries' data. Never run it like this with real data.");
            return;
        }
        Optional<String> key = config.getOptionalValue(DevKeysConfigSourceFactory.PUBLIC_KEY, String.class)
                .or(() -> config.getOptionalValue(DevKeysConfigSourceFactory.PUBLIC_KEY_LOCATION, String.class))
                .or(() -> config.getOptionalValue("smallrye.jwt.verify.key.location", String.class))
                .filter(value -> !value.isBlank());
        if (key.isEmpty()) {
            throw new IllegalStateException("Authentication is on but no token verification key is configured: set "
                    + DevKeysConfigSourceFactory.PUBLIC_KEY_LOCATION + " (and " + DevKeysConfigSourceFactory.ISSUER
                    + ") to your token issuer's public key, or eligo.auth.enabled=false to run without authentication.");
        }
        Optional<String> issuer = config.getOptionalValue(DevKeysConfigSourceFactory.ISSUER, String.class);
        if (issuer.isEmpty()) {
            LOG.warnf("%s is not set: tokens from any issuer signed with the configured key are accepted.", DevKeysConfigSourceFactory.ISSUER);
        }
        if (issuer.filter(DevToken.ISSUER::equals).isPresent()) {
            LOG.infof("Authentication uses the development key pair (%s). Mint a token with: "
                    + "java src/main/java/org/eligo/auth/DevToken.java analyst   (or caseworker, or agency <source>...)",
                    auth.devKeyDirectory());
        } else {
            LOG.infof("Authentication is on: bearer tokens verified with %s, issuer %s", key.get(), issuer.orElse("(any)"));
        }
    }
}
