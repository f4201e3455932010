package org.eligo.determinations;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.determinations.Determination.CheckOutcome;
import org.eligo.determinations.Determination.RulesetRef;
import org.eligo.determinations.Determination.SubcheckOutcome;
import org.eligo.facts.Fact;
import org.eligo.rules.Evaluation;
import org.eligo.rules.Evaluator;
import org.eligo.rules.FactSet;
import org.eligo.rules.Ruleset;
import org.eligo.support.Ids;

/** Turns an evaluation into a determination (with a fresh id, or none for an evaluation that is not stored). */
@ApplicationScoped
public class Determinations {

    private final Ids ids;
    private final DeterminationStore store;

    public Determinations(Ids ids, DeterminationStore store) {
        this.ids = ids;
        this.store = store;
    }

    /** Evaluates {@code ruleset} on {@code facts} as of {@code asOf}; {@code stored} decides whether it gets an id. */
    public DeterminationStore.NewDetermination make(Ruleset ruleset, String beneficiaryId, YearMonth period, List<Fact> facts,
                                                    Instant asOf, Instant evaluatedAt, String trigger, String rerunId, boolean stored) {
        Evaluation evaluation = Evaluator.evaluate(ruleset, period, new FactSet(facts, asOf));
        List<CheckOutcome> checks = new ArrayList<>();
        for (Evaluation.CheckResult check : evaluation.checks()) {
            List<SubcheckOutcome> subchecks = new ArrayList<>();
            for (Evaluation.SubcheckResult subcheck : check.subchecks()) {
                subchecks.add(new SubcheckOutcome(subcheck.id(), subcheck.title(), subcheck.result().name(), subcheck.factIds(), subcheck.detail()));
            }
            checks.add(new CheckOutcome(check.id(), check.title(), check.result().name(), subchecks));
        }
        Determination determination = new Determination(stored ? ids.next(Ids.DETERMINATION) : null, beneficiaryId, period.toString(),
                new RulesetRef(ruleset.id(), ruleset.version(), ruleset.sha256()), evaluatedAt, asOf, trigger, rerunId,
                evaluation.result().name(), checks, null);
        return new DeterminationStore.NewDetermination(determination);
    }

    public void store(Connection connection, List<DeterminationStore.NewDetermination> determinations) throws SQLException {
        store.insert(connection, determinations);
    }
}
