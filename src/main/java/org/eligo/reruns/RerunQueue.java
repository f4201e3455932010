package org.eligo.reruns;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.determinations.DeterminationStore;
import org.eligo.work.Failure;

/**
 * The SQL by which reruns are worked through ({@link RerunWork} is rerun items as a kind of work;
 * {@link RerunService} creates, reports and cancels runs).
 *
 * <p>A chunk is one transaction: it claims pending items of one run (SKIP LOCKED) while holding the
 * run row FOR SHARE, so a cancel waits for the chunks in flight and no chunk starts after it:
 * nothing half-written, and prompt. The first chunk of a run also marks it RUNNING; neither that nor
 * the hold ever waits for another transaction (SKIP LOCKED), so a worker passes over a run whose
 * first chunk or cancel is in flight instead of waiting for it.
 */
@ApplicationScoped
public class RerunQueue {

    /**
     * The runs with work left, of the rulesets this instance has loaded (a run of another ruleset
     * waits for an instance that has it, never failed here). Smaller runs first, so an urgent
     * handful is not stuck behind a population-wide run. Binds: text[] ruleset ids.
     */
    static final String ACTIVE_RUNS = """
            SELECT id FROM rerun
             WHERE status IN ('QUEUED', 'RUNNING') AND ruleset_id = ANY(?::text[])
             ORDER BY total, created_at, id
            """;

    /** Marks a run RUNNING when its first chunk is claimed; skips it while another transaction holds it. Binds the run id. */
    static final String START = """
            UPDATE rerun SET status = 'RUNNING', started_at = clock_timestamp()
             WHERE id = (SELECT id FROM rerun WHERE id = ? AND status = 'QUEUED' FOR UPDATE SKIP LOCKED)
            """;

    /** Holds the run against a cancel while this chunk is in flight: the run's period and ruleset. Binds the run id. */
    static final String HOLD_RUN = "SELECT period, ruleset_id FROM rerun WHERE id = ? AND status = 'RUNNING' FOR SHARE SKIP LOCKED";

    /** Binds run id, limit. */
    static final String CLAIM = """
            SELECT beneficiary_id FROM rerun_item
             WHERE rerun_id = ? AND state = 'PENDING'
             ORDER BY beneficiary_id
             LIMIT ?
               FOR UPDATE SKIP LOCKED
            """;

    static final String CLAIM_ONE = "SELECT beneficiary_id FROM rerun_item WHERE rerun_id = ? AND beneficiary_id = ? AND state = 'PENDING' FOR UPDATE SKIP LOCKED";

    /** Each beneficiary's latest determination for the period and ruleset. Binds text[], period, ruleset. */
    static final String PREVIOUS = """
            SELECT DISTINCT ON (beneficiary_id) beneficiary_id, id, result FROM determination
             WHERE beneficiary_id = ANY(?::text[]) AND period = ? AND ruleset_id = ?
             ORDER BY beneficiary_id, id DESC
            """;

    static final String MARK_DONE = """
            UPDATE rerun_item AS i
               SET state = 'DONE', determination_id = d.determination_id, previous_determination_id = d.previous_id,
                   previous_result = d.previous_result, result = d.result,
                   -- A change is a result that differs from an earlier determination; a first one is not.
                   changed = d.previous_result IS NOT NULL AND d.previous_result <> d.result,
                   finished_at = clock_timestamp()
              FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                   AS d(beneficiary_id, determination_id, previous_id, previous_result, result)
             WHERE i.rerun_id = ? AND i.beneficiary_id = d.beneficiary_id
            """;

    /** An item's dead end: FAILED with its error, counted in its run's {@code failed}; POST /v1/reruns/{id}/retry redrives it. */
    static final String MARK_FAILED = """
            UPDATE rerun_item SET state = 'FAILED', error = ?, finished_at = clock_timestamp()
             WHERE rerun_id = ? AND beneficiary_id = ? AND state = 'PENDING'
            """;

    /**
     * Every running run with no pending item left is DONE. In a transaction of its own after each
     * chunk, never inside one (two chunks holding a run FOR SHARE must not both wait to update it);
     * a run held by a chunk just passing over it is skipped and finished at the next pass.
     */
    static final String FINISH = """
            UPDATE rerun SET status = 'DONE', finished_at = clock_timestamp()
             WHERE id IN (SELECT r.id FROM rerun r
                           WHERE r.status = 'RUNNING'
                             AND NOT EXISTS (SELECT 1 FROM rerun_item i WHERE i.rerun_id = r.id AND i.state = 'PENDING')
                             FOR UPDATE SKIP LOCKED)
            """;

    /** Pending items of runs whose ruleset is outside ?: work this instance leaves for others. Binds text[]. */
    static final String OTHER_RULESETS = """
            SELECT count(*) FROM rerun_item i JOIN rerun r ON r.id = i.rerun_id
             WHERE r.status IN ('QUEUED', 'RUNNING') AND NOT (r.ruleset_id = ANY(?::text[])) AND i.state = 'PENDING'
            """;

