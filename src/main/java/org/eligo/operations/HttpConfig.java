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
}
