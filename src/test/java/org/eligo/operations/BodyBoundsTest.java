package org.eligo.operations;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.Socket;
import java.net.SocketException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.inject.Inject;

import org.eligo.testing.Tokens;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * No client, with a token or without, can grow the heap by more than a configured amount: a request
 * without a token is refused before any of its body is read, and the bodies of admitted requests
 * together never hold more than {@code eligo.http.max-buffered-bytes} (8M here); past it, 503 with
 * Retry-After. The service runs in this JVM, so its heap is measured directly.
 */
@QuarkusTest
@TestProfile(BodyBoundsProfile.class)
class BodyBoundsTest {

    private static final int UNAUTHENTICATED = 300;
    /**
     * What 300 held uploads may add to the heap at most (their connections, requests and access-log
     * rows; no bodies). Before the gate, each would have buffered its 17 MB.
     */
    private static final long UNAUTHENTICATED_HEAP_BOUND = 48L * 1024 * 1024;
    private static final int PART = 64 * 1024;
    /** What bodies held up to the 8M budget may add to the heap at most: twice the budget, and 16M for the rest. */
    private static final long ADMITTED_HEAP_BOUND = 2 * BodyBoundsProfile.BUDGET + 16L * 1024 * 1024;

    @TestHTTPResource("/")
    URL base;

    @Inject
    BodyBudget budget;

    private record Answer(int status, Map<String, String> headers, String body) {
    }

