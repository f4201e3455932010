package org.eligo.reruns;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Reruns ({@code eligo.reruns.*}). */
@ConfigMapping(prefix = "eligo.reruns")
public interface RerunsConfig {

    /** Beneficiaries determined per transaction: also how far a cancel can lag. */
    @WithDefault("100")
    int chunkSize();

    /**
     * How many of the worker threads may take rerun chunks: the share of processing reruns can
     * have. Keep it below {@code eligo.queue.workers}: the others then only serve ingest, so a large
     * rerun never starves message processing. 0 stops reruns in this instance.
     */
    @WithDefault("1")
    int workers();

    /** The most beneficiaries a rerun of scope 'beneficiaries' may name. */
    @WithDefault("100000")
    int maxBeneficiaries();
}
