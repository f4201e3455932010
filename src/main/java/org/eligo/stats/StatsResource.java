package org.eligo.stats;

import java.time.Instant;
import java.util.List;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;

/**
 * How much there is and how far behind processing is: backlog, failed and pending are exact; the
 * totals of the tables that only grow are estimates (named in {@code estimated}), so the answer costs
 * the same however large they are.
 */
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
                        LeftForOthers leftForOtherInstances,
                        @Schema(description = "JSON Pointers of the counts in this answer that are estimates (the planner's, from PostgreSQL's"
                                + " statistics), not counts: the totals of tables that only grow, which a count would read whole."
                                + " The others (backlog, failed, pending, left_for_other_instances) are exact.")
                        List<String> estimated) {
    }

    /** The counts {@link Statistics} estimates rather than counts. */
    static final List<String> ESTIMATED = List.of("/messages/received", "/messages/processed", "/facts/active", "/facts/revoked",
            "/determinations/total");

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

    private final Statistics statistics;

    public StatsResource(Statistics statistics) {
        this.statistics = statistics;
    }

    @GET
    @Operation(summary = "Counts of messages, facts and determinations; backlog, failed and pending are exact, the totals estimates",
            description = "What it costs is bounded by indexes, not by the size of the tables: the totals of messages, facts and"
                    + " determinations are PostgreSQL's estimates (listed in estimated), never a count of every row.")
    public Stats stats() {
        return statistics.take();
    }
}
