package org.eligo.operations;

import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * The request body bytes held by this instance, across all requests, against
 * {@code eligo.http.max-buffered-bytes}. A request reserves what it will hold before it is read
 * (its Content-Length) or as it arrives (chunked), and releases it when the exchange ends.
 */
@ApplicationScoped
public class BodyBudget {

    private final long max;
    private final AtomicLong held = new AtomicLong();

    public BodyBudget(HttpConfig config) {
        this.max = config.maxBufferedBytes().asLongValue();
    }

    /** Takes {@code bytes} from the budget if they fit, else takes nothing and says false. */
    public boolean reserve(long bytes) {
        long now;
        do {
            now = held.get();
            if (now + bytes > max) {
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
