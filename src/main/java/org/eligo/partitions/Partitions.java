package org.eligo.partitions;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eligo.auth.AccessLogConfig;
import org.jboss.logging.Logger;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;

/**
 * Keeps the monthly partitions of messages, determinations and the access log ahead of time and drops
 * the months past retention: {@code eligo.partitions.retention-years} for messages and determinations,
 * {@code eligo.access-log.retention-years} for the access log. The work is done by the database's own
 * functions (db/migration/R__50_partitions.sql),
 * which run as the schema owner and check their arguments (a retention under a year is refused); the
 * service only calls them. Runs at start and then every {@code eligo.partitions.maintenance-interval}; instances
 * take turns through an advisory lock inside the functions.
 *
 * <p>Creating or detaching a partition locks its parent briefly. With a short lock timeout a run
 * that would queue behind a long transaction (and make every writer queue behind it) gives up and
 * the next run tries again; partitions are made months ahead, so a missed run costs nothing. Should
 * every run fail for months, rows land in each table's default partition: nothing is lost.
 */
@ApplicationScoped
public class Partitions {

    private static final Logger LOG = Logger.getLogger(Partitions.class);

    private final PartitionFunctions functions;
    private final PartitionsConfig config;
    private final AccessLogConfig accessLog;

    public Partitions(PartitionFunctions functions, PartitionsConfig config, AccessLogConfig accessLog) {
        this.functions = functions;
        this.config = config;
        this.accessLog = accessLog;
        if (config.monthsAhead() < 1 || config.monthsAhead() > 24) {
            throw new IllegalArgumentException("eligo.partitions.months-ahead must be 1 to 24, not " + config.monthsAhead());
        }
        if (config.retentionYears() < 0) {
            throw new IllegalArgumentException("eligo.partitions.retention-years must be 0 (keep everything) or more, not "
                    + config.retentionYears());
        }
        if (accessLog.retentionYears() < 0) {
            throw new IllegalArgumentException("eligo.access-log.retention-years must be 0 (keep everything) or more, not "
                    + accessLog.retentionYears());
        }
    }

    void onStart(@Observes StartupEvent event) {
        scheduled();
    }

    @Scheduled(every = "${eligo.partitions.maintenance-interval:6h}", delayed = "1m", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        try {
            Maintenance done = maintain();
            if (done.created() > 0 || done.dropped() > 0 || done.accessLogDropped() > 0) {
                LOG.infof("Partitions: %d created ahead, %d dropped past retention (%d years), %d of the access log past its retention (%d years)",
                        done.created(), done.dropped(), config.retentionYears(), done.accessLogDropped(), accessLog.retentionYears());
            }
        } catch (RuntimeException e) {
            LOG.warnf("Partition maintenance failed (%s); the next run tries again", e.getMessage());
        }
    }

    /** What one maintenance run did: partitions created, partitions of messages and determinations dropped, of the access log dropped. */
    public record Maintenance(int created, int dropped, int accessLogDropped) {
    }

    /** Creates the months ahead, then drops the expired ones, each in its own transaction. */
    public Maintenance maintain() {
        int created = functions.createAhead(config.monthsAhead());
        int dropped = functions.dropExpired(config.retentionYears() * 12);
        int accessLogDropped = functions.dropExpiredAccessLog(accessLog.retentionYears() * 12);
        return new Maintenance(created, dropped, accessLogDropped);
    }
}
