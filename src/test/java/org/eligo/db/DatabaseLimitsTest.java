package org.eligo.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;

import jakarta.inject.Inject;

import org.junit.jupiter.api.Test;

import io.agroal.api.AgroalDataSource;
import io.quarkus.test.junit.QuarkusTest;

/** Every connection of the service's pool carries the database limits (eligo.database.*, README "Configuration"). */
@QuarkusTest
class DatabaseLimitsTest {

    @Inject
    AgroalDataSource dataSource;

    private static String show(Statement statement, String setting) throws Exception {
        try (ResultSet rs = statement.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void theServicesConnectionsCarryTheLimits() throws Exception {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            assertEquals("30s", show(statement, "statement_timeout"));
            assertEquals("10s", show(statement, "lock_timeout"));
            assertEquals("5min", show(statement, "idle_in_transaction_session_timeout"));
            assertEquals(Duration.ofSeconds(45).toMillis(), connection.getNetworkTimeout(), "the socket time-out");
            // Still the restricted role: the options do not replace the connection's start.
            assertEquals("eligo_service", show(statement, "role"));
        }
    }

    @Inject
    org.eligo.partitions.Partitions partitions;

    /**
     * Agroal sets a connection's socket time-out back to none when it returns to the pool, if anyone
     * changed it (seen: 0 after partition maintenance once lengthened its own), so nothing may: the
     * driver's property is the only place it is set.
     */
    @Test
    void maintenanceGivesItsConnectionBackWithTheLimits() throws Exception {
        partitions.maintain();
        java.util.List<Connection> held = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Connection connection = dataSource.getConnection();
                held.add(connection);
                assertEquals(Duration.ofSeconds(45).toMillis(), connection.getNetworkTimeout(), "the socket time-out of connection " + i);
            }
        } finally {
            for (Connection connection : held) {
                connection.close();
            }
        }
    }

    @Test
    void aSocketTimeOutShorterThanTheStatementTimeOutIsRefused() {
        DatabaseConfig config = new DatabaseConfig() {
            public Duration statementTimeout() { return Duration.ofSeconds(30); }
            public Duration lockTimeout() { return Duration.ofSeconds(10); }
            public Duration idleInTransactionTimeout() { return Duration.ofMinutes(5); }
            public Duration socketTimeout() { return Duration.ofSeconds(20); }
            public Duration connectTimeout() { return Duration.ofSeconds(5); }
            public Distribution distribution() { return Distribution.none; }
        };
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> DatabaseLimits.check(config));
        assertTrue(refused.getMessage().contains("eligo.database.socket-timeout"), refused.getMessage());
    }
}
