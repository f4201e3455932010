package org.eligo.partitions;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Monthly partitions of messages and determinations, and their retention ({@code eligo.partitions.*}). */
@ConfigMapping(prefix = "eligo.partitions")
public interface PartitionsConfig {

    /** How many months past the current one have their partitions ready (1 to 24). */
    @WithDefault("3")
    int monthsAhead();

    /**
     * How many years of messages and determinations are kept, counted in whole months: a month's
     * partitions are dropped once the month ended longer ago than this. 0 keeps everything.
     */
    @WithDefault("7")
    int retentionYears();

    /** How often partitions are created ahead and expired ones dropped (a Quarkus scheduler interval). */
    @WithDefault("6h")
    String maintenanceInterval();
}
