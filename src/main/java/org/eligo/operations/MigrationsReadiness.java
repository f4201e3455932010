package org.eligo.operations;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.flywaydb.core.Flyway;

import io.quarkus.flyway.FlywayDataSource;

/** Ready when the database schema has every migration this release carries. */
@Readiness
@ApplicationScoped
public class MigrationsReadiness implements HealthCheck {

    private final Flyway flyway;
    private volatile boolean migrated;

    public MigrationsReadiness(@FlywayDataSource("migrations") Flyway flyway) {
        this.flyway = flyway;
    }

    @Override
    public HealthCheckResponse call() {
        if (!migrated) {
            try {
                // Once complete it stays complete for this release: later probes need not ask the database.
                migrated = flyway.info().pending().length == 0;
            } catch (RuntimeException e) {
                return HealthCheckResponse.named("migrations").down().withData("error", String.valueOf(e.getMessage())).build();
            }
        }
        return HealthCheckResponse.named("migrations").status(migrated).build();
    }
}
