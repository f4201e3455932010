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

    private final Statistics statistics;

    public StatsResource(Statistics statistics) {
        this.statistics = statistics;
    }

    @GET
    @Operation(summary = "Counts of messages, facts and determinations; backlog and pending are exact")
    public Stats stats() {
        return statistics.take();
    }
}
