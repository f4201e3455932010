package org.eligo.rules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import org.jboss.logging.Logger;

import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;

/**
 * The rulesets in force, loaded and validated at start. A broken rule file stops start-up (the
 * exception names file, line and problem); nothing is half-loaded. Each loaded version is recorded
 * in {@code ruleset_version} ({@link RulesetVersion}) so determinations can always name the exact
 * files they were made with, and its coming into force in {@code ruleset_activation} ({@link RulesetActivation}).
 */
@ApplicationScoped
public class RulesetRegistry {

    private static final Logger LOG = Logger.getLogger(RulesetRegistry.class);

    /** A version of a ruleset and when it came into force. */
    public record Activation(String version, String sha256, java.time.Instant activatedAt) {
    }

    private final RulesConfig config;
    private final com.fasterxml.jackson.databind.ObjectMapper json;
    private volatile Map<String, Ruleset> rulesets = Map.of();
    /** Earlier versions parsed again from their recorded files, by sha256. */
    private final Map<String, Ruleset> earlier = new java.util.concurrent.ConcurrentHashMap<>();

    private final org.eligo.facts.FactTypes factTypes;

    public RulesetRegistry(RulesConfig config, com.fasterxml.jackson.databind.ObjectMapper json, org.eligo.facts.FactTypes factTypes) {
        this.factTypes = factTypes;
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
        // One declarative transaction: every loaded version recorded and activated, or none.
        QuarkusTransaction.requiringNew().run(() -> {
            for (Ruleset ruleset : loaded) {
                try {
                    RulesetVersion.record(ruleset, ruleset.definition().toString(), json.writeValueAsString(ruleset.files()));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
                RulesetActivation.recordIfNew(ruleset.id(), ruleset.sha256());
            }
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
        RulesetVersion.InForce inForce = RulesetVersion.inForceAt(connection, id, at);
        if (inForce == null || current == null || inForce.sha256().equals(current.sha256()) || inForce.files() == null) {
            return current;
        }
        String sha256 = inForce.sha256();
        Ruleset earlierVersion = earlier.computeIfAbsent(sha256, key -> parse(id, inForce.files()));
        if (!earlierVersion.sha256().equals(sha256)) {
            // The recorded files were changed behind the service's back: never decide with them.
            earlier.remove(sha256);
            throw new IllegalStateException("ruleset_version " + id + "@" + sha256 + ": its files hash to " + earlierVersion.sha256());
        }
        return earlierVersion;
    }

    /** Every version of ruleset {@code id} and when it came into force, oldest first. */
    public List<Activation> history(String id) {
        return QuarkusTransaction.joiningExisting().call(() -> RulesetActivation.of(id).stream().map(activation -> {
            RulesetVersion version = RulesetVersion.findById(new RulesetVersion.Key(activation.rulesetId, activation.sha256));
            return new Activation(version.version, activation.sha256, activation.activatedAt);
        }).toList());
    }

    /** A recorded version of a ruleset, loaded or not, with its definition as recorded. */
    public record Recorded(String version, String title, com.fasterxml.jackson.databind.JsonNode definition) {
    }

    /** The recorded version {@code sha256} of ruleset {@code id}, loaded or not: what a determination's {@code ruleset.sha256} names. */
    public java.util.Optional<Recorded> recorded(String id, String sha256) {
        return QuarkusTransaction.joiningExisting().call(() -> RulesetVersion.shown(id, sha256)).map(shown -> {
            try {
                return new Recorded(shown.version(), shown.title(), json.readTree(shown.definition()));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("The recorded definition of ruleset " + id + " version " + sha256 + " is not JSON", e);
            }
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
