package org.eligo.reruns;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * What remains of the reruns' queue, now that {@link Reruns} owns every statement on their tables:
 * the count org.eligo.operations.QueueMetrics reads, until it calls
 * {@link Reruns#countOtherRulesets(Collection)}; then this class goes.
 */
@Deprecated
@ApplicationScoped
public class RerunQueue {

    private final Reruns reruns;

    public RerunQueue(Reruns reruns) {
        this.reruns = reruns;
    }

    /** Pending items of runs of rulesets outside {@code rulesetIds}, on the caller's connection. */
    public long countOtherRulesets(Connection connection, Collection<String> rulesetIds) throws SQLException {
        return reruns.countOtherRulesets(connection, rulesetIds);
    }
}
