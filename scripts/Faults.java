import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Fault tests that break real things (issue 20): the packaged service (target/quarkus-app) on a
 * throw-away PostgreSQL from Debian's binaries that this program starts itself (data directory in a
 * temporary directory, its own port), and these scenarios, each printing one line
 * {@code faults: <scenario>: PASSED: <numbers>} (or FAILED, or SKIPPED with the reason):
 *
 * <ul>
 * <li>{@code malformed}: 1,000+ malformed, truncated, oversized, wrongly encoded (overlong UTF-8
 *     included) and deeply nested bodies on every write endpoint, and tokens with a wrong type in
 *     every claim (alg none, bad base64, ...) on each of them: no 5xx, no row stored.</li>
 * <li>{@code slow}: 200 connections held idle or sending their headers a byte a second: the health
 *     check and ingest are still answered, and how fast.</li>
 * <li>{@code pg-kill}: PostgreSQL killed (SIGKILL of the postmaster and all its processes) and
 *     restarted while 4 clients ingest: every message answered 2xx stored exactly once, every other
 *     answer a 503 or a connection error, none a 500, and the service back within 10 s of the
 *     database.</li>
 * <li>{@code pg-freeze}: PostgreSQL frozen (SIGSTOP on every process) for 30 s under load, the
 *     service started with shorter time-outs: every request answered 503 within the socket time-out
 *     plus the pool's acquisition time-out, nothing accepted lost after SIGCONT.</li>
 * <li>{@code service-kill}: the service killed with SIGKILL mid-import of a 20,000-line file, and
 *     again mid-seal (the sealer held at its block's INSERT by a lock on ledger_block, the JVM stopped
 *     there, the lock released, the seal's transaction seen open, then killed): the import finishes with every line stored once, every message processed once,
 *     and the ledger verifies. (Mid-rerun: scripts/smoke-quickstart.sh.)</li>
 * <li>{@code disk-full-wal}, {@code disk-full-data}: a second PostgreSQL whose WAL (or whose data
 *     directory) is on a 48 MB tmpfs, filled by ingest until PostgreSQL cannot write (WAL: it
 *     PANICs and stops; data: each write fails with "could not extend file"): 503s, never a 500;
 *     once the tmpfs is made 256 MB (PostgreSQL started again if it had stopped), ingest works
 *     again, everything answered 2xx is stored once, pg_amcheck --heapallindexed finds no
 *     corruption and the ledger verifies. Needs mount (root); otherwise SKIPPED, with the reason.</li>
 * </ul>
 *
 * Run from the project folder after {@code ./mvnw package -DskipTests}: {@code java scripts/Faults.java
 * [scenario...]} (all by default). Settings (environment): FAULTS_PG_BIN (a PostgreSQL bin directory;
 * default the newest /usr/lib/postgresql/N/bin), FAULTS_PORT (18180), FAULTS_PG_PORT (15480; the
 * disk-full databases take the next two), FAULTS_FREEZE_OPTS (more service options for pg-freeze: to
 * see it fail, {@code -Deligo.database.socket-timeout=120s -Deligo.database.statement-timeout=60s}),
 * FAULTS_KEEP (keep the work directory and its logs), FAULTS_DEBUG (pg-freeze lists every answer).
 * Exit status 1 if any scenario failed.
 */
public final class Faults {

    static final Path PROJECT = Path.of("").toAbsolutePath();
    static final Path JAR = PROJECT.resolve("target/quarkus-app/quarkus-run.jar");
    static final int PORT = Integer.parseInt(env("FAULTS_PORT", "18180"));
    static final int PG_PORT = Integer.parseInt(env("FAULTS_PG_PORT", "15480"));
    static final String BASE = "http://localhost:" + PORT;
    static final boolean ROOT = "root".equals(System.getProperty("user.name"));
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    static final long T0 = System.nanoTime();

    static Path work;
    static String pgBin;
    static PrivateKey tokenKey;
    static byte[] tokenPublicDer;
    static String ledgerKeyPem;
    static Pg pg;
    static Service service;
    static final List<Runnable> CLEANUPS = new ArrayList<>();
    static final List<String> SUMMARY = new ArrayList<>();
    static boolean failed;

    // ------------------------------------------------------------------------------------------------
    public static void main(String[] args) throws Exception {
        List<String> all = List.of("malformed", "slow", "pg-kill", "pg-freeze", "service-kill", "disk-full-wal", "disk-full-data");
        List<String> chosen = args.length == 0 ? all : List.of(args);
        for (String s : chosen) {
            if (!all.contains(s)) {
                System.err.println("faults: unknown scenario " + s + "; the scenarios: " + all);
                System.exit(2);
            }
        }
        if (!Files.exists(JAR)) {
            System.err.println("faults: build first: ./mvnw package -DskipTests");
            System.exit(2);
        }
        pgBin = findPgBin();
        work = Files.createTempDirectory("eligo-faults");
        run("chmod", "755", work.toString());
        Runtime.getRuntime().addShutdownHook(new Thread(Faults::cleanup));
        makeKeys();
        pg = new Pg("pg", work.resolve("pg"), PG_PORT);
        pg.init(List.of());
        pg.start();
        log("PostgreSQL " + pg.psql("show server_version") + " from " + pgBin + " on port " + PG_PORT + "; work directory " + work);
        for (String scenario : chosen) {
            long started = System.nanoTime();
            String line;
            try {
                line = switch (scenario) {
                    case "malformed" -> malformed();
                    case "slow" -> slow();
                    case "pg-kill" -> pgKill();
                    case "pg-freeze" -> pgFreeze();
                    case "service-kill" -> serviceKill();
                    case "disk-full-wal" -> diskFull(true);
                    case "disk-full-data" -> diskFull(false);
                    default -> throw new IllegalStateException(scenario);
                };
            } catch (Failure f) {
                failed = true;
                line = "FAILED: " + f.getMessage();
                if (service != null) {
                    service.tail(40);
                }
            } catch (Exception e) {
                failed = true;
                line = "FAILED: " + e;
                e.printStackTrace();
                if (service != null) {
                    service.tail(40);
                }
            } finally {
                if (service != null) {
                    service.stop();
                    service = null;
                }
            }
            String out = "faults: " + scenario + ": " + line + " (" + seconds(System.nanoTime() - started) + " s)";
            System.out.println(out);
            System.out.flush();
            SUMMARY.add(out);
        }
        cleanup();
        System.out.println("faults: " + (failed ? "FAILED" : "all passed") + " in " + seconds(System.nanoTime() - T0) + " s");
        System.exit(failed ? 1 : 0);
    }

    // --- malformed --------------------------------------------------------------------------------------

    static final String MSOURCE = "faults-malformed";

    /** An endpoint that writes, with a body it accepts (so that only the mutation or the token makes a request bad). */
    record Endpoint(String path, String token, String contentType, String body, Map<String, String> fields) {
    }

    static String malformed() throws Exception {
        pg.ensureUp();
        service = Service.start("malformed", List.of());
        String agency = token("agency", List.of(MSOURCE));
        String analyst = token("analyst", List.of());
        String caseworker = token("caseworker", List.of());
        // One processed message, so that a determination, a rerun or a replay of FM-1 would store something.
        Answer seed = send("POST", "/v1/messages", agency, "application/json", message(MSOURCE, "seed", "FM-1", 2027, 6, 61250).getBytes(StandardCharsets.UTF_8));
        check(seed.status == 202, "the seed message was answered " + seed);
        awaitSql("select count(*) from message where source = '" + MSOURCE + "' and status = 'PROCESSED'", "1", 60);
        awaitSql("select count(*) from determination_queue", "0", 60);
        String msg = message(MSOURCE, "m-1", "FM-1", 2027, 5, 1000);
        List<Endpoint> endpoints = List.of(
                new Endpoint("/v1/messages", agency, "application/json", msg, fieldsOf(msg)),
                new Endpoint("/v1/messages/batch", agency, "application/json", "{\"messages\":[" + msg + "]}", Map.of("messages", "array")),
                new Endpoint("/v1/messages/import", agency, "application/x-ndjson", msg + "\n", Map.of()),
                new Endpoint("/v1/replays", analyst, "application/json", "{\"beneficiary_ids\":[\"FM-1\"],\"dry_run\":false,\"reason\":\"faults\"}",
                        Map.of("beneficiary_ids", "array", "dry_run", "boolean?", "reason", "string?")),
                new Endpoint("/v1/reruns", analyst, "application/json", "{\"scope\":\"beneficiaries\",\"beneficiary_ids\":[\"FM-1\"],\"period\":\"2027-07\",\"reason\":\"faults\"}",
                        Map.of("scope", "string", "beneficiary_ids", "array", "period", "string", "reason", "string?")),
                new Endpoint("/v1/beneficiaries/FM-1/determinations", caseworker, "application/json",
                        "{\"period\":\"2027-07\",\"ruleset\":\"medicaid-community-engagement\"}", Map.of("period", "string", "ruleset", "string?")),
                new Endpoint("/v1/beneficiaries/FM-1/evaluations", caseworker, "application/json",
                        "{\"period\":\"2027-07\",\"as_of\":\"2026-01-01T00:00:00Z\"}", Map.of("period", "string", "as_of", "string?")));
        String[] tables = {"message", "message_key", "fact", "determination", "determination_queue", "rerun", "rerun_item", "replay", "import",
            "import_line", "import_rejection"};
        Map<String, Long> before = counts(tables);
        Tally tally = new Tally();
        Random random = new Random(20);
        // Bodies: each endpoint's valid body, broken in every way below, with the right token.
        for (Endpoint e : endpoints) {
            List<byte[]> bodies = e.path.endsWith("/import") ? importMutations(e.body, random) : bodyMutations(e, random);
            for (byte[] body : bodies) {
                Answer a = send("POST", e.path, e.token, e.contentType, body);
                if (a.status == -1) {   // a kept-alive connection the service had closed: once more on a new one
                    a = send("POST", e.path, e.token, e.contentType, body);
                }
                tally.add("body " + e.path, a, body);
            }
        }
        // Oversized: past the single-message limit (1 MiB), the batch limit (16 MiB) and a determination's.
        String huge = "{\"source\":\"" + MSOURCE + "\",\"external_id\":\"big\",\"type\":\"income.monthly\",\"beneficiary_id\":\"FM-1\",\"data\":{\"note\":\""
                + "x".repeat(1_100_000) + "\"}}";
        tally.add("oversized /v1/messages", send("POST", "/v1/messages", agency, "application/json", huge.getBytes(StandardCharsets.UTF_8)), null);
        byte[] hugeBatch = ("{\"messages\":[" + (msg + ",").repeat(17_000_000 / msg.length()) + msg + "]}").getBytes(StandardCharsets.UTF_8);
        tally.add("oversized /v1/messages/batch", send("POST", "/v1/messages/batch", agency, "application/json", hugeBatch), null);
        byte[] manyMessages = ("{\"messages\":[" + (msg + ",").repeat(1000) + msg + "]}").getBytes(StandardCharsets.UTF_8);
        tally.add("1001 messages in a batch", send("POST", "/v1/messages/batch", agency, "application/json", manyMessages), null);
        for (Endpoint e : endpoints.subList(3, endpoints.size())) {
            tally.add("oversized " + e.path, send("POST", e.path, e.token, "application/json",
                    e.body.replaceFirst("\\{", "{\"zz\":\"" + "y".repeat(2_000_000) + "\",").getBytes(StandardCharsets.UTF_8)), null);
        }
        // Ids and query parameters of the other write endpoints: overlong UTF-8, NUL, too long, unknown.
        for (String id : List.of("msg_%C0%AF", "msg_%00", "run_%ED%A0%80", "%FF", "x".repeat(3000), "msg_01JZZZZZZZZZZZZZZZZZZZZZZZ",
                "run_01JZZZZZZZZZZZZZZZZZZZZZZZ", "..%2F..%2Fstats")) {
            tally.add("id /v1/messages/{id}/retry", send("POST", "/v1/messages/" + id + "/retry", analyst, null, new byte[0]), null);
            tally.add("id /v1/reruns/{id}/cancel", send("POST", "/v1/reruns/" + id + "/cancel", analyst, null, new byte[0]), null);
            tally.add("id /v1/reruns/{id}/retry", send("POST", "/v1/reruns/" + id + "/retry", analyst, null, new byte[0]), null);
        }
        for (String id : List.of("B%00", "B%C0%AF", "B%ED%A0%80", "%FF", "b".repeat(3000), "B%0A1", "%20")) {
            tally.add("id /v1/beneficiaries/{id}/determinations", send("POST", "/v1/beneficiaries/" + id + "/determinations", caseworker,
                    "application/json", endpoints.get(5).body.getBytes(StandardCharsets.UTF_8)), null);
        }
        for (String q : List.of("beneficiary_id=%C0%AF", "ruleset=%00", "beneficiary_id=" + "b".repeat(3000), "ruleset=%FF",
                "beneficiary_id=B%0A1")) {
            tally.add("query /v1/determinations/queue/redrive", send("POST", "/v1/determinations/queue/redrive?" + q, analyst, null, new byte[0]), null);
        }
        // Tokens: each endpoint's valid body with a token that is wrong in one way. A token wrong only
        // where Eligo does not look (jti, aud, iat, nbf; sub or upn when the other names the caller; a
        // string for groups or sources, which may be either) may pass: it is sent only with the seed
        // message, a duplicate, so that passing stores nothing; the others must be refused everywhere.
        List<Map.Entry<String, String>> tokens = badTokens();
        List<String> passed = new ArrayList<>();
        for (Map.Entry<String, String> t : tokens) {
            boolean mayPass = mayPass(t.getKey());
            for (Endpoint e : mayPass ? List.of(endpoints.get(0)) : endpoints) {
                if (e.path.endsWith("/import") && t.getKey().matches("sources=(null|\"\"|\"2099-01-01\")|sources other")) {
                    // A valid agency token holding other sources (or none): an upload is taken and each line
                    // for a source it does not hold rejected in the report (ImportTest), by design.
                    continue;
                }
                String body = mayPass ? message(MSOURCE, "seed", "FM-1", 2027, 6, 61250) : e.body;
                Answer a = send("POST", e.path, t.getValue(), e.contentType, body.getBytes(StandardCharsets.UTF_8));
                if (a.status == -1) {
                    a = send("POST", e.path, t.getValue(), e.contentType, body.getBytes(StandardCharsets.UTF_8));
                }
                tally.add("token " + t.getKey(), a, null);
                if (mayPass && a.status == 200) {
                    passed.add(t.getKey());
                } else if (a.status != 401 && a.status != 403 && a.status != 431) {
                    tally.wrong.add("token " + t.getKey() + " on " + e.path + " -> " + a.status + " " + a.clip());
                }
            }
        }
        // Slowly delivered, then abandoned: a body cut off mid-way by the client.
        int cut = 0;
        for (Endpoint e : endpoints) {
            for (int i = 0; i < 3; i++) {
                try (Socket s = new Socket("localhost", PORT)) {
                    byte[] b = e.body.getBytes(StandardCharsets.UTF_8);
                    String auth = e.token.isEmpty() ? "" : "Authorization: Bearer " + e.token + "\r\n";
                    s.getOutputStream().write(("POST " + e.path + " HTTP/1.1\r\nHost: localhost\r\n" + auth + "Content-Type: " + e.contentType
                            + "\r\nContent-Length: " + (b.length * 2) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().write(b, 0, b.length / 2);
                    s.getOutputStream().flush();
                    cut++;
                }
            }
        }
        Thread.sleep(1500);
        Map<String, Long> after = counts(tables);
        List<String> changed = new ArrayList<>();
        for (String t : tables) {
            if (!before.get(t).equals(after.get(t))) {
                changed.add(t + " " + before.get(t) + " -> " + after.get(t));
            }
        }
        long errors = service.logLinesMatching(" ERROR ");
        // The control: each valid body with its right token is accepted, so the bodies were valid
        // and only the mutation or the token refused them (after the rows were counted).
        List<String> control = new ArrayList<>();
        for (Endpoint e : endpoints) {
            Answer a = send("POST", e.path, e.token, e.contentType, e.body.getBytes(StandardCharsets.UTF_8));
            if (a.status / 100 != 2) {
                control.add(e.path + " -> " + a);
            }
        }
        int total = tally.total() + cut;
        if (!tally.wrong.isEmpty() || tally.fiveHundreds > 0) {
            tally.wrong.stream().limit(60).forEach(w -> log("wrong: " + w));
            tally.samples5xx.forEach(w -> log("5xx: " + w));
        }
        check(tally.fiveHundreds == 0, tally.fiveHundreds + " answers were 5xx, e.g. " + tally.samples5xx);
        check(tally.wrong.isEmpty(), tally.wrong.size() + " answers were not a 4xx refusal, e.g. " + tally.wrong.subList(0, Math.min(5, tally.wrong.size())));
        check(changed.isEmpty(), "rows were stored: " + changed);
        check(control.isEmpty(), "a valid body with its right token was not accepted, so the test proves less than it says: " + control);
        check(errors == 0, errors + " ERROR lines in the service's log");
        check(total >= 1000, "only " + total + " requests");
        return "PASSED: " + total + " malformed requests on " + endpoints.size() + " write endpoints with bodies, 4 more by id or query, "
                + tally.tokens + " of them with one of " + tokens.size() + " bad tokens (" + passed.size() + " wrong only where Eligo does not look passed, on a duplicate: "
                + passed + "); 0 answers 5xx (" + tally.byStatus() + ", "
                + cut + " bodies abandoned mid-way), 0 rows stored in " + tables.length + " tables, 0 ERROR log lines; each valid body with its right token accepted";
    }

    static Map<String, String> fieldsOf(String json) {
        return Map.of("source", "string", "external_id", "string", "type", "string", "beneficiary_id", "string", "data", "object");
    }

    /** Counts answers; a 2xx to a malformed body is wrong (it was invalid by construction). */
    static final class Tally {
        final Map<Integer, Integer> statuses = new TreeMap<>();
        final List<String> wrong = new ArrayList<>();
        final List<String> samples5xx = new ArrayList<>();
        int fiveHundreds;
        int tokens;
        int noAnswer;

        void add(String what, Answer a, byte[] body) {
            statuses.merge(a.status, 1, Integer::sum);
            if (what.startsWith("token ")) {
                tokens++;
            }
            if (a.status >= 500) {
                fiveHundreds++;
                if (samples5xx.size() < 5) {
                    samples5xx.add(what + " -> " + a.status + " " + a.clip() + (body == null ? "" : " for " + clip(body)));
                }
            } else if (a.status < 0) {
                noAnswer++;
                if (!what.startsWith("oversized")) {
                    wrong.add(what + " -> no answer: " + a.error);
                }
            } else if (a.status < 400 && !what.startsWith("token ")) {
                wrong.add(what + " -> " + a.status + " " + a.clip() + (body == null ? "" : " for " + clip(body)));
            } else if (a.status >= 400 && !a.problem && !what.startsWith("token ")) {
                wrong.add(what + " -> " + a.status + " not problem+json: " + a.clip());
            }
        }

        int total() {
            return statuses.values().stream().mapToInt(Integer::intValue).sum();
        }

        String byStatus() {
            return statuses.entrySet().stream().map(e -> (e.getKey() < 0 ? "closed before an answer" : e.getKey()) + "x" + e.getValue())
                    .collect(Collectors.joining(" "));
        }
    }

    static String clip(byte[] body) {
        String s = new String(body, 0, Math.min(body.length, 300), StandardCharsets.ISO_8859_1);
        return s.replaceAll("[^\\x20-\\x7e]", "?");
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] insert(byte[] body, int at, byte[] bytes) {
        byte[] out = new byte[body.length + bytes.length];
        System.arraycopy(body, 0, out, 0, at);
        System.arraycopy(bytes, 0, out, at, bytes.length);
        System.arraycopy(body, at, out, at + bytes.length, body.length - at);
        return out;
    }

    static final byte[][] BAD_UTF8 = {
        {(byte) 0xC0, (byte) 0xAF},                                // overlong '/'
        {(byte) 0xC1, (byte) 0xBF},                                // overlong, two bytes
        {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},                   // overlong '/', three bytes
        {(byte) 0xF0, (byte) 0x80, (byte) 0x80, (byte) 0xAF},      // overlong '/', four bytes
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80},                   // a surrogate
        {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},      // past U+10FFFF
        {(byte) 0xE2, (byte) 0x82},                                // truncated
        {(byte) 0x80},                                             // a lone continuation byte
        {(byte) 0xFF}, {(byte) 0xFE}};                             // never UTF-8

    /** About 160 broken bodies for an endpoint: each is invalid by construction. */
    static List<byte[]> bodyMutations(Endpoint e, Random r) {
        String body = e.body;
        List<byte[]> out = new ArrayList<>();
        byte[] b = utf8(body);
        for (int i = 1; i < b.length; i += Math.max(1, b.length / 40)) {          // truncated at ~40 places
            out.add(Arrays.copyOf(b, i));
        }
        for (String tail : List.of("}", "]", ",", " x", "{}", "\u0000", " //c", "\"")) { // trailing garbage
            out.add(utf8(body + tail));
        }
        // Invalid UTF-8 inside the first string value, and at random places.
        int inString = body.indexOf(':') + 3;
        for (byte[] bad : BAD_UTF8) {
            out.add(insert(b, inString, bad));
            out.add(insert(b, 1 + r.nextInt(b.length - 1), bad));
            out.add(insert(b, 1, bad));                                            // in a key
        }
        out.add(body.getBytes(StandardCharsets.UTF_16BE));                          // other encodings
        out.add(body.getBytes(StandardCharsets.UTF_16LE));
        out.add(body.getBytes(StandardCharsets.UTF_16));                            // with a BOM
        out.add(body.replaceFirst(":\"", ":\"é").getBytes(StandardCharsets.ISO_8859_1));
        out.add(body.getBytes(Charsetish.UTF_32));
        // Deep nesting: 10,000 levels, as the whole body and inside a field.
        out.add(utf8("[".repeat(10_000) + "]".repeat(10_000)));
        out.add(utf8("{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000)));
        out.add(utf8(body.replaceFirst("\\{", "{\"zz\":" + "[".repeat(10_000) + "]".repeat(10_000) + ",")));
        out.add(utf8("[".repeat(10_000)));                                          // never closed
        out.add(utf8("{\"a\":".repeat(10_000)));
        // Not an object; empty; not JSON.
        for (String s : List.of("", " ", "\n", "null", "true", "0", "-1", "1e999999", "\"text\"", "[]", "[" + body + "]", "{}", "{\"\":0}",
                body.replace("\"", "'"), body.replace(":", "="), "<x/>", "a=1&b=2", body.replace("{", "{{"), "\uFEFF" + body.substring(0, body.length() / 2))) {
            out.add(utf8(s));
        }
        // Wrong types: every field given each JSON type that is not its own.
        Map<String, List<String>> wrongFor = Map.of(
                "string", List.of("12345", "1.5", "true", "null", "[\"a\"]", "{\"a\":1}", "123456789012345678901234567890"),
                "array", List.of("\"FM-1\"", "1", "true", "null", "{\"0\":\"FM-1\"}", "[1,2]", "[[\"FM-1\"]]", "[null]"),
                "boolean", List.of("\"false\"", "0", "1", "null", "[]", "{}"),
                "object", List.of("\"x\"", "1", "true", "null", "[]", "[{}]"));
        for (Map.Entry<String, String> field : new TreeMap<>(e.fields).entrySet()) {
            boolean optional = field.getValue().endsWith("?");
            for (String v : wrongFor.get(field.getValue().replace("?", ""))) {
                String mutated = replaceValue(body, field.getKey(), v);
                if (!mutated.equals(body) && !(optional && v.equals("null"))) {
                    out.add(utf8(mutated));
                }
            }
            if (!optional) {
                out.add(utf8(removeField(body, field.getKey())));                      // missing
            }
            out.add(utf8(body.replaceFirst("\\{", "{\"" + field.getKey() + "\":" + valueOf(body, field.getKey()) + ",")));  // duplicate key
        }
        // Escapes and numbers JSON does not allow, control characters, lone surrogates, unknown fields.
        out.add(utf8(body.replaceFirst("\\{", Matcher.quoteReplacement("{\"zz\":\"\\ud800\","))));
        out.add(utf8(body.replaceFirst(":\"", Matcher.quoteReplacement(":\"\\x41"))));
        out.add(utf8(body.replaceFirst(":\"", ":\"\u0001\t\n")));
        out.add(utf8(body.replaceFirst("\\{", "{\"zz\":NaN,")));
        out.add(utf8(body.replaceFirst("\\{", "{\"zz\":01,")));
        out.add(utf8(body.replaceFirst("\\{", "{\"zz\":+1,")));
        out.add(utf8(body.replaceFirst("\\{", "{\"zz\":.5,")));
        out.add(utf8(body.replaceFirst("\\{", "{\"zz\":1,")));                          // unknown field
        out.add(utf8(body.replaceFirst("\\{", "{\"" + "k".repeat(100_000) + "\":1,")));
        out.add(utf8(body.replaceFirst("\\{", "{\"zz\":[" + "1,".repeat(100_000) + "1],")));
        return out;
    }

    /** UTF-32 without depending on the JDK's optional charsets list. */
    static final class Charsetish {
        static final java.nio.charset.Charset UTF_32 = java.nio.charset.Charset.isSupported("UTF-32") ? java.nio.charset.Charset.forName("UTF-32")
                : StandardCharsets.UTF_16;
    }

    static String valueOf(String body, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":(\"[^\"]*\"|\\[[^\\]]*\\]|true|false|-?[0-9.]+|\\{[^{}]*\\})").matcher(body);
        return m.find() ? m.group(1) : "null";
    }

    static String replaceValue(String body, String field, String value) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":(\"[^\"]*\"|\\[[^\\]]*\\]|true|false|-?[0-9.]+|\\{[^{}]*\\})").matcher(body);
        return m.find() ? body.substring(0, m.start(1)) + value + body.substring(m.end(1)) : body;
    }

    static String removeField(String body, String field) {
        String v = valueOf(body, field);
        String removed = body.replace("\"" + field + "\":" + v + ",", "").replace(",\"" + field + "\":" + v, "");
        return removed.equals(body) ? body.replace("\"" + field + "\":" + v, "") : removed;   // the only member
    }

    /** Uploads refused whole: no lines, not gzip as announced, a truncated gzip. */
    static List<byte[]> importMutations(String line, Random r) throws IOException {
        List<byte[]> out = new ArrayList<>();
        byte[] gz = gzip(utf8(line.repeat(50)));
        for (int i = 1; i < 40; i++) {
            out.add(Arrays.copyOf(gz, Math.max(1, gz.length * i / 40)));               // truncated gzip (sent as gzip)
        }
        out.add(new byte[0]);
        out.add(utf8("\n\n \n"));
        return out;
    }

    static byte[] gzip(byte[] data) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream out = new java.util.zip.GZIPOutputStream(bytes)) {
            out.write(data);
        }
        return bytes.toByteArray();
    }

    /** Tokens each wrong in one way: every claim with each wrong JSON type, bad algorithms, bad encodings, bad signatures. */
    static List<Map.Entry<String, String>> badTokens() throws Exception {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        List<String> odd = List.of("42", "1.5", "true", "null", "{\"a\":1}", "[1,2]", "[[\"analyst\"]]", "\"\"", "\"2099-01-01\"");
        for (String claim : List.of("iss", "sub", "upn", "groups", "sources", "exp", "iat", "nbf", "jti", "aud")) {
            for (String v : odd) {
                Map<String, String> claims = claims("agency", List.of(MSOURCE));
                if (claim.equals("groups") && v.equals("[[\"analyst\"]]")) {
                    v = "[[\"agency\"]]";
                }
                claims.put(claim, v);
                out.add(Map.entry(claim + "=" + v, sign("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", json(claims))));
            }
        }
        Map<String, String> good = claims("agency", List.of(MSOURCE));
        String payload = json(good);
        out.add(Map.entry("groups as a string", sign("{\"alg\":\"RS256\"}", json(with(good, "groups", "\"agency\"")))));
        out.add(Map.entry("sources as a string", sign("{\"alg\":\"RS256\"}", json(with(good, "sources", "\"" + MSOURCE + "\"")))));
        out.add(Map.entry("exp as a numeric string", sign("{\"alg\":\"RS256\"}", json(with(good, "exp", "\"" + (Instant.now().getEpochSecond() + 3600) + "\"")))));
        out.add(Map.entry("exp past", sign("{\"alg\":\"RS256\"}", json(with(good, "exp", String.valueOf(Instant.now().getEpochSecond() - 600))))));
        out.add(Map.entry("exp huge", sign("{\"alg\":\"RS256\"}", json(with(good, "exp", "99999999999999999999999")))));
        out.add(Map.entry("nbf future", sign("{\"alg\":\"RS256\"}", json(with(good, "nbf", String.valueOf(Instant.now().getEpochSecond() + 3600))))));
        out.add(Map.entry("another issuer", sign("{\"alg\":\"RS256\"}", json(with(good, "iss", "\"someone-else\"")))));
        out.add(Map.entry("no groups", sign("{\"alg\":\"RS256\"}", json(without(good, "groups")))));
        out.add(Map.entry("no exp", sign("{\"alg\":\"RS256\"}", json(without(good, "exp")))));
        out.add(Map.entry("no sub", sign("{\"alg\":\"RS256\"}", json(without(good, "sub")))));
        out.add(Map.entry("groups unknown role", sign("{\"alg\":\"RS256\"}", json(with(good, "groups", "[\"admin\"]")))));
        out.add(Map.entry("sources other", sign("{\"alg\":\"RS256\"}", json(with(good, "sources", "[\"someone-else\"]")))));
        out.add(Map.entry("duplicate claim", sign("{\"alg\":\"RS256\"}", payload.replaceFirst("\\{", "{\"groups\":[\"analyst\"],"))));
        String b64 = b64(utf8(payload));
        out.add(Map.entry("alg none", b64(utf8("{\"alg\":\"none\",\"typ\":\"JWT\"}")) + "." + b64 + "."));
        out.add(Map.entry("alg None", b64(utf8("{\"alg\":\"None\"}")) + "." + b64 + "."));
        out.add(Map.entry("alg none, signature kept", b64(utf8("{\"alg\":\"none\"}")) + "." + b64 + "." + sign("{\"alg\":\"RS256\"}", payload).split("\\.")[2]));
        String hsInput = b64(utf8("{\"alg\":\"HS256\",\"typ\":\"JWT\"}")) + "." + b64;
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(utf8(pem("PUBLIC KEY", tokenPublicDer)), "HmacSHA256"));
        out.add(Map.entry("HS256 keyed with the public key", hsInput + "." + b64(mac.doFinal(utf8(hsInput)))));
        out.add(Map.entry("alg as a number", sign("{\"alg\":256}", payload)));
        out.add(Map.entry("header an array", sign("[\"RS256\"]", payload)));
        out.add(Map.entry("header not JSON", sign("{alg:RS256", payload)));
        out.add(Map.entry("payload not JSON", sign("{\"alg\":\"RS256\"}", "{\"sub\":")));
        out.add(Map.entry("payload an array", sign("{\"alg\":\"RS256\"}", "[" + payload + "]")));
        out.add(Map.entry("crit header", sign("{\"alg\":\"RS256\",\"crit\":[\"x\"],\"x\":1}", payload)));
        out.add(Map.entry("jku header", sign("{\"alg\":\"RS256\",\"jku\":\"http://localhost:1/keys\"}", payload)));
        String signed = sign("{\"alg\":\"RS256\"}", payload);
        String[] parts = signed.split("\\.");
        out.add(Map.entry("signature of another key", resign(parts[0] + "." + parts[1])));
        out.add(Map.entry("signature flipped", parts[0] + "." + parts[1] + "." + (parts[2].charAt(0) == 'A' ? 'B' : 'A') + parts[2].substring(1)));
        out.add(Map.entry("no signature", parts[0] + "." + parts[1] + "."));
        out.add(Map.entry("two segments", parts[0] + "." + parts[1]));
        out.add(Map.entry("four segments", signed + "." + parts[2]));
        out.add(Map.entry("bad base64 *", parts[0] + "." + parts[1].substring(0, 10) + "*" + parts[1].substring(11) + "." + parts[2]));
        out.add(Map.entry("standard base64 +/=", parts[0].replace('-', '+').replace('_', '/') + "==." + parts[1] + "." + parts[2]));
        out.add(Map.entry("Latin-1 payload", signBytes(utf8("{\"alg\":\"RS256\"}"), payload.replace("faults-agency", "faults-\u00e9").getBytes(StandardCharsets.ISO_8859_1))));
        out.add(Map.entry("overlong UTF-8 in payload", signBytes(utf8("{\"alg\":\"RS256\"}"), insert(utf8(payload), payload.indexOf("faults-agency"), BAD_UTF8[0]))));
        out.add(Map.entry("empty", ""));
        out.add(Map.entry("dots", ".."));
        out.add(Map.entry("64 KiB of a", "a".repeat(65_536)));
        out.add(Map.entry("deep JSON payload", sign("{\"alg\":\"RS256\"}", "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000))));
        return out;
    }

    /** Wrong only where Eligo does not look, or in a form it accepts on purpose (see malformed()). */
    static boolean mayPass(String name) {
        return name.matches("(jti|aud|iat|nbf)=.*|(sub|upn)=(null|\"\"|\"2099-01-01\")|no sub|(groups|sources) as a string|jku header|Latin-1 payload|overlong UTF-8 in payload");
    }

    static Map<String, String> with(Map<String, String> claims, String k, String v) {
        Map<String, String> m = new LinkedHashMap<>(claims);
        m.put(k, v);
        return m;
    }

    static Map<String, String> without(Map<String, String> claims, String k) {
        Map<String, String> m = new LinkedHashMap<>(claims);
        m.remove(k);
        return m;
    }

    // --- slow -------------------------------------------------------------------------------------------

    static String slow() throws Exception {
        pg.ensureUp();
        service = Service.start("slow", List.of());
        String agency = token("agency", List.of("faults-slow"));
        List<Socket> sockets = new ArrayList<>();
        AtomicBoolean holding = new AtomicBoolean(true);
        Thread dribbler = null;
        List<Long> health = new ArrayList<>();
        List<Long> ingest = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        int stillOpen = 0;
        try {
            for (int i = 0; i < 200; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("localhost", PORT), 5000);
                sockets.add(s);
            }
            byte[] request = ("POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + agency
                    + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            List<Socket> dribbling = sockets.subList(100, 200);
            dribbler = new Thread(() -> {
                int at = 0;
                while (holding.get()) {
                    for (Socket s : dribbling) {
                        try {
                            s.getOutputStream().write(request[at % request.length]);
                            s.getOutputStream().flush();
                        } catch (IOException ignored) {
                            // counted at the end
                        }
                    }
                    at++;
                    sleepQuietly(1000);
                }
            });
            dribbler.setDaemon(true);
            dribbler.start();
            Thread.sleep(2000);
            for (int i = 0; i < 30; i++) {
                Answer h = send("GET", "/q/health/ready", null, null, null);
                health.add(h.nanos);
                if (h.status != 200) {
                    bad.add("health -> " + h);
                }
                Answer m = send("POST", "/v1/messages", agency, "application/json", utf8(message("faults-slow", "s-" + i, "FS-" + i, 2027, 6, i)));
                ingest.add(m.nanos);
                if (m.status != 202) {
                    bad.add("ingest -> " + m);
                }
                Thread.sleep(300);
            }
            for (Socket s : sockets) {
                s.setSoTimeout(50);
                try {
                    int c = s.getInputStream().read();
                    if (c >= 0) {
                        stillOpen++;   // an answer (a 408, say), but not closed
                    }
                } catch (java.net.SocketTimeoutException stillWaiting) {
                    stillOpen++;
                } catch (IOException closed) {
                    // closed by the service
                }
            }
        } finally {
            holding.set(false);
            for (Socket s : sockets) {
                s.close();
            }
        }
        check(bad.isEmpty(), "while 200 connections were held: " + bad);
        check(max(health) < 3_000_000_000L && max(ingest) < 3_000_000_000L, "too slow while 200 connections were held: health max "
                + ms(max(health)) + " ms, ingest max " + ms(max(ingest)) + " ms");
        return "PASSED: with 200 connections held (100 idle, 100 sending headers a byte a second; " + stillOpen + " still open after 11 s), "
                + "30 of 30 health checks answered 200 (p50 " + ms(pct(health, 50)) + " ms, max " + ms(max(health)) + " ms) and 30 of 30 "
                + "messages 202 (p50 " + ms(pct(ingest, 50)) + " ms, max " + ms(max(ingest)) + " ms)";
    }

    // --- pg-kill ----------------------------------------------------------------------------------------

    static String pgKill() throws Exception {
        pg.ensureUp();
        service = Service.start("pg-kill", List.of());
        String source = "faults-kill";
        Load load = new Load(source, 4, 1, token("agency", List.of(source)));
        Probe probe = new Probe();
        load.start();
        probe.start();
        Thread.sleep(4000);
        long killedAt = System.nanoTime();
        int killed = pg.kill("KILL");
        Thread.sleep(3000);
        pg.start();
        long readyAt = System.nanoTime();
        long deadline = readyAt + 30_000_000_000L;
        while (System.nanoTime() < deadline && (load.firstOk(readyAt) < 0 || probe.firstOk(readyAt) < 0)) {
            Thread.sleep(100);
        }
        Thread.sleep(4000);
        load.finish();
        probe.finish();
        long firstIngest = load.firstOk(readyAt);
        long firstHealth = probe.firstOk(readyAt);
        String stored = load.checkStoredOnce();
        String processed = awaitProcessed(source, load.accepted.size(), 90);
        check(load.fiveHundreds() == 0, load.fiveHundreds() + " answers were 500 or other non-503 errors: " + load.samples);
        check(load.unfinished.isEmpty(), load.unfinished.size() + " messages never answered 2xx despite retries, e.g. " + load.unfinished.stream().limit(3).toList());
        check(firstIngest >= 0 && firstIngest - readyAt <= 10_000_000_000L, "ingest did not recover within 10 s of PostgreSQL's return ("
                + (firstIngest < 0 ? "never" : ms(firstIngest - readyAt) + " ms") + ")");
        check(firstHealth >= 0 && firstHealth - readyAt <= 10_000_000_000L, "readiness did not recover within 10 s of PostgreSQL's return ("
                + (firstHealth < 0 ? "never" : ms(firstHealth - readyAt) + " ms") + ")");
        return "PASSED: PostgreSQL's " + killed + " processes SIGKILLed under 4 ingesting clients, down " + seconds(readyAt - killedAt) + " s; "
                + load.summary() + "; " + stored + "; " + processed + "; first 2xx " + ms(firstIngest - readyAt) + " ms and /q/health/ready 200 "
                + ms(firstHealth - readyAt) + " ms after PostgreSQL was ready (limit 10,000 ms); longest answer while it was down "
                + ms(load.maxLatency(killedAt, readyAt)) + " ms";
    }

    // --- pg-freeze --------------------------------------------------------------------------------------

    static String pgFreeze() throws Exception {
        pg.ensureUp();
        int socketTimeout = 10;
        int acquisition = 5;
        List<String> options = new ArrayList<>(List.of("-Deligo.database.socket-timeout=" + socketTimeout + "s",
                "-Deligo.database.statement-timeout=5s", "-Deligo.database.lock-timeout=3s",
                "-Dquarkus.datasource.jdbc.acquisition-timeout=" + acquisition + "s"));
        options.addAll(List.of(env("FAULTS_FREEZE_OPTS", "").trim().split("\\s+")).stream().filter(o -> !o.isEmpty()).toList());
        service = Service.start("pg-freeze", options);
        String source = "faults-freeze";
        Load load = new Load(source, 4, 1, token("agency", List.of(source)));
        Probe probe = new Probe();
        load.start();
        probe.start();
        Thread.sleep(4000);
        long stoppedAt = System.nanoTime();
        int frozen = pg.kill("STOP");
        Thread.sleep(30_000);
        pg.kill("CONT");
        long resumedAt = System.nanoTime();
        long deadline = resumedAt + 30_000_000_000L;
        while (System.nanoTime() < deadline && (load.firstOk(resumedAt) < 0 || probe.firstOk(resumedAt) < 0)) {
            Thread.sleep(100);
        }
        Thread.sleep(4000);
        load.finish();
        probe.finish();
        long worst = load.maxLatency(stoppedAt, resumedAt);
        long worstHealth = probe.maxLatency(stoppedAt, resumedAt);
        int during = load.answersBetween(stoppedAt, resumedAt);
        int okDuring = load.okBetween(stoppedAt + 1_000_000_000L, resumedAt);
        String stored = load.checkStoredOnce();
        String processed = awaitProcessed(source, load.accepted.size(), 90);
        // A request waits at most for a connection (acquisition) and for the database's answer (socket
        // time-out); the access-log row of a 503 is queued without waiting for it (AccessFilters).
        long bound = (socketTimeout + acquisition) * 1_000_000_000L;
        if (System.getenv("FAULTS_DEBUG") != null) {
            load.events.stream().filter(e -> e.end >= stoppedAt && e.start <= resumedAt).sorted(Comparator.comparingLong(Event::start))
                    .forEach(e -> log("freeze: sent +" + ms(e.start - stoppedAt) + " ms, answered " + e.status + " after " + ms(e.end - e.start) + " ms"));
            probe.events.stream().filter(e -> e.end >= stoppedAt && e.start <= resumedAt && e.end - e.start > 1_000_000_000L).sorted(Comparator.comparingLong(Event::start))
                    .forEach(e -> log("freeze health: sent +" + ms(e.start - stoppedAt) + " ms, answered " + e.status + " after " + ms(e.end - e.start) + " ms"));
        }
        check(load.fiveHundreds() == 0, load.fiveHundreds() + " answers were 500 or other non-503 errors: " + load.samples);
        check(load.hung() == 0, load.hung() + " requests had no answer in 60 s");
        check(load.unfinished.isEmpty(), load.unfinished.size() + " messages never answered 2xx despite retries");
        check(worst <= bound + 2_000_000_000L, "a request took " + ms(worst) + " ms during the freeze, past the socket time-out + acquisition"
                + " (" + ms(bound) + " ms) + 2 s");
        check(during > 0, "no request was answered during the freeze");
        return "PASSED: PostgreSQL's " + frozen + " processes SIGSTOPped for 30 s under 4 ingesting clients, service started with "
                + "eligo.database.socket-timeout=" + socketTimeout + "s, statement-timeout=5s, lock-timeout=3s, acquisition-timeout=" + acquisition + "s; "
                + during + " answers during the freeze (" + okDuring + " of them 2xx, " + load.hung() + " without an answer in 60 s), the longest "
                + ms(worst) + " ms (bound: socket " + socketTimeout + " s + acquisition " + acquisition + " s), /q/health/ready's longest "
                + ms(worstHealth) + " ms; " + load.summary() + "; " + stored + "; " + processed
                + "; first 2xx " + ms(load.firstOk(resumedAt) - resumedAt) + " ms after SIGCONT";
    }

    // --- service-kill -----------------------------------------------------------------------------------

    static String serviceKill() throws Exception {
        pg.ensureUp();
        String source = "faults-import";
        int lines = 20_000;
        StringBuilder file = new StringBuilder();
        for (int i = 0; i < lines; i++) {
            file.append(message(source, "imp-" + i, "FI-" + (i / 10), 2027, 1 + i % 10, 1000 + i)).append('\n');
        }
        service = Service.start("service-kill-1", List.of());
        String agency = token("agency", List.of(source));
        String analyst = token("analyst", List.of());
        Answer upload = send("POST", "/v1/messages/import", agency, "application/x-ndjson", utf8(file.toString()));
        check(upload.status == 202, "the import was answered " + upload);
        String id = match(upload.body, "\"id\":\"(imp_[0-9A-Z]+)\"");
        // Mid-import: the JVM is stopped as soon as some of the lines are stored, the progress read, then killed.
        long done = 0;
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            Answer a = send("GET", "/v1/imports/" + id + "?limit=1", agency, null, null);
            String d = match(a.body, "\"lines_done\":([0-9]+)");
            if (d != null && Long.parseLong(d) > 0) {
                break;
            }
            Thread.sleep(20);
        }
        service.signal("STOP");
        String atKill = pg.psql("select status || ' ' || stored_through from import where id = '" + id + "'");
        service.kill();
        done = Long.parseLong(atKill.split(" ")[1]);
        check(atKill.startsWith("STORING") && done > 0 && done < lines, "could not catch the import mid-way: " + atKill);
        long messagesAtKill = Long.parseLong(pg.psql("select count(*) from message where source = '" + source + "'"));
        // Restart: the import resumes, its messages are processed (facts, determinations, ledger
        // entries sealed every second). Mid-sealing, made certain rather than raced for (a seal holds its
        // lock for milliseconds, and racing for it failed once in CI): a session of ours holds ledger_block
        // in SHARE mode, so the sealer takes its advisory lock, reads the entries, signs the block and then
        // waits at its INSERT. The JVM is stopped there, our session cancelled (the INSERT then completes on
        // the server, its transaction left open by the stopped JVM), the lock seen still held, the JVM killed.
        service = Service.start("service-kill-2", List.of());
        String backlogSql = "select (select count(*) from message where source = '" + source + "' and status = 'RECEIVED')"
                + " + (select count(*) from import_line where import_id = '" + id + "')";
        String blockerName = "faults-seal-blocker";
        Process blocker = pg.background(blockerName, "BEGIN; LOCK TABLE ledger_block IN SHARE MODE; SELECT pg_sleep(300); COMMIT;");
        awaitSql("select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid where a.application_name = '" + blockerName + "'"
                + " and l.locktype = 'relation' and l.relation = 'ledger_block'::regclass and l.mode = 'ShareLock' and l.granted", "1", 60);
        // One message of another source, so the sealer has an entry to seal even if the backlog is gone.
        String sealSource = "faults-seal";
        Answer extra = send("POST", "/v1/messages", token("agency", List.of(sealSource)), "application/json",
                utf8(message(sealSource, "seal-1", "FS-1", 2027, 1, 1000)));
        check(extra.status == 202, "a message to seal was answered " + extra);
        // The backend holding the sealer's lock (Sealer.TRY_LOCK: advisory lock 17776, 0).
        String sealerSql = "select count(*) from pg_locks l join pg_stat_activity a on a.pid = l.pid"
                + " where l.locktype = 'advisory' and l.classid = 17776 and l.objid = 0 and l.granted and ";
        awaitSql(sealerSql + "exists (select 1 from pg_locks w where w.pid = l.pid and w.locktype = 'relation'"
                + " and w.relation = 'ledger_block'::regclass and not w.granted)", "1", 60);
        service.signal("STOP");
        String sealState = pg.psql("select (" + backlogSql + ") || ' ' ||"
                + " (select count(*) from ledger_entry where tx >= coalesce((select to_tx from ledger_block order by id desc limit 1), '0'::xid8))"
                + " || ' ' || (select count(*) from ledger_block)");
        pg.psql("select count(pg_cancel_backend(pid)) from pg_stat_activity where application_name = '" + blockerName + "'");
        check(blocker.waitFor(30, TimeUnit.SECONDS), "the session holding ledger_block did not end when cancelled");
        // The sealer's INSERT has run on the server; its transaction waits for a COMMIT the stopped JVM never sends.
        awaitSql(sealerSql + "a.state = 'idle in transaction'", "1", 30);
        service.kill();
        service = Service.start("service-kill-3", List.of());
        awaitSql("select status from import where id = '" + id + "'", "DONE", 180);
        String counts = pg.psql("select new_lines || ' ' || duplicate_lines || ' ' || conflicting_lines || ' ' || invalid_lines from import where id = '" + id + "'");
        check(counts.equals(lines + " 0 0 0"), "the import's counts (new duplicate conflicting invalid) are " + counts);
        String[] st = sealState.split(" ");
        awaitSql("select count(*) from message where source = '" + source + "' and status <> 'PROCESSED'", "0", 240);
        awaitSql("select count(*) from determination_queue", "0", 120);
        awaitSql("select count(*) from ledger_entry where tx >= coalesce((select to_tx from ledger_block order by id desc limit 1), '0'::xid8)", "0", 60);
        String m = pg.psql("select count(*) || ' ' || count(distinct external_id) from message where source = '" + source + "'");
        check(m.equals(lines + " " + lines), "messages (stored, distinct keys) after both kills: " + m + ", the file has " + lines + " lines");
        String facts = pg.psql("select count(*) || ' ' || count(distinct f.message_id) from fact f join message m on m.id = f.message_id"
                + " where m.source = '" + source + "' and f.replay_id is null");
        check(facts.equals(lines + " " + lines), "facts (all, distinct messages) after both kills: " + facts);
        long t = System.nanoTime();
        Answer verify = send("GET", "/v1/integrity/verify", analyst, null, null, Duration.ofMinutes(10));
        long verifyNanos = System.nanoTime() - t;
        check(verify.status == 200 && verify.body.contains("\"ok\":true"), "the ledger does not verify after the kills: " + verify);
        String determinations = pg.psql("select count(*) from determination d where d.beneficiary_id like 'FI-%'");
        String blocks = pg.psql("select count(*) from ledger_block");
        return "PASSED: killed mid-import at " + done + " of " + lines + " lines stored (" + messagesAtKill + " messages); after a restart, killed again"
                + " mid-seal, its block signed and written but not committed (" + st[0] + " lines or messages still waiting, " + st[1]
                + " ledger entries unsealed, " + st[2] + " blocks); restarted again: import DONE with " + lines + " new, 0 duplicate, 0 invalid lines, "
                + lines + " messages with " + lines + " distinct keys, each processed once (" + facts.split(" ")[0] + " facts), " + determinations
                + " determinations, every entry sealed (" + blocks + " blocks), GET /v1/integrity/verify ok in " + seconds(verifyNanos) + " s "
                + "(mid-rerun: scripts/smoke-quickstart.sh)";
    }

    // --- disk-full --------------------------------------------------------------------------------------

    /** The disk under PostgreSQL's WAL (walOnTmpfs) or under its data files (the WAL elsewhere) fills up. */
    static String diskFull(boolean walOnTmpfs) throws Exception {
        String what = walOnTmpfs ? "WAL" : "data directory";
        if (!ROOT) {
            return "SKIPPED: mounting a tmpfs needs root, and this runs as " + System.getProperty("user.name");
        }
        Path mount = work.resolve(walOnTmpfs ? "wal-tmpfs" : "data-tmpfs");
        Files.createDirectories(mount);
        Result mounted = run("mount", "-t", "tmpfs", "-o", "size=48m,mode=0755", "tmpfs", mount.toString());
        if (mounted.code != 0) {
            return "SKIPPED: mount -t tmpfs is not permitted here: " + mounted.out.trim();
        }
        CLEANUPS.add(() -> run("umount", "-l", mount.toString()));
        Path dir = work.resolve(walOnTmpfs ? "pg-wal-full" : "pg-data-full");
        Pg small = walOnTmpfs ? new Pg("pg-wal-full", dir, PG_PORT + 1) : new Pg("pg-data-full", dir, mount.resolve("data"), PG_PORT + 2);
        small.init(List.of("--waldir=" + (walOnTmpfs ? mount.resolve("wal") : dir.resolve("wal")), "--wal-segsize=1"));
        small.start();
        Pg main = pg;
        pg = small;
        try {
            service = Service.start(walOnTmpfs ? "disk-full-wal" : "disk-full-data", List.of());
            String source = walOnTmpfs ? "faults-wal-full" : "faults-data-full";
            Load load = new Load(source, 4, 100, token("agency", List.of(source)));
            load.start();
            long fullAt = -1;
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (small.logContains("No space left on device")) {
                    fullAt = System.nanoTime();
                    break;
                }
                Thread.sleep(100);
            }
            check(fullAt > 0, "PostgreSQL did not run out of space in 120 s (" + load.summary() + "); df: " + run("df", "-h", mount.toString()).out);
            String df = run("df", "-k", mount.toString()).out.lines().skip(1).findFirst().orElse("").trim().replaceAll(" +", " ");
            Thread.sleep(8000);   // the service answers while PostgreSQL cannot write
            int during = load.answersBetween(fullAt, System.nanoTime());
            int okDuring = load.okBetween(fullAt + 2_000_000_000L, System.nanoTime());
            boolean pgAlive = small.running();
            String panic = small.firstLogLine("No space left on device").replaceAll("^.*?\\] ", "").replaceAll("\"[^\"]*/", "\"…/");
            Result grown = run("mount", "-o", "remount,size=256m", mount.toString());
            check(grown.code == 0, "remount failed: " + grown.out);
            long grownAt = System.nanoTime();
            boolean stayedUp = small.accepting();
            boolean restarted = false;
            if (!small.accepting()) {
                // PostgreSQL restarts itself after a PANIC unless its recovery failed too (then the
                // postmaster has exited, and an operator starts it again, as here).
                long wait = System.nanoTime() + 15_000_000_000L;
                while (System.nanoTime() < wait && small.running() && !small.accepting()) {
                    Thread.sleep(200);
                }
                if (!small.accepting()) {
                    small.start();
                    restarted = true;
                }
            }
            long readyAt = System.nanoTime();
            long until = readyAt + 30_000_000_000L;
            while (System.nanoTime() < until && load.firstOk(readyAt) < 0) {
                Thread.sleep(100);
            }
            Thread.sleep(3000);
            load.finish();
            long firstOk = load.firstOk(readyAt);
            String stored = load.checkStoredOnce();
            String processed = awaitProcessed(source, load.accepted.size(), 180);
            Result amcheck = run(pgBin + "/pg_amcheck", "-h", "localhost", "-p", String.valueOf(small.port), "-U", "postgres", "--install-missing",
                    "--heapallindexed", "postgres");
            check(amcheck.code == 0, "pg_amcheck found problems: " + amcheck.out);
            String relations = small.psql("select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind in ('r', 'i', 't', 'm')");
            awaitSql("select count(*) from ledger_entry where tx >= coalesce((select to_tx from ledger_block order by id desc limit 1), '0'::xid8)", "0", 60);
            Answer verify = send("GET", "/v1/integrity/verify", token("analyst", List.of()), null, null, Duration.ofMinutes(10));
            check(verify.status == 200 && verify.body.contains("\"ok\":true"), "the ledger does not verify after the disk was full: " + verify);
            check(load.fiveHundreds() == 0, load.fiveHundreds() + " answers were 500 or other non-503 errors: " + load.samples);
            check(load.unfinished.isEmpty(), load.unfinished.size() + " batches never answered 2xx after space returned");
            check(firstOk > 0 && firstOk - readyAt <= 10_000_000_000L, "ingest did not work again within 10 s of PostgreSQL's return ("
                    + (firstOk < 0 ? "never" : ms(firstOk - readyAt) + " ms") + ")");
            return "PASSED: " + what + " on a 48 MB tmpfs (" + df + "), filled by 4 clients sending batches of 100 until PostgreSQL logged '"
                    + panic + "'; postmaster " + (pgAlive ? "still up" : "gone") + " 8 s later; " + during + " answers while full, " + okDuring
                    + " of them 2xx; tmpfs grown to 256 MB: "
                    + (stayedUp ? "PostgreSQL had stayed up, the first 2xx " + ms(firstOk - readyAt) + " ms after the space returned; "
                        : "PostgreSQL " + (restarted ? "started again (its postmaster had exited: its own restart failed for want of space)" : "back by itself")
                        + " in " + ms(readyAt - grownAt) + " ms, the first 2xx " + ms(firstOk - readyAt) + " ms after it was ready; ") + load.summary() + "; " + stored + "; " + processed
                    + "; pg_amcheck --heapallindexed clean (" + relations + " relations), the ledger verifies";
        } finally {
            if (service != null) {
                service.stop();
                service = null;
            }
            pg = main;
            small.stop();
            run("umount", mount.toString());
        }
    }

    // --- the load: clients that ingest and retry like a real client ------------------------------------

    /** One answer a load client got: when it was sent and answered, and its status (-1 connection error, -2 no answer in 60 s). */
    record Event(long start, long end, int status) {
    }

    /**
     * Clients each submitting messages (one per request, or batches) with new external ids; a 503 or a
     * connection error is retried with the same ids (after 250 ms, not the Retry-After, to keep the
     * test short), anything else moves on. Every answer is recorded.
     */
    static final class Load {
        final String source;
        final int clients;
        final int batch;
        final String token;
        final List<Thread> threads = new ArrayList<>();
        final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
        final Set<String> accepted = ConcurrentHashMap.newKeySet();
        final Set<String> retried = ConcurrentHashMap.newKeySet();
        final Set<String> duplicates = ConcurrentHashMap.newKeySet();
        final List<String> unfinished = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<String> samples = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile boolean stopping;
        volatile long drainDeadline = Long.MAX_VALUE;

        Load(String source, int clients, int batch, String token) {
            this.source = source;
            this.clients = clients;
            this.batch = batch;
            this.token = token;
        }

        void start() {
            for (int c = 0; c < clients; c++) {
                int client = c;
                Thread t = new Thread(() -> client(client), "load-" + c);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        void client(int c) {
            for (int n = 0; !stopping; n++) {
                List<String> ids = new ArrayList<>();
                StringBuilder body = new StringBuilder(batch > 1 ? "{\"messages\":[" : "");
                for (int i = 0; i < batch; i++) {
                    String id = source + "-" + c + "-" + n + (batch > 1 ? "-" + i : "");
                    ids.add(id);
                    body.append(i > 0 ? "," : "").append(message(source, id, "F" + c + "-" + (n * batch + i) / 12, 2027, 1 + (n * batch + i) % 12, n));
                }
                if (batch > 1) {
                    body.append("]}");
                }
                byte[] bytes = utf8(body.toString());
                for (int attempt = 0; ; attempt++) {
                    long start = System.nanoTime();
                    Answer a = send("POST", batch > 1 ? "/v1/messages/batch" : "/v1/messages", token, "application/json", bytes, Duration.ofSeconds(60));
                    events.add(new Event(start, System.nanoTime(), a.status));
                    if (a.status / 100 == 2) {
                        accepted.addAll(ids);
                        if (attempt > 0) {
                            retried.addAll(ids);
                        }
                        if (a.body.contains("\"duplicate\":true")) {
                            duplicates.add(ids.get(0));
                        }
                        break;
                    }
                    if (a.status != 503 && a.status >= 0) {
                        if (samples.size() < 5) {
                            samples.add(a.status + " " + a.clip());
                        }
                    }
                    if (System.nanoTime() > drainDeadline) {
                        unfinished.addAll(ids);
                        break;
                    }
                    sleepQuietly(250);
                }
            }
        }

        /** No new ids; the ones under way are retried until 2xx, for up to 90 s. */
        void finish() throws InterruptedException {
            drainDeadline = System.nanoTime() + 90_000_000_000L;
            stopping = true;
            for (Thread t : threads) {
                t.join(120_000);
            }
        }

        long firstOk(long after) {
            return events.stream().filter(e -> e.status / 100 == 2 && e.end > after).mapToLong(Event::end).min().orElse(-1);
        }

        long maxLatency(long from, long to) {
            return events.stream().filter(e -> e.end >= from && e.start <= to).mapToLong(e -> e.end - e.start).max().orElse(0);
        }

        int answersBetween(long from, long to) {
            return (int) events.stream().filter(e -> e.end >= from && e.end <= to).count();
        }

        int okBetween(long from, long to) {
            return (int) events.stream().filter(e -> e.end >= from && e.end <= to && e.status / 100 == 2).count();
        }

        int fiveHundreds() {
            return (int) events.stream().filter(e -> e.status >= 0 && e.status != 503 && e.status / 100 != 2).count();
        }

        int hung() {
            return (int) events.stream().filter(e -> e.status == -2).count();
        }

        String summary() {
            Map<String, Integer> by = new TreeMap<>();
            for (Event e : events) {
                by.merge(e.status == -1 ? "connection error" : e.status == -2 ? "no answer in 60 s" : String.valueOf(e.status), 1, Integer::sum);
            }
            return events.size() + " requests (" + by.entrySet().stream().map(e -> e.getKey() + " x" + e.getValue()).collect(Collectors.joining(", "))
                    + "; 500: " + fiveHundreds() + "), " + accepted.size() + " messages answered 2xx, " + retried.size() + " of them after a retry ("
                    + (batch > 1 ? "batches" : "messages") + " answered as duplicates, an earlier attempt having committed: " + duplicates.size() + ")";
        }

        /** Every message answered 2xx is stored exactly once, and nothing else of this source is. */
        String checkStoredOnce() {
            String rows = pg.psql("select count(*) || ' ' || count(distinct external_id) from message where source = '" + source + "'");
            String keys = pg.psql("select count(*) from message_key where source = '" + source + "'");
            List<String> stored = List.of(pg.psql("select external_id from message where source = '" + source + "'").split("\n"));
            Set<String> storedSet = new java.util.HashSet<>(stored);
            long missing = accepted.stream().filter(id -> !storedSet.contains(id)).count();
            long extra = storedSet.stream().filter(id -> !id.isEmpty() && !accepted.contains(id)).count();
            String[] rc = rows.split(" ");
            check(missing == 0, missing + " messages answered 2xx are not stored");
            check(rc[0].equals(rc[1]), "a key is stored twice: " + rows);
            check(rc[0].equals(keys), "messages and keys differ: " + rows + " / " + keys);
            check(extra == 0, extra + " messages stored that were never answered 2xx");
            return "all " + accepted.size() + " stored exactly once (" + rc[0] + " rows, " + rc[1] + " distinct keys, 0 missing, 0 extra)";
        }
    }

    /** Polls /q/health/ready every 100 ms. */
    static final class Probe {
        final ConcurrentLinkedQueue<Event> events = new ConcurrentLinkedQueue<>();
        volatile boolean stop;
        Thread thread;

        void start() {
            thread = new Thread(() -> {
                while (!stop) {
                    long s = System.nanoTime();
                    Answer a = send("GET", "/q/health/ready", null, null, null, Duration.ofSeconds(60));
                    events.add(new Event(s, System.nanoTime(), a.status));
                    sleepQuietly(100);
                }
            }, "probe");
            thread.setDaemon(true);
            thread.start();
        }

        void finish() throws InterruptedException {
            stop = true;
            thread.join(70_000);
        }

        long firstOk(long after) {
            return events.stream().filter(e -> e.status == 200 && e.end > after).mapToLong(Event::end).min().orElse(-1);
        }

        long maxLatency(long from, long to) {
            return events.stream().filter(e -> e.end >= from && e.start <= to).mapToLong(e -> e.end - e.start).max().orElse(0);
        }
    }

    static String awaitProcessed(String source, int expected, int seconds) throws Exception {
        long t = System.nanoTime();
        awaitSql("select count(*) from message where source = '" + source + "' and status <> 'PROCESSED'", "0", seconds);
        String failedCount = pg.psql("select count(*) from message where source = '" + source + "' and attempts > 1");
        return "all processed " + seconds(System.nanoTime() - t) + " s later (" + failedCount + " after a failed attempt)";
    }

    // --- PostgreSQL -------------------------------------------------------------------------------------

    /** A throw-away PostgreSQL server (as nobody when run as root: PostgreSQL refuses root). */
    static final class Pg {
        final String name;
        final Path dir;
        final Path data;
        final int port;

        Pg(String name, Path dir, int port) {
            this(name, dir, dir.resolve("data"), port);
        }

        Pg(String name, Path dir, Path data, int port) {
            this.name = name;
            this.dir = dir;
            this.data = data;
            this.port = port;
        }

        void init(List<String> options) throws IOException {
            Files.createDirectories(dir);
            Files.createDirectories(data);
            if (ROOT) {
                run("chown", "-R", "nobody", dir.toString());
                run("chown", "nobody", data.toString());
                for (String o : options) {
                    if (o.startsWith("--waldir=")) {
                        Path w = Path.of(o.substring(9));
                        Files.createDirectories(w);
                        run("chown", "nobody", w.toString());
                    }
                }
            }
            Result r = asPg("'" + pgBin + "/initdb' -D '" + data + "' -U postgres -A trust -E UTF8 --no-sync " + String.join(" ", options));
            check(r.code == 0, "initdb failed: " + r.out);
            CLEANUPS.add(this::stop);
        }

        void start() {
            Result r = asPg("'" + pgBin + "/pg_ctl' -D '" + data + "' -l '" + dir.resolve("pg.log") + "' -w -t 120 -o \"-p " + port
                    + " -c listen_addresses=localhost -c unix_socket_directories='" + dir + "' -c max_connections=120\" start");
            check(r.code == 0, "pg_ctl start failed: " + r.out + " " + tailOf(dir.resolve("pg.log"), 20));
        }

        void ensureUp() {
            if (!accepting()) {
                start();
            }
        }

        boolean accepting() {
            return run(Map.of("PGCONNECT_TIMEOUT", "2"), pgBin + "/psql", "-X", "-At", "-h", "localhost", "-p", String.valueOf(port), "-U", "postgres",
                    "-d", "postgres", "-c", "select 1").code == 0;
        }

        boolean running() {
            try {
                long pid = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
                return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        /** Signals the postmaster and every process under it; returns how many. For KILL, waits until all are gone. */
        int kill(String signal) throws Exception {
            long pid = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim());
            ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
            List<ProcessHandle> all = new ArrayList<>();
            all.add(postmaster);
            postmaster.descendants().forEach(all::add);
            List<String> cmd = new ArrayList<>(List.of("kill", "-" + signal));
            all.forEach(p -> cmd.add(String.valueOf(p.pid())));
            run(cmd.toArray(String[]::new));
            if (signal.equals("KILL")) {
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (all.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
            }
            return all.size();
        }

        String psql(String sql) {
            Result r = run(Map.of("PGCONNECT_TIMEOUT", "5"), pgBin + "/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "localhost", "-p",
                    String.valueOf(port), "-U", "postgres", "-d", "postgres", "-c", sql);
            check(r.code == 0, "psql failed (" + sql.substring(0, Math.min(80, sql.length())) + "): " + r.out);
            return r.out.trim();
        }

        /** Runs sql in a psql of its own, named application_name, without waiting; destroyed at the end if still running. */
        Process background(String applicationName, String sql) throws IOException {
            ProcessBuilder pb = new ProcessBuilder(pgBin + "/psql", "-X", "-At", "-h", "localhost", "-p", String.valueOf(port), "-U", "postgres",
                    "-d", "postgres", "-c", sql).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("PGAPPNAME", applicationName);
            Process p = pb.start();
            CLEANUPS.add(p::destroyForcibly);
            return p;
        }

        String firstLogLine(String text) {
            try (Stream<String> lines = Files.lines(dir.resolve("pg.log"), StandardCharsets.ISO_8859_1)) {
                return lines.filter(l -> l.contains(text)).findFirst().orElse("");
            } catch (IOException e) {
                return "";
            }
        }

        boolean logContains(String text) {
            try {
                return Files.readString(dir.resolve("pg.log"), StandardCharsets.ISO_8859_1).contains(text);
            } catch (IOException e) {
                return false;
            }
        }

        void stop() {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                try {
                    kill("CONT");
                } catch (Exception ignored) {
                    // not running
                }
                asPg("'" + pgBin + "/pg_ctl' -D '" + data + "' -m immediate -w -t 30 stop");
            }
        }
    }

    // --- the service ------------------------------------------------------------------------------------

    static final class Service {
        final String name;
        final Process process;
        final Path log;

        Service(String name, Process process, Path log) {
            this.name = name;
            this.process = process;
            this.log = log;
        }

        static Service start(String name, List<String> options) throws Exception {
            Path log = work.resolve("service-" + name + ".log");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
                    "-Dquarkus.http.port=" + PORT));
            cmd.addAll(options);
            cmd.addAll(List.of("-jar", JAR.toString()));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            Map<String, String> env = pb.environment();
            env.put("QUARKUS_DATASOURCE_JDBC_URL", "jdbc:postgresql://localhost:" + pg.port + "/postgres");
            env.put("QUARKUS_DATASOURCE_USERNAME", "postgres");
            env.put("QUARKUS_DATASOURCE_PASSWORD", "");
            env.put("MP_JWT_VERIFY_PUBLICKEY_LOCATION", work.resolve("keys/public.pem").toString());
            env.put("MP_JWT_VERIFY_ISSUER", "eligo-dev");
            env.put("ELIGO_LEDGER_SIGNING_KEY", ledgerKeyPem);
            Service s = new Service(name, pb.start(), log);
            CLEANUPS.add(() -> s.process.destroyForcibly());
            long deadline = System.nanoTime() + 180_000_000_000L;
            while (System.nanoTime() < deadline) {
                if (!s.process.isAlive()) {
                    s.tail(40);
                    throw new Failure("the service (" + name + ") exited during start");
                }
                if (send("GET", "/q/health/ready", null, null, null).status == 200) {
                    return s;
                }
                Thread.sleep(100);
            }
            s.tail(40);
            throw new Failure("the service (" + name + ") was not ready in 180 s");
        }

        void signal(String signal) {
            run("kill", "-" + signal, String.valueOf(process.pid()));
        }

        void kill() throws InterruptedException {
            process.destroyForcibly();   // SIGKILL
            process.waitFor(30, TimeUnit.SECONDS);
        }

        void stop() {
            signal("CONT");
            process.destroy();
            try {
                if (!process.waitFor(40, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        long logLinesMatching(String text) throws IOException {
            try (Stream<String> lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
                return lines.filter(l -> l.contains(text)).count();
            }
        }

        void tail(int n) {
            System.err.println("faults: the last lines of " + log.getFileName() + ":\n" + tailOf(log, n));
        }
    }

    // --- HTTP ---------------------------------------------------------------------------------------------

    record Answer(int status, String body, long nanos, String error, boolean problem) {
        String clip() {
            String b = body == null ? String.valueOf(error) : body;
            return b.substring(0, Math.min(200, b.length()));
        }

        @Override
        public String toString() {
            return status + " " + clip();
        }
    }

    static Answer send(String method, String path, String token, String contentType, byte[] body) {
        return send(method, path, token, contentType, body, Duration.ofSeconds(60));
    }

    static Answer send(String method, String path, String token, String contentType, byte[] body, Duration timeout) {
        long start = System.nanoTime();
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(BASE + path)).timeout(timeout)
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            if (token != null) {
                b.header("Authorization", "Bearer " + token);
            }
            if (contentType != null) {
                b.header("Content-Type", contentType);
            }
            if ("application/x-ndjson".equals(contentType) && body != null && body.length > 1 && body[0] == 0x1f) {
                b.header("Content-Encoding", "gzip");
            }
            HttpResponse<byte[]> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            boolean problem = r.headers().firstValue("content-type").orElse("").startsWith("application/problem+json");
            return new Answer(r.statusCode(), new String(r.body(), StandardCharsets.UTF_8), System.nanoTime() - start, null, problem);
        } catch (java.net.http.HttpTimeoutException e) {
            return new Answer(-2, null, System.nanoTime() - start, e.toString(), false);
        } catch (IOException e) {
            return new Answer(-1, null, System.nanoTime() - start, e.toString(), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(-1, null, System.nanoTime() - start, e.toString(), false);
        } catch (IllegalArgumentException e) {
            return new Answer(-3, null, System.nanoTime() - start, e.toString(), false);
        }
    }

    static String message(String source, String externalId, String beneficiary, int year, int month, int amount) {
        return "{\"source\":\"" + source + "\",\"external_id\":\"" + externalId + "\",\"type\":\"income.monthly\",\"beneficiary_id\":\"" + beneficiary
                + "\",\"data\":{\"year\":" + year + ",\"month\":" + month + ",\"amount_cents\":" + amount + "}}";
    }

    // --- keys and tokens ----------------------------------------------------------------------------------

    static void makeKeys() throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        KeyPair pair = rsa.generateKeyPair();
        tokenKey = pair.getPrivate();
        tokenPublicDer = pair.getPublic().getEncoded();
        Files.createDirectories(work.resolve("keys"));
        Files.writeString(work.resolve("keys/public.pem"), pem("PUBLIC KEY", tokenPublicDer));
        ledgerKeyPem = pem("PRIVATE KEY", KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate().getEncoded());
    }

    static Map<String, String> claims(String role, List<String> sources) {
        long now = Instant.now().getEpochSecond();
        Map<String, String> c = new LinkedHashMap<>();
        c.put("iss", "\"eligo-dev\"");
        c.put("sub", "\"faults-" + role + "\"");
        c.put("upn", "\"faults-" + role + "\"");
        c.put("groups", "[\"" + role + "\"]");
        if (!sources.isEmpty()) {
            c.put("sources", "[" + sources.stream().map(s -> "\"" + s + "\"").collect(Collectors.joining(",")) + "]");
        }
        c.put("iat", String.valueOf(now));
        c.put("exp", String.valueOf(now + 8 * 3600));
        c.put("jti", "\"" + UUID.randomUUID() + "\"");
        return c;
    }

    static String json(Map<String, String> claims) {
        return claims.entrySet().stream().map(e -> "\"" + e.getKey() + "\":" + e.getValue()).collect(Collectors.joining(",", "{", "}"));
    }

    static String token(String role, List<String> sources) throws Exception {
        return sign("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", json(claims(role, sources)));
    }

    static String sign(String header, String payload) throws Exception {
        return signBytes(utf8(header), utf8(payload));
    }

    static String signBytes(byte[] header, byte[] payload) throws Exception {
        String input = b64(header) + "." + b64(payload);
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(tokenKey);
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + b64(s.sign());
    }

    static String resign(String input) throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(rsa.generateKeyPair().getPrivate());
        s.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + b64(s.sign());
    }

    static String b64(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    // --- helpers ------------------------------------------------------------------------------------------

    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    static void check(boolean ok, String message) {
        if (!ok) {
            throw new Failure(message);
        }
    }

    record Result(int code, String out) {
    }

    static Result run(String... cmd) {
        return run(Map.of(), cmd);
    }

    static Result run(Map<String, String> env, String... cmd) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().putAll(env);
            Process p = pb.start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out: " + String.join(" ", cmd));
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException e) {
            return new Result(-1, e.toString());
        }
    }

    static Result asPg(String command) {
        return ROOT ? run("su", "-s", "/bin/sh", "nobody", "-c", command) : run("sh", "-c", command);
    }

    static Map<String, Long> counts(String[] tables) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String t : tables) {
            m.put(t, Long.parseLong(pg.psql("select count(*) from " + t)));
        }
        return m;
    }

    static void awaitSql(String sql, String expected, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        String last = null;
        while (System.nanoTime() < deadline) {
            last = pg.psql(sql);
            if (last.equals(expected)) {
                return;
            }
            Thread.sleep(250);
        }
        throw new Failure("waited " + seconds + " s for '" + sql + "' to be " + expected + "; it is " + last);
    }

    static void awaitSqlAtLeast(String sql, long expected, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        String last = null;
        while (System.nanoTime() < deadline) {
            last = pg.psql(sql);
            if (Long.parseLong(last) >= expected) {
                return;
            }
            Thread.sleep(100);
        }
        throw new Failure("waited " + seconds + " s for '" + sql + "' to reach " + expected + "; it is " + last);
    }

    static String match(String text, String regex) {
        if (text == null) {
            return null;
        }
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? m.group(1) : null;
    }

    static String findPgBin() {
        String configured = System.getenv("FAULTS_PG_BIN");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        try (Stream<Path> dirs = Files.list(Path.of("/usr/lib/postgresql"))) {
            return dirs.map(d -> d.resolve("bin")).filter(d -> Files.isExecutable(d.resolve("pg_ctl")))
                    .max(Comparator.comparingInt(d -> Integer.parseInt(d.getParent().getFileName().toString().replaceAll("\\D", "0"))))
                    .map(Path::toString).orElseThrow();
        } catch (IOException | RuntimeException e) {
            System.err.println("faults: no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql-15); or set FAULTS_PG_BIN");
            System.exit(2);
            return null;
        }
    }

    static synchronized void cleanup() {
        for (int i = CLEANUPS.size() - 1; i >= 0; i--) {
            try {
                CLEANUPS.get(i).run();
            } catch (RuntimeException ignored) {
                // best effort
            }
        }
        CLEANUPS.clear();
        if (work != null && Files.exists(work) && System.getenv("FAULTS_KEEP") == null) {
            run("rm", "-rf", work.toString());
        }
    }

    static String tailOf(Path file, int n) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    static void log(String text) {
        System.err.println("faults: " + text);
    }

    static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static long max(List<Long> values) {
        return values.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    static long pct(List<Long> values, int p) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, sorted.size() * p / 100));
    }

    static long ms(long nanos) {
        return Math.round(nanos / 1e6);
    }

    static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e9);
    }
}
