package org.eligo.operations;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** {@code eligo.http.*}: how much of the heap request bodies may take. */
@ConfigMapping(prefix = "eligo.http")
public interface HttpConfig {

    /**
     * Request body bytes held at once, across all requests (BodyBuffering): a body that would take
     * the total past this is refused with 503 and {@code Retry-After}, so no number of clients can
     * grow the heap without bound. Must be at least the largest body an endpoint accepts.
     */
    @WithDefault("64M")
    MemorySize maxBufferedBytes();

    /**
     * How long an admitted request may take to send its body, from admission to its last byte: a
     * body still arriving then is refused with 408 and its connection closed, and what it held of
     * the budget is released. Without it, a caller with a token could hold its share of the budget
     * by sending a byte now and then (the idle timeout restarts at every byte). 16 MiB, the largest
     * body, takes about 70 s at 2 Mbit/s.
     */
    @WithDefault("120s")
    java.time.Duration bodyTimeout();
}
