package org.eligo.work;

import java.time.Duration;

/**
 * What happens to an item that fails by itself (its data, its rules; never the database being away,
 * which costs no attempt): it is tried again after a backoff that starts at {@code initialBackoff}
 * and doubles per attempt up to {@code maxBackoff}, until {@code maxAttempts} attempts have failed.
 * Then it reaches its kind's dead end ({@code deadEnd}, for logs): kept with its last error,
 * counted, no longer tried, and redrivable by an analyst once the cause is fixed.
 */
public record FailurePolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, String deadEnd) {

    /** Longest error text kept with an item. */
    static final int MAX_ERROR_LENGTH = 2000;

    public FailurePolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("max attempts must be at least 1, not " + maxAttempts);
        }
    }

    /** No retry: the first failure is the dead end. */
    public static FailurePolicy deadEndAtOnce(String deadEnd) {
        return new FailurePolicy(1, Duration.ZERO, Duration.ZERO, deadEnd);
    }

    /** The failure of an item that had {@code attemptsBefore} attempts, because of {@code error}. */
    public Failure failure(int attemptsBefore, Throwable error) {
        int attempt = attemptsBefore + 1;
        boolean deadEnd = attempt >= maxAttempts;
        return new Failure(attempt, describe(error), deadEnd, deadEnd ? null : backoff(attempt));
    }

    /** The wait before attempt {@code attempt + 1}: the initial backoff doubled per attempt, capped. */
    Duration backoff(int attempt) {
        Duration delay = initialBackoff.multipliedBy(1L << Math.min(attempt - 1, 30));
        return delay.compareTo(maxBackoff) > 0 ? maxBackoff : delay;
    }

    private static String describe(Throwable error) {
        // PostgreSQL text cannot hold NUL; an error message quoting bad data might.
        String text = (error.getClass().getSimpleName() + ": " + error.getMessage()).replace('\u0000', ' ');
        return text.length() > MAX_ERROR_LENGTH ? text.substring(0, MAX_ERROR_LENGTH) : text;
    }
}
