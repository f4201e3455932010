package org.eligo.determinations;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.determinations.Determination.CheckOutcome;
import org.eligo.determinations.Determination.RulesetRef;
import org.eligo.determinations.Determination.SubcheckOutcome;

/**
 * SQL for determinations. A set of determinations is written with one statement per table
 * (unnest), in the caller's transaction; they are read back with one statement per table too.
 */
@ApplicationScoped
public class DeterminationStore {

    static final String INSERT_DETERMINATIONS = """
            INSERT INTO determination (id, beneficiary_id, period, ruleset_id, ruleset_sha256, ruleset_version,
                                       evaluated_at, facts_as_of, trigger, rerun_id, result)
            SELECT d.id, d.beneficiary_id, d.period, d.ruleset_id, d.ruleset_sha256, d.ruleset_version,
                   d.evaluated_at::timestamptz, d.facts_as_of::timestamptz, d.trigger, d.rerun_id, d.result
              FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                   AS d(id, beneficiary_id, period, ruleset_id, ruleset_sha256, ruleset_version, evaluated_at, facts_as_of, trigger, rerun_id, result)
            """;

    static final String INSERT_CHECKS = """
            INSERT INTO determination_check (determination_id, position, check_id, title, result)
            SELECT c.determination_id, c.position, c.check_id, c.title, c.result
              FROM unnest(?::text[], ?::int2[], ?::text[], ?::text[], ?::text[]) AS c(determination_id, position, check_id, title, result)
            """;

    static final String INSERT_SUBCHECKS = """
            INSERT INTO determination_subcheck (determination_id, check_position, position, subcheck_id, title, result, detail)
            SELECT s.determination_id, s.check_position, s.position, s.subcheck_id, s.title, s.result, s.detail
              FROM unnest(?::text[], ?::int2[], ?::int2[], ?::text[], ?::text[], ?::text[], ?::text[])
                   AS s(determination_id, check_position, position, subcheck_id, title, result, detail)
            """;

    static final String INSERT_SUBCHECK_FACTS = """
            INSERT INTO determination_subcheck_fact (determination_id, check_position, subcheck_position, fact_id, fact_type)
            SELECT f.determination_id, f.check_position, f.subcheck_position, f.fact_id, f.fact_type
              FROM unnest(?::text[], ?::int2[], ?::int2[], ?::text[], ?::text[]) AS f(determination_id, check_position, subcheck_position, fact_id, fact_type)
            """;

    static final String SELECT_COLUMNS = """
            SELECT id, beneficiary_id, period, ruleset_id, ruleset_version, ruleset_sha256, evaluated_at, facts_as_of, trigger, rerun_id, result
              FROM determination
            """;

    static final String BY_IDS = SELECT_COLUMNS + " WHERE id = ANY(?::text[])";

    /** A page of a beneficiary's history, newest first; binds beneficiary, period (or null), cursor id (or null), limit. */
    static final String HISTORY = SELECT_COLUMNS + """
             WHERE beneficiary_id = ?
               AND (?::text IS NULL OR period = ?::text)
               AND (?::text IS NULL OR id < ?::text)
             ORDER BY id DESC
             LIMIT ?
            """;

    static final String CHECKS = """
            SELECT determination_id, position, check_id, title, result FROM determination_check
             WHERE determination_id = ANY(?::text[]) ORDER BY determination_id, position
            """;

    static final String SUBCHECKS = """
            SELECT determination_id, check_position, position, subcheck_id, title, result, detail FROM determination_subcheck
             WHERE determination_id = ANY(?::text[]) ORDER BY determination_id, check_position, position
            """;

    static final String SUBCHECK_FACTS = """
            SELECT determination_id, check_position, subcheck_position, fact_id FROM determination_subcheck_fact
             WHERE determination_id = ANY(?::text[]) ORDER BY determination_id, check_position, subcheck_position, fact_id
            """;

    /** A determination to store, with the fact type of each fact id (the link table records it). */
    public record NewDetermination(Determination determination, Map<String, String> factTypes) {
    }

    public void insert(Connection connection, List<NewDetermination> determinations) throws SQLException {
        if (determinations.isEmpty()) {
            return;
        }
        Columns d = new Columns(11);
        Columns c = new Columns(5);
        Columns s = new Columns(7);
        Columns f = new Columns(5);
        for (NewDetermination entry : determinations) {
            Determination x = entry.determination();
            d.add(x.id(), x.beneficiaryId(), x.period(), x.ruleset().id(), x.ruleset().sha256(), x.ruleset().version(),
                    x.evaluatedAt().toString(), x.factsAsOf().toString(), x.trigger(), x.rerunId(), x.result());
            for (int ci = 0; ci < x.checks().size(); ci++) {
                CheckOutcome check = x.checks().get(ci);
                c.add(x.id(), Integer.toString(ci), check.id(), check.title(), check.result());
                for (int si = 0; si < check.subchecks().size(); si++) {
                    SubcheckOutcome subcheck = check.subchecks().get(si);
                    s.add(x.id(), Integer.toString(ci), Integer.toString(si), subcheck.id(), subcheck.title(), subcheck.result(), subcheck.detail());
                    for (String factId : subcheck.factIds()) {
                        f.add(x.id(), Integer.toString(ci), Integer.toString(si), factId, entry.factTypes().get(factId));
                    }
                }
            }
        }
        d.execute(connection, INSERT_DETERMINATIONS);
        c.execute(connection, INSERT_CHECKS);
        s.execute(connection, INSERT_SUBCHECKS);
        f.execute(connection, INSERT_SUBCHECK_FACTS);
    }

