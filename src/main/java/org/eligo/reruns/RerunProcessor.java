package org.eligo.reruns;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.determinations.Determination;
import org.eligo.determinations.DeterminationStore;
import org.eligo.determinations.Determinations;
import org.eligo.facts.BeneficiaryLocks;
import org.eligo.facts.Fact;
import org.eligo.facts.FactReader;
import org.eligo.queue.WorkSource;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetRegistry;
import org.eligo.support.Db;
import org.jboss.logging.Logger;

/**
 * Works through reruns a chunk at a time, alongside ingest: only {@code eligo.reruns.workers} of
 * the worker threads take rerun chunks, so the others always serve messages.
 *
 * <p>A chunk is one transaction: claim pending items (SKIP LOCKED), take the beneficiaries' locks,
 * evaluate, store the determinations ({@code trigger: rerun}) and mark the items DONE. A crash rolls
 * the chunk back whole; the items are pending again and the run resumes after a restart (or at once
 * in another instance). The run row is held FOR SHARE by every chunk in flight, so a cancel waits for
 * those chunks to commit and no chunk starts after it: nothing half-written, and prompt.
 */
@ApplicationScoped
public class RerunProcessor implements WorkSource {

    private static final Logger LOG = Logger.getLogger(RerunProcessor.class);

    /** Smaller runs first, so an urgent handful is not stuck behind a population-wide run. */
    static final String ACTIVE_RUNS = "SELECT id FROM rerun WHERE status IN ('QUEUED', 'RUNNING') ORDER BY total, created_at, id";

    static final String START = "UPDATE rerun SET status = 'RUNNING', started_at = clock_timestamp() WHERE id = ? AND status = 'QUEUED'";

    /** Holds the run against a cancel while this chunk is in flight. Binds the run id. */
    static final String HOLD_RUN = "SELECT period, ruleset_id FROM rerun WHERE id = ? AND status = 'RUNNING' FOR SHARE";

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

    static final String MARK_FAILED = """
            UPDATE rerun_item SET state = 'FAILED', error = ?, finished_at = clock_timestamp()
             WHERE rerun_id = ? AND beneficiary_id = ? AND state = 'PENDING'
            """;

    static final String FINISH = """
            UPDATE rerun SET status = 'DONE', finished_at = clock_timestamp()
             WHERE id = ? AND status = 'RUNNING'
               AND NOT EXISTS (SELECT 1 FROM rerun_item WHERE rerun_id = ? AND state = 'PENDING')
            """;


    private final Db db;
    private final RerunsConfig config;
    private final FactReader facts;
    private final Determinations determinations;
    private final RulesetRegistry rulesets;

    public RerunProcessor(Db db, RerunsConfig config, FactReader facts, Determinations determinations, RulesetRegistry rulesets) {
        this.db = db;
        this.config = config;
        this.facts = facts;
        this.determinations = determinations;
        this.rulesets = rulesets;
    }

    @Override
    public boolean servesWorker(int index) {
        return index < config.workers();
    }

    @Override
    public int processBatch() {
        List<String> runs = db.read(connection -> strings(connection, ACTIVE_RUNS));
        for (String run : runs) {
            db.inTransaction(connection -> update(connection, START, run));
            int done = processChunk(run);
            db.inTransaction(connection -> update(connection, FINISH, run, run));
            if (done > 0) {
                return done;
            }
        }
        return 0;
    }

    private int processChunk(String run) {
        List<String> claimedBeneficiaries = new ArrayList<>();
        try {
            return db.inTransaction(connection -> {
                Optional<String[]> spec = hold(connection, run);
                if (spec.isEmpty()) {
                    return 0;
                }
                List<String> claimed = claim(connection, run);
                claimedBeneficiaries.addAll(claimed);
                determine(connection, run, spec.get(), claimed);
                return claimed.size();
            });
        } catch (RulesetNotHere e) {
            // Another instance (with the ruleset) can take the chunk: it was rolled back, its items are pending.
            LOG.warnf("Rerun %s needs ruleset %s, which this instance has not loaded; leaving it to instances that have", run, e.getMessage());
            return 0;
        } catch (RuntimeException | StackOverflowError e) {
            if (claimedBeneficiaries.isEmpty() || Db.isTransient(e)) {
                throw e;
            }
            LOG.warnf(e, "A chunk of rerun %s failed; determining its %d beneficiaries one by one", run, claimedBeneficiaries.size());
            for (String beneficiary : claimedBeneficiaries) {
                processAlone(run, beneficiary);
            }
            return claimedBeneficiaries.size();
        }
    }

