package org.eligo.operations;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.flywaydb.core.Flyway;

import io.quarkus.flyway.FlywayDataSource;

/**
 * Ready when the database schema has every migration this release carries. Asked through the
 * migrations' own pool, which has no socket time-out (a migration may rightly run for minutes), so
 * a database that hangs would hang the probe with it: the question runs on a thread of its own, one
 * at a time, and a probe waits for it at most {@link #WAIT}, then answers DOWN while it goes on.
 */
@Readiness
@ApplicationScoped
public class MigrationsReadiness implements HealthCheck {

    /** The longest a probe waits for the database's answer (Kubernetes' default probe time-out is 1 s; operators raise it). */
    static final Duration WAIT = Duration.ofSeconds(2);

    private final Flyway flyway;
    private volatile boolean migrated;
    private CompletableFuture<Boolean> asking;

    public MigrationsReadiness(@FlywayDataSource("migrations") Flyway flyway) {
        this.flyway = flyway;
    }

    @Override
    public HealthCheckResponse call() {
        if (!migrated) {
            try {
                // Once complete it stays complete for this release: later probes need not ask the database.
                migrated = question().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                return HealthCheckResponse.named("migrations").down().withData("error", "the database did not answer within " + WAIT).build();
            } catch (ExecutionException e) {
                return HealthCheckResponse.named("migrations").down().withData("error", String.valueOf(e.getCause().getMessage())).build();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return HealthCheckResponse.named("migrations").down().build();
            }
        }
        return HealthCheckResponse.named("migrations").status(migrated).build();
    }

    /** The question in flight, or a new one once the last has been answered. */
    private synchronized CompletableFuture<Boolean> question() {
        if (asking == null || asking.isDone()) {
            CompletableFuture<Boolean> next = new CompletableFuture<>();
            Thread thread = new Thread(() -> {
                try {
                    next.complete(flyway.info().pending().length == 0);
                } catch (RuntimeException e) {
                    next.completeExceptionally(e);
                }
            }, "eligo-migrations-readiness");
            thread.setDaemon(true);
            thread.start();
            asking = next;
        }
        return asking;
    }
}
