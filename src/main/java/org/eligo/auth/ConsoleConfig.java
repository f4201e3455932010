package org.eligo.auth;

import java.time.Duration;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** {@code eligo.console.*}: how people sign in to the console, and how long a sign-in lasts. */
@ConfigMapping(prefix = "eligo.console")
public interface ConsoleConfig {

    /**
     * The development sign-in: a form that picks a role, with no password. Only for a machine
     * without an identity provider: the embedded quick start turns it on (with its development
     * keys); anywhere else it is off unless set, and the service warns at start when it is on.
     */
    @WithDefault("false")
    boolean devSignIn();

    /**
     * The key that signs session cookies (HMAC-SHA256), base64, at least 32 bytes. Every instance
     * behind one address needs the same key, or a sign-in holds only on the instance that made it.
     * Unset: a random key per process (sessions end with a restart).
     */
    Optional<String> sessionKey();

    /** How long a sign-in lasts: a working day. */
    @WithDefault("PT8H")
    Duration sessionDuration();

    /** Send the session cookie only over HTTPS. Off for the quick start's plain HTTP; on behind TLS. */
    @WithDefault("false")
    boolean secureCookie();
}
