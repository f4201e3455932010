package org.eligo.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The README and the docs point only at files a clone has: no link leaves the repository (a clone
 * has no {@code ../shared}), and every project path they name exists.
 */
class ReadmeLinksTest {

    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern NAMED_PATH = Pattern.compile("`((?:\\.ci|bench|docs|k8s|rules|scripts|src)/[^`\\s]*)`");

    private static List<Path> documents() throws IOException {
        List<Path> documents = new ArrayList<>(List.of(Path.of("README.md"), Path.of("rules/README.md"), Path.of("bench/README.md")));
        try (var docs = Files.list(Path.of("docs"))) {
            docs.filter(path -> path.toString().endsWith(".md")).forEach(documents::add);
        }
        return documents;
    }

    @Test
    void everyPathTheDocumentsNameIsInTheRepository() throws IOException {
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (Path document : documents()) {
            String text = Files.readString(document);
            assertTrue(!text.contains("../shared"), document + " points outside the repository (../shared)");
            // docs/api.md is the contract: it names paths the project is still to make (rules/fact-types/).
            boolean contract = document.endsWith(Path.of("docs", "api.md"));
            for (Pattern pattern : contract ? List.of(LINK) : List.of(LINK, NAMED_PATH)) {
                Matcher matcher = pattern.matcher(text);
                while (matcher.find()) {
                    String target = matcher.group(1).replaceAll("[#?].*$", "");
                    if (target.isEmpty() || target.matches("^[a-z]+:.*")) {
                        continue; // a web address or an anchor
                    }
                    assertTrue(!target.startsWith("../") && !target.startsWith("/"), document + " links outside the repository: " + target);
                    Path resolved = pattern == LINK ? document.toAbsolutePath().getParent().resolve(target) : Path.of(target);
                    checked++;
                    if (!Files.exists(resolved)) {
                        missing.add(document + ": " + target);
                    }
                }
            }
        }
        assertEquals(List.of(), missing, "paths named in the documents that the repository lacks");
        assertTrue(checked > 20, "the README names project paths: " + checked);
    }
}
