package org.eligo.rules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import org.eligo.support.Db;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;

/**
 * The rulesets in force, loaded and validated at start. A broken rule file stops start-up (the
 * exception names file, line and problem); nothing is half-loaded. Each loaded version is recorded
 * in {@code ruleset_version} so determinations can always name the exact files they were made with.
 */
@ApplicationScoped
public class RulesetRegistry {

    private static final Logger LOG = Logger.getLogger(RulesetRegistry.class);

    /** Binds: ruleset id, sha256, version, title, definition (JSON text). */
    static final String RECORD_VERSION = """
            INSERT INTO ruleset_version (ruleset_id, sha256, version, title, definition)
            VALUES (?, ?, ?, ?, ?::jsonb)
            ON CONFLICT (ruleset_id, sha256) DO NOTHING
            """;

    private final Db db;
    private final RulesConfig config;
    private volatile Map<String, Ruleset> rulesets = Map.of();

    public RulesetRegistry(Db db, RulesConfig config) {
        this.db = db;
        this.config = config;
    }

    /** Before the workers start (they need the rulesets), after Flyway (which runs before any StartupEvent). */
    void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION) StartupEvent event) {
        Path directory = Path.of(config.directory());
        if (!Files.isDirectory(directory)) {
            LOG.warnf("No rules folder at %s: no rulesets are loaded, determinations are unavailable", directory.toAbsolutePath());
            return;
        }
        List<Ruleset> loaded = RulesetLoader.loadAll(directory);
        db.inTransaction(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(RECORD_VERSION)) {
                for (Ruleset ruleset : loaded) {
                    statement.setString(1, ruleset.id());
                    statement.setString(2, ruleset.sha256());
                    statement.setString(3, ruleset.version());
                    statement.setString(4, ruleset.title());
                    statement.setString(5, ruleset.definition().toString());
                    statement.addBatch();
                }
                statement.executeBatch();
            }
            return null;
        });
        Map<String, Ruleset> byId = new LinkedHashMap<>();
        loaded.forEach(ruleset -> byId.put(ruleset.id(), ruleset));
        rulesets = Map.copyOf(byId);
        loaded.forEach(r -> LOG.infof("Ruleset %s version %s loaded (sha256 %s)", r.id(), r.version(), r.sha256()));
    }

    public Collection<Ruleset> all() {
        return rulesets.values().stream().sorted(java.util.Comparator.comparing(Ruleset::id)).toList();
    }

    public Optional<Ruleset> find(String id) {
        return Optional.ofNullable(rulesets.get(id));
    }
}
