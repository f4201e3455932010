package org.eligo.imports;

import java.time.Duration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Bulk imports ({@code eligo.imports.*}): {@code POST /v1/messages/import}. */
@ConfigMapping(prefix = "eligo.imports")
public interface ImportsConfig {

    /** Lines stored per transaction (one set-wise insert of their messages, one ledger entry). */
    @WithDefault("1000")
    int chunkLines();

    /** Longest line, in bytes; a longer one is a rejected line (its text is not kept). */
    @WithDefault("1048576")
    int maxLineBytes();

    /**
     * Most bytes of one import's file (after gzip is undone). Past it the upload is refused with 413
     * and nothing of it is kept: the file goes to the database whole before it is answered.
     */
    @WithDefault("8589934592")
    long maxBytes();

    /**
     * Uploads this instance receives at once. Each holds a worker thread and a database connection
     * (its COPY) until its last byte: past this many, an upload is answered 503 with Retry-After
     * before its body is read, so slow uploads cannot take every thread or connection.
     */
    @WithDefault("2")
    int maxConcurrentUploads();

    /** How long one upload may take, from its first byte to its last (its transaction's time-out). */
    @WithDefault("1h")
    Duration uploadTimeout();
}
