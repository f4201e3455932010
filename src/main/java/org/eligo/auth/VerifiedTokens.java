package org.eligo.auth;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

import javax.crypto.SecretKey;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.inject.Inject;

import org.eclipse.microprofile.jwt.JsonWebToken;

import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.JWTParser;
import io.smallrye.jwt.auth.principal.ParseException;

/**
 * The bearer-token parser Quarkus authenticates requests with: smallrye-jwt's own, with a short
 * memory of the tokens it has already verified. An integrator or a caseworker's client sends the
 * same token with every request until it expires, and verifying it (an RSA signature and the
 * claims) was a quarter of the CPU an audit read costs (measured with JFR under bench/run.sh's read
 * load).
 *
 * <p>What the memory may not do is accept a token the parser would refuse. A token is the exact
 * string that was verified, signature included, so a hit is the same token; it is reused for at
 * most {@link #REUSE} after its verification and never at or past its expiry ({@code exp}), after
 * which it goes through the full verification again (which applies the configured clock skew and
 * token age). Tokens that fail verification are not remembered. The memory is bounded: when
 * {@link #MAX_TOKENS} are held it starts again empty. A new verification key means a restart,
 * which empties it.
 */
@Alternative
@Priority(1)
@ApplicationScoped
public class VerifiedTokens implements JWTParser {

    /** How long after its verification a token is accepted without verifying it again. */
    static final Duration REUSE = Duration.ofSeconds(30);
    /** Tokens remembered at most. */
    static final int MAX_TOKENS = 10_000;

    private record Verified(JsonWebToken token, long reuseUntilMillis) {
    }

    private final JWTParser parser;
    private final LongSupplier nowMillis;
    private final ConcurrentHashMap<String, Verified> verified = new ConcurrentHashMap<>();

    @Inject
    public VerifiedTokens(DefaultJWTParser parser) {
        this(parser, System::currentTimeMillis);
    }

    VerifiedTokens(JWTParser parser, LongSupplier nowMillis) {
        this.parser = parser;
        this.nowMillis = nowMillis;
    }

    /**
     * The token when it was verified less than {@link #REUSE} ago and has not expired, else null
     * (then {@link #parse(String)} must verify it, which may block: a JWKS may be fetched).
     */
    public JsonWebToken remembered(String token) {
        Verified hit = verified.get(token);
        return hit != null && nowMillis.getAsLong() < hit.reuseUntilMillis() ? hit.token() : null;
    }

    @Override
    public JsonWebToken parse(String token) throws ParseException {
        long now = nowMillis.getAsLong();
        Verified hit = verified.get(token);
        if (hit != null && now < hit.reuseUntilMillis()) {
            return hit.token();
        }
        JsonWebToken fresh = parser.parse(token);
        long expiresMillis = fresh.getExpirationTime() * 1000L;
        long reuseUntil = Math.min(now + REUSE.toMillis(), expiresMillis);
        if (reuseUntil > now) {
            if (verified.size() >= MAX_TOKENS) {
                verified.clear();
            }
            verified.put(token, new Verified(fresh, reuseUntil));
        } else if (hit != null) {
            verified.remove(token);
        }
        return fresh;
    }

    // Everything else is the parser's, unremembered (Quarkus authenticates with parse(String) only).

    @Override
    public JsonWebToken parse(String token, JWTAuthContextInfo context) throws ParseException {
        return parser.parse(token, context);
    }

    @Override
    public JsonWebToken verify(String token, PublicKey key) throws ParseException {
        return parser.verify(token, key);
    }

    @Override
    public JsonWebToken verify(String token, SecretKey key) throws ParseException {
        return parser.verify(token, key);
    }

    @Override
    public JsonWebToken verify(String token, String secret) throws ParseException {
        return parser.verify(token, secret);
    }

    @Override
    public JsonWebToken decrypt(String token, PrivateKey key) throws ParseException {
        return parser.decrypt(token, key);
    }

    @Override
    public JsonWebToken decrypt(String token, SecretKey key) throws ParseException {
        return parser.decrypt(token, key);
    }

    @Override
    public JsonWebToken decrypt(String token, String secret) throws ParseException {
        return parser.decrypt(token, secret);
    }

    @Override
    public JsonWebToken parseOnly(String token) throws ParseException {
        return parser.parseOnly(token);
    }
}
