package org.eligo.operations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.eligo.support.problem.Problem;
import org.junit.jupiter.api.Test;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * A body over its endpoint's limit (the batch's 16 MiB, or the HTTP server's outer limit
 * {@code quarkus.http.limits.max-body-size}, 17M, where the endpoint has none of its own) is refused
 * with a problem+json 413 naming the limit, however it is sent (announced with Content-Length or
 * chunked) and on whichever endpoint; and it is refused as soon as the limit is crossed, not after
 * the whole body has been buffered.
 */
@QuarkusTest
class OversizedBodyTest {

    /** {@code quarkus.http.limits.max-body-size=17M}. */
    private static final long OUTER_LIMIT = 17L * 1024 * 1024;
    /** {@code eligo.ingest.batch-max-body-bytes}, 16 MiB; {@code max-body-bytes}, 1 MiB. */
    private static final long BATCH_LIMIT = 16L * 1024 * 1024, SINGLE_LIMIT = 1024L * 1024;
    private static final int CHUNK = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URL base;

    private record Answer(int status, Map<String, String> headers, String body) {

        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    @Test
    void aChunkedBatchOverItsLimitIsAProblemNamingTheLimit() throws IOException {
        // Chunked bodies announce no length; they are held to the same limit as announced ones.
        assertProblem(chunked("/v1/messages/batch", BATCH_LIMIT + 1, true), BATCH_LIMIT);
        assertProblem(chunked("/v1/messages", SINGLE_LIMIT + 1, true), SINGLE_LIMIT);
    }

    @Test
    void anAnnouncedBatchOverTheOuterLimitIsAProblemNamingTheLimit() throws IOException {
        // The batch endpoint's own limit (16 MiB) is the one named: it is the one the client must keep to.
        Answer answer = announced("/v1/messages/batch", OUTER_LIMIT + 1);
        assertProblem(answer, BATCH_LIMIT);
    }

    @Test
    void anyOtherEndpointRefusesAnOversizedBodyAsAProblemToo() throws IOException {
        assertProblem(announced("/v1/reruns", OUTER_LIMIT + 1), OUTER_LIMIT);
        assertProblem(chunked("/v1/reruns", OUTER_LIMIT + 1, true), OUTER_LIMIT);
        assertProblem(announced("/v1/beneficiaries/B-big/evaluations", OUTER_LIMIT + 1), OUTER_LIMIT);
    }

    @Test
    void theRefusalComesOnceTheLimitIsCrossedNotWhenTheBodyEnds() throws IOException {
        // The body is never finished: were it buffered to its end, no answer would come (the read times out).
        assertProblem(chunked("/v1/messages/batch", OUTER_LIMIT + CHUNK, false), BATCH_LIMIT);
        assertProblem(chunked("/v1/reruns", OUTER_LIMIT + CHUNK, false), OUTER_LIMIT);
    }

    private static void assertProblem(Answer answer, long limit) throws IOException {
        assertEquals(413, answer.status(), answer.toString());
        assertTrue(answer.headers().getOrDefault("content-type", "").startsWith(Problem.MEDIA_TYPE), answer.toString());
        JsonNode problem = answer.json();
        assertEquals(413, problem.get("status").asInt(), answer.body());
        assertEquals("urn:eligo:problem:too-large", problem.get("type").asText(), answer.body());
        assertTrue(problem.get("detail").asText().contains(Long.toString(limit)), answer.body());
        assertTrue(problem.get("errors").isArray() && problem.get("errors").isEmpty(), answer.body());
    }

    /** Sends {@code size} bytes of a JSON object announced with Content-Length and reads the answer. */
    private Answer announced(String path, long size) throws IOException {
        return exchange(path, "Content-Length: " + size, size, false, true);
    }

    /**
     * Sends {@code size} bytes of a JSON object in chunks and reads the answer; with {@code finish}
     * false the body is left unfinished (no last chunk), so only an answer given before its end can arrive.
     */
    private Answer chunked(String path, long size, boolean finish) throws IOException {
        return exchange(path, "Transfer-Encoding: chunked", size, true, finish);
    }

    /**
     * The body is written on its own thread while this one reads: the server may answer (and stop
     * reading) before the body is through, and a writer blocked on a full socket must not keep the
     * answer from being read. Closing the socket ends the writer.
     */
    private Answer exchange(String path, String framing, long size, boolean chunked, boolean finish) throws IOException {
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            out.write(head(path, framing));
            Thread writer = new Thread(() -> {
                try {
                    writeBody(out, size, chunked);
                    if (chunked && finish) {
                        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.flush();
                } catch (IOException refusedEarly) {
                    // The server answered and closed before the body was through.
                }
            }, "oversized-body-writer");
            writer.setDaemon(true);
            writer.start();
            return read(socket.getInputStream());
        }
    }

    private static byte[] head(String path, String framing) {
        return ("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + framing + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** {"pad": "xxx…"} of exactly {@code size} bytes. */
    private static void writeBody(OutputStream out, long size, boolean chunked) throws IOException {
        byte[] open = "{\"pad\": \"".getBytes(StandardCharsets.US_ASCII);
        byte[] close = "\"}".getBytes(StandardCharsets.US_ASCII);
        byte[] padding = new byte[CHUNK];
        Arrays.fill(padding, (byte) 'x');
        writePart(out, open, open.length, chunked);
        long left = size - open.length - close.length;
        while (left > 0) {
            int n = (int) Math.min(CHUNK, left);
            writePart(out, padding, n, chunked);
            left -= n;
        }
        writePart(out, close, close.length, chunked);
        out.flush();
    }

    private static void writePart(OutputStream out, byte[] bytes, int length, boolean chunked) throws IOException {
        if (chunked) {
            out.write((Integer.toHexString(length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        }
        out.write(bytes, 0, length);
        if (chunked) {
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    /** Status line, headers (names lower-cased) and a body framed by Content-Length or chunked. */
    private static Answer read(InputStream in) throws IOException {
        String statusLine = line(in);
        Map<String, String> headers = org.eligo.testing.RawHttp.headers(in);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            for (int size = Integer.parseInt(line(in).split(";")[0].trim(), 16); size > 0; size = Integer.parseInt(line(in).split(";")[0].trim(), 16)) {
                body.write(in.readNBytes(size));
                line(in);
            }
        } else if (headers.containsKey("content-length")) {
            body.write(in.readNBytes(Integer.parseInt(headers.get("content-length"))));
        }
        return new Answer(Integer.parseInt(statusLine.split(" ")[1]), headers, body.toString(StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
        return org.eligo.testing.RawHttp.line(in);
    }
}
