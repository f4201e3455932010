package org.eligo.imports;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.eligo.testing.Api.income;
import static org.eligo.testing.Api.post;
import static org.eligo.testing.Api.unique;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPOutputStream;

import jakarta.inject.Inject;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.eligo.testing.Sql;
import org.eligo.work.WorkEngine;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;

/**
 * POST /v1/messages/import: a newline-delimited file is staged whole, then stored line by line in
 * chunks; valid lines are stored even when others are rejected, every line is idempotent, and the
 * report pages its rejected lines from the database.
 */
@QuarkusTest
class ImportTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    WorkEngine engine;

    @Inject
    ImportWork work;

    static String line(Map<String, Object> message) {
        try {
            return JSON.writeValueAsString(message);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Response upload(byte[] body, String contentEncoding) {
        var request = given().contentType("application/x-ndjson").body(body);
        if (contentEncoding != null) {
            request = request.header("Content-Encoding", contentEncoding);
        }
        return request.when().post("/v1/messages/import");
    }

    static Response awaitDone(String id) {
        List<Response> last = new ArrayList<>(1);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            Response response = given().get("/v1/imports/" + id + "?limit=500");
            last.clear();
            last.add(response);
            return !"STORING".equals(response.path("status"));
        });
        return last.get(0);
    }

    static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(bytes);
        }
        return out.toByteArray();
    }

    @Test
    void validLinesAreStoredAndEveryOtherLineIsReportedWithItsNumberAndPointer() {
        String source = unique("import");
        String b = unique("B");
        post("/v1/messages", income(source, "taken", b, 2027, 1, 100, null)).then().statusCode(202);
        String file = String.join("\n",
                line(income(source, "1", b, 2027, 1, 1000, 80)),                        // 1 new
                line(income(source, "2", b, 2027, 2, 1000, 80)) + "\r",                 // 2 new (CRLF)
                "",                                                                     // 3 blank: skipped
                "{\"source\": \"" + source + "\", ",                                    // 4 not JSON
                line(income(source, "3", b, 2027, 3, 1000, -5)),                        // 5 invalid field
                line(income(source, "1", b, 2027, 1, 1000, 80)),                        // 6 repeats line 1: duplicate
                line(income(source, "1", b, 2027, 1, 9999, 80)),                        // 7 key of line 1, other content: conflicting
                line(income(source, "taken", b, 2027, 1, 100, null)),                   // 8 stored before, same: duplicate
                line(income(source, "taken", b, 2027, 1, 200, null)),                   // 9 stored before, other: conflicting
                "[1, 2]",                                                               // 10 not an object
                "   ")                                                                  // 11 blank, no newline at the end
                ;
        Response accepted = upload(file.getBytes(StandardCharsets.UTF_8), null);
        accepted.then().statusCode(202).header("Location", startsWith("/v1/imports/imp_"))
                .body("status", equalTo("STORING")).body("lines", equalTo(9));
        String id = accepted.path("id");

        Response report = awaitDone(id);
        report.then().statusCode(200)
                .body("status", equalTo("DONE"))
                .body("paused", equalTo(false))
                .body("finished_at", notNullValue())
                .body("lines", equalTo(9))
                .body("lines_done", equalTo(9))
                .body("new_lines", equalTo(2))
                .body("duplicate_lines", equalTo(2))
                .body("conflicting_lines", equalTo(2))
                .body("invalid_lines", equalTo(3))
                .body("rejected.line", equalTo(List.of(4, 5, 7, 9, 10)))
                .body("rejected.kind", equalTo(List.of("invalid", "invalid", "conflicting", "conflicting", "invalid")))
                .body("rejected[0].errors[0].pointer", equalTo(""))
                .body("rejected[1].errors[0].pointer", equalTo("/data/hours"))
                .body("rejected[2].errors[0].pointer", equalTo("/external_id"))
                .body("rejected[4].errors[0].message", equalTo("must be an object"))
                .body("next_cursor", equalTo(null));
        assertEquals(3, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
        assertEquals(0, Sql.count("SELECT count(*) FROM import_line WHERE import_id = ?", id));
        // Stored messages are processed like any other.
        await().atMost(Duration.ofSeconds(30)).until(() ->
                Sql.count("SELECT count(*) FROM message WHERE source = ? AND status = 'PROCESSED'", source) == 3);
    }

    @Test
    void aGzipFileIsReadWithOrWithoutContentEncodingAndAResubmittedFileStoresNothingTwice() throws IOException {
        String source = unique("gz");
        StringBuilder file = new StringBuilder();
        for (int i = 1; i <= 2500; i++) {
            file.append(line(income(source, Integer.toString(i), "B-gz-" + (i % 40), 2027, 1 + i % 12, i, 80))).append('\n');
        }
        byte[] gz = gzip(file.toString().getBytes(StandardCharsets.UTF_8));

        String first = upload(gz, "gzip").then().statusCode(202).body("lines", equalTo(2500)).extract().path("id");
        awaitDone(first).then().body("status", equalTo("DONE")).body("new_lines", equalTo(2500)).body("duplicate_lines", equalTo(0));

        String again = upload(gz, null).then().statusCode(202).extract().path("id");
        assertNotEquals(first, again);
        awaitDone(again).then().body("status", equalTo("DONE")).body("new_lines", equalTo(0)).body("duplicate_lines", equalTo(2500))
                .body("rejected", equalTo(List.of()));
        assertEquals(2500, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
    }

    @Test
    void rejectedLinesArePagedWithACursor() {
        String source = unique("pages");
        StringBuilder file = new StringBuilder();
        for (int i = 1; i <= 7; i++) {
            file.append("not json ").append(i).append('\n');
        }
        file.append(line(income(source, "ok", "B-pages", 2027, 1, 1, 80))).append('\n');
        String id = upload(file.toString().getBytes(StandardCharsets.UTF_8), null).then().statusCode(202).extract().path("id");
        awaitDone(id);
        List<Integer> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Response page = given().queryParam("limit", 3).queryParam("cursor", cursor == null ? "" : cursor).get("/v1/imports/" + id);
            page.then().statusCode(200).body("invalid_lines", equalTo(7)).body("new_lines", equalTo(1));
            seen.addAll(page.path("rejected.line"));
            cursor = page.path("next_cursor");
            pages++;
        } while (cursor != null);
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7), seen);
        assertEquals(3, pages);
        given().queryParam("cursor", "nope!").get("/v1/imports/" + id).then().statusCode(400)
                .contentType("application/problem+json").body("errors[0].parameter", equalTo("cursor"));
    }

    @Test
    void linesThatAreNotTextAreRejectedByNumberAndTheOthersStored() {
        String source = unique("bytes");
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes((line(income(source, "1", "B-bytes", 2027, 1, 1, 80)) + "\n").getBytes(StandardCharsets.UTF_8));
        file.writeBytes(new byte[] {'{', '"', (byte) 0xC0, (byte) 0xAF, '"', '}', '\n'});                 // 2: overlong UTF-8
        file.writeBytes(new byte[] {'{', 0, '}', '\n'});                                                  // 3: NUL
        file.writeBytes(("{\"a\": \"tab\there\\\\\"}\n").getBytes(StandardCharsets.UTF_8));             // 4: COPY's escapes survive, then invalid
        file.writeBytes((line(income(source, "2", "B-bytes", 2027, 2, 1, 80))).getBytes(StandardCharsets.UTF_8));
        String id = upload(file.toByteArray(), null).then().statusCode(202).body("lines", equalTo(5)).extract().path("id");
        awaitDone(id).then().body("new_lines", equalTo(2)).body("invalid_lines", equalTo(3))
                .body("rejected.line", equalTo(List.of(2, 3, 4)))
                .body("rejected[0].errors[0].message", startsWith("the line is not valid UTF-8"))
                .body("rejected[1].errors[0].message", startsWith("the line holds a NUL byte"))
                .body("rejected[2].errors[0].message", startsWith("is not valid JSON"));
    }

    @Test
    void badUploadsAreRefusedWholeAndNothingIsKept() {
        long before = Sql.count("SELECT count(*) FROM import");
        upload(new byte[0], null).then().statusCode(400).contentType("application/problem+json");
        upload("\n \n\n".getBytes(StandardCharsets.UTF_8), null).then().statusCode(400).body("errors[0].pointer", equalTo(""));
        upload("not gzip at all".getBytes(StandardCharsets.UTF_8), "gzip").then().statusCode(400)
                .contentType("application/problem+json").body("detail", startsWith("The file is not valid gzip"));
        assertEquals(before, Sql.count("SELECT count(*) FROM import"));
        assertEquals(0, Sql.count("SELECT count(*) FROM import_line l WHERE NOT EXISTS (SELECT 1 FROM import i WHERE i.id = l.import_id)"));
        given().get("/v1/imports/imp_01JZZZZZZZZZZZZZZZZZZZZZZZ").then().statusCode(404).contentType("application/problem+json");
        given().get("/v1/imports/nonsense").then().statusCode(404);
    }

    @Test
    void aFileLargerThanTheOtherBodiesLimitIsStreamedNotRefused() throws IOException {
        // 20 MB of lines: over quarkus.http.limits.max-body-size (17M), which bounds every other body.
        String source = unique("big");
        StringBuilder one = new StringBuilder();
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        int lines = 0;
        String padding = "x".repeat(2000);
        while (file.size() < 20 * 1024 * 1024) {
            one.setLength(0);
            // Invalid on purpose (an unknown field), so that the test stores nothing and stays quick to settle.
            one.append("{\"source\":\"").append(source).append("\",\"pad\":\"").append(padding).append("\"}\n");
            file.writeBytes(one.toString().getBytes(StandardCharsets.UTF_8));
            lines++;
        }
        Response accepted = upload(file.toByteArray(), null);
        accepted.then().statusCode(202).body("lines", equalTo(lines));
        // Staged lines plus settled ones, in one snapshot: every line is there, once.
        String id = accepted.path("id");
        assertEquals(lines, Sql.count("""
                SELECT (SELECT count(*) FROM import_line WHERE import_id = ?)
                     + (SELECT new_lines + duplicate_lines + conflicting_lines + invalid_lines FROM import WHERE id = ?)""", id, id));
        awaitDone(id).then().body("invalid_lines", equalTo(lines));
    }

    /**
     * Uploads in progress are bounded (eligo.imports.max-concurrent-uploads, 2): a third is answered
     * 503 with Retry-After while two slow ones hold their threads and connections, and once they are
     * gone (the client closed: nothing of theirs is kept) an upload goes through again.
     */
    @Test
    void slowUploadsCannotTakeEveryThreadAndConnection() throws Exception {
        List<java.net.Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                java.net.Socket socket = new java.net.Socket("localhost", io.restassured.RestAssured.port);
                socket.getOutputStream().write(("POST /v1/messages/import HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\n"
                        + "Content-Length: 1000000\r\n\r\n{\"source\": ").getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                slow.add(socket);
            }
            byte[] file = (line(income(unique("third"), "1", "B-third", 2027, 1, 1, 80)) + "\n").getBytes(StandardCharsets.UTF_8);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> upload(file, null).statusCode() == 503);
            upload(file, null).then().statusCode(503).contentType("application/problem+json").header("Retry-After", notNullValue());
        } finally {
            for (java.net.Socket socket : slow) {
                socket.close();
            }
        }
        // The slow uploads never commit: whatever else was stored meanwhile, the next upload adds exactly one import.
        long importsBefore = Sql.count("SELECT count(*) FROM import");
        String source = unique("after");
        byte[] file = (line(income(source, "1", "B-after", 2027, 1, 1, 80)) + "\n").getBytes(StandardCharsets.UTF_8);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> upload(file, null).statusCode() == 202);
        assertEquals(importsBefore + 1, Sql.count("SELECT count(*) FROM import"), "the slow uploads kept nothing");
    }

    /**
     * Two workers storing at once never take the same lines: each chunk is claimed under the import's
     * row lock (SKIP LOCKED), so the second worker finds the import held and takes nothing from it.
     */
    @Test
    void twoWorkersNeverStoreTheSameLinesTwice() throws Exception {
        String source = unique("race");
        StringBuilder file = new StringBuilder();
        for (int i = 1; i <= 6000; i++) {
            file.append(line(income(source, Integer.toString(i), "B-race-" + (i % 100), 2027, 1 + i % 12, i, 80))).append('\n');
        }
        String id = upload(file.toString().getBytes(StandardCharsets.UTF_8), null).then().statusCode(202).extract().path("id");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<Integer>> racers = new ArrayList<>();
            for (int r = 0; r < 4; r++) {
                racers.add(() -> {
                    int claimed = 0;
                    for (int k = 0; k < 20; k++) {
                        claimed += engine.runBatch(work);
                    }
                    return claimed;
                });
            }
            for (Future<Integer> racer : pool.invokeAll(racers)) {
                racer.get();
            }
        } finally {
            pool.shutdownNow();
        }
        Response report = awaitDone(id);
        report.then().body("status", equalTo("DONE")).body("lines_done", equalTo(6000)).body("new_lines", equalTo(6000))
                .body("duplicate_lines", equalTo(0)).body("conflicting_lines", equalTo(0));
        assertEquals(6000, Sql.count("SELECT count(*) FROM message WHERE source = ?", source));
        assertNull(report.path("last_error"));
        assertTrue(Sql.count("SELECT count(DISTINCT external_id) FROM message WHERE source = ?", source) == 6000);
    }
    @Test
    void importsAreListedNewestFirstByStatusAPageAtATime() {
        String source = unique("list");
        List<String> ids = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            String line = "{\"source\":\"" + source + "\",\"external_id\":\"" + n + "\",\"type\":\"person.birthdate\",\"beneficiary_id\":\""
                    + unique("BL") + "\",\"data\":{\"birth_date\":\"1980-01-01\"}}\n";
            ids.add(upload(line.getBytes(java.nio.charset.StandardCharsets.UTF_8), null).then().statusCode(202).extract().path("id"));
        }
        ids.forEach(ImportTest::awaitDone);
        Response first = given().queryParam("status", "DONE").queryParam("limit", 2).get("/v1/imports");
        first.then().statusCode(200).body("items.id", contains(ids.get(2), ids.get(1))).body("items[0].status", equalTo("DONE"))
                .body("items[0].new_lines", equalTo(1)).body("items[0].lines_done", equalTo(1)).body("items[0].paused", equalTo(false));
        given().queryParam("status", "DONE").queryParam("limit", 2).queryParam("cursor", (String) first.path("next_cursor")).get("/v1/imports")
                .then().statusCode(200).body("items[0].id", equalTo(ids.get(0)));
        given().queryParam("status", "STORING").queryParam("limit", 500).get("/v1/imports").then().statusCode(200)
                .body("items.id", not(hasItem(ids.get(0))));
        given().queryParam("status", "done").get("/v1/imports").then().statusCode(400).contentType("application/problem+json")
                .body("errors[0].parameter", equalTo("status"));
        given().queryParam("cursor", "x").get("/v1/imports").then().statusCode(400).body("errors[0].parameter", equalTo("cursor"));
    }
}
