package org.eligo.testing;

import io.quarkus.test.junit.callback.QuarkusTestBeforeEachCallback;
import io.quarkus.test.junit.callback.QuarkusTestMethodContext;
import io.restassured.RestAssured;
import io.restassured.config.ConnectionConfig;

/**
 * Makes REST Assured close each connection once its answer is read. By default it builds a new
 * HTTP client per request and leaves that client's connection open until the client is garbage
 * collected; a test that sends a thousand requests then holds a thousand open connections, and past
 * {@code quarkus.http.limits.max-connections} (1024) the service closes new ones at once, as it
 * should. Whether that happened depended on when the test JVM collected garbage: MalformedInputTest
 * failed with "failed to respond" in some full runs and never alone.
 */
public class ClosedClientConnections implements QuarkusTestBeforeEachCallback {

    @Override
    public void beforeEach(QuarkusTestMethodContext context) {
        RestAssured.config = RestAssured.config()
                .connectionConfig(ConnectionConfig.connectionConfig().closeIdleConnectionsAfterEachResponse());
    }
}
