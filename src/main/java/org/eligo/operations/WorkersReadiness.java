package org.eligo.operations;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.eligo.queue.MessageNotificationListener;
import org.eligo.queue.QueueConfig;
import org.eligo.work.WorkEngine;

/** Ready when every worker loop is alive (processing can keep up with what ingest accepts). */
@Readiness
@ApplicationScoped
public class WorkersReadiness implements HealthCheck {

    private final WorkEngine workers;
    private final MessageNotificationListener listener;
    private final QueueConfig config;

    public WorkersReadiness(WorkEngine workers, MessageNotificationListener listener, QueueConfig config) {
        this.workers = workers;
        this.listener = listener;
        this.config = config;
    }

    @Override
    public HealthCheckResponse call() {
        if (config.workers() <= 0) {
            return HealthCheckResponse.named("workers").up().withData("processing", "off in this instance").build();
        }
        int alive = workers.alive();
        return HealthCheckResponse.named("workers")
                .status(workers.isRunning() && alive == config.workers())
                .withData("alive", alive)
                .withData("configured", config.workers())
                // Without LISTEN the workers still poll: slower, not broken.
                .withData("listening", listener.isListening())
                .build();
    }
}
