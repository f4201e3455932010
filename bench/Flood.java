import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An unauthenticated flood, as issue 14 measured it: N clients at once, each announcing (or chunking)
 * a 17 MB body to POST /v1/reruns with no token and sending it as fast as the service takes it. While
 * they run, the health check is probed every 100 ms and the service's resident memory is sampled.
 *
 * <pre>java bench/Flood.java PORT SERVICE_PID [CLIENTS=300]</pre>
 *
 * Prints the answers the clients got, the body bytes they wrote before being answered or cut off
 * (most sit in socket buffers and the refused upload's short drain, never in the heap), the slowest health
 * answer, and the service's RSS before, at its peak and after. Loopback only.
 */
public final class Flood {

    private static final int BODY = 17 * 1024 * 1024;

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        long pid = Long.parseLong(args[1]);
        int clients = args.length > 2 ? Integer.parseInt(args[2]) : 300;
        long before = rss(pid);
        AtomicLong peak = new AtomicLong(before);
        AtomicLong accepted = new AtomicLong();
        AtomicLong slowestHealth = new AtomicLong();
        AtomicLong healthFailures = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(clients + 1);
        boolean[] running = {true};
        Future<?> probe = pool.submit(() -> {
            while (running[0]) {
                Instant start = Instant.now();
                try {
                    HttpURLConnection health = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/q/health/ready").toURL().openConnection();
                    health.setConnectTimeout(5000);
                    health.setReadTimeout(5000);
                    if (health.getResponseCode() != 200) {
                        healthFailures.incrementAndGet();
                    }
                    health.getInputStream().readAllBytes();
                } catch (Exception e) {
                    healthFailures.incrementAndGet();
                }
                slowestHealth.accumulateAndGet(Duration.between(start, Instant.now()).toMillis(), Math::max);
                peak.accumulateAndGet(rss(pid), Math::max);
                TimeUnit.MILLISECONDS.sleep(100); // a probe's pace, not a wait for a condition
            }
            return null;
        });
        List<Future<String>> answers = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            boolean chunked = i % 2 == 1;
            answers.add(pool.submit(() -> upload(port, chunked, accepted)));
        }
        java.util.Map<String, Integer> statuses = new java.util.TreeMap<>();
        for (Future<String> answer : answers) {
            statuses.merge(answer.get(120, TimeUnit.SECONDS), 1, Integer::sum);
        }
        running[0] = false;
        probe.get();
        pool.shutdown();
        System.out.printf("clients %d (half chunked): answers %s; body bytes written before the service answered or closed %.1f MB of %.1f MB%n",
                clients, statuses, accepted.get() / 1e6, (double) clients * BODY / 1e6);
        System.out.printf("health: slowest %d ms, %d failed probes%n", slowestHealth.get(), healthFailures.get());
        System.out.printf("service RSS: before %d MB, peak %d MB, after %d MB%n", before / 1024, peak.get() / 1024, rss(pid) / 1024);
    }

    /** Sends the headers, then the body until the service stops taking it; returns the status line's code. */
    private static String upload(int port, boolean chunked, AtomicLong accepted) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(60_000);
            OutputStream out = socket.getOutputStream();
            String head = "POST /v1/reruns HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + (chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + BODY + "\r\n") + "\r\n";
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            byte[] piece = new byte[64 * 1024];
            java.util.Arrays.fill(piece, (byte) ' ');
            InputStream in = socket.getInputStream();
            for (int sent = 0; sent < BODY; sent += piece.length) {
                if (in.available() > 0) {
                    break; // answered already
                }
                try {
                    if (chunked) {
                        out.write((Integer.toHexString(piece.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write(piece);
                    if (chunked) {
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    accepted.addAndGet(piece.length);
                } catch (java.io.IOException closed) {
                    break;
                }
            }
            byte[] status = in.readNBytes(12);
            return status.length == 12 ? new String(status, StandardCharsets.US_ASCII).substring(9, 12) : "closed";
        } catch (java.io.IOException e) {
            return "closed";
        }
    }

    /** Resident memory of a process, in kB. */
    private static long rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (Exception e) {
            return 0;
        }
        return 0;
    }
}
