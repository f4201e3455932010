package org.eligo.reruns;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eligo.db.DatabaseConfig;
import org.eligo.determinations.DeterminationView;
import org.eligo.determinations.Determinations;
import org.eligo.support.Db;
import org.eligo.support.Timestamps;
import org.eligo.work.Failure;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;

/**
 * The owner of {@code rerun} ({@link Rerun}) and {@code rerun_item} ({@link RerunItem}): every
 * statement on them is here, each joining the caller's transaction, with their states
 * ({@link RerunStatus}, {@link RerunItemState}). {@link RerunService} creates, reports, cancels and
 * retries runs; {@link RerunWork} works their items through. A run is stored with Panache; its items
 * are written and worked through with set-wise SQL (noted at each statement), and its progress
 * read with one aggregate. Statements name states through the enums, as literals where a partial
 * index ({@code rerun_item_pending}) must match them.
 *
 * <p>A chunk is one transaction: it claims pending items of one run (SKIP LOCKED) while holding the
 * run row FOR SHARE, so a cancel waits for the chunks in flight and no chunk starts after it:
 * nothing half-written, and prompt. The first chunk of a run also marks it RUNNING; neither that nor
 * the hold ever waits for another transaction (SKIP LOCKED), so a worker passes over a run whose
 * first chunk or cancel is in flight instead of waiting for it.
 */
@ApplicationScoped
public class Reruns implements PanacheRepositoryBase<Rerun, String> {

    // ---------------------------------------------------------------------------------------------
    // Creating a run: its items in one INSERT ... SELECT each, whatever the population, rather than
    // reading every beneficiary into the service and writing each back.

    /**
     * Beneficiaries whose active facts changed after their latest determination for the period and
     * ruleset, or who have none: one index probe of {@code determination} per beneficiary of
     * {@code beneficiary_facts_changed} (which the facts' owner keeps as it writes facts, org.eligo.facts.Facts#markChanged).
     * Binds run id, period, ruleset.
     */
    static final String ITEMS_CHANGED = """
            INSERT INTO rerun_item (rerun_id, beneficiary_id)
            SELECT ?, c.beneficiary_id FROM beneficiary_facts_changed c
              LEFT JOIN LATERAL (SELECT d.facts_as_of FROM determination d
                                  WHERE d.beneficiary_id = c.beneficiary_id AND d.period = ? AND d.ruleset_id = ?
                                  ORDER BY d.id DESC LIMIT 1) AS latest ON true
             WHERE latest.facts_as_of IS NULL OR c.changed_at > latest.facts_as_of
            """;

    /**
     * {@link #ITEMS_CHANGED} on Citus (eligo.database.distribution=citus), where the changed list is a
     * table of the coordinator and determinations are distributed: Citus cannot join the two
     * laterally, so each beneficiary's latest determination of the period is found on the shards at
     * once (DISTINCT ON the distribution column, pushed down) and joined on the coordinator. It reads
     * the period's determinations, where the one-node form probes one per changed beneficiary.
     */
    static final String ITEMS_CHANGED_CITUS = """
            INSERT INTO rerun_item (rerun_id, beneficiary_id)
            SELECT ?, c.beneficiary_id FROM beneficiary_facts_changed c
              LEFT JOIN (SELECT DISTINCT ON (d.beneficiary_id) d.beneficiary_id, d.facts_as_of FROM determination d
                          WHERE d.period = ? AND d.ruleset_id = ?
                          ORDER BY d.beneficiary_id, d.id DESC) AS latest ON latest.beneficiary_id = c.beneficiary_id
             WHERE latest.facts_as_of IS NULL OR c.changed_at > latest.facts_as_of
            """;

    /** Every beneficiary that has facts. Binds the run id. */
    static final String ITEMS_ALL = "INSERT INTO rerun_item (rerun_id, beneficiary_id) SELECT ?, beneficiary_id FROM beneficiary_facts_changed";

    /** The beneficiaries listed, each once. Binds run id, text[]. */
    static final String ITEMS_LISTED = "INSERT INTO rerun_item (rerun_id, beneficiary_id) SELECT DISTINCT ?, b FROM unnest(?::text[]) AS b";

