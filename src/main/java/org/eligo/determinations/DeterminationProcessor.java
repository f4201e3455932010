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
 * clock after the locks, evaluates, stores the determinations and deletes the rows.
 */
@ApplicationScoped
public class DeterminationProcessor implements WorkSource {

    private static final Logger LOG = Logger.getLogger(DeterminationProcessor.class);
    private static final Duration BUSY_RETRY = Duration.ofMillis(50);
    private static final Duration FAILURE_RETRY = Duration.ofSeconds(5);

    private final Db db;
    private final DeterminationQueue queue;
    private final Determinations determinations;
    private final FactReader facts;
    private final RulesetRegistry rulesets;
    private final DeterminationsConfig config;

    public DeterminationProcessor(Db db, DeterminationQueue queue, Determinations determinations, FactReader facts,
                                  RulesetRegistry rulesets, DeterminationsConfig config) {
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
                List<DeterminationQueue.Pending> claimed = queue.claim(connection, config.batchSize());
                claimedRows.addAll(claimed);
                if (claimed.isEmpty()) {
                    return 0;
                }
                Set<String> locked = BeneficiaryLocks.tryLock(connection, claimed.stream().map(DeterminationQueue.Pending::beneficiaryId).toList());
                Instant asOf = BeneficiaryLocks.now(connection);
                List<DeterminationQueue.Pending> ready = new ArrayList<>();
                List<DeterminationQueue.Pending> busy = new ArrayList<>();
                List<DeterminationQueue.Pending> dropped = new ArrayList<>();
                for (DeterminationQueue.Pending pending : claimed) {
                    if (rulesets.find(pending.rulesetId()).isEmpty()) {
                        LOG.warnf("Dropping queued determination for %s: ruleset %s is no longer loaded", pending.beneficiaryId(), pending.rulesetId());
                        dropped.add(pending);
                    } else if (locked.contains(pending.beneficiaryId())) {
                        ready.add(pending);
                    } else {
                        busy.add(pending);
                    }
                }
                Map<String, List<Fact>> byBeneficiary = facts.activeFor(connection, ready.stream().map(DeterminationQueue.Pending::beneficiaryId).toList(), asOf);
                List<DeterminationStore.NewDetermination> made = new ArrayList<>(ready.size());
                for (DeterminationQueue.Pending pending : ready) {
                    Optional<Ruleset> ruleset = rulesets.find(pending.rulesetId());
                    made.add(determinations.make(ruleset.get(), pending.beneficiaryId(), YearMonth.parse(pending.period()),
                            byBeneficiary.getOrDefault(pending.beneficiaryId(), List.of()), asOf, asOf, Determination.INGEST, null, true));
                }
                determinations.store(connection, made);
                ready.addAll(dropped);
                queue.delete(connection, ready);
                queue.postpone(connection, busy, BUSY_RETRY, null);
                return claimed.size();
            });
        } catch (RuntimeException e) {
            if (claimedRows.isEmpty() || Db.isTransient(e)) {
                throw e;
            }
            LOG.errorf(e, "Making %d queued determinations failed; they are retried in %s", claimedRows.size(), FAILURE_RETRY);
            db.inTransaction(connection -> {
                queue.postpone(connection, claimedRows, FAILURE_RETRY, e.getClass().getSimpleName() + ": " + e.getMessage());
                return null;
            });
            return claimedRows.size();
        }
    }
}
