package org.eligo.rules;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** Where rulesets come from ({@code eligo.rules.*}). */
@ConfigMapping(prefix = "eligo.rules")
public interface RulesConfig {

    /** The folder of rulesets, relative to the working directory. */
    @WithDefault("rules")
    String directory();
}
