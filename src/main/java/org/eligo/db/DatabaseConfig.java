package org.eligo.db;

import java.time.Duration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * How long the service waits for its database ({@code eligo.database.*}), so that a database that
 * hangs or a query that runs away costs a bounded wait and an answer (503 with Retry-After for a
 * request, a retry later for a worker), never a thread held for ever. Applied to every connection
 * of the service's pool by {@link DatabaseLimitsConfigSourceFactory}; the migrations' own small pool
 * gets only the connect time-out (a migration may rightly run for minutes).
 */
@ConfigMapping(prefix = "eligo.database")
public interface DatabaseConfig {

    /**
     * PostgreSQL's {@code statement_timeout}: a statement running longer is cancelled by the server
     * (SQLSTATE 57014). The longest statement measured is the population report's, 0.42 s at
     * 1,033,323 determinations; half a minute is a runaway, not work.
     */
    @WithDefault("30s")
    Duration statementTimeout();

    /**
     * PostgreSQL's {@code lock_timeout}: the longest a statement waits for a lock held by another
     * transaction (SQLSTATE 55P03, a 503 or a retry). Ingest and determination requests wait 2 s for
     * their beneficiary's lock whatever this says.
     */
    @WithDefault("10s")
    Duration lockTimeout();

    /**
     * PostgreSQL's {@code idle_in_transaction_session_timeout}: a connection left in an open
     * transaction with nothing running (a stuck client thread) is closed by the server, releasing its
     * locks. As long as the transaction manager's own limit (5 minutes), which rolls back first.
     */
    @WithDefault("5m")
    Duration idleInTransactionTimeout();

    /**
     * The JDBC driver's socket time-out: the longest the service waits for any answer from the
     * database. It is what bounds a request when the database hangs (a frozen server, a network
     * that drops packets): the statement time-out cannot, since the server is not running. Must be
     * longer than the statement time-out, so that a slow statement is cancelled by the server rather
     * than its connection cut.
     */
    @WithDefault("45s")
    Duration socketTimeout();

    /** The JDBC driver's connect time-out (and login time-out): opening a connection takes at most this. */
    @WithDefault("5s")
    Duration connectTimeout();

    /**
     * How the schema is laid out: {@code none}, one PostgreSQL (the default); {@code citus}, a Citus
     * coordinator, where the migration step then distributes the schema by beneficiary
     * ({@code db/citus/afterMigrate.sql}, docs/scaling.md "Step 3"). Read by the migrations as the
     * Flyway placeholder {@code distribution}.
     */
    @WithDefault("none")
    Distribution distribution();

    enum Distribution {
        none, citus
    }
}
