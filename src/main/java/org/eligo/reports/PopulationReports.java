package org.eligo.reports;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eligo.reruns.RerunItemState;
import org.eligo.support.Db;

/**
 * The population reports' counts, each one statement that the database aggregates: the service reads
 * a few dozen rows however large the population is.
 *
 * <p>The owner of {@code determination_latest} (V11__population_reports.sql), which only the database
 * writes (trigger {@code eligo_determination_latest}, R__40_determinations.sql; retention). The
 * reports also read, never write, two other owners' tables: a rerun's determinations through
 * {@code rerun_determination} and {@code determination} (org.eligo.determinations.Determinations),
 * and each rerun item's result and the result before it from {@code rerun_item}
 * (org.eligo.reruns.Reruns), which records them as the run goes.
 */
@ApplicationScoped
public class PopulationReports {

    /** Each beneficiary's latest determination for a period: one row each. Binds ruleset, period. */
    static final String LATEST = "SELECT beneficiary_id, result, outcomes FROM determination_latest WHERE ruleset_id = ? AND period = ?";

    /** A rerun's determinations: at most one per beneficiary (its primary key). Binds the rerun. */
    static final String OF_RERUN = """
            SELECT d.beneficiary_id, d.result, d.outcomes
              FROM rerun_determination r JOIN determination d ON d.beneficiary_id = r.beneficiary_id AND d.id = r.determination_id
             WHERE r.rerun_id = ?"""; // the beneficiary in the join keeps it on one shard on Citus

    /**
     * The counts of a population ({@code %1$s}: {@link #LATEST} or {@link #OF_RERUN}, read by each
     * part, its parameters bound once per part), as rows of (kind, outcome, count, position):
     * <ul>
     * <li>{@code RESULT}: beneficiaries per result (the outcome column holds the result);</li>
     * <li>{@code OUTCOME}: per check ({@code check=RESULT}) or subcheck ({@code check/subcheck=RESULT}),
     * from the outcomes the database derived from each determination's checks (V4), with the lowest
     * position it had in them, which orders the checks as the determinations list them;</li>
     * <li>{@code REASON}: for each PASSED check, its reason (the first of its subchecks that passed:
     * the contract's {@code reason}), as {@code check/subcheck=PASSED}.</li>
     * </ul>
     * Outcomes are counted as they are stored and split by the caller: splitting each one in SQL
     * cost four times the counting (EXPLAIN ANALYZE, 33,333 beneficiaries: 372 against 80 ms). A
     * reason is found in one pass: a determination's outcomes list each check before its subchecks,
     * so among its PASSED outcomes, the first PASSED subcheck of a PASSED check is the one right
     * after that check's own. Each part reads the latest determinations itself rather than one
     * materialised copy, which PostgreSQL may scan in parallel (609 ms for the three parts split in
     * SQL over one copy, 318 ms like this, with no caching of repeated arrays); a rerun's, found by a
     * join, are materialised once ({@link #counts}). Check and subcheck ids are
     * lower_snake_case and results upper case, so {@code /} and {@code =} split an outcome
     * unambiguously.
     */
    static final String COUNTS = """
            SELECT 'RESULT' AS kind, p.result, count(*) AS n, 0 AS position FROM (%1$s) AS p GROUP BY p.result
            UNION ALL
            SELECT 'OUTCOME', u.o, count(*), min(u.position)
              FROM (%1$s) AS p CROSS JOIN LATERAL unnest(p.outcomes) WITH ORDINALITY AS u (o, position)
             GROUP BY u.o
            UNION ALL
            SELECT 'REASON', x.o, count(*), 0
              FROM (SELECT u.o, lag(u.o) OVER (PARTITION BY p.beneficiary_id ORDER BY u.position) AS before
                      FROM (%1$s) AS p CROSS JOIN LATERAL unnest(p.outcomes) WITH ORDINALITY AS u (o, position)
                     WHERE u.o LIKE '%%=PASSED') AS x
             WHERE strpos(x.o, '/') > 0 AND x.before = split_part(x.o, '/', 1) || '=PASSED'
             GROUP BY x.o
            """;

    /** How many times {@link #COUNTS} reads its population, each with its own parameters. */
    private static final int COUNTS_PARTS = 3;

    /** A rerun's finished items: (beneficiary, result). Binds the rerun. */
    static final String RERUN_RESULTS = "SELECT beneficiary_id, result FROM rerun_item WHERE rerun_id = ? AND state = '"
            + RerunItemState.DONE + "'";

    /** (previous result, result, beneficiaries) over the latest determinations: each with the one it replaced. Binds ruleset, period. */
    static final String TRANSITIONS_LATEST = """
            SELECT previous_result, result, count(*) FROM determination_latest WHERE ruleset_id = ? AND period = ?
             GROUP BY previous_result, result""";

