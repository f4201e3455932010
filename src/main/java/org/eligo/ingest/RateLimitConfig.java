package org.eligo.ingest;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Per-source ingest rate limits of one instance ({@code eligo.ingest.rate-limit.*}), counted in
 * messages: a token bucket per message {@code source}. Off by default: the backlog limit already
 * protects the database, and a deployment that wants one agency's flood kept from the others' share
 * sets a rate. Each instance limits on its own, so N instances behind a load balancer admit up to N
 * times the rate.
 */
@ConfigMapping(prefix = "eligo.ingest.rate-limit")
public interface RateLimitConfig {

    /** Messages per second each source may submit to this instance, sustained; 0 turns the limit off. */
    @WithDefault("0")
    double messagesPerSecond();

    /**
     * Messages a source may submit at once after a quiet spell (the bucket's size). A request of more
     * messages than this still passes once the bucket is full, and the source then waits for what it
     * overdrew; the default lets one full batch (eligo.ingest.batch-max-messages) through.
     */
    @WithDefault("1000")
    int burst();

    /**
     * Sources whose buckets are kept. Past it, the one used least recently is forgotten (a bucket
     * idle for burst / rate seconds is full again, so forgetting it loses nothing), so requests naming
     * ever new sources (authentication off, or a token with many) cannot grow the heap: about 100
     * bytes a source.
     */
    @WithDefault("10000")
    int maxSources();
}
