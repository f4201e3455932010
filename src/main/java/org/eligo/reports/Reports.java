package org.eligo.reports;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eligo.reports.PopulationReports.Count;
import org.eligo.reports.PopulationReports.Latest;
import org.eligo.reports.PopulationReports.OfRerun;
import org.eligo.reports.PopulationReports.Population;
import org.eligo.reruns.Reruns;
import org.eligo.rules.Result;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetRegistry;
import org.eligo.support.Db;
import org.eligo.support.Requests;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;

/**
 * GET /v1/reports/outcomes and /transitions: the parameters checked, the population chosen, and the
 * database's counts (PopulationReports) put in the contract's shape. This class holds no SQL; each
 * report reads one REPEATABLE READ snapshot, so its numbers agree with each other.
 */
@ApplicationScoped
public class Reports {

    private final Db db;
    private final PopulationReports counts;
    private final Reruns reruns;
    private final RulesetRegistry rulesets;

    public Reports(Db db, PopulationReports counts, Reruns reruns, RulesetRegistry rulesets) {
        this.db = db;
        this.counts = counts;
        this.reruns = reruns;
        this.rulesets = rulesets;
    }

    /** How a population fares: {@code rerunId} that rerun's determinations, else each beneficiary's latest for the period. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public ReportViews.Outcomes outcomes(String rulesetParameter, String periodParameter, String rerunId) {
        db.readOnlySnapshot();
        List<FieldError> errors = new ArrayList<>();
        Ruleset ruleset = ruleset(rulesetParameter, errors);
        String period = period(periodParameter, errors);
        throwIfAny(errors);
        Population population = rerunId == null || rerunId.isEmpty() ? new Latest(ruleset.id(), period)
                : rerun("rerun_id", rerunId, ruleset, period);

        Map<String, Long> results = tally();
        Map<String, CheckTally> checks = new LinkedHashMap<>();
        List<Count> outcomes = new ArrayList<>();
        List<Outcome> reasons = new ArrayList<>();
        for (Count count : counts.counts(population)) {
            switch (count.kind()) {
                case RESULT -> results.merge(count.outcome(), count.count(), Long::sum);
                case OUTCOME -> outcomes.add(count);
                case REASON -> reasons.add(Outcome.of(count));
            }
        }
        // Checks, then subchecks, in the order they had in the determinations (their lowest position).
        outcomes.sort(Comparator.comparingLong(Count::position).thenComparing(Count::outcome));
        for (Count count : outcomes) {
            Outcome outcome = Outcome.of(count);
            CheckTally tally = checks.computeIfAbsent(outcome.check(), id -> new CheckTally(id, tally(), new LinkedHashMap<>()));
            Map<String, Long> into = outcome.subcheck() == null ? tally.results() : tally.subchecks().computeIfAbsent(outcome.subcheck(), id -> tally());
            into.merge(outcome.result(), outcome.count(), Long::sum);
        }
        List<String> order = new ArrayList<>(checks.keySet());
        reasons.sort(Comparator.<Outcome>comparingInt(r -> order.indexOf(r.check()))
                .thenComparing(Comparator.comparingLong(Outcome::count).reversed()).thenComparing(Outcome::subcheck));
        long beneficiaries = results.values().stream().mapToLong(Long::longValue).sum();
        return new ReportViews.Outcomes(ruleset.id(), period, population instanceof OfRerun run ? run.rerunId() : null, beneficiaries, results,
                checks.values().stream().map(c -> new ReportViews.CheckOutcomes(c.id(), c.results(),
                        c.subchecks().entrySet().stream().map(s -> new ReportViews.SubcheckOutcomes(s.getKey(), s.getValue())).toList())).toList(),
                reasons.stream().map(r -> new ReportViews.Reason(r.check(), r.subcheck(), r.count())).toList());
    }

    /**
     * How results moved between two populations of a ruleset and period: {@code fromRerun}'s or
     * {@code toRerun}'s determinations, each beneficiary's latest where a side names no rerun; with
     * no {@code fromRerun}, from the determination before each one of the "to" side.
     */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public ReportViews.Transitions transitions(String rulesetParameter, String periodParameter, String fromRerun, String toRerun) {
        db.readOnlySnapshot();
        List<FieldError> errors = new ArrayList<>();
        Ruleset ruleset = ruleset(rulesetParameter, errors);
        String period = period(periodParameter, errors);
        throwIfAny(errors);
        Population from = fromRerun == null || fromRerun.isEmpty() ? null : rerun("from_rerun", fromRerun, ruleset, period);
        Population to = toRerun == null || toRerun.isEmpty() ? new Latest(ruleset.id(), period) : rerun("to_rerun", toRerun, ruleset, period);
        List<ReportViews.Transition> pairs = counts.transitions(from, to).stream()
                .map(t -> new ReportViews.Transition(t.from(), t.to(), t.count()))
                .sorted(Comparator.comparingInt((ReportViews.Transition t) -> rank(t.from())).thenComparingInt(t -> rank(t.to())))
                .toList();
        long beneficiaries = pairs.stream().mapToLong(ReportViews.Transition::count).sum();
        return new ReportViews.Transitions(ruleset.id(), period, from instanceof OfRerun f ? f.rerunId() : null,
                to instanceof OfRerun t ? t.rerunId() : null, beneficiaries, pairs);
    }