    /** (previous result, result, beneficiaries) over a rerun: each item with the latest determination before the run's. Binds the rerun. */
    static final String TRANSITIONS_OF_RERUN = "SELECT previous_result, result, count(*) FROM rerun_item WHERE rerun_id = ? AND state = '"
            + RerunItemState.DONE + "' GROUP BY previous_result, result";

    /**
     * (result in one population, result in the other, beneficiaries), over the beneficiaries of
     * either; NULL for a side where the beneficiary is absent. {@code %1$s} and {@code %2$s}: the two
     * populations' (beneficiary_id, result) rows, their parameters bound in that order.
     */
    static final String TRANSITIONS_BETWEEN = """
            SELECT f.result, t.result, count(*)
              FROM (%1$s) AS f FULL JOIN (%2$s) AS t ON t.beneficiary_id = f.beneficiary_id
             GROUP BY f.result, t.result""";

    /** Each beneficiary's latest result for a period, as (beneficiary, result). Binds ruleset, period. */
    static final String LATEST_RESULTS = "SELECT beneficiary_id, result FROM determination_latest WHERE ruleset_id = ? AND period = ?";

    /** Whose determinations a report counts: one rerun's, or each beneficiary's latest for the period. */
    public sealed interface Population {
    }

    /** Each beneficiary's latest determination of the ruleset for the period. */
    public record Latest(String rulesetId, String period) implements Population {
    }

    /** The determinations a rerun made. */
    public record OfRerun(String rerunId) implements Population {
    }

    /** What a row of {@link #COUNTS} counts: its first column, written there as these names. */
    public enum Kind {
        RESULT, OUTCOME, REASON
    }

    /** One aggregated row of {@link #COUNTS}: {@code outcome} is a result, or {@code check=RESULT}, or {@code check/subcheck=RESULT}. */
    public record Count(Kind kind, String outcome, long count, long position) {
    }

    /** One (from, to) pair of results and how many beneficiaries went that way; null: no determination on that side. */
    public record Transition(String from, String to, long count) {
    }

    private final Db db;

    public PopulationReports(Db db) {
        this.db = db;
    }

    /** The counts of {@code population} (see {@link #COUNTS}). */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<Count> counts(Population population) {
        return db.inCurrent(connection -> {
            // A rerun's determinations are found by a join: made once and read three times, rather
            // than joined by each part (bench/run.sh (i): 194 ms for 6,666 beneficiaries joined thrice).
            boolean run = population instanceof OfRerun;
            String sql = run ? "WITH run AS MATERIALIZED (" + OF_RERUN + ")\n" + COUNTS.formatted("SELECT beneficiary_id, result, outcomes FROM run")
                    : COUNTS.formatted(LATEST);
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                int next = 1;
                for (int part = 0; part < (run ? 1 : COUNTS_PARTS); part++) {
                    next = bind(statement, next, population);
                }
                List<Count> counts = new ArrayList<>();
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        counts.add(new Count(Kind.valueOf(rs.getString(1)), rs.getString(2), rs.getLong(3), rs.getLong(4)));
                    }
                }
                return counts;
            }
        });
    }

    /**
     * How results moved: from {@code from} to {@code to} (beneficiaries of either), or, with no
     * {@code from}, from the determination before each of {@code to}'s: the one each latest
     * determination replaced, or the latest before a rerun's (as the run recorded it).
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<Transition> transitions(Population from, Population to) {
        return db.inCurrent(connection -> {
            String sql;
            if (from == null) {
                sql = to instanceof OfRerun ? TRANSITIONS_OF_RERUN : TRANSITIONS_LATEST;
            } else {
                sql = TRANSITIONS_BETWEEN.formatted(results(from), results(to));
            }
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                int next = from == null ? 1 : bind(statement, 1, from);
                bind(statement, next, to);
                return transitions(statement);
            }
        });
    }

    private static String results(Population population) {
        return population instanceof OfRerun ? RERUN_RESULTS : LATEST_RESULTS;
    }

    /** Binds {@code population}'s parameters from {@code index}; returns the next index. */
    private static int bind(PreparedStatement statement, int index, Population population) throws SQLException {
        if (population instanceof OfRerun run) {
            statement.setString(index, run.rerunId());
            return index + 1;
        }
        Latest latest = (Latest) population;
        statement.setString(index, latest.rulesetId());
        statement.setString(index + 1, latest.period());
        return index + 2;
    }

    private static List<Transition> transitions(PreparedStatement statement) throws SQLException {
        List<Transition> transitions = new ArrayList<>();
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                transitions.add(new Transition(rs.getString(1), rs.getString(2), rs.getLong(3)));
            }
        }
        return transitions;
    }
}
