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

    /** Binds: ruleset id, sha256, version, title, definition (JSON text), files (JSON text). */
    static final String RECORD_VERSION = """
            INSERT INTO ruleset_version (ruleset_id, sha256, version, title, definition, files)
            VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb)
            ON CONFLICT (ruleset_id, sha256) DO NOTHING
            """;

    /** Records that a version came into force, unless it is the one in force already. Binds id, sha256, id. */
    static final String RECORD_ACTIVATION = """
            INSERT INTO ruleset_activation (ruleset_id, sha256)
            SELECT ?, ?
             WHERE ? IS DISTINCT FROM (SELECT sha256 FROM ruleset_activation WHERE ruleset_id = ? ORDER BY activated_at DESC LIMIT 1)
            """;

    /** The version in force at an instant (or, before the first activation, the first version). Binds id, instant, id. */
    static final String IN_FORCE = """
            SELECT sha256, files FROM (
                (SELECT a.sha256, v.files, 0 AS rank FROM ruleset_activation a JOIN ruleset_version v USING (ruleset_id, sha256)
                  WHERE a.ruleset_id = ? AND a.activated_at <= ? ORDER BY a.activated_at DESC LIMIT 1)
                UNION ALL
                (SELECT a.sha256, v.files, 1 FROM ruleset_activation a JOIN ruleset_version v USING (ruleset_id, sha256)
                  WHERE a.ruleset_id = ? ORDER BY a.activated_at LIMIT 1)) AS candidates
             ORDER BY rank LIMIT 1
            """;

    static final String HISTORY = """
            SELECT v.version, a.sha256, a.activated_at FROM ruleset_activation a JOIN ruleset_version v USING (ruleset_id, sha256)
             WHERE a.ruleset_id = ? ORDER BY a.activated_at
            """;

    /** A version of a ruleset and when it came into force. */
    public record Activation(String version, String sha256, java.time.Instant activatedAt) {
    }

    private final Db db;
    private final RulesConfig config;
    private final com.fasterxml.jackson.databind.ObjectMapper json;
    private volatile Map<String, Ruleset> rulesets = Map.of();
    /** Earlier versions parsed again from their recorded files, by sha256. */
    private final Map<String, Ruleset> earlier = new java.util.concurrent.ConcurrentHashMap<>();

    private final org.eligo.facts.FactTypes factTypes;

    public RulesetRegistry(Db db, RulesConfig config, com.fasterxml.jackson.databind.ObjectMapper json, org.eligo.facts.FactTypes factTypes) {
        this.factTypes = factTypes;
        this.db = db;
        this.config = config;
        this.json = json;
    }

    /** Before the workers start (they need the rulesets), after Flyway (which runs before any StartupEvent). */
    void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION) StartupEvent event) {
        Path directory = Path.of(config.directory());
        if (!Files.isDirectory(directory)) {
            LOG.warnf("No rules folder at %s: no rulesets are loaded, determinations are unavailable", directory.toAbsolutePath());
            return;
        }
        List<Ruleset> loaded = RulesetLoader.loadAll(directory, factTypes);
        db.inTransaction(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(RECORD_VERSION)) {
                for (Ruleset ruleset : loaded) {
                    statement.setString(1, ruleset.id());
                    statement.setString(2, ruleset.sha256());
                    statement.setString(3, ruleset.version());
                    statement.setString(4, ruleset.title());
                    statement.setString(5, ruleset.definition().toString());
                    statement.setString(6, json.writeValueAsString(ruleset.files()));
                    statement.addBatch();
                }
                statement.executeBatch();
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            try (PreparedStatement statement = connection.prepareStatement(RECORD_ACTIVATION)) {
                for (Ruleset ruleset : loaded) {
                    statement.setString(1, ruleset.id());
                    statement.setString(2, ruleset.sha256());
                    statement.setString(3, ruleset.sha256());
                    statement.setString(4, ruleset.id());
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

    /**
     * The ruleset a request names at {@code pointer}, or the only one loaded when it names none;
     * null with an error added when neither works.
     */
    public Ruleset resolve(String id, String pointer, List<org.eligo.support.problem.FieldError> errors) {
        if (id == null) {
            if (rulesets.size() == 1) {
                return rulesets.values().iterator().next();
            }
            errors.add(org.eligo.support.problem.FieldError.at(pointer, rulesets.isEmpty() ? "no ruleset is loaded" : "is required when several rulesets are loaded"));
            return null;
        }
        Ruleset ruleset = rulesets.get(id);
        if (ruleset == null) {
            errors.add(org.eligo.support.problem.FieldError.at(pointer, "unknown ruleset; loaded: " + String.join(", ", all().stream().map(Ruleset::id).toList())));
        }
        return ruleset;
    }

    public Optional<Ruleset> find(String id) {
        return Optional.ofNullable(rulesets.get(id));
    }

    /**
     * The version of ruleset {@code id} that was in force at {@code at}: the loaded one if it was,
     * otherwise the recorded version, parsed again from its files. Falls back to the loaded version
     * when no files were recorded for the older one.
     */
    public Ruleset inForceAt(java.sql.Connection connection, String id, java.time.Instant at) throws java.sql.SQLException {
        Ruleset current = rulesets.get(id);
        try (PreparedStatement statement = connection.prepareStatement(IN_FORCE)) {
            statement.setString(1, id);
            statement.setObject(2, at.atOffset(java.time.ZoneOffset.UTC));
            statement.setString(3, id);
            try (java.sql.ResultSet rs = statement.executeQuery()) {
                if (!rs.next() || current == null || rs.getString(1).equals(current.sha256()) || rs.getString(2) == null) {
                    return current;
                }
                String sha256 = rs.getString(1);
                String files = rs.getString(2);
                Ruleset earlierVersion = earlier.computeIfAbsent(sha256, key -> parse(id, files));
                if (!earlierVersion.sha256().equals(sha256)) {
                    // The recorded files were changed behind the service's back: never decide with them.
                    earlier.remove(sha256);
                    throw new IllegalStateException("ruleset_version " + id + "@" + sha256 + ": its files hash to " + earlierVersion.sha256());
                }
                return earlierVersion;
            }
        }
    }

    public List<Activation> history(String id) {
        return db.read(connection -> {
            List<Activation> history = new java.util.ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(HISTORY)) {
                statement.setString(1, id);
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        history.add(new Activation(rs.getString(1), rs.getString(2), rs.getObject(3, java.time.OffsetDateTime.class).toInstant()));
                    }
                }
            }
            return history;
        });
    }

    private Ruleset parse(String id, String files) {
        try {
            Map<String, String> byName = json.readValue(files, new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() { });
            return RulesetLoader.load(Path.of("ruleset_version", id), byName);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("Recorded files of ruleset " + id + " cannot be read", e);
        }
    }
}
