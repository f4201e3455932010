package org.eligo.auth;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** {@code eligo.access-log.*}: how long the access log ({@link AccessLog}) is kept. */
@ConfigMapping(prefix = "eligo.access-log")
public interface AccessLogConfig {

    /**
     * How many years of the access log are kept, counted in whole months: a month's partition is
     * dropped once the month ended longer ago than this (by the partition job,
     * {@link org.eligo.partitions.Partitions}). 0 keeps everything; less than a year is refused.
     * Seven by default, as long as the records it is about are kept by default
     * ({@code eligo.partitions.retention-years}): who read a record can be answered for as long as
     * the record exists. Separate from that setting because policies for access records differ
     * from those for the records themselves.
     */
    @WithDefault("7")
    int retentionYears();
}