    @Test
    void threeHundredUploadsWithoutATokenAreRefusedUnreadWhileHealthChecksAnswer() throws IOException {
        long before = heapUsedAfterGc();
        List<Socket> uploads = new ArrayList<>();
        try {
            byte[] part = new byte[PART];
            java.util.Arrays.fill(part, (byte) 'x');
            for (int i = 0; i < UNAUTHENTICATED; i++) {
                Socket socket = new Socket(base.getHost(), base.getPort());
                socket.setSoTimeout(30_000);
                OutputStream out = socket.getOutputStream();
                // Half announce 17 MB, half come chunked (no length to refuse by); each sends a first part and holds.
                boolean chunked = i % 2 == 0;
                out.write(head("/v1/reruns", chunked ? "Transfer-Encoding: chunked" : "Content-Length: 17000000", null));
                if (chunked) {
                    out.write((Integer.toHexString(PART) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                }
                out.write(part);
                out.flush();
                uploads.add(socket);
                if (i % 50 == 49) {
                    given().get("/q/health/live").then().statusCode(200);
                }
            }
            // While all 300 are held open, the probes answer.
            given().get("/q/health/live").then().statusCode(200);
            given().get("/q/health/ready").then().statusCode(200);
            for (Socket socket : uploads) {
                Answer answer = read(socket.getInputStream());
                assertEquals(401, answer.status(), answer.toString());
                assertTrue(answer.headers().getOrDefault("content-type", "").startsWith("application/problem+json"), answer.toString());
                assertEquals("close", answer.headers().get("connection"), answer.toString());
            }
            assertEquals(0, budget.held(), "no body of an unauthenticated request was taken into the budget");
            // The service closed their connections rather than read on.
            for (Socket socket : uploads) {
                assertTrue(closedByServer(socket), "a refused upload's connection was left open");
            }
            given().get("/q/health/live").then().statusCode(200);
            given().get("/q/health/ready").then().statusCode(200);
            long grown = heapUsedAfterGc() - before;
            assertTrue(grown < UNAUTHENTICATED_HEAP_BOUND, "the heap grew by " + grown + " bytes");
        } finally {
            for (Socket socket : uploads) {
                socket.close();
            }
        }
    }

    @Test
    void admittedBodiesPastTheBudgetAre503AndTheHeapStaysBounded() throws IOException {
        String token = Tokens.analyst();
        long before = heapUsedAfterGc();
        long body = 1024L * 1024;
        int fit = (int) (BodyBoundsProfile.BUDGET / body);
        List<Socket> held = new ArrayList<>();
        byte[] half = new byte[(int) body / 2];
        java.util.Arrays.fill(half, (byte) ' ');
        String requestIds = org.eligo.testing.Api.unique("held");
        try {
            // Each announces 1 MiB and sends half of it: eight of them take the whole budget.
            for (int i = 0; i < fit; i++) {
                Socket socket = new Socket(base.getHost(), base.getPort());
                socket.setSoTimeout(30_000);
                socket.getOutputStream().write(head("/v1/reruns", "X-Request-Id: " + requestIds + "-" + i + "\r\nContent-Length: " + body, token));
                socket.getOutputStream().write(half);
                socket.getOutputStream().flush();
                held.add(socket);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> budget.held() == BodyBoundsProfile.BUDGET);
            // One more, announced or chunked, is refused at once with 503 and Retry-After.
            for (String framing : List.of("Content-Length: " + body, "Transfer-Encoding: chunked")) {
                try (Socket socket = new Socket(base.getHost(), base.getPort())) {
                    socket.setSoTimeout(30_000);
                    OutputStream out = socket.getOutputStream();
                    out.write(head("/v1/reruns", framing, token));
                    if (framing.startsWith("Transfer")) {
                        out.write(("400\r\n" + " ".repeat(0x400) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    }
                    out.flush();
                    Answer answer = read(socket.getInputStream());
                    assertEquals(503, answer.status(), answer.toString());
                    assertTrue(answer.headers().getOrDefault("content-type", "").startsWith("application/problem+json"), answer.toString());
                    assertEquals("2", answer.headers().get("retry-after"), answer.toString());
                }
            }
            assertEquals(BodyBoundsProfile.BUDGET, budget.held());
            long grown = heapUsedAfterGc() - before;
            // The held bodies (the budget) and their buffers' slack, plus what any run of requests leaves on the heap.
            assertTrue(grown < ADMITTED_HEAP_BOUND, "the heap grew by " + grown + " bytes, budget " + BodyBoundsProfile.BUDGET);
            // Requests that need no body are still served.
            given().auth().oauth2(token).get("/v1/rulesets").then().statusCode(200);
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
        }
        // Closed connections give their bytes back, and bodies are taken again.
        await().atMost(Duration.ofSeconds(20)).until(() -> budget.held() == 0);
        // The abandoned requests are recorded, as 499 (the client closed the request).
        await().atMost(Duration.ofSeconds(20)).until(() -> org.eligo.testing.Sql.count(
                "SELECT count(*) FROM access_log WHERE request_id LIKE ? AND status = 499 AND subject = 'ana'", requestIds + "-%") == fit);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metrics.contains("eligo_http_buffered_bytes"), "no eligo_http_buffered_bytes gauge");
        assertTrue(java.util.regex.Pattern.compile("(?m)^eligo_http_bodies_refused_total(\\{[^}]*})? [2-9]").matcher(metrics).find(),
                "the two 503s are not counted in eligo_http_bodies_refused_total");
        given().auth().oauth2(token).contentType("application/json").body("{\"scope\": \"nonsense\"}").post("/v1/reruns")
                .then().statusCode(400);
    }

    @Test
    void aClientThatAsksBeforeSendingItsBodyIsToldToGoOnOnlyOnceAdmitted() throws IOException {
        byte[] body = "{\"scope\": \"nonsense\"}".getBytes(StandardCharsets.UTF_8);
        String framing = "Expect: 100-continue\r\nContent-Length: " + body.length;
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(head("/v1/reruns", framing, null));
            socket.getOutputStream().flush();
            // No token: the final answer comes at once, and the body is never asked for.
            assertEquals(401, read(socket.getInputStream()).status());
        }
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(head("/v1/reruns", framing, Tokens.analyst()));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            assertTrue(line(in).contains(" 100 "), "no 100 Continue");
            assertEquals("", line(in));
            socket.getOutputStream().write(body);
            socket.getOutputStream().flush();
            Answer answer = read(in);
            while (answer.status() == 100) {
                answer = read(in);
            }
            assertEquals(400, answer.status(), answer.toString());
        }
    }

    private static byte[] head(String path, String framing, String token) {
        return ("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + (token == null ? "" : "Authorization: Bearer " + token + "\r\n") + framing + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** True when the service closed the connection: reading it ends (or is reset) rather than timing out. */
    private static boolean closedByServer(Socket socket) {
        try {
            return socket.getInputStream().read() == -1;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }

    private static long heapUsedAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            least = Math.min(least, memory.getHeapMemoryUsage().getUsed());
        }
        return least;
    }

    /** Status line, headers (names lower-cased) and a body framed by Content-Length. */
    private static Answer read(InputStream in) throws IOException {
        String statusLine = line(in);
        Map<String, String> headers = org.eligo.testing.RawHttp.headers(in);
        byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
        return new Answer(Integer.parseInt(statusLine.split(" ")[1]), headers, new String(body, StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        return org.eligo.testing.RawHttp.line(in);
    }
}
