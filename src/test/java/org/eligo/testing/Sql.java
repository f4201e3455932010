package org.eligo.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Direct SQL against the test database, for arranging states the API cannot make and for checking rows. */
public final class Sql {

    private Sql() {
    }

    public static Connection connect() throws SQLException {
        return DriverManager.getConnection(EmbeddedPostgresResource.jdbcUrl(), "postgres", "");
    }

    public static int update(String sql, Object... parameters) {
        try (Connection connection = connect(); PreparedStatement statement = prepare(connection, sql, parameters)) {
            return statement.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public static List<Map<String, Object>> rows(String sql, Object... parameters) {
        try (Connection connection = connect(); PreparedStatement statement = prepare(connection, sql, parameters);
             ResultSet rs = statement.executeQuery()) {
            List<Map<String, Object>> rows = new ArrayList<>();
            while (rs.next()) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (int c = 1; c <= rs.getMetaData().getColumnCount(); c++) {
                    row.put(rs.getMetaData().getColumnLabel(c), rs.getObject(c));
                }
                rows.add(row);
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code statements} on one connection, in order; returns the first failure's message (null if none). */
    public static String firstFailure(String... statements) {
        try (Connection connection = connect(); java.sql.Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                try {
                    statement.execute(sql);
                } catch (SQLException e) {
                    return e.getMessage();
                }
            }
            return null;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code statements} as the superuser with triggers off: tampering behind the service's back. */
    public static void tamper(String... statements) {
        // SET LOCAL inside a transaction: on Citus (citus.propagate_set_commands = local) it reaches
        // the workers too, where the shards' triggers run.
        String[] all = new String[statements.length + 3];
        all[0] = "BEGIN";
        all[1] = "SET LOCAL session_replication_role = replica";
        System.arraycopy(statements, 0, all, 2, statements.length);
        all[all.length - 1] = "COMMIT";
        String failure = firstFailure(all);
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    public static long count(String sql, Object... parameters) {
        return ((Number) rows(sql, parameters).get(0).values().iterator().next()).longValue();
    }

    private static PreparedStatement prepare(Connection connection, String sql, Object... parameters) throws SQLException {
        PreparedStatement statement = connection.prepareStatement(sql);
        for (int i = 0; i < parameters.length; i++) {
            statement.setObject(i + 1, parameters[i]);
        }
        return statement;
    }
}
