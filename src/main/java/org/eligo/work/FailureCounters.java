package org.eligo.work;

import io.micrometer.core.instrument.Counter;

/**
 * A kind's failure counters, which the engine increments: every failed attempt, and the items given
 * up (their dead end). Each kind registers them under its own literal names
 * ({@code eligo.messages.failed}, …), so that alerts and a search of the code find them.
 */
public record FailureCounters(Counter failedAttempts, Counter deadEnds) {
}
