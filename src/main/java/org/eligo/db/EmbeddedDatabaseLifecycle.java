package org.eligo.db;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/** Stops the embedded PostgreSQL (if this process started one) last, after the workers have stopped. */
@ApplicationScoped
public class EmbeddedDatabaseLifecycle {

    void onStart(@Observes StartupEvent event) {
        EmbeddedDatabase.applicationStarted();
    }

    void onStop(@Observes @Priority(Interceptor.Priority.LIBRARY_AFTER + 1000) ShutdownEvent event) {
        EmbeddedDatabase.stop();
    }
}
