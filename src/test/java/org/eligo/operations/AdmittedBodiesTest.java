package org.eligo.operations;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import jakarta.inject.Inject;

import org.eligo.testing.Sql;
import org.eligo.testing.Tokens;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * What an admitted caller, token in hand, can still try with a body (found in review): hold the
 * budget with a body that never arrives, send a body where none is read, frame a second request
 * inside an unsupported transfer coding, or leave while its token is being checked.
 */
@QuarkusTest
@TestProfile(AdmittedBodiesProfile.class)
class AdmittedBodiesTest {

    @TestHTTPResource("/")
    URL base;

    @Inject
    BodyBudget budget;

    private Socket open() throws IOException {
        Socket socket = new Socket(base.getHost(), base.getPort());
        socket.setSoTimeout(30_000);
        return socket;
    }

    private static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        socket.getOutputStream().flush();
    }

    /** Everything the service sends until it closes the connection. */
    private static String readToClose(Socket socket) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        InputStream in = socket.getInputStream();
        try {
            in.transferTo(all);
        } catch (java.net.SocketException reset) {
            // closed by the service after its answer
        }
        return all.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aBodyThatDoesNotArriveInTimeIs408AndGivesItsBudgetBack() throws IOException {
        try (Socket socket = open()) {
            send(socket, "POST /v1/reruns HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + Tokens.analyst()
                    + "\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"scope\":");
            await().atMost(Duration.ofSeconds(5)).until(() -> budget.held() >= 1_000_000);
            String answer = readToClose(socket);
            assertTrue(answer.startsWith("HTTP/1.1 408"), answer);
            assertTrue(answer.contains("application/problem+json"), answer);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> budget.held() == 0);
    }

    @Test
    void aBodySentToAnEndpointThatReadsNoneIsRefusedUnread() throws IOException {
        try (Socket socket = open()) {
            send(socket, "GET /v1/rulesets HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + Tokens.caseworker()
                    + "\r\nContent-Length: 16777216\r\n\r\n");
            String answer = readToClose(socket);
            assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
            assertTrue(answer.contains("takes no body"), answer);
        }
        assertEquals(0, budget.held());
        // Without a body the same request is served.
        given().auth().oauth2(Tokens.caseworker()).get("/v1/rulesets").then().statusCode(200);
    }

    @Test
    void aTransferCodingOtherThanChunkedIs400AndNothingInItIsServed() throws IOException {
        String smuggled = "GET /v1/stats HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + Tokens.analyst() + "\r\n\r\n";
        try (Socket socket = open()) {
            send(socket, "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + Tokens.agency("feed")
                    + "\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled);
            String answer = readToClose(socket);
            assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
            assertTrue(answer.contains("Transfer-Encoding"), answer);
            assertFalse(answer.contains("\"messages\":{"), "the request inside the body was served: " + answer);
            assertEquals(1, answer.split("HTTP/1.1 ", -1).length - 1, "one answer, then the connection closed: " + answer);
        }
    }

    @Test
    void clientsThatLeaveWhileTheirTokenIsCheckedHoldNoBudgetAndAreEachRecordedOnce() throws IOException {
        String prefix = "gone-" + System.nanoTime();
        int clients = 60;
        for (int i = 0; i < clients; i++) {
            // A token never seen before is verified on a worker thread; the client is gone before that ends.
            String token = Tokens.token("leaver-" + i, List.of("analyst"), List.of());
            try (Socket socket = open()) {
                send(socket, "POST /v1/reruns HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: " + prefix + "-" + i
                        + "\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n");
            }
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> budget.held() == 0);
        await().atMost(Duration.ofSeconds(20)).until(() -> Sql.count(
                "SELECT count(DISTINCT request_id) FROM access_log WHERE request_id LIKE ?", prefix + "-%") == clients);
        assertEquals(clients, Sql.count("SELECT count(*) FROM access_log WHERE request_id LIKE ?", prefix + "-%"),
                "each request recorded once");
        // Bodies are taken again.
        given().auth().oauth2(Tokens.analyst()).contentType("application/json").body("{\"scope\": \"nonsense\"}").post("/v1/reruns")
                .then().statusCode(400);
    }

    @Test
    void aCursorPastTheLargestRowIdIsA400() {
        // Past Long.MAX (19 digits) and longer still (20): a 400 naming the cursor, not a 500 from parsing it.
        for (String key : List.of("9999999999999999999", "18446744073709551616")) {
            String cursor = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(StandardCharsets.US_ASCII));
            given().auth().oauth2(Tokens.analyst()).queryParam("cursor", cursor).get("/v1/access-log")
                    .then().statusCode(400).contentType("application/problem+json").body("errors[0].parameter", org.hamcrest.Matchers.equalTo("cursor"));
        }
    }

    @Test
    void anUnencodedByteThatIsNotUtf8InTheQueryIsA400() throws IOException {
        try (Socket socket = open()) {
            byte[] head = ("GET /v1/access-log?subject=X HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + Tokens.analyst()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
            head["GET /v1/access-log?subject=".length()] = (byte) 0xff;
            socket.getOutputStream().write(head);
            socket.getOutputStream().flush();
            String answer = readToClose(socket);
            assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
            assertTrue(answer.contains("subject"), "the problem names the parameter: " + answer);
        }
    }

    @Test
    void aRefusalIsRecordedUnderTheBeneficiaryWithoutMatrixParameters() {
        String requestId = "matrix-" + System.nanoTime();
        given().urlEncodingEnabled(false).auth().oauth2(Tokens.agency("feed")).header("X-Request-Id", requestId)
                .get("/v1/beneficiaries/B-M1;x=1/facts").then().statusCode(403);
        await().atMost(Duration.ofSeconds(10)).until(() -> Sql.count(
                "SELECT count(*) FROM access_log WHERE request_id = ? AND beneficiary_ids = ARRAY['B-M1']", requestId) == 1);
    }

    @Test
    void aPaddedTokenIsNotAToken() {
        given().header("Authorization", "Bearer " + Tokens.analyst() + "==").get("/v1/stats").then().statusCode(401);
    }
}
