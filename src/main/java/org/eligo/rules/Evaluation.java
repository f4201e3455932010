package org.eligo.rules;

import java.time.YearMonth;
import java.util.List;

/** What evaluating a ruleset for one beneficiary and period gave: the result, every check and subcheck. */
public record Evaluation(Ruleset ruleset, YearMonth period, Result result, List<CheckResult> checks) {

    public record CheckResult(String id, String title, Result result, List<SubcheckResult> subchecks) {
    }

    /** A subcheck's result, the facts it read, and what it compared, in words. */
    public record SubcheckResult(String id, String title, Result result, List<String> factIds, String detail) {
    }
}
