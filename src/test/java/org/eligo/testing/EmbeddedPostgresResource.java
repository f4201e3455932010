package org.eligo.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * A throw-away embedded PostgreSQL for the whole test run: started once per JVM (however many test
 * profiles restart the application), deleted when the JVM exits. The server runs in UTC+13:45-ish
 * Chatham time, like the JVM, so time-zone slips show up.
 */
public class EmbeddedPostgresResource implements QuarkusTestResourceLifecycleManager {

    private static EmbeddedPostgres server;

    public static synchronized EmbeddedPostgres server() {
        if (server == null) {
            try {
                server = EmbeddedPostgres.builder()
                        .setServerConfig("timezone", "Pacific/Chatham")
                        .setServerConfig("max_connections", "300")
                        .setServerConfig("fsync", "off")
                        .setServerConfig("synchronous_commit", "off")
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return server;
    }

    public static String jdbcUrl() {
        return server().getJdbcUrl("postgres", "postgres");
    }

    private boolean throughProxy;

    @Override
    public void setContext(Context context) {
        String profile = context.testProfile();
        try {
            throughProxy = profile != null && UsesDatabaseProxy.class.isAssignableFrom(Class.forName(profile, false, getClass().getClassLoader()));
        } catch (ClassNotFoundException e) {
            throughProxy = false;
        }
    }

    @Override
    public Map<String, String> start() {
        return Map.of(
                "quarkus.datasource.jdbc.url", throughProxy ? DatabaseProxy.instance().jdbcUrl() : jdbcUrl(),
                "quarkus.datasource.username", "postgres",
                "quarkus.datasource.password", "");
    }

    @Override
    public void stop() {
        // Kept for the next application start in this JVM; zonky's shutdown hook removes it at exit.
    }
}
