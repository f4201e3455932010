package org.eligo.testing;

import org.apache.http.impl.NoConnectionReuseStrategy;
import org.apache.http.impl.client.DefaultHttpClient;

import io.quarkus.test.junit.callback.QuarkusTestBeforeEachCallback;
import io.quarkus.test.junit.callback.QuarkusTestMethodContext;
import io.restassured.RestAssured;

/**
 * Makes REST Assured close each connection once its answer has been read. By default it builds a
 * new HTTP client per request and leaves that client's connection open until the client is garbage
 * collected; a test that sends a thousand requests then holds a thousand open connections, and past
 * {@code quarkus.http.limits.max-connections} (1024) the service closes new ones at once, as it
 * should. Whether that happened depended on when the test JVM collected garbage: MalformedInputTest
 * failed with "failed to respond" in some full runs and never alone. (REST Assured's own
 * closeIdleConnectionsAfterEachResponse is no answer: it can close a connection whose answer is
 * still being read.)
 */
public class ClosedClientConnections implements QuarkusTestBeforeEachCallback {

    @Override
    public void beforeEach(QuarkusTestMethodContext context) {
        RestAssured.config = RestAssured.config().httpClient(RestAssured.config().getHttpClientConfig().httpClientFactory(() -> {
            DefaultHttpClient client = new DefaultHttpClient();
            // Not reusable: released after its answer is consumed, the connection is closed.
            client.setReuseStrategy(NoConnectionReuseStrategy.INSTANCE);
            return client;
        }));
    }
}
