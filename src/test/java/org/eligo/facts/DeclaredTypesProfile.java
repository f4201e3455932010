package org.eligo.facts;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.eligo.testing.RulesFolders;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The service with the shipped rules plus two made-up fact types (test resources fact-types/) and a
 * made-up program that reads one of them, copied into one rules folder under {@code target/}: the
 * declaration files are all that adds the types.
 */
public class DeclaredTypesProfile implements QuarkusTestProfile {

    static final Path FOLDER = Path.of("target", "declared-types-rules");

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<Path, String> sources = new LinkedHashMap<>();
        sources.put(Path.of("rules", "medicaid-community-engagement"), "medicaid-community-engagement");
        sources.put(Path.of("rules", FactTypes.FOLDER), FactTypes.FOLDER);
        sources.put(Path.of("src", "test", "resources", FactTypes.FOLDER), FactTypes.FOLDER);
        sources.put(Path.of("src", "test", "resources", "rulesets", "volunteering-credit"), "volunteering-credit");
        return Map.of("eligo.rules.directory", RulesFolders.assemble(FOLDER, sources).toString());
    }
}
