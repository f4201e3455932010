package org.eligo.queue;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eligo.work.WorkSignal;
import org.jboss.logging.Logger;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * Holds one dedicated connection that LISTENs on {@code eligo_message_received} (sent by a trigger
 * when messages are inserted, by any instance) and wakes the workers. Outside the pool, so it never
 * takes a connection from request handling. If the connection drops it reconnects with backoff;
 * meanwhile the workers' polling carries on, so a lost notification only costs latency.
 */
@ApplicationScoped
public class MessageNotificationListener {

    static final String CHANNEL = "eligo_message_received";
    private static final Logger LOG = Logger.getLogger(MessageNotificationListener.class);
    private static final int RECEIVE_TIMEOUT_MS = 500;
    private static final Duration MAX_RECONNECT_BACKOFF = Duration.ofSeconds(30);

    private final WorkSignal signal;
    private final QueueConfig config;
    private final String url;
    private final Optional<String> username;
    private final Optional<String> password;
    private volatile boolean running;
    private volatile boolean listening;
    private Thread thread;

    public MessageNotificationListener(WorkSignal signal, QueueConfig config,
                                       @ConfigProperty(name = "quarkus.datasource.jdbc.url") String url,
                                       @ConfigProperty(name = "quarkus.datasource.username") Optional<String> username,
                                       @ConfigProperty(name = "quarkus.datasource.password") Optional<String> password) {
        this.signal = signal;
        this.config = config;
        this.url = url;
        this.username = username;
        this.password = password;
    }

    /** Started with the workers: only an instance that processes work needs waking. */
    void onStart(@Observes StartupEvent event) {
        if (config.workers() > 0 && config.listen()) {
            start();
        }
    }

    void onStop(@Observes ShutdownEvent event) {
        stop();
    }

    synchronized void start() {
        if (thread != null) {
            return;
        }
        running = true;
        thread = new Thread(this::listen, "eligo-listener");
        thread.setDaemon(true);
        thread.start();
    }

    synchronized void stop() {
        running = false;
        if (thread != null) {
            thread.interrupt();
            thread = null;
        }
    }

    /** True while the LISTEN connection is up. */
    public boolean isListening() {
        return listening;
    }

    private void listen() {
        int failuresInRow = 0;
        while (running) {
            try (Connection connection = connect()) {
                try (Statement statement = connection.createStatement()) {
                    statement.execute("LISTEN " + CHANNEL);
                }
                listening = true;
                failuresInRow = 0;
                // Messages may have arrived while no one listened.
                signal.wake();
                PGConnection pg = connection.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] notifications = pg.getNotifications(RECEIVE_TIMEOUT_MS);
                    if (notifications != null && notifications.length > 0) {
                        signal.wake();
                    }
                }
            } catch (SQLException e) {
                listening = false;
                if (!running) {
                    return;
                }
                failuresInRow++;
                Duration backoff = Duration.ofMillis(Math.min(MAX_RECONNECT_BACKOFF.toMillis(), 250L << Math.min(failuresInRow, 10)));
                LOG.warnf("LISTEN connection lost (%s); reconnecting in %s, workers keep polling", e.getMessage(), backoff);
                signal.awaitAfter(signal.generation(), backoff);
            } finally {
                listening = false;
            }
        }
    }

    private Connection connect() throws SQLException {
        Properties properties = new Properties();
        username.ifPresent(user -> properties.setProperty("user", user));
        password.ifPresent(secret -> properties.setProperty("password", secret));
        properties.setProperty("ApplicationName", "eligo-listener");
        // Notice a dead server within seconds rather than at the OS's TCP time-out.
        properties.setProperty("tcpKeepAlive", "true");
        properties.setProperty("socketTimeout", "30");
        Connection connection = new org.postgresql.Driver().connect(url, properties);
        if (connection == null) {
            throw new SQLException("not a PostgreSQL JDBC URL: " + url, "08001");
        }
        return connection;
    }
}
