package org.eligo.db;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import org.eclipse.microprofile.config.spi.ConfigSource;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.PropertiesConfigSource;

/**
 * Turns the time-outs of {@link DatabaseConfig} ({@code eligo.database.*}, durations such as
 * {@code 30s} or {@code PT30S}) into the service datasource's driver properties: PostgreSQL settings
 * sent at connection start ({@code options=-c statement_timeout=...}, in milliseconds, so no unit
 * spelling of PostgreSQL's differs from Quarkus's) and the driver's socket and connect time-outs (in
 * whole seconds, at least 1). Each property set explicitly elsewhere wins (this source's ordinal is
 * below application.properties). The values are checked when the service starts
 * ({@link DatabaseLimits}).
 */
public class DatabaseLimitsConfigSourceFactory implements ConfigSourceFactory {

    static final String PREFIX = "quarkus.datasource.jdbc.additional-jdbc-properties.";
    static final String MIGRATIONS_PREFIX = "quarkus.datasource.migrations.jdbc.additional-jdbc-properties.";
    private static final int ORDINAL = 200;

    /**
     * The connection option of every connection in the Citus mode (eligo.database.distribution=citus):
     * a statement over many shards (a batch's facts) goes over one connection per worker, not one per
     * shard. Eligo's statements are small; a transaction may then write a reference table after them
     * (a replay's row: Citus refuses that after a parallel write); a partition made in a transaction
     * that read the default partition over parallel connections deadlocks with itself; and a pod
     * holds a bounded number of worker connections.
     */
    public static final String CITUS_OPTIONS = "-c citus.multi_shard_modify_mode=sequential";

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        Map<String, String> properties = new HashMap<>();
        long statement = millis(context, "eligo.database.statement-timeout", "30s");
        long lock = millis(context, "eligo.database.lock-timeout", "10s");
        long idle = millis(context, "eligo.database.idle-in-transaction-timeout", "5m");
        String options = "-c statement_timeout=" + statement + " -c lock_timeout=" + lock
                + " -c idle_in_transaction_session_timeout=" + idle;
        if ("citus".equals(EmbeddedDatabaseConfigSourceFactory.value(context, "eligo.database.distribution", "none"))) {
            options += " " + CITUS_OPTIONS;
            properties.put(MIGRATIONS_PREFIX + "options", CITUS_OPTIONS);
        }
        properties.put(PREFIX + "options", options);
        properties.put(PREFIX + "socketTimeout", String.valueOf(seconds(context, "eligo.database.socket-timeout", "45s")));
        String connect = String.valueOf(seconds(context, "eligo.database.connect-timeout", "5s"));
        properties.put(PREFIX + "connectTimeout", connect);
        properties.put(PREFIX + "loginTimeout", connect);
        properties.put(MIGRATIONS_PREFIX + "connectTimeout", connect);
        properties.put(MIGRATIONS_PREFIX + "loginTimeout", connect);
        // Keep-alives let the kernel notice a peer that vanished without a word (a killed node).
        properties.put(PREFIX + "tcpKeepAlive", "true");
        return List.of(new PropertiesConfigSource(properties, "EligoDatabaseLimits", ORDINAL));
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }

    private static long millis(ConfigSourceContext context, String name, String defaultValue) {
        return duration(context, name, defaultValue).toMillis();
    }

    private static long seconds(ConfigSourceContext context, String name, String defaultValue) {
        Duration duration = duration(context, name, defaultValue);
        return Math.max(1, (duration.toMillis() + 999) / 1000);
    }

    static Duration duration(ConfigSourceContext context, String name, String defaultValue) {
        String text = EmbeddedDatabaseConfigSourceFactory.value(context, name, defaultValue);
        try {
            Duration duration = DurationConverter.parseDuration(text);
            if (duration == null || duration.isNegative()) {
                throw new IllegalArgumentException("negative");
            }
            return duration;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(name + " must be a duration such as 30s or PT30S, not '" + text + "'", e);
        }
    }
}
