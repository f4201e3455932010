package org.eligo.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;

import org.eligo.support.problem.ProblemException;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The token buckets themselves, on a clock the test moves (the API's behaviour is {@link RateLimitApiTest}'s). */
class RateLimitTest {

    private static final long SECOND = 1_000_000_000L;

    private static RateLimitConfig config(double perSecond, int burst, int maxSources) {
        return new RateLimitConfig() {
            @Override
            public double messagesPerSecond() {
                return perSecond;
            }

            @Override
            public int burst() {
                return burst;
            }

            @Override
            public int maxSources() {
                return maxSources;
            }
        };
    }

    private static List<IncomingMessage> messages(String source, int n) {
        List<IncomingMessage> messages = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            messages.add(new IncomingMessage("/messages/" + i, source, Integer.toString(i), null, "B-1", null, null));
        }
        return messages;
    }

    @Test
    void offByDefaultNothingIsLimited() {
        RateLimit limit = new RateLimit(config(0, 1000, 10_000), new SimpleMeterRegistry());
        for (int i = 0; i < 1000; i++) {
            limit.admit(messages("one", 1000), 0);
        }
        assertEquals(0, limit.sources(), "an unlimited instance keeps no buckets");
    }

    @Test
    void aBucketRefillsAtItsRateAndABatchCostsItsMessages() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RateLimit limit = new RateLimit(config(2, 3, 10_000), registry);
        limit.admit(messages("a", 3), 0);
        ProblemException refused = assertThrows(ProblemException.class, () -> limit.admit(messages("a", 1), 0));
        assertEquals(429, refused.problem().status());
        assertEquals(1, refused.retryAfter().toSeconds(), "one message at 2 a second: half a second, rounded up to 1");
        assertEquals("/messages/0/source", refused.problem().errors().get(0).pointer());
        limit.admit(messages("b", 3), 0);
        limit.admit(messages("a", 1), SECOND / 2);
        assertThrows(ProblemException.class, () -> limit.admit(messages("a", 2), SECOND));
        limit.admit(messages("a", 2), 3 * SECOND / 2);
        assertEquals(2, registry.get("eligo.ingest.rate.limited").counter().count());
    }

    @Test
    void aBatchLargerThanTheBurstOverdrawsAFullBucketAndTheSourceWaitsItOut() {
        RateLimit limit = new RateLimit(config(2, 3, 10_000), new SimpleMeterRegistry());
        limit.admit(messages("a", 7), 0);
        ProblemException refused = assertThrows(ProblemException.class, () -> limit.admit(messages("a", 1), 0));
        assertEquals(3, refused.retryAfter().toSeconds(), "4 overdrawn and 1 needed, at 2 a second: 2.5 s, rounded up");
        assertThrows(ProblemException.class, () -> limit.admit(messages("a", 1), 2 * SECOND));
        limit.admit(messages("a", 1), 5 * SECOND / 2);
    }

    @Test
    void aRequestOfSeveralSourcesIsTakenWholeOrNotAtAll() {
        RateLimit limit = new RateLimit(config(1, 2, 10_000), new SimpleMeterRegistry());
        limit.admit(messages("a", 2), 0);
        List<IncomingMessage> both = new ArrayList<>(messages("b", 2));
        both.addAll(messages("a", 1));
        ProblemException refused = assertThrows(ProblemException.class, () -> limit.admit(both, 0));
        assertEquals(1, refused.problem().errors().size(), "only a is over its limit: " + refused.problem());
        // b's bucket was not touched by the refused request: it still takes its whole burst.
        limit.admit(messages("b", 2), 0);
    }

    @Test
    void aFloodOfDistinctSourcesKeepsAtMostMaxSourcesBuckets() {
        RateLimit limit = new RateLimit(config(1, 5, 100), new SimpleMeterRegistry());
        for (int i = 0; i < 10_000; i++) {
            limit.admit(messages("source-" + i, 1), 0);
        }
        assertEquals(100, limit.sources());
    }
}
