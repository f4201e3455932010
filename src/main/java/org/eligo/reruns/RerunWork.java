package org.eligo.reruns;

import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eligo.determinations.DeterminationMaker;
import org.eligo.determinations.DeterminationTrigger;
import org.eligo.determinations.DeterminationView;
import org.eligo.determinations.Determinations;
import org.eligo.facts.Fact;
import org.eligo.facts.Facts;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetRegistry;
import org.eligo.work.Failure;
import org.eligo.work.FailureCounters;
import org.eligo.work.FailurePolicy;
import org.eligo.work.LeaveForOthers;
import org.eligo.work.WorkKind;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Rerun items as work for the {@link org.eligo.work.WorkEngine}, alongside ingest: only
 * {@code eligo.reruns.workers} of the worker threads take rerun chunks, so the others always serve
 * messages.
 *
 * <p>A chunk ({@code eligo.reruns.chunk-size} items of one run) is one transaction: claim, take the
 * beneficiaries' locks, evaluate, store the determinations ({@code trigger: rerun}) and mark the
 * items DONE. A crash rolls the chunk back whole; the items are pending again and the run resumes
 * after a restart (or at once in another instance). Only runs of rulesets loaded here are claimed;
 * another instance's runs wait for it. A beneficiary that fails by itself is not retried (a rerun is
 * a one-off sweep an analyst watches): its item is FAILED with its error at once, counted in the
 * run's {@code failed}, and {@code POST /v1/reruns/{id}/retry} redrives the run's failed items.
 *
 * <p>Each method but {@link #afterBatch()} runs in the engine's transaction, which the owners'
 * methods ({@link Reruns}, {@link Determinations}, {@code Facts}) join.
 */
@ApplicationScoped
public class RerunWork implements WorkKind<Reruns.Item> {

    private static final FailurePolicy POLICY = FailurePolicy.deadEndAtOnce("item FAILED in its run; POST /v1/reruns/{id}/retry redrives it");

    private final Reruns reruns;
    private final RerunsConfig config;
    private final Facts facts;
    private final DeterminationMaker maker;
    private final Determinations determinations;
    private final RulesetRegistry rulesets;
    private final FailureCounters counters;

    public RerunWork(Reruns reruns, RerunsConfig config, Facts facts, DeterminationMaker maker, Determinations determinations,
                     RulesetRegistry rulesets, MeterRegistry registry) {
        // With no retries, every failed attempt is a dead end: the two counters move together.
        this.counters = new FailureCounters(
                Counter.builder("eligo.reruns.failed.attempts").description("Beneficiaries of a rerun that failed to be determined").register(registry),
                Counter.builder("eligo.reruns.failed").description("Rerun items given up as FAILED in their run").register(registry));
        this.reruns = reruns;
        this.config = config;
        this.facts = facts;
        this.maker = maker;
        this.determinations = determinations;
        this.rulesets = rulesets;
    }

    @Override
    public String name() {
        return "reruns";
    }

    @Override
    public int order() {
        return 2;
    }

    @Override
    public FailurePolicy policy() {
        return POLICY;
    }

    @Override
    public FailureCounters counters() {
        return counters;
    }

    @Override
    public boolean servesWorker(int index) {
        return index < config.workers();
    }

    @Override
    public List<Reruns.Item> claim() {
        return reruns.claim(rulesets.all().stream().map(Ruleset::id).toList(), config.chunkSize());
    }

    @Override
    public Optional<Reruns.Item> claimAgain(Reruns.Item item) {
        return reruns.claimOne(item);
    }

    @Override
    public void process(List<Reruns.Item> items, Failures<Reruns.Item> failures) {
        // A claim takes items of one run.
        Reruns.Item first = items.get(0);
        Ruleset ruleset = rulesets.find(first.rulesetId()).orElseThrow(() -> new LeaveForOthers("ruleset " + first.rulesetId()));
        YearMonth period = YearMonth.parse(first.period());
        List<String> beneficiaries = items.stream().map(Reruns.Item::beneficiaryId).toList();
        Instant asOf = facts.lock(beneficiaries);
        Map<String, List<Fact>> byBeneficiary = facts.activeFor(beneficiaries, asOf);
        Map<String, Determinations.Latest> previous = determinations.latest(beneficiaries, first.period(), first.rulesetId());
        List<DeterminationView> made = new ArrayList<>(beneficiaries.size());
        for (String beneficiary : beneficiaries) {
            made.add(maker.make(ruleset, beneficiary, period, byBeneficiary.getOrDefault(beneficiary, List.of()), asOf, asOf,
                    DeterminationTrigger.RERUN, first.runId(), true));
        }
        determinations.insert(made);
        reruns.markDone(first.runId(), beneficiaries, made, previous);
    }

    @Override
    public void recordFailure(Reruns.Item item, Failure failure) {
        reruns.markFailed(item, failure);
    }

    /** Rerun items keep no count: their policy gives up at the first failure. */
    @Override
    public int attempts(Reruns.Item item) {
        return 0;
    }

    @Override
    public String describe(Reruns.Item item) {
        return item.runId() + " " + item.beneficiaryId();
    }

    /** Runs whose last items were just done (or failed) are marked DONE, in a transaction of its own (see {@link Reruns#FINISH}). */
    @Override
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public void afterBatch() {
        reruns.finishRuns();
    }
}