    public List<Determination> byIds(Connection connection, List<String> ids) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(BY_IDS)) {
            statement.setArray(1, connection.createArrayOf("text", ids.toArray()));
            return withParts(connection, heads(statement));
        }
    }

    public List<Determination> history(Connection connection, String beneficiaryId, String period, String afterId, int limit) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(HISTORY)) {
            statement.setString(1, beneficiaryId);
            statement.setString(2, period);
            statement.setString(3, period);
            statement.setString(4, afterId);
            statement.setString(5, afterId);
            statement.setInt(6, limit);
            return withParts(connection, heads(statement));
        }
    }

    private static List<Determination> heads(PreparedStatement statement) throws SQLException {
        List<Determination> heads = new ArrayList<>();
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                heads.add(new Determination(rs.getString(1), rs.getString(2), rs.getString(3),
                        new RulesetRef(rs.getString(4), rs.getString(5), rs.getString(6)),
                        org.eligo.support.Timestamps.read(rs, 7), org.eligo.support.Timestamps.read(rs, 8), rs.getString(9), rs.getString(10), rs.getString(11), List.of(), null));
            }
        }
        return heads;
    }

    /** Fills in checks, subchecks and fact ids, keeping the order of {@code heads}. */
    private static List<Determination> withParts(Connection connection, List<Determination> heads) throws SQLException {
        if (heads.isEmpty()) {
            return heads;
        }
        Object ids = connection.createArrayOf("text", heads.stream().map(Determination::id).toArray());
        Map<String, List<Object[]>> checks = new LinkedHashMap<>();
        try (PreparedStatement statement = connection.prepareStatement(CHECKS)) {
            statement.setObject(1, ids);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    checks.computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
                            .add(new Object[] {rs.getString(3), rs.getString(4), rs.getString(5)});
                }
            }
        }
        Map<String, List<Object[]>> subchecks = new LinkedHashMap<>();
        try (PreparedStatement statement = connection.prepareStatement(SUBCHECKS)) {
            statement.setObject(1, ids);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    subchecks.computeIfAbsent(rs.getString(1) + "/" + rs.getInt(2), k -> new ArrayList<>())
                            .add(new Object[] {rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7)});
                }
            }
        }
        Map<String, List<String>> facts = new LinkedHashMap<>();
        try (PreparedStatement statement = connection.prepareStatement(SUBCHECK_FACTS)) {
            statement.setObject(1, ids);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    facts.computeIfAbsent(rs.getString(1) + "/" + rs.getInt(2) + "/" + rs.getInt(3), k -> new ArrayList<>()).add(rs.getString(4));
                }
            }
        }
        List<Determination> complete = new ArrayList<>(heads.size());
        for (Determination head : heads) {
            List<CheckOutcome> checkOutcomes = new ArrayList<>();
            List<Object[]> checkRows = checks.getOrDefault(head.id(), List.of());
            for (int ci = 0; ci < checkRows.size(); ci++) {
                Object[] row = checkRows.get(ci);
                List<SubcheckOutcome> subcheckOutcomes = new ArrayList<>();
                List<Object[]> subcheckRows = subchecks.getOrDefault(head.id() + "/" + ci, List.of());
                for (int si = 0; si < subcheckRows.size(); si++) {
                    Object[] sub = subcheckRows.get(si);
                    subcheckOutcomes.add(new SubcheckOutcome((String) sub[0], (String) sub[1], (String) sub[2],
                            facts.getOrDefault(head.id() + "/" + ci + "/" + si, List.of()), (String) sub[3]));
                }
                checkOutcomes.add(new CheckOutcome((String) row[0], (String) row[1], (String) row[2], subcheckOutcomes));
            }
            complete.add(new Determination(head.id(), head.beneficiaryId(), head.period(), head.ruleset(), head.evaluatedAt(),
                    head.factsAsOf(), head.trigger(), head.rerunId(), head.result(), checkOutcomes, null));
        }
        return complete;
    }


    /** Column arrays for one unnest insert. */
    private static final class Columns {
        private final List<List<String>> columns = new ArrayList<>();

        Columns(int width) {
            for (int i = 0; i < width; i++) {
                columns.add(new ArrayList<>());
            }
        }

        void add(String... values) {
            for (int i = 0; i < values.length; i++) {
                columns.get(i).add(values[i]);
            }
        }

        void execute(Connection connection, String sql) throws SQLException {
            if (columns.get(0).isEmpty()) {
                return;
            }
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                for (int i = 0; i < columns.size(); i++) {
                    statement.setArray(i + 1, connection.createArrayOf("text", columns.get(i).toArray()));
                }
                statement.executeUpdate();
            }
        }
    }
}
