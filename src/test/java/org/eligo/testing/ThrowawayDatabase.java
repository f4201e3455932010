package org.eligo.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;

/**
 * A database of its own on the test PostgreSQL, for tests of the migrations themselves (the
 * application's database is migrated once per run); dropped on close.
 */
public final class ThrowawayDatabase implements AutoCloseable {

    private static final AtomicInteger COUNT = new AtomicInteger();

    private final String name;

    private ThrowawayDatabase(String name) {
        this.name = name;
    }

    public static ThrowawayDatabase create(String purpose) {
        String name = "eligo_" + purpose + "_" + ProcessHandle.current().pid() + "_" + COUNT.incrementAndGet();
        try (Connection connection = Sql.connect(); Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return new ThrowawayDatabase(name);
    }

    public String name() {
        return name;
    }

    public String jdbcUrl() {
        return EmbeddedPostgresResource.urlFor(name);
    }

    /** Flyway as the service configures it for its migrations: this build's migrations, as the owner. */
    public FluentConfiguration flyway() {
        return Flyway.configure().dataSource(jdbcUrl(), "postgres", "").locations("classpath:db/migration");
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), "postgres", "");
    }

    /** Runs the statements in order, on one connection. */
    public void execute(String... statements) {
        try (Connection connection = connect(); Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first column of every row, as text. */
    public List<String> strings(String sql) {
        try (Connection connection = connect(); Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            List<String> values = new ArrayList<>();
            while (rs.next()) {
                values.add(rs.getString(1));
            }
            return values;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        try (Connection connection = Sql.connect(); Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