    /**
     * A run with nothing to do is done as it is created: it started and finished then, so its
     * status answer says so rather than "finished, never started". One clock reading for both
     * (clock_timestamp() read twice differs by a microsecond). Binds the run id (twice).
     */
    static final String SET_TOTAL = """
            WITH items AS (SELECT count(*) AS total, clock_timestamp() AS now FROM rerun_item WHERE rerun_id = ?)
            UPDATE rerun SET total = items.total,
                   status = CASE WHEN items.total > 0 THEN '%s' ELSE '%s' END,
                   started_at = CASE WHEN items.total > 0 THEN NULL ELSE items.now END,
                   finished_at = CASE WHEN items.total > 0 THEN NULL ELSE items.now END
              FROM items
             WHERE id = ?
            RETURNING rerun.total, rerun.status
            """.formatted(RerunStatus.QUEUED, RerunStatus.DONE);

    // ---------------------------------------------------------------------------------------------
    // Reporting, cancelling and retrying a run.

    /** A run and its items' tallies, in one statement (one pass over its items), with the database's clock. Binds the run id. */
    static final String STATE = """
            SELECT r.id, r.status, r.scope, r.period, r.ruleset_id, r.reason, r.requested_by, r.total,
                   count(*) FILTER (WHERE i.state = '%s'), count(*) FILTER (WHERE i.state = '%s'), count(*) FILTER (WHERE i.changed),
                   r.created_at, r.started_at, r.finished_at, clock_timestamp()
              FROM rerun r LEFT JOIN rerun_item i ON i.rerun_id = r.id
             WHERE r.id = ?
             GROUP BY r.id
            """.formatted(RerunItemState.DONE, RerunItemState.FAILED);

    /** Stops a run that has not finished; rows still pending stay pending, unclaimed. Binds the run id. */
    static final String CANCEL = """
            UPDATE rerun SET status = '%s', finished_at = clock_timestamp()
             WHERE id = ? AND status IN ('%s', '%s')
            """.formatted(RerunStatus.CANCELLED, RerunStatus.QUEUED, RerunStatus.RUNNING);

    /**
     * Redrives a run's failed items (their dead end): pending again, and the run running again so
     * that workers take them; a cancelled run stays cancelled. One statement, so the items and the
     * run change together or not at all. Binds the run id (twice).
     */
    static final String RETRY_FAILED = """
            WITH retried AS (
                UPDATE rerun_item SET state = '%1$s', finished_at = NULL
                 WHERE rerun_id = ? AND state = '%2$s'
                   AND EXISTS (SELECT 1 FROM rerun WHERE id = rerun_item.rerun_id AND status IN ('%3$s', '%4$s', '%5$s'))
                RETURNING 1)
            UPDATE rerun SET status = '%3$s', finished_at = NULL
             WHERE id = ? AND EXISTS (SELECT 1 FROM retried)
            RETURNING (SELECT count(*) FROM retried)
            """.formatted(RerunItemState.PENDING, RerunItemState.FAILED, RerunStatus.RUNNING, RerunStatus.DONE, RerunStatus.FAILED);

    /** A page of a run's changed results, by beneficiary: index rerun_item_changed. Built only from these constants. */
    static final String CHANGES = "FROM RerunItem WHERE rerunId = :run AND changed = true";
    static final String CHANGES_AFTER = " AND beneficiaryId > :after";
    static final String CHANGES_TO = " AND result = :result";
    static final String CHANGES_ORDER = " ORDER BY beneficiaryId";

    // ---------------------------------------------------------------------------------------------
    // Working a run through (RerunWork): claims over many rows with FOR UPDATE SKIP LOCKED, which
    // Panache cannot express, and a chunk's items settled in one statement.

    /**
     * The runs with work left, of the rulesets this instance has loaded (a run of another ruleset
     * waits for an instance that has it, never failed here). Smaller runs first, so an urgent
     * handful is not stuck behind a population-wide run. Binds: text[] ruleset ids.
     */
    static final String ACTIVE_RUNS = """
            SELECT id FROM rerun
             WHERE status IN ('%s', '%s') AND ruleset_id = ANY(?::text[])
             ORDER BY total, created_at, id
            """.formatted(RerunStatus.QUEUED, RerunStatus.RUNNING);

