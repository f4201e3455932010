package org.eligo.facts;

import java.nio.file.Path;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import org.eligo.rules.RulesConfig;

/**
 * The service's fact types, read once from {@code <eligo.rules.directory>/fact-types}. A wrong
 * declaration fails the first bean that needs the catalogue, which start-up does (the ruleset
 * registry and the message workers), so the service does not start on it.
 */
public class FactTypesProducer {

    @Produces
    @Singleton
    FactTypes factTypes(RulesConfig config) {
        return FactTypes.load(Path.of(config.directory()).resolve(FactTypes.FOLDER));
    }
}
