import java.io.BufferedWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark's client (JDK only; run as {@code java bench/Load.java MODE ...}). Modes:
 * <ul>
 * <li>{@code csv FILE N BENEFICIARIES PREFIX}: the N message rows of {@code ingest}, as CSV for COPY;</li>
 * <li>{@code ingest URL TOKEN N BENEFICIARIES PREFIX CLIENTS BATCH}: POSTs N messages in batches from
 *     CLIENTS concurrent clients; prints {@code messages seconds rate};</li>
 * <li>{@code read URL TOKEN IDS_FILE CLIENTS SECONDS}: GETs random determinations with
 *     {@code ?expand=facts} for SECONDS; prints {@code requests p50_ms p99_ms max_ms errors};</li>
 * <li>{@code pages URL COOKIE PATHS_FILE CLIENTS SECONDS}: GETs random console pages (paths, one a
 *     line) with the session cookie COOKIE for SECONDS; prints {@code requests p50_ms p95_ms p99_ms max_ms errors}.</li>
 * </ul>
 * Message i is income.monthly for beneficiary PREFIX-B-(i mod BENEFICIARIES), a month of 2027 from
 * April to June (so the 2027-07 determination has its look-back months), external id PREFIX-i.
 */
public class Load {

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "tsv" -> tsv(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), args[4]);
            case "ndjson" -> ndjson(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), args[4]);
            case "ingest" -> ingest(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]), args[5],
                    Integer.parseInt(args[6]), Integer.parseInt(args[7]));
            case "read" -> read(args[1], args[2], Path.of(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
            case "pages" -> pages(args[1], args[2], Path.of(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
            default -> throw new IllegalArgumentException("mode: tsv, ndjson, ingest, read or pages");
        }
    }

    /** Daemon threads: a failed run ends the JVM instead of leaving it waiting. */
    static Thread daemon(Runnable task) {
        Thread thread = new Thread(task);
        thread.setDaemon(true);
        return thread;
    }

    static String beneficiary(int i, int beneficiaries, String prefix) {
        return prefix + "-B-" + (i % beneficiaries);
    }

    static int month(int i, int beneficiaries) {
        return 4 + (i / beneficiaries) % 3;
    }

    static String data(int i, int beneficiaries) {
        return "{\"year\": 2027, \"month\": " + month(i, beneficiaries) + ", \"amount_cents\": " + (50000 + i % 20000) + ", \"hours\": 20}";
    }

    /** The rows of COPY's baseline, in its text format (tab-separated; the data holds no tab or backslash). */
    static void tsv(Path file, int n, int beneficiaries, String prefix) throws Exception {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int i = 0; i < n; i++) {
                String id = String.format("msg_%026d", i).replace(' ', '0');
                out.write(id + "\tbench\t" + prefix + "-" + i + "\tincome.monthly\t" + beneficiary(i, beneficiaries, prefix) + "\t"
                        + data(i, beneficiaries) + "\n");
            }
        }
    }

    /** The same rows as a bulk import's file: one message per line. */
    static void ndjson(Path file, int n, int beneficiaries, String prefix) throws Exception {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (int i = 0; i < n; i++) {
                out.write(message(i, beneficiaries, prefix).append('\n').toString());
            }
        }
    }

    static StringBuilder message(int i, int beneficiaries, String prefix) {
        return new StringBuilder("{\"source\": \"bench\", \"external_id\": \"").append(prefix).append('-').append(i)
                .append("\", \"type\": \"income.monthly\", \"beneficiary_id\": \"").append(beneficiary(i, beneficiaries, prefix))
                .append("\", \"data\": ").append(data(i, beneficiaries)).append('}');
    }

    static void ingest(String url, String token, int n, int beneficiaries, String prefix, int clients, int batch) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        AtomicLong next = new AtomicLong();
        AtomicLong retries = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(clients, Load::daemon);
        long started = System.nanoTime();
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            done.add(pool.submit(() -> {
                while (true) {
                    int from = (int) next.getAndAdd(batch);
                    if (from >= n) {
                        return null;
                    }
                    StringBuilder body = new StringBuilder("{\"messages\": [");
                    for (int i = from; i < Math.min(n, from + batch); i++) {
                        if (i > from) {
                            body.append(',');
                        }
                        body.append(message(i, beneficiaries, prefix));
                    }
                    body.append("]}");
                    HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/v1/messages/batch"))
                            .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
                    while (true) {
                        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                        if (response.statusCode() == 202) {
                            break;
                        }
                        if (response.statusCode() != 503) {
                            throw new IllegalStateException(response.statusCode() + " " + response.body());
                        }
                        retries.incrementAndGet();
                        Thread.sleep(200);
                    }
                }
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("%d %.3f %.0f retries=%d%n", n, seconds, n / seconds, retries.get());
    }

    static void read(String url, String token, Path idsFile, int clients, int seconds) throws Exception {
        List<String> ids = lines(idsFile, "determination ids");
        long[] merged = sample(clients, seconds, () -> HttpRequest.newBuilder(URI.create(url + "/v1/determinations/"
                + ids.get(ThreadLocalRandom.current().nextInt(ids.size())) + "?expand=facts")).header("Authorization", "Bearer " + token).GET().build());
        if (merged.length == 1) {
            System.out.println("0 - - - " + merged[0]);
            return;
        }
        System.out.printf("%d %.2f %.2f %.2f %d%n", merged.length - 1, percentile(merged, 0.50), percentile(merged, 0.99),
                merged[merged.length - 2] / 1e6, merged[merged.length - 1]);
    }

    /** Console pages: each request a random path of the file, with the session cookie; the HTML must be 200. */
    static void pages(String url, String cookie, Path pathsFile, int clients, int seconds) throws Exception {
        List<String> paths = lines(pathsFile, "paths");
        long[] merged = sample(clients, seconds, () -> HttpRequest.newBuilder(URI.create(url
                + paths.get(ThreadLocalRandom.current().nextInt(paths.size())))).header("Cookie", cookie).GET().build());
        if (merged.length == 1) {
            System.out.println("0 - - - - " + merged[0]);
            return;
        }
        System.out.printf("%d %.2f %.2f %.2f %.2f %d%n", merged.length - 1, percentile(merged, 0.50), percentile(merged, 0.95),
                percentile(merged, 0.99), merged[merged.length - 2] / 1e6, merged[merged.length - 1]);
    }

    static List<String> lines(Path file, String what) throws java.io.IOException {
        List<String> lines = Files.readAllLines(file).stream().filter(s -> !s.isBlank()).toList();
        if (lines.isEmpty()) {
            throw new IllegalArgumentException("no " + what + " in " + file);
        }
        return lines;
    }

    /**
     * {@code clients} clients send the requests {@code next} makes for {@code seconds}; the answers
     * must be 200. Returns the latencies (ns) after the first quarter (at most 5 s: warm-up), sorted,
     * followed by one more element: the count of answers that were not 200.
     */
    static long[] sample(int clients, int seconds, java.util.function.Supplier<HttpRequest> next) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        ExecutorService pool = Executors.newFixedThreadPool(clients, Load::daemon);
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        long warmEnd = System.nanoTime() + Duration.ofSeconds(Math.min(5, seconds / 4)).toNanos();
        List<Future<long[]>> results = new ArrayList<>();
        AtomicLong errors = new AtomicLong();
        for (int c = 0; c < clients; c++) {
            results.add(pool.submit(() -> {
                long[] samples = new long[1 << 20];
                int count = 0;
                while (System.nanoTime() < end) {
                    HttpRequest request = next.get();
                    long t0 = System.nanoTime();
                    HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                    long took = System.nanoTime() - t0;
                    if (response.statusCode() != 200) {
                        errors.incrementAndGet();
                    } else if (t0 > warmEnd && count < samples.length) {
                        samples[count++] = took;
                    }
                }
                return Arrays.copyOf(samples, count);
            }));
        }
        List<long[]> all = new ArrayList<>();
        for (Future<long[]> f : results) {
            all.add(f.get());
        }
        pool.shutdown();
        long[] sorted = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        long[] withErrors = Arrays.copyOf(sorted, sorted.length + 1);
        withErrors[sorted.length] = errors.get();
        return withErrors;
    }

    /** The {@code p} quantile (ms) of the latencies {@link #sample} returned (its last element is the error count). */
    static double percentile(long[] sampled, double p) {
        int n = sampled.length - 1;
        return sampled[Math.min(n - 1, (int) (n * p))] / 1e6;
    }
}
