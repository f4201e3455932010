package org.eligo.rules;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.eligo.facts.FactTypes;
import org.eligo.testing.RulesFolders;

import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * The service with two programs in its rules folder: the shipped Medicaid ruleset and the made-up
 * senior heating assistance from the test resources, copied side by side into one folder under
 * {@code target/} with the shipped fact-type declarations (the rules folder is one directory of
 * ruleset folders and fact-types/).
 */
public class TwoProgramsProfile implements QuarkusTestProfile {

    static final Path FOLDER = Path.of("target", "two-programs-rules");

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<Path, String> sources = new LinkedHashMap<>();
        sources.put(Path.of("rules", "medicaid-community-engagement"), "medicaid-community-engagement");
        sources.put(Path.of("rules", FactTypes.FOLDER), FactTypes.FOLDER);
        sources.put(Path.of("src", "test", "resources", "rulesets", "senior-heating-assistance"), "senior-heating-assistance");
        return Map.of("eligo.rules.directory", RulesFolders.assemble(FOLDER, sources).toString());
    }
}
