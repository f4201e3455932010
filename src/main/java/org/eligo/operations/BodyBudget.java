package org.eligo.operations;

import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The request body bytes held by this instance, across all requests, against
 * {@code eligo.http.max-buffered-bytes}. A request reserves what it will hold before it is read
 * (its Content-Length) or as it arrives (chunked), and releases it when the exchange ends.
 * Metrics: {@code eligo_http_buffered_bytes} (held now) and {@code eligo_http_bodies_refused_total}
 * (bodies answered 503 because they did not fit).
 */
@ApplicationScoped
public class BodyBudget {

    private final long max;
    private final AtomicLong held = new AtomicLong();
    private final Counter refused;

    public BodyBudget(HttpConfig config, MeterRegistry registry) {
        this.max = config.maxBufferedBytes().asLongValue();
        Gauge.builder("eligo.http.buffered.bytes", held, AtomicLong::get)
                .description("Request body bytes held now, against eligo.http.max-buffered-bytes").register(registry);
        this.refused = Counter.builder("eligo.http.bodies.refused")
                .description("Request bodies answered 503 because eligo.http.max-buffered-bytes was reached").register(registry);
    }

    /** Takes {@code bytes} from the budget if they fit, else takes nothing and says false. */
    public boolean reserve(long bytes) {
        long now;
        do {
            now = held.get();
            if (now + bytes > max) {
                refused.increment();
                return false;
            }
        } while (!held.compareAndSet(now, now + bytes));
        return true;
    }

    public void release(long bytes) {
        held.addAndGet(-bytes);
    }

    /** Bytes held now. */
    public long held() {
        return held.get();
    }

    public long max() {
        return max;
    }
}
