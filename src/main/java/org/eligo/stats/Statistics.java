package org.eligo.stats;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eligo.determinations.DeterminationQueue;
import org.eligo.determinations.Determinations;
import org.eligo.facts.FactType;
import org.eligo.facts.FactTypes;
import org.eligo.facts.Facts;
import org.eligo.ingest.Messages;
import org.eligo.reruns.Reruns;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetRegistry;
import org.eligo.stats.StatsResource.LeftForOthers;
import org.eligo.stats.StatsResource.Stats;
import org.eligo.support.Db;

/**
 * The counts of GET /v1/stats, each asked of its table's owner; this class holds no SQL. What it
 * costs is bounded by indexes, not by the tables' sizes: counted exactly are only what a partial
 * index or a working table bounds (the backlog, failed messages, the determination queue, work left
 * for others); the totals of message, fact and determination, which only grow, are the planner's
 * estimates, and {@link StatsResource.Stats#estimated} names them.
 */
@ApplicationScoped
public class Statistics {

    private final Db db;
    private final Messages messages;
    private final Facts facts;
    private final Determinations determinations;
    private final DeterminationQueue determinationQueue;
    private final Reruns reruns;
    private final RulesetRegistry rulesets;
    private final List<String> typeNames;

    public Statistics(Db db, Messages messages, Facts facts, Determinations determinations, DeterminationQueue determinationQueue,
                      Reruns reruns, RulesetRegistry rulesets, FactTypes types) {
        this.db = db;
        this.messages = messages;
        this.facts = facts;
        this.determinations = determinations;
        this.determinationQueue = determinationQueue;
        this.reruns = reruns;
        this.rulesets = rulesets;
        this.typeNames = types.all().stream().map(FactType::name).toList();
    }

    /** Every count in one snapshot (one REPEATABLE READ transaction, which the owners join), so the numbers agree. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public Stats take() {
        db.readOnlySnapshot();
        // The exact counts walk their partial indexes even where a partition is small enough for the planner to prefer reading it whole.
        db.indexesWherePossible();
        Messages.Counts m = messages.counts();
        Facts.Counts f = facts.counts();
        long made = determinations.estimatedCount();
        DeterminationQueue.Counts queued = determinationQueue.counts();
        List<String> loaded = rulesets.all().stream().map(Ruleset::id).toList();
        LeftForOthers left = new LeftForOthers(messages.countOtherTypes(typeNames), determinationQueue.countOtherRulesets(loaded),
                reruns.countOtherRulesets(loaded));
        return new Stats(new StatsResource.Messages(m.received(), m.processed(), m.failed(), m.backlog()), m.oldestBacklogReceivedAt(),
                new StatsResource.Facts(f.active(), f.revoked()),
                new StatsResource.Determinations(made, queued.pending(), queued.failed()), left, StatsResource.ESTIMATED);
    }
}