    /** Marks a run RUNNING when its first chunk is claimed; skips it while another transaction holds it. Binds the run id. */
    static final String START = """
            UPDATE rerun SET status = '%s', started_at = clock_timestamp()
             WHERE id = (SELECT id FROM rerun WHERE id = ? AND status = '%s' FOR UPDATE SKIP LOCKED)
            """.formatted(RerunStatus.RUNNING, RerunStatus.QUEUED);

    /** Holds the run against a cancel while this chunk is in flight: the run's period and ruleset. Binds the run id. */
    static final String HOLD_RUN = "SELECT period, ruleset_id FROM rerun WHERE id = ? AND status = '%s' FOR SHARE SKIP LOCKED"
            .formatted(RerunStatus.RUNNING);

    /** Binds run id, limit. */
    static final String CLAIM = """
            SELECT beneficiary_id FROM rerun_item
             WHERE rerun_id = ? AND state = '%s'
             ORDER BY beneficiary_id
             LIMIT ?
               FOR UPDATE SKIP LOCKED
            """.formatted(RerunItemState.PENDING);

    /** Binds run id, beneficiary. */
    static final String CLAIM_ONE = "SELECT beneficiary_id FROM rerun_item WHERE rerun_id = ? AND beneficiary_id = ? AND state = '%s' FOR UPDATE SKIP LOCKED"
            .formatted(RerunItemState.PENDING);

    /** A chunk's items, DONE with their determinations, in one statement (unnest) instead of one per item. Binds five text[], the run id. */
    static final String MARK_DONE = """
            UPDATE rerun_item AS i
               SET state = '%s', determination_id = d.determination_id, previous_determination_id = d.previous_id,
                   previous_result = d.previous_result, result = d.result,
                   -- A change is a result that differs from an earlier determination; a first one is not.
                   changed = d.previous_result IS NOT NULL AND d.previous_result <> d.result,
                   finished_at = clock_timestamp()
              FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                   AS d(beneficiary_id, determination_id, previous_id, previous_result, result)
             WHERE i.rerun_id = ? AND i.beneficiary_id = d.beneficiary_id
            """.formatted(RerunItemState.DONE);

    /** An item's dead end: FAILED with its error, counted in its run's {@code failed}; POST /v1/reruns/{id}/retry redrives it. */
    static final String MARK_FAILED = """
            UPDATE rerun_item SET state = '%s', error = ?, finished_at = clock_timestamp()
             WHERE rerun_id = ? AND beneficiary_id = ? AND state = '%s'
            """.formatted(RerunItemState.FAILED, RerunItemState.PENDING);

    /**
     * Every running run with no pending item left is DONE. In a transaction of its own after each
     * chunk, never inside one (two chunks holding a run FOR SHARE must not both wait to update it);
     * a run held by a chunk just passing over it is skipped and finished at the next pass.
     *
     * <p>Two statements: the running runs are locked first ({@link #LOCK_RUNNING}), and only then are
     * their items looked at, by a statement whose snapshot is taken after the locks are held. In one
     * statement, a retry committed while it waited for a run's lock would be re-checked against the
     * run's new row (RUNNING again) but against the old snapshot's items (still FAILED, none
     * pending), and the run would be marked DONE with its retried items pending (seen under load:
     * RerunTest's retry found the run DONE with nothing failed). A retry updates the items before it
     * locks the run, so after the lock either its items are visible here as pending, or it has not
     * committed and, finding the run DONE, sets it RUNNING again itself.
     */
    static final String LOCK_RUNNING = "SELECT id FROM rerun WHERE status = '%s' FOR UPDATE SKIP LOCKED".formatted(RerunStatus.RUNNING);

    /** The second statement of finishing: binds text[] of the runs locked by {@link #LOCK_RUNNING}. */
    static final String FINISH = """
            UPDATE rerun r SET status = '%1$s', finished_at = clock_timestamp()
             WHERE r.id = ANY(?::text[]) AND r.status = '%2$s'
               AND NOT EXISTS (SELECT 1 FROM rerun_item i WHERE i.rerun_id = r.id AND i.state = '%3$s')
            """.formatted(RerunStatus.DONE, RerunStatus.RUNNING, RerunItemState.PENDING);

