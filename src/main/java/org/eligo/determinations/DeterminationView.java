package org.eligo.determinations;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;

import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eligo.facts.Fact;

/**
 * A determination as the API shows it: the result, every check and subcheck, and the facts each
 * subcheck read. Stored ones are immutable (the row is a {@link Determination}); an evaluation (time
 * travel, what-if) has {@code id} null.
 */
@Schema(name = "Determination")
public record DeterminationView(@Schema(nullable = true, description = "null for an evaluation, which is not stored") String id, String beneficiaryId, String period, RulesetRef ruleset, Instant evaluatedAt,
                                Instant factsAsOf,
                                @Schema(enumeration = {"ingest", "request", "rerun"}) String trigger,
                                @Schema(nullable = true) String rerunId,
                                @Schema(enumeration = {"PASSED", "NOT_PASSED", "NO_DATA", "ERROR", "SKIPPED"}) String result,
                                List<CheckOutcome> checks,
                                @JsonInclude(JsonInclude.Include.NON_NULL)
                                @Schema(description = "With ?expand=facts: every fact a subcheck read, with its message_id") List<Fact> facts) implements org.eligo.auth.AboutBeneficiary {

    /**
     * The exact ruleset files a determination was made with; for a what-if evaluation, also the
     * parameter values it used instead of the files' (a stored determination never has any).
     */
    @Schema(name = "RulesetRef")
    public record RulesetRef(String id, String version, String sha256,
                             @JsonInclude(JsonInclude.Include.NON_NULL)
                             @Schema(description = "Only on a what-if evaluation: the parameters it was asked to evaluate with, by name, "
                                     + "each in place of the ruleset's value on every date it has one")
                             Map<String, Object> parameters) {

        public RulesetRef(String id, String version, String sha256) {
            this(id, version, sha256, null);
        }
    }

    /** This determination with another ruleset reference (a what-if evaluation's, which names its parameters). */
    public DeterminationView withRuleset(RulesetRef changed) {
        return new DeterminationView(id, beneficiaryId, period, changed, evaluatedAt, factsAsOf, trigger, rerunId, result, checks, facts);
    }

    /**
     * One check. {@code reason} is the id of the first subcheck that passed, for a PASSED check, else
     * null: worked out from the subchecks (in the ruleset's order), so it is not stored apart from
     * them and cannot disagree with them.
     */
    @Schema(name = "Check")
    public record CheckOutcome(String id, String title, String result,
                               @Schema(description = "For a PASSED check, the id of the first subcheck that passed; otherwise null.", nullable = true)
                               String reason,
                               List<SubcheckOutcome> subchecks) {

        public CheckOutcome(String id, String title, String result, List<SubcheckOutcome> subchecks) {
            this(id, title, result, reasonOf(result, subchecks), subchecks);
        }

        static String reasonOf(String result, List<SubcheckOutcome> subchecks) {
            if (!"PASSED".equals(result)) {
                return null;
            }
            return subchecks.stream().filter(s -> "PASSED".equals(s.result())).map(SubcheckOutcome::id).findFirst().orElse(null);
        }
    }

    @Schema(name = "Subcheck")
    public record SubcheckOutcome(String id, String title, String result, List<String> factIds, String detail) {
    }

    public DeterminationView withFacts(List<Fact> expanded) {
        return new DeterminationView(id, beneficiaryId, period, ruleset, evaluatedAt, factsAsOf, trigger, rerunId, result, checks, expanded);
    }
}