    private void processAlone(String run, String beneficiary) {
        try {
            db.inTransaction(connection -> {
                Optional<String[]> spec = hold(connection, run);
                if (spec.isPresent() && !strings(connection, CLAIM_ONE, run, beneficiary).isEmpty()) {
                    determine(connection, run, spec.get(), List.of(beneficiary));
                }
                return null;
            });
        } catch (RuntimeException | StackOverflowError e) {
            if (Db.isTransient(e) || e instanceof RulesetNotHere) {
                throw e;
            }
            LOG.errorf(e, "Rerun %s could not determine %s", run, beneficiary);
            db.inTransaction(connection -> update(connection, MARK_FAILED, e.getClass().getSimpleName() + ": " + e.getMessage(), run, beneficiary));
        }
    }

    /** The run's period and ruleset, holding the run row against a cancel; empty when it is not running. */
    private Optional<String[]> hold(Connection connection, String run) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(HOLD_RUN)) {
            statement.setString(1, run);
            try (ResultSet rs = statement.executeQuery()) {
                return rs.next() ? Optional.of(new String[] {rs.getString(1), rs.getString(2)}) : Optional.empty();
            }
        }
    }

    private void determine(Connection connection, String run, String[] spec, List<String> beneficiaries) throws SQLException {
        if (beneficiaries.isEmpty()) {
            return;
        }
        YearMonth period = YearMonth.parse(spec[0]);
        Optional<Ruleset> ruleset = rulesets.find(spec[1]);
        if (ruleset.isEmpty()) {
            throw new RulesetNotHere(spec[1]);
        }
        Instant asOf = BeneficiaryLocks.lock(connection, beneficiaries);
        Map<String, List<Fact>> byBeneficiary = facts.activeFor(connection, beneficiaries, asOf);
        Map<String, String[]> previous = new HashMap<>();
        try (PreparedStatement statement = connection.prepareStatement(PREVIOUS)) {
            statement.setArray(1, connection.createArrayOf("text", beneficiaries.toArray()));
            statement.setString(2, spec[0]);
            statement.setString(3, spec[1]);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    previous.put(rs.getString(1), new String[] {rs.getString(2), rs.getString(3)});
                }
            }
        }
        List<DeterminationStore.NewDetermination> made = new ArrayList<>(beneficiaries.size());
        for (String beneficiary : beneficiaries) {
            made.add(determinations.make(ruleset.get(), beneficiary, period, byBeneficiary.getOrDefault(beneficiary, List.of()), asOf, asOf,
                    Determination.RERUN, run, true));
        }
        determinations.store(connection, made);
        try (PreparedStatement statement = connection.prepareStatement(MARK_DONE)) {
            statement.setArray(1, connection.createArrayOf("text", beneficiaries.toArray()));
            statement.setArray(2, connection.createArrayOf("text", made.stream().map(m -> m.determination().id()).toArray()));
            statement.setArray(3, connection.createArrayOf("text", beneficiaries.stream().map(b -> previous.containsKey(b) ? previous.get(b)[0] : null).toArray()));
            statement.setArray(4, connection.createArrayOf("text", beneficiaries.stream().map(b -> previous.containsKey(b) ? previous.get(b)[1] : null).toArray()));
            statement.setArray(5, connection.createArrayOf("text", made.stream().map(m -> m.determination().result()).toArray()));
            statement.setString(6, run);
            statement.executeUpdate();
        }
    }

    /** The run's ruleset is not loaded in this instance (a rolling deploy, another rules folder). */
    static final class RulesetNotHere extends RuntimeException {
        RulesetNotHere(String rulesetId) {
            super(rulesetId, null, false, false);
        }
    }

    private List<String> claim(Connection connection, String run) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(CLAIM)) {
            statement.setString(1, run);
            statement.setInt(2, config.chunkSize());
            return column(statement);
        }
    }

    private static List<String> strings(Connection connection, String sql, String... parameters) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setString(i + 1, parameters[i]);
            }
            return column(statement);
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

    private static int update(Connection connection, String sql, String... parameters) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setString(i + 1, parameters[i]);
            }
            return statement.executeUpdate();
        }
    }
}
