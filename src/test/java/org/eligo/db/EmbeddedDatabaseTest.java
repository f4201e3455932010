package org.eligo.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service's embedded PostgreSQL keeps its data across restarts and stops cleanly. */
class EmbeddedDatabaseTest {

    @TempDir
    Path directory;

    @Test
    void dataSurvivesARestartAndStopEndsTheServer() throws Exception {
        Path data = directory.resolve("pg");
        String url = EmbeddedDatabase.start(data, 0);
        // What a refusal of an earlier build's schema names (EarlierSchema).
        assertEquals(Optional.of(data.toAbsolutePath().normalize()), EmbeddedDatabase.dataDirectory());
        try (Connection connection = DriverManager.getConnection(url, EmbeddedDatabase.SUPERUSER, "");
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE kept (v text)");
            statement.execute("INSERT INTO kept VALUES ('still here')");
        }
        EmbeddedDatabase.stop();
        assertFalse(EmbeddedDatabase.isRunning());
        assertEquals(Optional.empty(), EmbeddedDatabase.dataDirectory());
        assertFalse(Files.exists(data.resolve("postmaster.pid")), "a clean shutdown removes the pid file");

        String again = EmbeddedDatabase.start(data, 0);
        try (Connection connection = DriverManager.getConnection(again, EmbeddedDatabase.SUPERUSER, "");
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT v FROM kept")) {
            assertTrue(rs.next());
            assertEquals("still here", rs.getString(1));
        } finally {
            EmbeddedDatabase.stop();
        }
    }
}
