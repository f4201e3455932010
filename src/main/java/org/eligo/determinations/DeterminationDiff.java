package org.eligo.determinations;

import java.time.Instant;
import java.util.List;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * How two determinations differ: for a hearing, "what changed between these two decisions, and why".
 *
 * @param subchecks the subchecks whose result differs (or that exist in only one), with both details
 * @param facts     the facts one determination read and the other did not
 */
@Schema(name = "DeterminationDiff")
public record DeterminationDiff(String a, String b, Pair<String> beneficiaryId, Pair<String> result, Pair<DeterminationView.RulesetRef> ruleset,
                                Pair<Instant> factsAsOf, List<SubcheckChange> subchecks, FactChanges facts) {

    /** The same thing in determination a and in determination b. */
    public record Pair<T>(T a, T b) {
    }

    public record SubcheckChange(String checkId, String subcheckId, String a, String b, String detailA, String detailB) {
    }

    public record FactChanges(List<String> onlyInA, List<String> onlyInB) {
    }
}
