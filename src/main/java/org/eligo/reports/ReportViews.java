package org.eligo.reports;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** The reports as the API shows them (contract, "Reports"), and their CSV form: one row per cell. */
public final class ReportViews {

    private ReportViews() {
    }

    /** The results a count is kept for, each a key of a {@code results} object. */
    private static final String RESULTS = "beneficiaries per result: PASSED, NOT_PASSED, NO_DATA, ERROR and SKIPPED, each present (0 when none)";

    @Schema(name = "OutcomesReport")
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Outcomes(String ruleset, String period,
                           @Schema(description = "the rerun whose determinations are counted; null: each beneficiary's latest determination for the period")
                           String rerunId,
                           @Schema(description = "beneficiaries counted: one determination each") long beneficiaries,
                           @Schema(description = RESULTS) Map<String, Long> results,
                           @Schema(description = "each check, in the order the determinations list them, with its results and each subcheck's") List<CheckOutcomes> checks,
                           @Schema(description = "why checks passed: for each PASSED check, its reason (the first subcheck that passed),"
                                   + " most frequent first within a check") List<Reason> reasons) {

        /** CSV: one row per cell; {@code section} says which part of the report a row is. */
        public String csv() {
            StringBuilder out = new StringBuilder("section,check,subcheck,result,count\r\n");
            out.append("beneficiaries,,,,").append(beneficiaries).append("\r\n");
            results.forEach((result, n) -> row(out, "result", "", "", result, n));
            for (CheckOutcomes check : checks) {
                check.results().forEach((result, n) -> row(out, "check", check.id(), "", result, n));
                for (SubcheckOutcomes subcheck : check.subchecks()) {
                    subcheck.results().forEach((result, n) -> row(out, "subcheck", check.id(), subcheck.id(), result, n));
                }
            }
            for (Reason reason : reasons) {
                row(out, "reason", reason.check(), reason.reason(), "PASSED", reason.count());
            }
            return out.toString();
        }
    }

    @Schema(name = "CheckOutcomes")
    public record CheckOutcomes(String id, @Schema(description = RESULTS) Map<String, Long> results, List<SubcheckOutcomes> subchecks) {
    }

    @Schema(name = "SubcheckOutcomes")
    public record SubcheckOutcomes(String id, @Schema(description = RESULTS) Map<String, Long> results) {
    }

    @Schema(name = "OutcomesReason")
    public record Reason(String check, @Schema(description = "the id of the first subcheck that passed the check") String reason, long count) {
    }

    @Schema(name = "TransitionsReport")
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Transitions(String ruleset, String period,
                              @Schema(description = "the rerun on the \"from\" side; null: the determination before each one on the \"to\" side")
                              String fromRerun,
                              @Schema(description = "the rerun on the \"to\" side; null: each beneficiary's latest determination for the period")
                              String toRerun,
                              @Schema(description = "beneficiaries counted") long beneficiaries,
                              @Schema(description = "each (from, to) pair of results with beneficiaries, null first, then in the order"
                                      + " PASSED, NOT_PASSED, NO_DATA, ERROR, SKIPPED") List<Transition> transitions) {

        /** CSV: one row per (from, to) pair; an empty cell where a side had no determination. */
        public String csv() {
            StringBuilder out = new StringBuilder("from,to,count\r\n");
            for (Transition t : transitions) {
                out.append(t.from() == null ? "" : t.from()).append(',').append(t.to() == null ? "" : t.to()).append(',').append(t.count()).append("\r\n");
            }
            return out.toString();
        }
    }

    @Schema(name = "Transition")
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Transition(@Schema(description = "the result before; null: no determination on that side") String from,
                             @Schema(description = "the result after; null: no determination on that side") String to,
                             long count) {
    }

    /** Ids are lower_snake_case and results upper case: no cell needs quoting. */
    private static void row(StringBuilder out, String section, String check, String subcheck, String result, long count) {
        out.append(section).append(',').append(check).append(',').append(subcheck).append(',').append(result).append(',').append(count).append("\r\n");
    }
}