    /** A claimed item: one beneficiary of a run, with the run's period and ruleset. */
    public record Item(String runId, String beneficiaryId, String period, String rulesetId) {
    }

    /** A beneficiary's latest determination for the run's period and ruleset, before the run's. */
    public record Previous(String determinationId, String result) {
    }

    /**
     * Claims up to {@code limit} pending items of the first run (in {@link #ACTIVE_RUNS} order, of
     * the given rulesets) that has free ones, holding that run; marks it RUNNING if this is its first chunk.
     */
    public List<Item> claim(Connection connection, Collection<String> rulesetIds, int limit) throws SQLException {
        List<String> runs;
        try (PreparedStatement statement = connection.prepareStatement(ACTIVE_RUNS)) {
            statement.setArray(1, connection.createArrayOf("text", rulesetIds.toArray()));
            runs = column(statement);
        }
        for (String run : runs) {
            Optional<String[]> spec = startAndHold(connection, run);
            if (spec.isEmpty()) {
                continue;
            }
            List<String> beneficiaries;
            try (PreparedStatement statement = connection.prepareStatement(CLAIM)) {
                statement.setString(1, run);
                statement.setInt(2, limit);
                beneficiaries = column(statement);
            }
            if (!beneficiaries.isEmpty()) {
                return beneficiaries.stream().map(b -> new Item(run, b, spec.get()[0], spec.get()[1])).toList();
            }
        }
        return List.of();
    }

    /** Claims one given item again, if its run is still running and the item pending and free. */
    public Optional<Item> claimOne(Connection connection, Item item) throws SQLException {
        Optional<String[]> spec = startAndHold(connection, item.runId());
        if (spec.isEmpty()) {
            return Optional.empty();
        }
        try (PreparedStatement statement = connection.prepareStatement(CLAIM_ONE)) {
            statement.setString(1, item.runId());
            statement.setString(2, item.beneficiaryId());
            return column(statement).isEmpty() ? Optional.empty() : Optional.of(item);
        }
    }

    /** The run's period and ruleset, holding the run row against a cancel; empty when it is not running or is held. */
    private static Optional<String[]> startAndHold(Connection connection, String run) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(START)) {
            statement.setString(1, run);
            statement.executeUpdate();
        }
        try (PreparedStatement statement = connection.prepareStatement(HOLD_RUN)) {
            statement.setString(1, run);
            try (ResultSet rs = statement.executeQuery()) {
                return rs.next() ? Optional.of(new String[] {rs.getString(1), rs.getString(2)}) : Optional.empty();
            }
        }
    }

    /** Each beneficiary's latest determination for the period and ruleset, where there is one. */
    public Map<String, Previous> previous(Connection connection, List<String> beneficiaries, String period, String rulesetId) throws SQLException {
        Map<String, Previous> previous = new HashMap<>();
        try (PreparedStatement statement = connection.prepareStatement(PREVIOUS)) {
            statement.setArray(1, connection.createArrayOf("text", beneficiaries.toArray()));
            statement.setString(2, period);
            statement.setString(3, rulesetId);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    previous.put(rs.getString(1), new Previous(rs.getString(2), rs.getString(3)));
                }
            }
        }
        return previous;
    }

    /** Marks the items of {@code beneficiaries} DONE with the determinations {@code made} for them (same order) and what came before. */
    public void markDone(Connection connection, String run, List<String> beneficiaries, List<DeterminationStore.NewDetermination> made,
                         Map<String, Previous> previous) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(MARK_DONE)) {
            statement.setArray(1, connection.createArrayOf("text", beneficiaries.toArray()));
            statement.setArray(2, connection.createArrayOf("text", made.stream().map(m -> m.determination().id()).toArray()));
            statement.setArray(3, connection.createArrayOf("text", beneficiaries.stream()
                    .map(b -> previous.containsKey(b) ? previous.get(b).determinationId() : null).toArray()));
            statement.setArray(4, connection.createArrayOf("text", beneficiaries.stream()
                    .map(b -> previous.containsKey(b) ? previous.get(b).result() : null).toArray()));
            statement.setArray(5, connection.createArrayOf("text", made.stream().map(m -> m.determination().result()).toArray()));
            statement.setString(6, run);
            statement.executeUpdate();
        }
    }

    public void markFailed(Connection connection, Item item, Failure failure) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(MARK_FAILED)) {
            statement.setString(1, failure.error());
            statement.setString(2, item.runId());
            statement.setString(3, item.beneficiaryId());
            statement.executeUpdate();
        }
    }

    public void finishRuns(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(FINISH)) {
            statement.executeUpdate();
        }
    }

    /** Pending items of runs of rulesets outside {@code rulesetIds}: work this instance leaves for others. */
    public long countOtherRulesets(Connection connection, Collection<String> rulesetIds) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(OTHER_RULESETS)) {
            statement.setArray(1, connection.createArrayOf("text", rulesetIds.toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static List<String> column(PreparedStatement statement) throws SQLException {
        List<String> values = new ArrayList<>();
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return values;
    }
}
