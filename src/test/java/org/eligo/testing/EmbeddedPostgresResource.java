package org.eligo.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

import org.eligo.db.DatabaseLimitsConfigSourceFactory;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The test run's PostgreSQL. By default a throw-away embedded one for the whole run: started once per
 * JVM (however many test profiles restart the application), deleted when the JVM exits. The server
 * runs in UTC+13:45-ish Chatham time, like the JVM, so time-zone slips show up.
 *
 * <p>{@code ELIGO_TEST_DATABASE_URL} (or {@code -Deligo.test.database-url}) names another server
 * instead, e.g. a Citus coordinator ({@code scripts/citus-cluster.sh}): a fresh database the run may
 * fill, reachable as the superuser {@code postgres} without a password (or with user and password in
 * the URL), its server in the time zone Pacific/Chatham. Tests of the migrations create databases of
 * their own on the same server. When that database has the citus extension, the service runs with
 * {@code eligo.database.distribution=citus} (db/citus/afterMigrate.sql distributes the schema).
 */
public class EmbeddedPostgresResource implements QuarkusTestResourceLifecycleManager {

    private static final URI EXTERNAL = external();

    private static EmbeddedPostgres server;

    private static URI external() {
        String url = System.getProperty("eligo.test.database-url", System.getenv("ELIGO_TEST_DATABASE_URL"));
        if (url == null || url.isBlank()) {
            return null;
        }
        if (!url.trim().startsWith("jdbc:postgresql://")) {
            throw new IllegalArgumentException("ELIGO_TEST_DATABASE_URL must be a jdbc:postgresql:// URL, not " + url);
        }
        return URI.create(url.trim().substring("jdbc:".length()));
    }

    /** Whether the tests run against a server named by ELIGO_TEST_DATABASE_URL, not the embedded one. */
    public static boolean isExternal() {
        return EXTERNAL != null;
    }

    private static synchronized EmbeddedPostgres server() {
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
        String url = urlFor(database());
        // On Citus, as the service's own connections are (DatabaseLimitsConfigSourceFactory): one
        // connection per worker for statements over many shards.
        return isCitus() ? url + (url.contains("?") ? "&" : "?") + "options="
                + URLEncoder.encode(DatabaseLimitsConfigSourceFactory.CITUS_OPTIONS, StandardCharsets.UTF_8).replace("+", "%20") : url;
    }

    /** The URL of another database on the test server (the run's own: {@link #database()}). */
    public static String urlFor(String database) {
        if (!isExternal()) {
            return server().getJdbcUrl("postgres", database);
        }
        return "jdbc:postgresql://" + EXTERNAL.getRawAuthority() + "/" + database + (EXTERNAL.getRawQuery() == null ? "" : "?" + EXTERNAL.getRawQuery());
    }

    /** The run's database: postgres on the embedded server, the URL's on an external one. */
    public static String database() {
        if (!isExternal()) {
            return "postgres";
        }
        String path = EXTERNAL.getPath();
        return path == null || path.length() <= 1 ? "postgres" : path.substring(1);
    }

    public static String host() {
        return isExternal() ? EXTERNAL.getHost() : "localhost";
    }

    public static int port() {
        if (!isExternal()) {
            return server().getPort();
        }
        return EXTERNAL.getPort() < 0 ? 5432 : EXTERNAL.getPort();
    }

    /** Whether the run's database (an external one) has the citus extension: then the service runs in its Citus mode. */
    public static synchronized boolean isCitus() {
        if (!isExternal()) {
            return false;
        }
        if (citus == null) {
            try (Connection connection = DriverManager.getConnection(urlFor(database()), "postgres", "");
                 var rs = connection.createStatement().executeQuery("SELECT count(*) FROM pg_extension WHERE extname = 'citus'")) {
                rs.next();
                citus = rs.getInt(1) > 0;
            } catch (SQLException e) {
                throw new IllegalStateException("the test database " + urlFor(database()) + " cannot be reached", e);
            }
        }
        return citus;
    }

    private static Boolean citus;

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
        Map<String, String> config = new HashMap<>(Map.of(
                "quarkus.datasource.jdbc.url", throughProxy ? DatabaseProxy.instance().jdbcUrl() : urlFor(database()),
                "quarkus.datasource.username", "postgres",
                "quarkus.datasource.password", ""));
        if (isCitus()) {
            config.put("eligo.database.distribution", "citus");
        }
        return config;
    }

    @Override
    public void stop() {
        // Kept for the next application start in this JVM; zonky's shutdown hook removes it at exit.
    }
}
