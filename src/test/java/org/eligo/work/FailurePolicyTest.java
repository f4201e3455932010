package org.eligo.work;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The arithmetic every kind of work shares: attempts, backoff, the dead end, and what is kept of an error. */
class FailurePolicyTest {

    private final FailurePolicy policy = new FailurePolicy(5, Duration.ofSeconds(1), Duration.ofSeconds(5), "test");

    @Test
    void backoffDoublesPerAttemptUpToItsCap() {
        assertEquals(Duration.ofSeconds(1), policy.failure(0, new IllegalArgumentException("x")).retryIn());
        assertEquals(Duration.ofSeconds(2), policy.failure(1, new IllegalArgumentException("x")).retryIn());
        assertEquals(Duration.ofSeconds(4), policy.failure(2, new IllegalArgumentException("x")).retryIn());
        assertEquals(Duration.ofSeconds(5), policy.failure(3, new IllegalArgumentException("x")).retryIn());
        assertEquals(Duration.ofSeconds(5), policy.backoff(1000), "no overflow however many attempts");
    }

    @Test
    void theLastAttemptIsTheDeadEndWithNoRetry() {
        Failure fourth = policy.failure(3, new IllegalArgumentException("x"));
        assertEquals(4, fourth.attempt());
        assertFalse(fourth.deadEnd());
        Failure fifth = policy.failure(4, new IllegalArgumentException("x"));
        assertEquals(5, fifth.attempt());
        assertTrue(fifth.deadEnd());
        assertNull(fifth.retryIn());

        assertTrue(FailurePolicy.deadEndAtOnce("test").failure(0, new IllegalStateException("x")).deadEnd());
        assertThrows(IllegalArgumentException.class, () -> new FailurePolicy(0, Duration.ZERO, Duration.ZERO, "never tried"));
    }

    @Test
    void theErrorKeptNamesItsTypeAndFitsTheDatabase() {
        assertEquals("IllegalArgumentException: /data/month must be a number",
                policy.failure(0, new IllegalArgumentException("/data/month must be a number")).error());
        String kept = policy.failure(0, new IllegalArgumentException("a\u0000b" + "x".repeat(5000))).error();
        assertEquals(FailurePolicy.MAX_ERROR_LENGTH, kept.length());
        assertFalse(kept.contains("\u0000"), "PostgreSQL text cannot hold NUL");
    }
}
