package org.eligo.ingest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The per-source ingest rate limit of this instance ({@link RateLimitConfig}): a token bucket per
 * message {@code source}, in memory, counted in messages (a batch of N costs N). A request is taken
 * whole or refused whole: 429 with Retry-After, nothing stored and nothing taken from any bucket.
 *
 * <p>Bulk imports are not counted: their lines are staged with one COPY and stored by the work
 * engine at the pace the workers and the backlog limit set, not at the client's pace, and an upload
 * already has its own limits (eligo.imports.max-concurrent-uploads, max-bytes). Counting lines as
 * they stream would refuse a file half-way (nothing kept, so the client sends it all again: more
 * load, not less), and a line's source is known only once it is parsed, later.
 *
 * <p>A request that then fails (409, a full backlog) has spent its tokens: the work of receiving it was done.
 */
@ApplicationScoped
public class RateLimit {

    /** Tokens and when they were last topped up. */
    private static final class Bucket {
        double tokens;
        long at;

        Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }
    }

    private final double perNano;
    /** The configured rate, as the problem's detail writes it ("2.5", "100"). */
    private final String rate;
    private final double burst;
    /** Least recently used first; bounded by eligo.ingest.rate-limit.max-sources. Guarded by itself. */
    private final Map<String, Bucket> buckets;
    /**
     * Refused requests. No source tag: a source is whatever a client writes (with authentication off,
     * or a token allowing many), and a tag per source would grow the registry as the map above must
     * not; the 429's detail names the source, and the access log its caller.
     */
    private final Counter refused;

    public RateLimit(RateLimitConfig config, MeterRegistry registry) {
        this.perNano = Math.max(0, config.messagesPerSecond()) / 1e9;
        this.rate = java.math.BigDecimal.valueOf(Math.max(0, config.messagesPerSecond())).stripTrailingZeros().toPlainString();
        this.burst = Math.max(1, config.burst());
        int maxSources = Math.max(1, config.maxSources());
        this.buckets = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
                return size() > maxSources;
            }
        };
        this.refused = Counter.builder("eligo.ingest.rate.limited")
                .description("Ingest requests refused with 429: a source over eligo.ingest.rate-limit.messages-per-second").register(registry);
    }

    /** Takes one token per message from its source's bucket, or throws 429 (naming each source over its limit) and takes none. */
    public void admit(List<IncomingMessage> messages) {
        admit(messages, System.nanoTime());
    }

    /** As {@link #admit(List)}, at {@code now} on System.nanoTime's clock (a test's own). */
    void admit(List<IncomingMessage> messages, long now) {
        if (perNano == 0 || messages.isEmpty()) {
            return;
        }
        Map<String, Integer> cost = new TreeMap<>();
        Map<String, String> firstPointer = new TreeMap<>();
        for (IncomingMessage message : messages) {
            cost.merge(message.source(), 1, Integer::sum);
            firstPointer.putIfAbsent(message.source(), message.pointer());
        }
        Map<String, Long> waits = take(cost, now);
        if (waits.isEmpty()) {
            return;
        }
        refused.increment();
        long longest = waits.values().stream().mapToLong(Long::longValue).max().orElse(0);
        // Whole seconds, rounded up (a client that waits as told is admitted), and at least 1.
        long seconds = Math.max(1, (longest + 999_999_999L) / 1_000_000_000L);
        List<FieldError> errors = new ArrayList<>();
        for (String source : waits.keySet()) {
            errors.add(FieldError.at(firstPointer.get(source) + "/source", "over its rate limit on this instance"));
        }
        throw ProblemException.tooManyRequests("The source" + (waits.size() == 1 ? " '" + waits.keySet().iterator().next() + "' is" : "s "
                + String.join(", ", waits.keySet()) + " are") + " over the rate limit of " + rate + " messages per second (burst "
                + (long) burst + ", eligo.ingest.rate-limit.*) on this instance; nothing was stored. Retry after " + seconds + " s.",
                errors, Duration.ofSeconds(seconds));
    }

    /** How many sources have a bucket now (at most eligo.ingest.rate-limit.max-sources). */
    synchronized int sources() {
        return buckets.size();
    }

    /**
     * All or nothing: when every source's bucket holds what its messages cost (at most the burst:
     * a larger request overdraws a full bucket), takes it and answers nothing; else takes nothing and
     * answers, per source short of tokens, how many nanoseconds until it would have them.
     */
    private synchronized Map<String, Long> take(Map<String, Integer> cost, long now) {
        Map<String, Bucket> named = new LinkedHashMap<>();
        Map<String, Long> waits = new TreeMap<>();
        for (Map.Entry<String, Integer> entry : cost.entrySet()) {
            Bucket bucket = buckets.computeIfAbsent(entry.getKey(), source -> new Bucket(burst, now));
            // A request that read the clock before another got the lock is not refilled backwards.
            if (now > bucket.at) {
                bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perNano);
                bucket.at = now;
            }
            named.put(entry.getKey(), bucket);
            double needed = Math.min(entry.getValue(), burst);
            if (bucket.tokens < needed) {
                waits.put(entry.getKey(), (long) Math.ceil((needed - bucket.tokens) / perNano));
            }
        }
        if (waits.isEmpty()) {
            named.forEach((source, bucket) -> bucket.tokens -= cost.get(source));
        }
        return waits;
    }
}
