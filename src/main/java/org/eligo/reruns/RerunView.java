package org.eligo.reruns;

import java.time.Instant;

import com.fasterxml.jackson.annotation.JsonInclude;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A rerun as the API shows it (the row is a {@link Rerun}), and how far along it is. */
@Schema(name = "Rerun")
@JsonInclude(JsonInclude.Include.ALWAYS)
public record RerunView(String id,
                        RerunStatus status,
                        @Schema(enumeration = {"changed", "all", "beneficiaries"}) String scope,
                        String period, String ruleset, String reason, String requestedBy, int total, long done, long failed,
                        long changedResults, Instant createdAt, Instant startedAt, Instant finishedAt,
                        @Schema(description = "determinations per second from start to finish (or to now while it runs); "
                                + "null before it starts, and for a run that had nothing to do") Double ratePerS,
                        @Schema(description = "seconds to go at that rate: 0 once done; null while queued, before the first "
                                + "determination, and for a cancelled or failed run") Long etaS) {

    /** The answer to a new rerun. */
    @Schema(name = "RerunAccepted")
    public record Accepted(String id, RerunStatus status, int total) {
    }

    /** A beneficiary whose result changed in a rerun. */
    @Schema(name = "RerunChange")
    public record Change(String beneficiaryId, String previousDeterminationId, String previousResult, String determinationId, String result) {
    }
}
