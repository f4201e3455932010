package org.eligo.operations;

import java.util.concurrent.atomic.AtomicLong;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;

/**
 * Work gauges for Prometheus, measured every few seconds (not per scrape, so a busy scraper cannot
 * load the database): how many messages wait and how long the oldest has waited, automatic
 * determinations queued and at their dead end, and the work this instance leaves for others.
 */
@ApplicationScoped
public class QueueMetrics {

    private static final Logger LOG = Logger.getLogger(QueueMetrics.class);

    private final AtomicLong backlog = new AtomicLong();
    /**
     * When the oldest unprocessed message was received, on this JVM's clock (0: none waits). Its age
     * is worked out at each scrape, so it keeps growing while the database cannot be asked (an
     * outage): the last measured oldest message is still waiting, as far as anyone knows, and the
     * backlog-age alert fires instead of seeing a frozen value.
     */
    private final AtomicLong oldestReceivedMillis = new AtomicLong();
    /** When the gauges were last measured (JVM clock); 0 before the first time. */
    private final AtomicLong measuredMillis = new AtomicLong();
    private final io.micrometer.core.instrument.Counter failures;
    /** Whether the last measurement failed: a failure is a warning once, then quiet until it recovers. */
    private volatile boolean failing;
    private final AtomicLong pendingDeterminations = new AtomicLong();
    private final AtomicLong otherTypes = new AtomicLong();
    private final AtomicLong otherRulesets = new AtomicLong();
    private final AtomicLong otherReruns = new AtomicLong();
    private final AtomicLong deadEndDeterminations = new AtomicLong();
    private final org.eligo.ingest.Messages messages;
    private final org.eligo.determinations.DeterminationQueue determinations;
    private final java.util.List<String> typeNames;
    private final org.eligo.rules.RulesetRegistry rulesets;
    private final org.eligo.reruns.Reruns reruns;

    public QueueMetrics(MeterRegistry registry, org.eligo.ingest.Messages messages,
                        org.eligo.determinations.DeterminationQueue determinations, org.eligo.facts.FactTypes types,
                        org.eligo.rules.RulesetRegistry rulesets, org.eligo.reruns.Reruns reruns) {
        this.reruns = reruns;
        this.messages = messages;
        this.determinations = determinations;
        this.typeNames = types.all().stream().map(org.eligo.facts.FactType::name).toList();
        this.rulesets = rulesets;
        String leftForOthers = "Work this instance cannot do and leaves for an instance that can: messages of a fact type it does not declare,"
                + " automatic determinations and rerun items of a ruleset it has not loaded";
        Gauge.builder("eligo.work.left.for.others", otherTypes, AtomicLong::get).tag("kind", "messages").description(leftForOthers).register(registry);
        Gauge.builder("eligo.work.left.for.others", otherRulesets, AtomicLong::get).tag("kind", "determinations").description(leftForOthers)
                .register(registry);
        Gauge.builder("eligo.work.left.for.others", otherReruns, AtomicLong::get).tag("kind", "reruns").description(leftForOthers).register(registry);
        Gauge.builder("eligo.messages.backlog", backlog, AtomicLong::get).description("Messages received and not yet processed").register(registry);
        Gauge.builder("eligo.messages.oldest.backlog.age.seconds", oldestReceivedMillis, QueueMetrics::secondsSince)
                .description("How long the oldest unprocessed message has waited (still growing while the database cannot be asked)")
                .register(registry);
        Gauge.builder("eligo.queue.metrics.age.seconds", measuredMillis, QueueMetrics::secondsSince)
                .description("Seconds since the work gauges were last measured (they are measured every 5 s; more: the database cannot be asked)")
                .register(registry);
        this.failures = io.micrometer.core.instrument.Counter.builder("eligo.queue.metrics.failures")
                .description("Measurements of the work gauges that failed (the database could not be asked)").register(registry);
        Gauge.builder("eligo.determinations.pending", pendingDeterminations, AtomicLong::get)
                .description("Automatic determinations queued and still to be made").register(registry);
        Gauge.builder("eligo.determinations.dead.end", deadEndDeterminations, AtomicLong::get)
                .description("Queued automatic determinations at their dead end (failed eligo.determinations.max-attempts times),"
                        + " waiting for POST /v1/determinations/queue/redrive").register(registry);
    }

    /** One short read-only transaction, which the owners' counts join. */
    @Scheduled(every = "5s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    @jakarta.transaction.Transactional
    void measure() {
        try {
            // Each read on its own: gauges need not agree with one another, unlike GET /v1/stats.
            org.eligo.ingest.Messages.Unprocessed waiting = messages.unprocessed();
            backlog.set(waiting.count());
            // The wait as the database measured it, placed on this JVM's clock (no skew between the two).
            oldestReceivedMillis.set(waiting.oldestWait() == null ? 0 : System.currentTimeMillis() - waiting.oldestWait().toMillis());
            otherTypes.set(messages.countOtherTypes(typeNames));
            org.eligo.determinations.DeterminationQueue.Counts queued = determinations.counts();
            pendingDeterminations.set(queued.pending());
            deadEndDeterminations.set(queued.failed());
            java.util.List<String> loaded = rulesets.all().stream().map(org.eligo.rules.Ruleset::id).toList();
            otherRulesets.set(determinations.countOtherRulesets(loaded));
            otherReruns.set(reruns.countOtherRulesets(loaded));
            measuredMillis.set(System.currentTimeMillis());
            if (failing) {
                failing = false;
                LOG.info("Queue metrics measured again");
            }
        } catch (RuntimeException e) {
            failures.increment();
            if (!failing) {
                failing = true;
                LOG.warnf("Queue metrics could not be measured (%s); the oldest message's age keeps growing from its last value, and "
                        + "eligo_queue_metrics_age_seconds says how stale the others are", e.getMessage());
            } else {
                LOG.debugf("Queue metrics not measured: %s", e.getMessage());
            }
        }
    }

    /** Seconds since {@code millis} on this JVM's clock; 0 when it is 0 (nothing waits, or never measured). */
    static double secondsSince(AtomicLong millis) {
        long at = millis.get();
        return at == 0 ? 0 : Math.max(0, System.currentTimeMillis() - at) / 1000.0;
    }

}
