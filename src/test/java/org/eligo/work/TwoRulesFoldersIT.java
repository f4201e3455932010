package org.eligo.work;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * Two service processes on one database with different rules folders, as during a rolling deploy
 * that adds a ruleset: instance A has the project's {@code rules/} (Medicaid); instance B has the
 * same plus the made-up senior heating assistance from the test resources. Work that only B can do
 * (automatic determinations and a rerun of the second ruleset) is left by A, untouched and shown in
 * its stats and metrics, and done by B once B runs beside it. In the end every message is processed
 * once and every expected determination exists exactly once; nothing failed and nothing was lost.
 *
 * <p>The services are the packaged application ({@code target/quarkus-app/quarkus-run.jar}, or the
 * native executable when the native profile built one), so this runs after {@code package}, under
 * failsafe. Each runs as its own process with its own log in {@code target/two-rules-folders/}.
 */
class TwoRulesFoldersIT {

    private static final String MEDICAID = "medicaid-community-engagement";
    private static final String SENIOR = "senior-heating-assistance";
    private static final int BENEFICIARIES = 12;
    private static final Path WORK = Path.of("target", "two-rules-folders");
    private static final Duration START_TIME = Duration.ofMinutes(3);
    private static final Duration WORK_TIME = Duration.ofMinutes(2);

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Service> services = new ArrayList<>();
    private EmbeddedPostgres database;

    /** A running service process and where it answers. */
    private record Service(String name, Process process, int port, Path log) {

        URI uri(String path) {
            return URI.create("http://localhost:" + port + path);
        }
    }

    @AfterEach
    void stopEverything() throws IOException {
        for (Service service : services) {
            stop(service);
        }
        if (database != null) {
            database.close();
        }
    }

