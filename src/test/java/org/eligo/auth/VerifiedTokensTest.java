package org.eligo.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.eclipse.microprofile.jwt.JsonWebToken;
import org.junit.jupiter.api.Test;

import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.ParseException;

/** The memory of verified tokens never accepts what the parser would refuse. */
class VerifiedTokensTest {

    /** A parser that counts verifications, accepts tokens named "good-EXP" (exp in seconds) and refuses the rest. */
    static final class CountingParser extends DefaultJWTParser {
        final AtomicInteger verifications = new AtomicInteger();

        @Override
        public JsonWebToken parse(String token) throws ParseException {
            verifications.incrementAndGet();
            if (!token.startsWith("good-")) {
                throw new ParseException("bad signature");
            }
            long exp = Long.parseLong(token.substring("good-".length()));
            return new JsonWebToken() {
                @Override
                public String getName() {
                    return "someone";
                }

                @Override
                public Set<String> getClaimNames() {
                    return Set.of("exp");
                }

                @Override
                @SuppressWarnings("unchecked")
                public <T> T getClaim(String claimName) {
                    return "exp".equals(claimName) ? (T) Long.valueOf(exp) : null;
                }
            };
        }
    }

    final CountingParser parser = new CountingParser();
    final AtomicLong now = new AtomicLong(1_000_000_000_000L);
    final VerifiedTokens tokens = new VerifiedTokens(parser, now::get);

    @Test
    void aTokenIsVerifiedOnceAndReusedForAtMostThirtySeconds() throws Exception {
        String token = "good-" + (now.get() / 1000 + 3600);
        JsonWebToken first = tokens.parse(token);
        assertSame(first, tokens.parse(token));
        now.addAndGet(VerifiedTokens.REUSE.toMillis() - 1);
        assertSame(first, tokens.parse(token));
        assertEquals(1, parser.verifications.get());
        now.addAndGet(1);
        tokens.parse(token);
        assertEquals(2, parser.verifications.get(), "verified again once its reuse ran out");
    }

    @Test
    void aTokenIsNeverReusedAtOrPastItsExpiry() throws Exception {
        long expSeconds = now.get() / 1000 + 10;
        String token = "good-" + expSeconds;
        tokens.parse(token);
        now.set(expSeconds * 1000 - 1);
        tokens.parse(token);
        assertEquals(1, parser.verifications.get());
        now.set(expSeconds * 1000);
        tokens.parse(token);
        assertEquals(2, parser.verifications.get(), "at its expiry the parser decides (clock skew and all)");
    }

    @Test
    void aRefusedTokenIsNotRemembered() {
        assertThrows(ParseException.class, () -> tokens.parse("forged"));
        assertThrows(ParseException.class, () -> tokens.parse("forged"));
        assertEquals(2, parser.verifications.get());
    }
}
