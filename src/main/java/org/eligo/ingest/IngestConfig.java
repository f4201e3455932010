package org.eligo.ingest;

import java.time.Duration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Limits of the ingest API ({@code eligo.ingest.*}). */
@ConfigMapping(prefix = "eligo.ingest")
public interface IngestConfig {

    /** Largest body of {@code POST /v1/messages}, in bytes (1 MiB). */
    @WithDefault("1048576")
    int maxBodyBytes();

    /** Largest body of {@code POST /v1/messages/batch}, in bytes (16 MiB). */
    @WithDefault("16777216")
    int batchMaxBodyBytes();

    /** Most messages in one batch. */
    @WithDefault("1000")
    int batchMaxMessages();

    /** Past this many unprocessed messages, ingest answers 503 with Retry-After. */
    @WithDefault("1000000")
    long maxBacklog();

    /** The Retry-After given with a 503 for a full backlog. */
    @WithDefault("5s")
    Duration retryAfter();

    /** How long a measured backlog size is reused before it is counted again. */
    @WithDefault("1s")
    Duration backlogCacheTtl();
}
