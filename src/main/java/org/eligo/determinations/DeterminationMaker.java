package org.eligo.determinations;

import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.determinations.DeterminationView.CheckOutcome;
import org.eligo.determinations.DeterminationView.RulesetRef;
import org.eligo.determinations.DeterminationView.SubcheckOutcome;
import org.eligo.facts.Fact;
import org.eligo.rules.Evaluation;
import org.eligo.rules.Evaluator;
import org.eligo.rules.FactSet;
import org.eligo.rules.Ruleset;
import org.eligo.support.Ids;

/**
 * Turns an evaluation into a determination (with a fresh id, to be stored by {@link Determinations},
 * or none for an evaluation that is not stored).
 */
@ApplicationScoped
public class DeterminationMaker {

    private final Ids ids;

    public DeterminationMaker(Ids ids) {
        this.ids = ids;
    }

    /** Evaluates {@code ruleset} on {@code facts} as of {@code asOf}; {@code stored} decides whether it gets an id. */
    public DeterminationView make(Ruleset ruleset, String beneficiaryId, YearMonth period, List<Fact> facts,
                                  Instant asOf, Instant evaluatedAt, DeterminationTrigger trigger, String rerunId, boolean stored) {
        Evaluation evaluation = Evaluator.evaluate(ruleset, period, new FactSet(facts, asOf));
        List<CheckOutcome> checks = new ArrayList<>();
        for (Evaluation.CheckResult check : evaluation.checks()) {
            List<SubcheckOutcome> subchecks = new ArrayList<>();
            for (Evaluation.SubcheckResult subcheck : check.subchecks()) {
                subchecks.add(new SubcheckOutcome(subcheck.id(), subcheck.title(), subcheck.result().name(), subcheck.factIds(), subcheck.detail()));
            }
            checks.add(new CheckOutcome(check.id(), check.title(), check.result().name(), subchecks));
        }
        return new DeterminationView(stored ? ids.next(Ids.DETERMINATION) : null, beneficiaryId, period.toString(),
                new RulesetRef(ruleset.id(), ruleset.version(), ruleset.sha256()), evaluatedAt, asOf, trigger.value(), rerunId,
                evaluation.result().name(), checks, null);
    }
}