    @Test
    void workOnlyTheOtherInstanceCanDoWaitsForItAndNothingIsLost() throws Exception {
        assertTrue(Files.isRegularFile(Path.of("target", "quarkus-app", "quarkus-run.jar"))
                || Files.isExecutable(Path.of(System.getProperty("native.image.path", "none"))), "run after package: no packaged application");
        clean(WORK);
        Path rulesA = Path.of("rules").toAbsolutePath();
        Path rulesB = WORK.resolve("rules-b").toAbsolutePath();
        copy(rulesA.resolve(MEDICAID), rulesB.resolve(MEDICAID));
        copy(rulesA.resolve("fact-types"), rulesB.resolve("fact-types"));
        copy(Path.of("src", "test", "resources", "rulesets", SENIOR), rulesB.resolve(SENIOR));
        database = EmbeddedPostgres.builder().setServerConfig("max_connections", "200").start();
        List<String> beneficiaries = new ArrayList<>();
        for (int i = 0; i < BENEFICIARIES; i++) {
            beneficiaries.add("B-two-folders-" + i);
        }

        // 1. B alone receives and processes the messages, which queues an automatic determination
        //    per beneficiary for each of its two rulesets, and accepts a rerun of the second one. It
        //    stops before doing any of that: its determinations wait out an hour of settling, and
        //    none of its threads takes reruns.
        Service first = start("b-first", rulesB, Map.of("eligo.determinations.settle", "1h", "eligo.determinations.max-settle", "1h",
                "eligo.reruns.workers", "0"));
        List<Map<String, Object>> messages = new ArrayList<>();
        for (String beneficiary : beneficiaries) {
            messages.add(message("birth-" + beneficiary, "person.birthdate", beneficiary, Map.of("birth_date", "1950-03-01")));
            for (int month = 4; month <= 6; month++) {
                messages.add(message("income-" + month + "-" + beneficiary, "income.monthly", beneficiary,
                        Map.of("year", 2027, "month", month, "amount_cents", 90_000, "hours", 85)));
            }
        }
        assertEquals(202, post(first, "/v1/messages/batch", Map.of("messages", messages)).statusCode());
        await().atMost(WORK_TIME).until(() -> count("SELECT count(*) FROM message WHERE status = 'PROCESSED'") == messages.size());
        await().atMost(WORK_TIME).until(() -> count("SELECT count(*) FROM determination_queue WHERE ruleset_id = ?", SENIOR) == BENEFICIARIES
                && count("SELECT count(*) FROM determination_queue WHERE ruleset_id = ?", MEDICAID) == BENEFICIARIES);
        String seniorRun = body(post(first, "/v1/reruns", Map.of("scope", "beneficiaries", "beneficiary_ids", beneficiaries,
                "period", "2027-07", "ruleset", SENIOR, "reason", "two rules folders"))).path("id").asText();
        stop(first);
        // The hour of settling passes, without waiting for it.
        update("UPDATE determination_queue SET next_attempt_at = clock_timestamp()");

        // 2. A alone: it makes the Medicaid determinations and a Medicaid rerun (queued after the
        //    senior one and of the same size, so its workers pass the senior run first), and leaves
        //    B's work as it found it.
        Service a = start("a", rulesA, Map.of());
        String medicaidRun = body(post(a, "/v1/reruns", Map.of("scope", "beneficiaries", "beneficiary_ids", beneficiaries,
                "period", "2027-07", "ruleset", MEDICAID, "reason", "two rules folders"))).path("id").asText();
        await().atMost(WORK_TIME).until(() -> "DONE".equals(body(get(a, "/v1/reruns/" + medicaidRun)).path("status").asText()));
        await().atMost(WORK_TIME).until(() -> count("SELECT count(*) FROM determination_queue WHERE ruleset_id = ?", MEDICAID) == 0);

        assertEquals(BENEFICIARIES, count("SELECT count(*) FROM determination_queue WHERE ruleset_id = ? AND attempts = 0 AND last_error IS NULL"
                + " AND next_attempt_at <= clock_timestamp()", SENIOR), "B's determinations: due, never tried, never failed, never dropped");
        assertEquals(0, count("SELECT count(*) FROM determination WHERE ruleset_id = ?", SENIOR));
        assertEquals(1, count("SELECT count(*) FROM rerun WHERE id = ? AND status = 'QUEUED' AND started_at IS NULL", seniorRun),
                "B's rerun: never started by A");
        assertEquals(BENEFICIARIES, count("SELECT count(*) FROM rerun_item WHERE rerun_id = ? AND state = 'PENDING' AND error IS NULL", seniorRun));
        JsonNode stats = body(get(a, "/v1/stats"));
        assertEquals(BENEFICIARIES, stats.path("left_for_other_instances").path("determinations").asLong(), stats.toString());
        assertEquals(BENEFICIARIES, stats.path("left_for_other_instances").path("reruns").asLong(), stats.toString());
        assertEquals(0, stats.path("left_for_other_instances").path("messages").asLong(), stats.toString());
        assertEquals(0, stats.path("determinations").path("failed").asLong(), stats.toString());
        // The gauges are measured every 5 s.
        await().atMost(Duration.ofSeconds(30)).until(() -> gauge(a, "eligo_work_left_for_others", "kind=\"determinations\"") == BENEFICIARIES
                && gauge(a, "eligo_work_left_for_others", "kind=\"reruns\"") == BENEFICIARIES);

        // 3. B again, beside A: it does what was left for it.
        Service b = start("b", rulesB, Map.of());
        await().atMost(WORK_TIME).until(() -> count("SELECT count(*) FROM determination_queue") == 0);
        await().atMost(WORK_TIME).until(() -> "DONE".equals(body(get(b, "/v1/reruns/" + seniorRun)).path("status").asText()));

        // Every message processed once; every expected determination exactly once; nothing failed.
        assertEquals(messages.size(), count("SELECT count(*) FROM message WHERE status = 'PROCESSED' AND attempts = 1 AND last_error IS NULL"));
        assertEquals(messages.size(), count("SELECT count(*) FROM message"));
        for (String beneficiary : beneficiaries) {
            for (String ruleset : List.of(MEDICAID, SENIOR)) {
                assertEquals(1, count("SELECT count(*) FROM determination WHERE beneficiary_id = ? AND ruleset_id = ? AND trigger = 'ingest'"
                        + " AND period = '2027-07'", beneficiary, ruleset), beneficiary + " " + ruleset + " automatic");
            }
            assertEquals(1, count("SELECT count(*) FROM determination WHERE beneficiary_id = ? AND ruleset_id = ? AND rerun_id = ?",
                    beneficiary, MEDICAID, medicaidRun), beneficiary + " Medicaid rerun");
            assertEquals(1, count("SELECT count(*) FROM determination WHERE beneficiary_id = ? AND ruleset_id = ? AND rerun_id = ?",
                    beneficiary, SENIOR, seniorRun), beneficiary + " senior rerun");
        }
        assertEquals(4L * BENEFICIARIES, count("SELECT count(*) FROM determination"), "and no other");
        assertEquals(2L * BENEFICIARIES, count("SELECT count(*) FROM rerun_item WHERE state = 'DONE'"));
        assertEquals(0, count("SELECT count(*) FROM rerun_item WHERE state <> 'DONE'"));
        for (Service service : List.of(a, b)) {
            JsonNode after = body(get(service, "/v1/stats"));
            assertEquals(0, after.path("messages").path("failed").asLong(), after.toString());
            assertEquals(0, after.path("determinations").path("pending").asLong(), after.toString());
            assertEquals(0, after.path("determinations").path("failed").asLong(), after.toString());
            assertEquals(0, after.path("left_for_other_instances").path("determinations").asLong(), after.toString());
            assertEquals(0, after.path("left_for_other_instances").path("reruns").asLong(), after.toString());
        }
        // And the audit trail holds every record the two instances wrote.
        JsonNode integrity = body(get(b, "/v1/integrity/verify"));
        assertTrue(integrity.path("ok").asBoolean(), integrity.toString());
    }

