package org.eligo.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The images {@code src/main/docker} builds, as far as the manifests depend on them. */
final class Dockerfiles {

    static final Path FOLDER = Path.of("src/main/docker");
    private static final Pattern BUILD = Pattern.compile("docker build -f (\\S+) -t (\\S+) \\.");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)");

    /**
     * One Dockerfile: the image name its header builds ({@code docker build ... -t <name>}), the user
     * it runs as, the ports it exposes, its working directory, the environment variables it sets and
     * those its entrypoint reads, and whether it copies the rulesets into the working directory.
     */
    record Image(Path file, String name, String user, Set<Integer> exposed, String workdir, Map<String, String> environment,
                 Set<String> entrypointVariables, boolean copiesRules) {
    }

    private Dockerfiles() {
    }

    static List<Image> all() {
        try (Stream<Path> files = Files.list(FOLDER)) {
            return files.filter(f -> f.getFileName().toString().startsWith("Dockerfile")).sorted().map(Dockerfiles::read).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Image read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String name = null;
        String user = null;
        String workdir = "/";
        Set<Integer> exposed = new LinkedHashSet<>();
        Map<String, String> environment = new LinkedHashMap<>();
        Set<String> entrypointVariables = new LinkedHashSet<>();
        boolean copiesRules = false;
        // Instructions span lines ending in a backslash.
        String joined = text.replaceAll("\\\\\\n\\s*", " ");
        for (String line : joined.split("\n")) {
            String trimmed = line.trim();
            if (trimmed.startsWith("#")) {
                Matcher build = BUILD.matcher(trimmed);
                if (build.find() && !build.group(1).equals("-")) {
                    if (!Path.of(build.group(1)).equals(file)) {
                        throw new AssertionError(file + ": its header builds " + build.group(1));
                    }
                    if (name != null && !name.equals(Kustomize.imageName(build.group(2)))) {
                        throw new AssertionError(file + ": its header names two images");
                    }
                    name = Kustomize.imageName(build.group(2));
                }
                continue;
            }
            String[] words = trimmed.split("\\s+", 2);
            String argument = words.length > 1 ? words[1] : "";
            switch (words[0]) {
                case "USER" -> user = argument;
                case "WORKDIR" -> workdir = argument.endsWith("/") ? argument.substring(0, argument.length() - 1) : argument;
                case "EXPOSE" -> {
                    for (String port : argument.split("\\s+")) {
                        exposed.add(Integer.parseInt(port.replace("/tcp", "")));
                    }
                }
                case "ENV" -> {
                    Matcher m = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\\S*)").matcher(argument);
                    while (m.find()) {
                        environment.put(m.group(1), m.group(2).replaceAll("^[\"']|[\"']$", ""));
                    }
                }
                case "ENTRYPOINT", "CMD" -> {
                    Matcher m = VARIABLE.matcher(argument);
                    while (m.find()) {
                        entrypointVariables.add(m.group(1));
                    }
                }
                case "COPY" -> copiesRules |= argument.matches(".*\\srules/\\s+" + Pattern.quote(workdir) + "/rules/?\\s*$");
                default -> {
                }
            }
        }
        if (name == null) {
            throw new AssertionError(file + ": its header does not say how to build it (docker build -f " + file + " -t <name> .)");
        }
        return new Image(file, name, user, exposed, workdir, environment, entrypointVariables, copiesRules);
    }
}
