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

import org.eligo.facts.BeneficiaryLocks;
import org.eligo.facts.Fact;
import org.eligo.facts.FactReader;
import org.eligo.queue.WorkSource;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetRegistry;
import org.eligo.support.Db;
import org.jboss.logging.Logger;

/**
 * Makes the queued automatic determinations (trigger {@code ingest}). One transaction claims a batch
 * of queue rows, takes the locks of the beneficiaries that are free (a beneficiary whose facts are
 * being written right now is postponed a little, never waited for), reads their facts as of the
 * clock after the locks, evaluates, stores the determinations and deletes the rows. A beneficiary
 * that still has received messages in the backlog is postponed too (up to
 * {@code eligo.determinations.max-backlog-wait}), so a burst spread over many worker batches still
 * ends in one determination that sees all of it.
 */
@ApplicationScoped
public class DeterminationProcessor implements WorkSource {

    private static final Logger LOG = Logger.getLogger(DeterminationProcessor.class);
    private static final Duration BUSY_RETRY = Duration.ofMillis(50);
    private static final Duration BACKLOG_RETRY = Duration.ofMillis(250);
    private static final Duration FAILURE_RETRY = Duration.ofSeconds(5);

    private final Db db;
    private final DeterminationQueue queue;
    private final Determinations determinations;
    private final FactReader facts;
    private final RulesetRegistry rulesets;
    private final DeterminationsConfig config;
    private final io.micrometer.core.instrument.Timer latency;

    public DeterminationProcessor(Db db, DeterminationQueue queue, Determinations determinations, FactReader facts,
                                  RulesetRegistry rulesets, DeterminationsConfig config, io.micrometer.core.instrument.MeterRegistry registry) {
        this.latency = io.micrometer.core.instrument.Timer.builder("eligo.determinations.latency")
                .description("From the change of a beneficiary's facts to its automatic determination").publishPercentileHistogram().register(registry);
        this.db = db;
        this.queue = queue;
        this.determinations = determinations;
        this.facts = facts;
        this.rulesets = rulesets;
        this.config = config;
    }

    @Override
    public int processBatch() {
        List<DeterminationQueue.Pending> claimedRows = new ArrayList<>();
        try {
            return db.inTransaction(connection -> {
                List<DeterminationQueue.Pending> claimed = queue.claim(connection, rulesets.all().stream().map(Ruleset::id).toList(), config.batchSize());
                claimedRows.addAll(claimed);
                make(connection, claimed);
                return claimed.size();
            });
        } catch (RuntimeException e) {
            if (claimedRows.isEmpty() || Db.isTransient(e)) {
                throw e;
            }
            // One bad row must not hold up the others: each is tried alone, and only the ones that
            // fail by themselves are postponed with their error.
            LOG.warnf(e, "A batch of %d queued determinations failed; making them one by one", claimedRows.size());
            for (DeterminationQueue.Pending pending : claimedRows) {
                makeAlone(pending);
            }
            return claimedRows.size();
        }
    }

    private void makeAlone(DeterminationQueue.Pending key) {
        try {
            db.inTransaction(connection -> {
                Optional<DeterminationQueue.Pending> pending = queue.claimOne(connection, key);
                if (pending.isPresent()) {
                    make(connection, List.of(pending.get()));
                }
                return null;
            });
        } catch (RuntimeException e) {
            if (Db.isTransient(e)) {
                throw e;
            }
            LOG.errorf(e, "Queued determination for %s, %s, %s failed; retrying in %s", key.beneficiaryId(), key.period(), key.rulesetId(), FAILURE_RETRY);
            db.inTransaction(connection -> {
                Optional<DeterminationQueue.Pending> pending = queue.claimOne(connection, key);
                if (pending.isPresent()) {
                    queue.postpone(connection, List.of(pending.get()), FAILURE_RETRY, e.getClass().getSimpleName() + ": " + e.getMessage());
                }
                return null;
            });
        }
    }

    private void make(java.sql.Connection connection, List<DeterminationQueue.Pending> claimed) throws java.sql.SQLException {
        if (claimed.isEmpty()) {
            return;
        }
        Set<String> locked = BeneficiaryLocks.tryLock(connection, claimed.stream().map(DeterminationQueue.Pending::beneficiaryId).toList());
        Instant asOf = BeneficiaryLocks.now(connection);
        // A beneficiary with messages still waiting in the backlog: its burst is not over yet.
        Set<String> backlogged = queue.withBacklog(connection, locked);
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
        Map<String, List<Fact>> byBeneficiary = facts.activeFor(connection, ready.stream().map(DeterminationQueue.Pending::beneficiaryId).toList(), asOf);
        List<DeterminationStore.NewDetermination> made = new ArrayList<>(ready.size());
        for (DeterminationQueue.Pending pending : ready) {
            Ruleset ruleset = rulesets.find(pending.rulesetId()).orElseThrow();
            made.add(determinations.make(ruleset, pending.beneficiaryId(), YearMonth.parse(pending.period()),
                    byBeneficiary.getOrDefault(pending.beneficiaryId(), List.of()), asOf, asOf, Determination.INGEST, null, true));
        }
        determinations.store(connection, made);
        ready.forEach(pending -> latency.record(java.time.Duration.between(pending.requestedAt(), asOf)));
        queue.delete(connection, ready);
        queue.postpone(connection, busy, BUSY_RETRY, null);
        queue.postpone(connection, waiting, BACKLOG_RETRY, null);
    }
}