    /** A rerun named by parameter {@code name}, which must exist and be of the report's ruleset and period. */
    private OfRerun rerun(String name, String id, Ruleset ruleset, String period) {
        Reruns.State run = reruns.state(id).orElseThrow(() -> ProblemException.badParameter(name, "no rerun " + id));
        if (!run.rulesetId().equals(ruleset.id()) || !run.period().equals(period)) {
            throw ProblemException.badParameter(name, "rerun " + id + " is of ruleset " + run.rulesetId() + " and period " + run.period()
                    + ", not of this report's " + ruleset.id() + " and " + period);
        }
        return new OfRerun(id);
    }

    private Ruleset ruleset(String id, List<FieldError> errors) {
        List<FieldError> found = new ArrayList<>();
        Ruleset ruleset = rulesets.resolve(id == null || id.isEmpty() ? null : id, "ruleset", found);
        found.forEach(e -> errors.add(FieldError.parameter("ruleset", e.message())));
        return ruleset;
    }

    private static String period(String period, List<FieldError> errors) {
        if (period == null || period.isEmpty()) {
            errors.add(FieldError.parameter("period", "is required: " + Requests.PERIOD_RULE));
            return null;
        }
        if (!Requests.PERIOD.matcher(period).matches()) {
            errors.add(FieldError.parameter("period", Requests.PERIOD_RULE));
            return null;
        }
        return period;
    }

    private static void throwIfAny(List<FieldError> errors) {
        if (!errors.isEmpty()) {
            throw ProblemException.badRequest("The report's parameters are invalid; see errors.", errors);
        }
    }

    /** Every result, in the contract's order, at zero. */
    static Map<String, Long> tally() {
        Map<String, Long> results = new LinkedHashMap<>();
        for (Result result : Result.values()) {
            results.put(result.name(), 0L);
        }
        return results;
    }

    /** Results in the contract's order; null (no determination on that side) first. */
    private static int rank(String result) {
        return result == null ? -1 : Result.valueOf(result).ordinal();
    }

    /** A counted outcome split: {@code check=RESULT} or {@code check/subcheck=RESULT}. */
    private record Outcome(String check, String subcheck, String result, long count) {

        static Outcome of(Count count) {
            String outcome = count.outcome();
            int equals = outcome.lastIndexOf('=');
            int slash = outcome.indexOf('/');
            String path = outcome.substring(0, equals);
            return new Outcome(slash < 0 ? path : path.substring(0, slash), slash < 0 ? null : path.substring(slash + 1),
                    outcome.substring(equals + 1), count.count());
        }
    }

    private record CheckTally(String id, Map<String, Long> results, Map<String, Map<String, Long>> subchecks) {
    }
}
