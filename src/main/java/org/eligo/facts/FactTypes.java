package org.eligo.facts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.eligo.support.yaml.RuleFileException;

/**
 * The fact types the service accepts: every declaration in {@code rules/fact-types/}, shared by all
 * rulesets. Immutable; the service's catalogue is produced once at start ({@link FactTypesProducer}).
 */
public final class FactTypes {

    /** The folder of declarations, beside the ruleset folders. */
    public static final String FOLDER = "fact-types";

    private final Map<String, FactType> byName;

    private FactTypes(Map<String, FactType> byName) {
        this.byName = Map.copyOf(byName);
    }

    /** No fact types (no rules folder). */
    public static FactTypes none() {
        return new FactTypes(Map.of());
    }

    /** Every {@code *.yaml} declaration in {@code folder}; a wrong one throws with its file and line. */
    public static FactTypes load(Path folder) {
        if (!Files.isDirectory(folder)) {
            return none();
        }
        Map<String, FactType> types = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.sorted().toList()) {
                String fileName = file.getFileName().toString();
                if (!Files.isRegularFile(file)) {
                    continue;
                }
                if (!fileName.endsWith(".yaml")) {
                    // A misnamed declaration (income.monthly.yml) must not leave a type silently unknown.
                    throw new RuleFileException(file, 0, "not a fact type declaration: declarations are named <type>.yaml");
                }
                FactType type = FactTypeLoader.parse(file, Files.readString(file, StandardCharsets.UTF_8));
                for (FactType other : types.values()) {
                    if (other.view().equals(type.view())) {
                        // a.b_c and a_b.c would share the typed view fact_a_b_c.
                        throw new RuleFileException(file, 1, "the type " + type.name() + " and " + other.name()
                                + " would share the view " + type.view() + ": rename one");
                    }
                }
                types.put(type.name(), type);
            }
        } catch (IOException e) {
            throw new RuleFileException(folder, 0, "cannot be read: " + e.getMessage());
        }
        return new FactTypes(types);
    }

    /** Declarations from their texts (file name -> text), as a ruleset version records them. */
    public static FactTypes parse(Path folder, Map<String, String> files) {
        Map<String, FactType> types = new LinkedHashMap<>();
        for (Map.Entry<String, String> file : new java.util.TreeMap<>(files).entrySet()) {
            FactType type = FactTypeLoader.parse(folder.resolve(file.getKey()), file.getValue());
            types.put(type.name(), type);
        }
        return new FactTypes(types);
    }

    public Optional<FactType> byName(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** Every type, by name. */
    public List<FactType> all() {
        return byName.values().stream().sorted(java.util.Comparator.comparing(FactType::name)).toList();
    }

    public boolean isEmpty() {
        return byName.isEmpty();
    }

    public String names() {
        return all().stream().map(FactType::name).collect(Collectors.joining(", "));
    }
}
