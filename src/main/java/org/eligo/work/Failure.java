package org.eligo.work;

import java.time.Duration;

/**
 * One failure of an item, as its kind writes it down: the attempt it was (from 1), the error, and
 * either when to try again ({@code retryIn}) or that the item reached its dead end ({@code retryIn} null).
 */
public record Failure(int attempt, String error, boolean deadEnd, Duration retryIn) {
}
