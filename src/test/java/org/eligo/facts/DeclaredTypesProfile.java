package org.eligo.facts;

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
 * The service with the shipped rules plus two made-up fact types (test resources fact-types/) and a
 * made-up program that reads one of them, copied into one rules folder under {@code target/}: the
 * declaration files are all that adds the types.
 */
public class DeclaredTypesProfile implements QuarkusTestProfile {

    static final Path FOLDER = Path.of("target", "declared-types-rules");
    private static final List<Path[]> COPIES = List.of(
            new Path[] {Path.of("rules", "medicaid-community-engagement"), FOLDER.resolve("medicaid-community-engagement")},
            new Path[] {Path.of("rules", FactTypes.FOLDER), FOLDER.resolve(FactTypes.FOLDER)},
            new Path[] {Path.of("src", "test", "resources", FactTypes.FOLDER), FOLDER.resolve(FactTypes.FOLDER)},
            new Path[] {Path.of("src", "test", "resources", "rulesets", "volunteering-credit"), FOLDER.resolve("volunteering-credit")});

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
            for (Path[] copy : COPIES) {
                Path target = Files.createDirectories(copy[1]);
                try (Stream<Path> files = Files.list(copy[0])) {
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