    /** Pending items of runs whose ruleset is outside ?: work this instance leaves for others. Binds text[]. */
    static final String OTHER_RULESETS = """
            SELECT count(*) FROM rerun_item i JOIN rerun r ON r.id = i.rerun_id
             WHERE r.status IN ('%s', '%s') AND NOT (r.ruleset_id = ANY(?::text[])) AND i.state = '%s'
            """.formatted(RerunStatus.QUEUED, RerunStatus.RUNNING, RerunItemState.PENDING);

    /** A claimed item: one beneficiary of a run, with the run's period and ruleset. */
    public record Item(String runId, String beneficiaryId, String period, String rulesetId) {
    }

    /** A run as stored, with its items' tallies and the database's clock when they were read. */
    public record State(String id, RerunStatus status, RerunScope scope, String period, String rulesetId, String reason, String requestedBy,
                        int total, long done, long failed, long changed, Instant createdAt, Instant startedAt, Instant finishedAt, Instant now) {
    }

    private final Db db;
    private final String itemsChanged;

    public Reruns(Db db, DatabaseConfig database) {
        this.db = db;
        this.itemsChanged = database.distribution() == DatabaseConfig.Distribution.citus ? ITEMS_CHANGED_CITUS : ITEMS_CHANGED;
    }

    /** Stores a run and its items ({@code beneficiaries} for scope BENEFICIARIES); a run with none is DONE at once. */
    @Transactional(Transactional.TxType.MANDATORY)
    public RerunView.Accepted create(String id, RerunScope scope, List<String> beneficiaries, String period, String rulesetId, String reason,
                                     String requestedBy) {
        Rerun run = new Rerun();
        run.id = id;
        run.scope = scope;
        run.period = period;
        run.rulesetId = rulesetId;
        run.reason = reason;
        run.requestedBy = requestedBy;
        run.status = RerunStatus.QUEUED;
        run.total = 0;
        persist(run);
        // Written now: the items' statements below reference the run, on the same connection.
        flush();
        return db.inCurrent(connection -> {
            switch (scope) {
                case CHANGED -> update(connection, itemsChanged, id, period, rulesetId);
                case ALL -> update(connection, ITEMS_ALL, id);
                case BENEFICIARIES -> {
                    try (PreparedStatement statement = connection.prepareStatement(ITEMS_LISTED)) {
                        statement.setString(1, id);
                        statement.setArray(2, connection.createArrayOf("text", beneficiaries.toArray()));
                        statement.executeUpdate();
                    }
                }
            }
            try (PreparedStatement statement = connection.prepareStatement(SET_TOTAL)) {
                statement.setString(1, id);
                statement.setString(2, id);
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    return new RerunView.Accepted(id, RerunStatus.valueOf(rs.getString(2)), rs.getInt(1));
                }
            }
        });
    }

    /** The ids of the latest runs, newest first. */
    public List<String> recentIds(int limit) {
        return find("ORDER BY createdAt DESC, id DESC").page(0, limit).project(IdOnly.class).list().stream().map(IdOnly::id).toList();
    }

    /** A run's id alone (a projection of {@link Rerun}). */
    @io.quarkus.runtime.annotations.RegisterForReflection
    public record IdOnly(String id) {
    }

    /** The run {@code id} with its tallies, if there is one. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<State> state(String id) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(STATE)) {
                statement.setString(1, id);
                try (ResultSet rs = statement.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(new State(rs.getString(1), RerunStatus.valueOf(rs.getString(2)), RerunScope.of(rs.getString(3)),
                            rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7), rs.getInt(8), rs.getLong(9), rs.getLong(10),
                            rs.getLong(11), Timestamps.read(rs, 12), Timestamps.read(rs, 13), Timestamps.read(rs, 14), Timestamps.read(rs, 15)));
                }
            }
        });
    }

    /** Cancels the run if it has not finished; returns whether it did. */
    @Transactional(Transactional.TxType.MANDATORY)
    public boolean cancel(String id) {
        return db.inCurrent(connection -> update(connection, CANCEL, id)) > 0;
    }

    /** Puts the run's FAILED items back to PENDING and the run to RUNNING (not a cancelled run); returns how many. */
    @Transactional(Transactional.TxType.MANDATORY)
    public long retryFailed(String id) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(RETRY_FAILED)) {
                statement.setString(1, id);
                statement.setString(2, id);
                try (ResultSet rs = statement.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0L;
                }
            }
        });
    }

    /** Up to {@code limit} of the run's changed results, by beneficiary, after {@code afterBeneficiary} when given. */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<RerunView.Change> changes(String id, String afterBeneficiary, String result, int limit) {
        var query = getEntityManager().createQuery(CHANGES + (afterBeneficiary == null ? "" : CHANGES_AFTER) + (result == null ? "" : CHANGES_TO)
                + CHANGES_ORDER, RerunItem.class).setParameter("run", id);
        if (afterBeneficiary != null) {
            query.setParameter("after", afterBeneficiary);
        }
        if (result != null) {
            query.setParameter("result", result);
        }
        return query.setMaxResults(limit).getResultStream()
                .map(item -> new RerunView.Change(item.beneficiaryId, item.previousDeterminationId, item.previousResult, item.determinationId,
                        item.result))
                .toList();
    }

    /**
     * Claims up to {@code limit} pending items of the first run (in {@link #ACTIVE_RUNS} order, of
     * the given rulesets) that has free ones, holding that run; marks it RUNNING if this is its first chunk.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<Item> claim(Collection<String> rulesetIds, int limit) {
        return db.inCurrent(connection -> {
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
        });
    }

    /** Claims one given item again, if its run is still running and the item pending and free. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<Item> claimOne(Item item) {
        return db.inCurrent(connection -> {
            Optional<String[]> spec = startAndHold(connection, item.runId());
            if (spec.isEmpty()) {
                return Optional.empty();
            }
            try (PreparedStatement statement = connection.prepareStatement(CLAIM_ONE)) {
                statement.setString(1, item.runId());
                statement.setString(2, item.beneficiaryId());
                return column(statement).isEmpty() ? Optional.<Item>empty() : Optional.of(item);
            }
        });
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

    /**
     * Marks the items of {@code beneficiaries} DONE with the determinations {@code made} for them
     * (same order) and each one's latest determination before the run's.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public void markDone(String run, List<String> beneficiaries, List<DeterminationView> made, Map<String, Determinations.Latest> previous) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(MARK_DONE)) {
                statement.setArray(1, connection.createArrayOf("text", beneficiaries.toArray()));
                statement.setArray(2, connection.createArrayOf("text", made.stream().map(DeterminationView::id).toArray()));
                statement.setArray(3, connection.createArrayOf("text", beneficiaries.stream()
                        .map(b -> previous.containsKey(b) ? previous.get(b).id() : null).toArray()));
                statement.setArray(4, connection.createArrayOf("text", beneficiaries.stream()
                        .map(b -> previous.containsKey(b) ? previous.get(b).result() : null).toArray()));
                statement.setArray(5, connection.createArrayOf("text", made.stream().map(DeterminationView::result).toArray()));
                statement.setString(6, run);
                return statement.executeUpdate();
            }
        });
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public void markFailed(Item item, Failure failure) {
        db.inCurrent(connection -> update(connection, MARK_FAILED, failure.error(), item.runId(), item.beneficiaryId()));
    }

    /** Marks DONE every running run with no pending item left (see {@link #FINISH}: in a transaction of its own). */
    @Transactional(Transactional.TxType.MANDATORY)
    public void finishRuns() {
        db.inCurrent(connection -> {
            List<String> locked = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(LOCK_RUNNING); ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    locked.add(rs.getString(1));
                }
            }
            if (locked.isEmpty()) {
                return null;
            }
            try (PreparedStatement statement = connection.prepareStatement(FINISH)) {
                statement.setArray(1, connection.createArrayOf("text", locked.toArray()));
                statement.executeUpdate();
            }
            return null;
        });
    }

    /** Pending items of runs of rulesets outside {@code rulesetIds}: work this instance leaves for others. */
    @Transactional(Transactional.TxType.MANDATORY)
    public long countOtherRulesets(Collection<String> rulesetIds) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(OTHER_RULESETS)) {
                statement.setArray(1, connection.createArrayOf("text", rulesetIds.toArray()));
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    private static int update(Connection connection, String sql, String... parameters) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setString(i + 1, parameters[i]);
            }
            return statement.executeUpdate();
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
