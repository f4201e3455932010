package org.eligo.db;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;

/**
 * Checks the database time-outs ({@link DatabaseConfig}) when the service starts and names them in
 * its log, with the pool's size, so that an operator reading a start sees every limit on the
 * database in one line.
 */
@ApplicationScoped
public class DatabaseLimits {

    private static final Logger LOG = Logger.getLogger(DatabaseLimits.class);

    private final DatabaseConfig config;
    private final int poolSize;
    private final String acquisitionTimeout;

    public DatabaseLimits(DatabaseConfig config, @ConfigProperty(name = "quarkus.datasource.jdbc.max-size") int poolSize,
                          @ConfigProperty(name = "quarkus.datasource.jdbc.acquisition-timeout") String acquisitionTimeout) {
        this.config = config;
        this.poolSize = poolSize;
        this.acquisitionTimeout = acquisitionTimeout;
        check(config);
    }

    /** Refuses settings that would make one limit pre-empt another it is meant to sit behind. */
    static void check(DatabaseConfig config) {
        if (!config.socketTimeout().isZero() && !config.statementTimeout().isZero()
                && config.socketTimeout().compareTo(config.statementTimeout()) <= 0) {
            throw new IllegalArgumentException("eligo.database.socket-timeout (" + config.socketTimeout()
                    + ") must be longer than eligo.database.statement-timeout (" + config.statementTimeout()
                    + "): a slow statement is to be cancelled by the server, not its connection cut");
        }
        if (!config.socketTimeout().isZero() && !config.lockTimeout().isZero()
                && config.socketTimeout().compareTo(config.lockTimeout()) <= 0) {
            throw new IllegalArgumentException("eligo.database.socket-timeout (" + config.socketTimeout()
                    + ") must be longer than eligo.database.lock-timeout (" + config.lockTimeout() + ")");
        }
    }

    void onStart(@Observes StartupEvent event) {
        LOG.infof("Database limits: statements %s, lock waits %s, idle in a transaction %s, any answer %s, connecting %s; "
                        + "a pool of %d connections, waited for %s at most",
                words(config.statementTimeout()), words(config.lockTimeout()), words(config.idleInTransactionTimeout()),
                words(config.socketTimeout()), words(config.connectTimeout()), poolSize, acquisitionTimeout);
    }

    private static String words(java.time.Duration duration) {
        return duration.isZero() ? "unlimited" : duration.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
    }
}