    private Service start(String name, Path rules, Map<String, String> settings) throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        List<String> command = new ArrayList<>();
        Path nativeExecutable = Path.of(System.getProperty("native.image.path", "none"));
        boolean isNative = Files.isExecutable(nativeExecutable);
        if (isNative) {
            command.add(nativeExecutable.toAbsolutePath().toString());
        } else {
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        }
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("eligo.auth.enabled", "false");
        properties.put("eligo.rules.directory", rules.toString());
        properties.put("eligo.clock", "2027-07-15T12:00:00Z");
        properties.put("quarkus.http.port", Integer.toString(port));
        properties.put("quarkus.datasource.jdbc.max-size", "16");
        properties.putAll(settings);
        properties.forEach((key, value) -> command.add("-D" + key + "=" + value));
        if (!isNative) {
            command.addAll(List.of("-jar", Path.of("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath().toString()));
        }
        Path directory = Files.createDirectories(WORK.resolve(name));
        Path log = WORK.resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("QUARKUS_DATASOURCE_JDBC_URL", database.getJdbcUrl("postgres", "postgres"));
        builder.environment().put("QUARKUS_DATASOURCE_USERNAME", "postgres");
        builder.environment().put("QUARKUS_DATASOURCE_PASSWORD", "");
        builder.environment().put("ELIGO_EMBEDDED_POSTGRES_ENABLED", "false");
        Service service = new Service(name, builder.start(), port, log);
        services.add(service);
        try {
            await().atMost(START_TIME).pollInterval(Duration.ofMillis(250)).until(() -> {
                if (!service.process().isAlive()) {
                    throw new AssertionError(name + " exited with " + service.process().exitValue() + ":\n" + tail(log));
                }
                try {
                    return get(service, "/q/health/ready").statusCode() == 200;
                } catch (IOException notListeningYet) {
                    return false;
                }
            });
        } catch (RuntimeException | AssertionError e) {
            System.err.println(name + "'s log:\n" + tail(log));
            throw e;
        }
        return service;
    }

    /** Stops a service as an orchestrator does (SIGTERM), and waits for it to be gone. */
    private void stop(Service service) {
        Process process = service.process();
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static Map<String, Object> message(String externalId, String type, String beneficiary, Map<String, Object> data) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("source", "two-rules-folders");
        message.put("external_id", externalId);
        message.put("type", type);
        message.put("beneficiary_id", beneficiary);
        message.put("data", data);
        return message;
    }

    private HttpResponse<String> get(Service service, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(service.uri(path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(Service service, String path, Object body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(service.uri(path)).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body))).build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode body(HttpResponse<String> response) throws IOException {
        assertTrue(response.statusCode() / 100 == 2, response.uri() + " answered " + response.statusCode() + ": " + response.body());
        return json.readTree(response.body());
    }

    /** A gauge's value in the service's Prometheus output, for the series carrying {@code label}. */
    private double gauge(Service service, String name, String label) throws IOException, InterruptedException {
        Matcher line = Pattern.compile("(?m)^" + name + "\\{[^}]*" + Pattern.quote(label) + "[^}]*} ([0-9.E+-]+)$")
                .matcher(get(service, "/q/metrics").body());
        return line.find() ? Double.parseDouble(line.group(1)) : -1;
    }

    private long count(String sql, Object... parameters) throws SQLException {
        try (Connection connection = database.getPostgresDatabase().getConnection(); PreparedStatement statement = prepare(connection, sql, parameters);
             ResultSet rs = statement.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void update(String sql, Object... parameters) throws SQLException {
        try (Connection connection = database.getPostgresDatabase().getConnection(); PreparedStatement statement = prepare(connection, sql, parameters)) {
            statement.executeUpdate();
        }
    }

    private static PreparedStatement prepare(Connection connection, String sql, Object... parameters) throws SQLException {
        PreparedStatement statement = connection.prepareStatement(sql);
        for (int i = 0; i < parameters.length; i++) {
            statement.setObject(i + 1, parameters[i]);
        }
        return statement;
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }

    private static void clean(Path directory) throws IOException {
        if (Files.exists(directory)) {
            try (Stream<Path> old = Files.walk(directory)) {
                for (Path path : old.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(path);
                }
            }
        }
        Files.createDirectories(directory);
    }
}
