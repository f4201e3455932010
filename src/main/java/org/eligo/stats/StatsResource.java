package org.eligo.stats;

import java.time.Instant;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;
import org.eligo.support.Db;

/** How much there is and how far behind processing is: backlog and pending are exact. */
@Path("/v1/stats")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Operations")
@Allowed(Role.ANALYST)
public class StatsResource {


    @Schema(name = "Stats")
    public record Stats(Messages messages, Instant oldestBacklogReceivedAt, Facts facts, Determinations determinations,
                        @Schema(description = "work this instance cannot do and leaves for an instance that can: messages of a fact type it does"
                                + " not declare, queued automatic determinations and pending rerun items of a ruleset it has not loaded"
                                + " (a rolling deploy in progress, instances with different rules folders)")
                        LeftForOthers leftForOtherInstances) {
    }

    public record LeftForOthers(long messages, long determinations, long reruns) {
    }

    public record Messages(long received, long processed, long failed, long backlog) {
    }

    public record Facts(long active, long revoked) {
    }

    public record Determinations(long total,
                                 @Schema(description = "automatic determinations queued and still to be made") long pending,
                                 @Schema(description = "queued automatic determinations at their dead end: failed eligo.determinations.max-attempts"
                                         + " times, kept with their last error, no longer tried until POST /v1/determinations/queue/redrive") long failed) {
    }

    private final Db db;

    private final org.eligo.ingest.Messages messages;
    private final org.eligo.determinations.DeterminationQueue determinationQueue;
    private final java.util.List<String> typeNames;
    private final org.eligo.rules.RulesetRegistry rulesets;
    private final org.eligo.reruns.Reruns reruns;
    private final org.eligo.facts.FactReader facts;
    private final org.eligo.determinations.Determinations storedDeterminations;

    public StatsResource(Db db, org.eligo.facts.FactReader facts, org.eligo.determinations.Determinations storedDeterminations, org.eligo.facts.FactTypes types, org.eligo.ingest.Messages messages,
                         org.eligo.determinations.DeterminationQueue determinationQueue, org.eligo.rules.RulesetRegistry rulesets,
                         org.eligo.reruns.Reruns reruns) {
        this.reruns = reruns;
        this.facts = facts;
        this.storedDeterminations = storedDeterminations;
        this.db = db;
        this.messages = messages;
        this.determinationQueue = determinationQueue;
        this.typeNames = types.all().stream().map(org.eligo.facts.FactType::name).toList();
        this.rulesets = rulesets;
    }

    @GET
    @Operation(summary = "Counts of messages, facts and determinations; backlog and pending are exact")
    public Stats stats() {
        // One snapshot, so the numbers agree with each other (the messages' owner joins this transaction).
        return db.inSnapshot(connection -> {
            org.eligo.ingest.Messages.Counts m = messages.counts();
            org.eligo.facts.FactReader.Counts f = facts.counts(connection);
            // The owners' counts join this transaction, on this connection, in the same snapshot.
            long determinations = storedDeterminations.count();
            org.eligo.determinations.DeterminationQueue.Counts queued = determinationQueue.counts();
            java.util.List<String> loaded = rulesets.all().stream().map(org.eligo.rules.Ruleset::id).toList();
            LeftForOthers left = new LeftForOthers(messages.countOtherTypes(typeNames),
                    determinationQueue.countOtherRulesets(loaded), reruns.countOtherRulesets(loaded));
            return new Stats(new Messages(m.received(), m.processed(), m.failed(), m.backlog()), m.oldestBacklogReceivedAt(),
                    new Facts(f.active(), f.revoked()),
                    new Determinations(determinations, queued.pending(), queued.failed()), left);
        });
    }
}
