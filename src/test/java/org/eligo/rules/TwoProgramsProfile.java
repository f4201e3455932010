package org.eligo.rules;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The service with two programs in its rules folder: the shipped Medicaid ruleset and the made-up
 * senior heating assistance from the test resources, copied side by side into one folder under
 * {@code target/} with the shipped fact-type declarations (the rules folder is one directory of
 * ruleset folders and fact-types/).
 */
public class TwoProgramsProfile implements QuarkusTestProfile {

    static final Path FOLDER = Path.of("target", "two-programs-rules");
    private static final List<Path> PROGRAMS = List.of(
            Path.of("rules", "medicaid-community-engagement"),
            Path.of("rules", "fact-types"),
            Path.of("src", "test", "resources", "rulesets", "senior-heating-assistance"));

    @Override
    public Map<String, String> getConfigOverrides() {
        try {
            if (Files.exists(FOLDER)) {
                try (Stream<Path> old = Files.walk(FOLDER)) {
                    for (Path path : old.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(path);
                    }
                }
            }
            for (Path program : PROGRAMS) {
                Path target = Files.createDirectories(FOLDER.resolve(program.getFileName()));
                try (Stream<Path> files = Files.list(program)) {
                    for (Path file : files.filter(Files::isRegularFile).toList()) {
                        Files.copy(file, target.resolve(file.getFileName()));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.of("eligo.rules.directory", FOLDER.toString());
    }
}
