package org.eligo.support;

import org.eligo.ledger.Integrity;
import org.eligo.determinations.DeterminationDiff;
import org.eligo.determinations.DeterminationView;
import org.eligo.determinations.rest.DeterminationResource;
import org.eligo.facts.Fact;
import org.eligo.facts.rest.FactResource;
import org.eligo.ingest.MessageView;
import org.eligo.ingest.Receipt;
import org.eligo.ingest.rest.MessageResource;
import org.eligo.replays.Replay;
import org.eligo.reruns.RerunView;
import org.eligo.reruns.rest.RerunResource;
import org.eligo.rules.RulesetRegistry;
import org.eligo.rules.rest.RulesetResource;
import org.eligo.stats.StatsResource;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.Problem;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Every type Jackson writes as JSON, registered for reflection so that a native image can serialise
 * it (its record components are read reflectively). Request bodies are read as JSON trees, so no
 * type is bound from JSON. {@code NativeReadinessTest} fails when a resource starts returning a type
 * that is not listed here.
 */
@RegisterForReflection(targets = {
        DeterminationView.class, DeterminationView.RulesetRef.class, DeterminationView.CheckOutcome.class, DeterminationView.SubcheckOutcome.class,
        DeterminationDiff.class, DeterminationDiff.Pair.class, DeterminationDiff.SubcheckChange.class, DeterminationDiff.FactChanges.class,
        DeterminationResource.DeterminationPage.class, DeterminationResource.Redriven.class,
        Fact.class, FactResource.BeneficiaryFacts.class, org.eligo.facts.rest.FactTypeResource.FactTypeView.class,
        MessageView.class, Receipt.class, MessageResource.BatchReceipt.class, org.eligo.ingest.rest.FailedMessagesResource.Retried.class, org.eligo.ingest.MessageQueries.Page.class,
        org.eligo.ingest.MessageStatus.class, org.eligo.reruns.RerunStatus.class,
        org.eligo.auth.AccessLog.Entry.class, org.eligo.auth.AccessLog.Page.class,
        Integrity.class, Integrity.Checked.class, Integrity.BadRecord.class, org.eligo.ledger.Sealer.KeyInUse.class,
        org.eligo.ledger.Receipts.Receipt.class, org.eligo.ledger.Receipts.Leaf.class, org.eligo.ledger.Receipts.Entry.class,
        org.eligo.ledger.Receipts.SealedBlock.class, org.eligo.ledger.Verifications.Run.class, org.eligo.ledger.Verifications.Progress.class,
        Replay.class, Replay.Change.class, Replay.Failure.class,
        org.eligo.imports.ImportStatus.class, org.eligo.imports.ImportView.class, org.eligo.imports.ImportView.Accepted.class,
        org.eligo.imports.ImportView.RejectedLine.class, org.eligo.imports.ImportView.LineError.class,
        org.eligo.imports.ImportView.Summary.class, org.eligo.imports.ImportView.Page.class,
        RerunView.class, RerunView.Accepted.class, RerunView.Change.class, RerunResource.ChangePage.class,
        RulesetResource.RulesetView.class, RulesetRegistry.Activation.class,
        StatsResource.Stats.class, StatsResource.Messages.class, StatsResource.Facts.class, StatsResource.Determinations.class,
        StatsResource.LeftForOthers.class,
        org.eligo.reports.ReportViews.Outcomes.class, org.eligo.reports.ReportViews.CheckOutcomes.class,
        org.eligo.reports.ReportViews.SubcheckOutcomes.class, org.eligo.reports.ReportViews.Reason.class,
        org.eligo.reports.ReportViews.Transitions.class, org.eligo.reports.ReportViews.Transition.class,
        Problem.class, FieldError.class,
})
public final class NativeReflection {

    private NativeReflection() {
    }
}
