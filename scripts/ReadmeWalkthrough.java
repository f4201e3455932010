import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The README, tested as a newcomer follows it: copies the project as a fresh clone has it (tracked
 * and new files, no {@code target/} or {@code data/}), starts the service there with the exact
 * first command of the README's "Quick start", then runs every shell block of its "Walk-through"
 * in one bash session, step by step, as pasted. Each {@code # NNN …} comment after a command is a
 * promise: the command's output must be that status followed by that body, where {@code …} stands
 * for any text and everything else is verbatim. A read that does not match yet is retried for up to
 * a minute (the service works asynchronously; a person pasting the next block is slower than it);
 * a write is never repeated. A variable a step assigns must come out non-empty. At the end, the
 * service's log must hold no warning about the access log.
 *
 * <p>Run from the project folder: {@code java scripts/ReadmeWalkthrough.java}. Needs port 8080 free,
 * bash and curl; .ci/run runs it.
 */
public final class ReadmeWalkthrough {

    private static final Pattern EXPECTATION = Pattern.compile("^# (\\d{3})(?: (.*))?$");
    private static final Pattern ASSIGNMENT = Pattern.compile("^([A-Z_][A-Z0-9_]*)=\\$\\(");
    private static final Pattern STATUS_AND_BODY = Pattern.compile("^(\\d{3}) ?(.*)$", Pattern.DOTALL);
    private static final String DONE = "@@step-done ";
    private static final Duration START_TIMEOUT = Duration.ofMinutes(8);
    private static final Duration RETRY_FOR = Duration.ofSeconds(60);
    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(2);

    /** One command as the README has it, with the answers its comments promise. */
    record Step(String command, List<String> expectations, int line) {
        boolean writes() {
            return command.contains(" -d ") || command.contains(" -d'") || command.contains("--data") || command.contains(" -X ");
        }
    }

    private ReadmeWalkthrough() {
    }

    public static void main(String[] args) throws Exception {
        Path project = Path.of("").toAbsolutePath();
        List<String> readme = Files.readAllLines(project.resolve("README.md"));
        String start = startCommand(readme);
        List<Step> steps = steps(readme);
        if (steps.stream().noneMatch(step -> !step.expectations().isEmpty())) {
            fail("the README's walk-through promises nothing to check");
        }
        if (args.length > 0 && args[0].equals("--running")) {
            // While editing the README: the walk-through alone, against a service already started on
            // a fresh database (from this folder, so that DevToken finds its keys).
            run(steps, project);
            System.out.println("readme: walk-through OK against the running service");
            return;
        }
        Path work = Files.createTempDirectory("eligo-readme-");
        Path clone = work.resolve("eligo");
        copyProject(project, clone);
        try {
            // Today, and on a date the 2027 rule is in effect (the service's business clock set
            // through the environment; the command stays the README's), each on a fresh database.
            pass("today", start, steps, clone, work.resolve("service-today.log"), null);
            deleteTree(clone.resolve("data"));
            pass("with the clock at " + LATER, start, steps, clone, work.resolve("service-later.log"), LATER);
        } finally {
            deleteTree(work);
        }
        System.out.println("readme: quick start and walk-through OK, today and with the clock at " + LATER + " (" + steps.size()
                + " steps, " + steps.stream().mapToInt(step -> step.expectations().size()).sum() + " promised answers checked in each)");
    }

    /** The service's own warnings and errors (Maven's are "[WARNING]"). */
    static final Pattern SERVICE_WARNING = Pattern.compile(" (WARN|ERROR) +\\[");
    /**
     * The warnings the quick start gives by design: quarkus:run passes its own version as a system
     * property that no extension reads.
     */
    static final List<String> EXPECTED_WARNINGS = List.of(
            "Unrecognized configuration key \"quarkus.plugin.version\"");

    /** Where the walk-through leaves the receipt it fetched, to be checked again once the service and its database are down. */
    static final String RECEIPT = "receipt.json";

    /** A date on which the 2027 rule is in effect, for the second pass. */
    static final String LATER = "2027-07-15T12:00:00Z";

    static void pass(String name, String start, List<Step> steps, Path clone, Path log, String clock) throws Exception {
        System.out.println("readme: " + name + ": starting the service with the README's command: " + start);
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", start).directory(clone.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        if (clock != null) {
            builder.environment().put("ELIGO_CLOCK", clock);
        }
        Process service = builder.start();
        boolean passed = false;
        try {
            awaitReady(service, log);
            run(steps, clone);
            // What a browser asks for besides the API: none of it may leave a warning.
            for (String path : List.of("/", "/console/", "/console/sign-in", "/console/assets/console.css", "/favicon.ico", "/q/swagger-ui/", "/q/openapi", "/no-such-page")) {
                HttpURLConnection connection = (HttpURLConnection) URI.create("http://localhost:8080" + path).toURL().openConnection();
                connection.setInstanceFollowRedirects(false);
                int status = connection.getResponseCode();
                if (status >= 500) {
                    fail(path + " answered " + status);
                }
            }
            List<String> warnings = Files.readAllLines(log).stream()
                    .filter(line -> SERVICE_WARNING.matcher(line).find() && EXPECTED_WARNINGS.stream().noneMatch(line::contains)).toList();
            if (!warnings.isEmpty()) {
                fail("the service logged warnings a newcomer should not see:\n" + String.join("\n", warnings));
            }
            passed = true;
        } finally {
            stop(service);
            if (!passed) {
                System.err.println("readme: the service's log ends:");
                List<String> lines = Files.readAllLines(log);
                lines.subList(Math.max(0, lines.size() - 60), lines.size()).forEach(System.err::println);
            }
        }
        checkReceiptOffline(clone, log);
        System.out.println("readme: " + name + ": walk-through OK");
    }

    /**
     * The walk-through's receipt, checked again with the service stopped and its embedded database
     * down (its port no longer answers): the proof needs neither.
     */
    static void checkReceiptOffline(Path clone, Path log) throws Exception {
        Path receipt = clone.resolve(RECEIPT);
        if (!Files.exists(receipt)) {
            fail("the walk-through left no " + RECEIPT + " to check offline");
        }
        Matcher port = Pattern.compile("Embedded PostgreSQL is up on port (\\d+)").matcher(Files.readString(log));
        if (!port.find()) {
            fail("the service's log does not say on which port its embedded PostgreSQL ran");
        }
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress("localhost", Integer.parseInt(port.group(1))), 2000);
            fail("the embedded PostgreSQL still answers on port " + port.group(1) + " after the service stopped");
        } catch (java.io.IOException down) {
            // the database is down, as it must be for this check
        }
        Process check = new ProcessBuilder("java", "scripts/CheckReceipt.java", RECEIPT, "data/dev-ledger/public-key.pem")
                .directory(clone.toFile()).redirectErrorStream(true).start();
        String said = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (check.waitFor() != 0) {
            fail("the receipt did not check offline: " + said);
        }
        System.out.println("readme: with the service and its database stopped: " + said);
    }

    /** The first line of the first shell block under "## Quick start". */
    static String startCommand(List<String> readme) {
        List<List<String>> blocks = blocks(section(readme, "## Quick start"));
        if (blocks.isEmpty() || blocks.get(0).isEmpty()) {
            fail("the README's Quick start has no command");
        }
        return blocks.get(0).get(0).trim();
    }

    static List<String> section(List<String> readme, String heading) {
        int from = readme.indexOf(heading);
        if (from < 0) {
            fail("the README has no section " + heading);
        }
        int to = from + 1;
        while (to < readme.size() && !readme.get(to).startsWith("## ")) {
            to++;
        }
        return readme.subList(from + 1, to);
    }

    static List<List<String>> blocks(List<String> lines) {
        List<List<String>> blocks = new ArrayList<>();
        List<String> current = null;
        for (String line : lines) {
            if (current == null && line.equals("```sh")) {
                current = new ArrayList<>();
            } else if (current != null && line.equals("```")) {
                blocks.add(current);
                current = null;
            } else if (current != null) {
                current.add(line);
            }
        }
        return blocks;
    }

    /**
     * Splits the walk-through's blocks into commands. A command ends where a line ends outside any
     * quote and without a trailing backslash; comment lines after it that start with a status are
     * its expectations.
     */
    static List<Step> steps(List<String> readme) {
        int offset = readme.indexOf("## Walk-through") + 1;
        List<String> section = section(readme, "## Walk-through");
        List<Step> steps = new ArrayList<>();
        boolean inBlock = false;
        StringBuilder command = null;
        List<String> expectations = new ArrayList<>();
        int commandLine = 0;
        char quote = 0;
        boolean continued = false;
        for (int i = 0; i < section.size(); i++) {
            String line = section.get(i);
            if (!inBlock) {
                inBlock = line.equals("```sh");
                continue;
            }
            boolean open = quote != 0 || continued;
            if (!open && line.equals("```")) {
                if (command != null) {
                    steps.add(new Step(command.toString(), List.copyOf(expectations), commandLine));
                }
                inBlock = false;
                command = null;
                expectations.clear();
                continue;
            }
            if (!open && (line.isBlank() || line.startsWith("#"))) {
                if (EXPECTATION.matcher(line).matches()) {
                    if (command == null) {
                        fail("README line " + (offset + i + 1) + ": an expected answer with no command before it");
                    }
                    expectations.add(line.substring(2));
                }
                continue;
            }
            if (!open) {
                if (command != null) {
                    steps.add(new Step(command.toString(), List.copyOf(expectations), commandLine));
                }
                command = new StringBuilder();
                expectations.clear();
                commandLine = offset + i + 1;
            } else {
                command.append('\n');
            }
            command.append(line);
            quote = scanQuotes(line, quote);
            continued = quote == 0 && line.endsWith("\\");
        }
        if (inBlock) {
            fail("README: a walk-through block is not closed, or ends inside a quoted string: " + command);
        }
        return steps;
    }

    /** The quote a line leaves open (0 for none), starting inside {@code quote}; comments end the scan. */
    static char scanQuotes(String line, char quote) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                }
            } else if (quote == '"') {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    quote = 0;
                }
            } else if (c == '\\') {
                i++;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return 0;
            }
        }
        return quote;
    }

    static void run(List<Step> steps, Path clone) throws IOException, InterruptedException {
        Process bash = new ProcessBuilder("bash", "--noprofile", "--norc").directory(clone.toFile())
                .redirectErrorStream(true).start();
        BlockingQueue<String> output = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(bash.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = lines.readLine()) != null; ) {
                    output.add(line);
                }
            } catch (IOException closed) {
                // bash was ended: nothing more to read
            }
        }, "bash-output");
        reader.setDaemon(true);
        reader.start();
        Writer input = new java.io.OutputStreamWriter(bash.getOutputStream(), StandardCharsets.UTF_8);
        try {
            for (Step step : steps) {
                Instant deadline = Instant.now().plus(RETRY_FOR);
                while (true) {
                    String result = execute(input, output, step);
                    String mismatch = check(step, result);
                    if (mismatch == null) {
                        System.out.println("readme: ok   line " + step.line() + ": " + firstLine(step.command()));
                        break;
                    }
                    if (step.writes() || step.expectations().isEmpty() || Instant.now().isAfter(deadline)) {
                        fail("README line " + step.line() + ": " + step.command() + "\n" + mismatch + "\ngot: " + result);
                    }
                    TimeUnit.MILLISECONDS.sleep(500); // polling the service until it has caught up, as a reader would
                }
            }
        } finally {
            bash.destroy();
        }
    }

    private static String execute(Writer input, BlockingQueue<String> output, Step step) throws IOException, InterruptedException {
        Matcher assignment = ASSIGNMENT.matcher(step.command());
        String empty = assignment.find() ? "\n[ -n \"$" + assignment.group(1) + "\" ] || echo '@@empty " + assignment.group(1) + "'" : "";
        input.write(step.command() + empty + "\nprintf '\\n" + DONE + "%d\\n' $?\n");
        input.flush();
        StringBuilder result = new StringBuilder();
        Instant deadline = Instant.now().plus(STEP_TIMEOUT);
        while (true) {
            String line = output.poll(Duration.between(Instant.now(), deadline).toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                fail("README line " + step.line() + " did not finish within " + STEP_TIMEOUT.toSeconds() + " s: " + step.command());
            }
            if (line.startsWith(DONE)) {
                String text = result.toString().strip();
                if (!line.equals(DONE + "0")) {
                    fail("README line " + step.line() + " exited " + line.substring(DONE.length()) + ": " + step.command() + "\n" + text);
                }
                if (text.contains("@@empty ")) {
                    fail("README line " + step.line() + " left its variable empty: " + step.command());
                }
                return text;
            }
            result.append(line).append('\n');
        }
    }

    /** Null when the output is every promised answer; otherwise what differs. */
    static String check(Step step, String result) {
        if (step.expectations().isEmpty()) {
            return null;
        }
        if (step.expectations().size() > 1) {
            return "more than one expected answer for one command";
        }
        Matcher expected = EXPECTATION.matcher("# " + step.expectations().get(0));
        expected.matches();
        Matcher actual = STATUS_AND_BODY.matcher(result);
        if (!actual.matches()) {
            return "expected an HTTP status first, as `call` prints it";
        }
        if (!actual.group(1).equals(expected.group(1))) {
            return "expected status " + expected.group(1) + ", got " + actual.group(1);
        }
        String body = expected.group(2);
        if (body != null && !pattern(body).matcher(actual.group(2).strip()).matches()) {
            return "expected a body like " + body + "\n" + firstMissing(body, actual.group(2).strip());
        }
        return null;
    }

    /** Which verbatim part of a promised body is the first that the answer lacks, in order. */
    static String firstMissing(String promised, String body) {
        String[] parts = promised.split("…", -1);
        for (int n = 1; n <= parts.length; n++) {
            String prefix = String.join("…", java.util.Arrays.copyOf(parts, n)) + (n < parts.length ? "…" : "");
            if (!pattern(prefix).matcher(body).matches()) {
                return "the first part missing (in order): " + parts[n - 1];
            }
        }
        return "";
    }

    /** The promised body as a pattern: verbatim, with … standing for any text. */
    static Pattern pattern(String promised) {
        StringBuilder regex = new StringBuilder();
        String[] parts = promised.split("…", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                regex.append(".*?");
            }
            regex.append(Pattern.quote(parts[i]));
        }
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    static void awaitReady(Process service, Path log) throws IOException, InterruptedException {
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!service.isAlive()) {
                fail("the service exited during start (exit " + service.exitValue() + ")");
            }
            try {
                HttpURLConnection connection = (HttpURLConnection) URI.create("http://localhost:8080/q/health/ready").toURL().openConnection();
                connection.setConnectTimeout(1000);
                connection.setReadTimeout(5000);
                if (connection.getResponseCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            TimeUnit.MILLISECONDS.sleep(500); // waiting for the service to answer ready
        }
        fail("the service was not ready within " + START_TIMEOUT.toMinutes() + " minutes");
    }

    /** SIGTERM to the service's JVM and then to Maven, as Ctrl-C would; the embedded database stops with it. */
    static void stop(Process service) throws InterruptedException {
        List<ProcessHandle> children = service.descendants().sorted(Comparator.comparingLong(ProcessHandle::pid).reversed()).toList();
        children.forEach(ProcessHandle::destroy);
        for (ProcessHandle child : children) {
            child.onExit().completeOnTimeout(child, 30, TimeUnit.SECONDS).join();
        }
        service.destroy();
        if (!service.waitFor(30, TimeUnit.SECONDS)) {
            service.destroyForcibly();
        }
        service.descendants().forEach(ProcessHandle::destroyForcibly);
    }

    /** The files a fresh clone has: tracked ones and new ones not ignored (so uncommitted edits are tested too). */
    static void copyProject(Path project, Path clone) throws IOException, InterruptedException {
        Process git = new ProcessBuilder("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
                .directory(project.toFile()).redirectErrorStream(true).start();
        String listing = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (git.waitFor() != 0) {
            fail("git ls-files failed: " + listing);
        }
        for (String name : listing.split("\0")) {
            Path source = project.resolve(name);
            if (name.isEmpty() || !Files.isRegularFile(source)) {
                continue; // deleted in the work tree
            }
            Path target = clone.resolve(name);
            Files.createDirectories(target.getParent());
            Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    private static String firstLine(String text) {
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline) + " …";
    }

    private static void fail(String message) {
        throw new IllegalStateException("readme: FAILED: " + message);
    }
}
