package org.eligo.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/** A rules folder of a test's own under target/, assembled from the shipped rules and test resources. */
public final class RulesFolders {

    private RulesFolders() {
    }

    /**
     * Empties {@code folder}, then copies each source folder's files into the sub-folder it names
     * (several sources may fill one sub-folder); returns {@code folder}.
     */
    public static Path assemble(Path folder, Map<Path, String> sources) {
        try {
            if (Files.exists(folder)) {
                try (Stream<Path> old = Files.walk(folder)) {
                    for (Path path : old.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(path);
                    }
                }
            }
            for (Map.Entry<Path, String> source : sources.entrySet()) {
                Path target = Files.createDirectories(folder.resolve(source.getValue()));
                try (Stream<Path> files = Files.list(source.getKey())) {
                    for (Path file : files.filter(Files::isRegularFile).toList()) {
                        Files.copy(file, target.resolve(file.getFileName()));
                    }
                }
            }
            return folder;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
