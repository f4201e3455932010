package org.eligo.operations;

import java.util.Map;

import org.eligo.testing.UsesDatabaseProxy;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The service reaches its database through a relay the test can cut or freeze, with short database
 * time-outs (eligo.database.*) so that a hang is seen within seconds, and the backlog counted at
 * every request (so that each ingest request asks the database).
 */
public class DatabaseOutageProfile implements QuarkusTestProfile, UsesDatabaseProxy {

    /** How long the service waits for any answer from the database here. */
    static final java.time.Duration SOCKET_TIMEOUT = java.time.Duration.ofSeconds(3);

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of(
                "eligo.database.statement-timeout", "2s",
                "eligo.database.lock-timeout", "2s",
                "eligo.database.socket-timeout", SOCKET_TIMEOUT.toSeconds() + "s",
                "eligo.database.connect-timeout", "2s",
                "quarkus.datasource.jdbc.acquisition-timeout", "2s",
                "eligo.ingest.backlog-cache-ttl", "0s");
    }
}
