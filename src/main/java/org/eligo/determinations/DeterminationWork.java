package org.eligo.determinations;

import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

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
import io.micrometer.core.instrument.Timer;

/**
 * Queued automatic determinations (trigger {@code ingest}) as work for the
 * {@link org.eligo.work.WorkEngine}. A batch claims queue rows of the rulesets loaded here, takes
 * the locks of the beneficiaries that are free (a beneficiary whose facts are being written right
 * now is postponed a little, never waited for), reads their facts as of the clock after the locks,
 * evaluates, stores the determinations and deletes the rows. A beneficiary that still has received
 * messages in the backlog is postponed too (up to {@code eligo.determinations.max-backlog-wait}),
 * so a burst spread over many worker batches still ends in one determination that sees all of it.
 * Neither postponement spends an attempt.
 *
 * <p>A row that fails by itself is retried with backoff ({@code eligo.determinations.retry-*});
 * after {@code eligo.determinations.max-attempts} it reaches its dead end (see
 * {@link DeterminationQueue}): kept with its error, counted, redrivable.
 *
 * <p>Each method runs in the engine's transaction, which the owners' methods ({@link DeterminationQueue},
 * {@link Determinations}, {@code Facts}, {@code Messages}) join.
 */
@ApplicationScoped
public class DeterminationWork implements WorkKind<DeterminationQueue.Pending> {

    private static final Duration BUSY_RETRY = Duration.ofMillis(50);
    private static final Duration BACKLOG_RETRY = Duration.ofMillis(250);

    private final DeterminationQueue queue;
    private final DeterminationMaker maker;
    private final Determinations determinations;
    private final Facts facts;
    private final org.eligo.ingest.Messages messages;
    private final RulesetRegistry rulesets;
    private final DeterminationsConfig config;
    private final FailurePolicy policy;
    private final FailureCounters counters;
    private final Timer latency;

    public DeterminationWork(DeterminationQueue queue, DeterminationMaker maker, Determinations determinations, Facts facts,
                             org.eligo.ingest.Messages messages, RulesetRegistry rulesets, DeterminationsConfig config, MeterRegistry registry) {
        this.latency = Timer.builder("eligo.determinations.latency")
                .description("From the change of a beneficiary's facts to its automatic determination").publishPercentileHistogram().register(registry);
        this.queue = queue;
        this.maker = maker;
        this.determinations = determinations;
        this.facts = facts;
        this.messages = messages;
        this.rulesets = rulesets;
        this.config = config;
        this.policy = new FailurePolicy(config.maxAttempts(), config.retryInitialBackoff(), config.retryMaxBackoff(),
                "kept in the queue, no longer tried; POST /v1/determinations/queue/redrive redrives it");
        this.counters = new FailureCounters(
                Counter.builder("eligo.determinations.failed.attempts")
                        .description("Attempts at a queued automatic determination that failed (retried until the last)").register(registry),
                Counter.builder("eligo.determinations.failed")
                        .description("Queued automatic determinations given up after eligo.determinations.max-attempts (their dead end)")
                        .register(registry));
    }

    @Override
    public String name() {
        return "determinations";
    }

    @Override
    public int order() {
        return 1;
    }

    @Override
    public FailurePolicy policy() {
        return policy;
    }

    @Override
    public FailureCounters counters() {
        return counters;
    }

    @Override
    public List<DeterminationQueue.Pending> claim() {
        return queue.claim(rulesets.all().stream().map(Ruleset::id).toList(), config.batchSize());
    }

    @Override
    public Optional<DeterminationQueue.Pending> claimAgain(DeterminationQueue.Pending pending) {
        return queue.claimOne(pending);
    }

    @Override
    public void process(List<DeterminationQueue.Pending> claimed, Failures<DeterminationQueue.Pending> failures) {
        Set<String> locked = facts.tryLock(claimed.stream().map(DeterminationQueue.Pending::beneficiaryId).toList());
        Instant asOf = facts.now();
        // A beneficiary with messages still waiting in the backlog: its burst is not over yet.
        Set<String> backlogged = messages.beneficiariesWithBacklog(locked);
        List<DeterminationQueue.Pending> ready = new ArrayList<>();
        List<DeterminationQueue.Pending> busy = new ArrayList<>();
        List<DeterminationQueue.Pending> waiting = new ArrayList<>();
        for (DeterminationQueue.Pending pending : claimed) {
            boolean waitedLongEnough = pending.requestedAt().plus(config.maxBacklogWait()).isBefore(asOf);
            if (!locked.contains(pending.beneficiaryId())) {
                busy.add(pending);
            } else if (backlogged.contains(pending.beneficiaryId()) && !waitedLongEnough) {
                waiting.add(pending);
            } else {
                ready.add(pending);
            }
        }
        Map<String, List<Fact>> byBeneficiary = facts.activeFor(ready.stream().map(DeterminationQueue.Pending::beneficiaryId).toList(), asOf);
        List<DeterminationView> made = new ArrayList<>(ready.size());
        for (DeterminationQueue.Pending pending : ready) {
            // The claim takes only loaded rulesets; one missing here is another instance's work.
            Ruleset ruleset = rulesets.find(pending.rulesetId()).orElseThrow(() -> new LeaveForOthers("ruleset " + pending.rulesetId()));
            made.add(maker.make(ruleset, pending.beneficiaryId(), YearMonth.parse(pending.period()),
                    byBeneficiary.getOrDefault(pending.beneficiaryId(), List.of()), asOf, asOf, DeterminationTrigger.INGEST, null, true));
        }
        determinations.insert(made);
        ready.forEach(pending -> latency.record(Duration.between(pending.requestedAt(), asOf)));
        queue.delete(ready);
        queue.postpone(busy, BUSY_RETRY);
        queue.postpone(waiting, BACKLOG_RETRY);
    }

    @Override
    public void recordFailure(DeterminationQueue.Pending pending, Failure failure) {
        queue.recordFailure(pending, failure);
    }

    @Override
    public int attempts(DeterminationQueue.Pending pending) {
        return pending.attempts();
    }

    @Override
    public String describe(DeterminationQueue.Pending pending) {
        return pending.beneficiaryId() + " " + pending.period() + " " + pending.rulesetId();
    }
}
