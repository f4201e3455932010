package org.eligo.operations;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Clients that send a body slowly (or never finish it) are held by the I/O threads, which receive
 * whole bodies before a worker thread is taken (BodyBuffering): more of them than there are worker
 * threads (200) still leave the service answering everyone else. Without BodyBuffering this test
 * hangs until the slow clients' sockets time out.
 */
@QuarkusTest
class SlowClientTest {

    private static final int SLOW_CLIENTS = 250;

    @TestHTTPResource("/")
    URL base;

    @Test
    void slowBodiesDoNotTakeTheWorkerThreads() throws IOException {
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < SLOW_CLIENTS; i++) {
                Socket socket = new Socket(base.getHost(), base.getPort());
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/messages/batch HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 400000\r\n\r\n{\"messages\": [").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                slow.add(socket);
            }
            // Every one of them is mid-body; the worker pool (200 threads at most) is not theirs.
            long started = System.nanoTime();
            given().get("/v1/rulesets").then().statusCode(200);
            given().contentType("application/json").body("{\"messages\": []}").post("/v1/messages/batch").then().statusCode(400);
            assertTrue(System.nanoTime() - started < 10_000_000_000L, "the service stalled behind slow clients");
        } finally {
            for (Socket socket : slow) {
                socket.close();
            }
        }
    }

    @Test
    void aClientAskingForHttp2GetsAnAnswerNotAnError() throws Exception {
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_2).build();
        java.net.http.HttpResponse<String> response = client.send(java.net.http.HttpRequest.newBuilder(base.toURI().resolve("/v1/messages/batch"))
                .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"messages\": []}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        org.junit.jupiter.api.Assertions.assertEquals(400, response.statusCode(), response.body());
        assertTrue(response.headers().firstValue("content-type").orElse("").startsWith("application/problem+json"));
    }
}
