package org.eligo.determinations;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.eligo.determinations.Determination.CheckOutcome;
import org.eligo.determinations.Determination.RulesetRef;
import org.eligo.determinations.Determination.SubcheckOutcome;
import org.eligo.support.Timestamps;

/**
 * The owner of {@code determination} and {@code determination_fact}: the only place their SQL lives
 * (V4__rulesets_and_determinations.sql; R__40_determinations.sql for their guards and chaining).
 *
 * <p>A determination is one row, its checks one JSON document in the format written and read here;
 * the database derives each check's and subcheck's outcome from it. The distinct facts it read are
 * one {@code determination_fact} row each. A set of determinations is written with one statement per
 * table (unnest of column arrays), in the caller's transaction; read back with one statement.
 *
 * <p>Set-wise because one INSERT per determination would pay a round trip, a statement and the
 * tables' statement triggers per row. One row per determination rather than 13 rows in four tables
 * (a row per check, subcheck and fact link, as before): PostgreSQL's CPU per rerun determination went
 * from 0.36-0.37 ms to 0.26-0.27 ms, rerun rate and GET determination?expand=facts p50 no worse (bench/run.sh,
 * 10,000 messages, 20,000 determinations; bench/README.md).
 */
@ApplicationScoped
public class DeterminationStore {

    /** Only for the checks document: plain keys and trees, whatever the API's serialisation is configured to do. */
    private static final ObjectMapper DOCUMENTS = new ObjectMapper();

    static final String INSERT_DETERMINATIONS = """
            INSERT INTO determination (id, beneficiary_id, period, ruleset_id, ruleset_sha256, ruleset_version,
                                       evaluated_at, facts_as_of, trigger, rerun_id, result, checks)
            SELECT d.id, d.beneficiary_id, d.period, d.ruleset_id, d.ruleset_sha256, d.ruleset_version,
                   d.evaluated_at::timestamptz, d.facts_as_of::timestamptz, d.trigger, d.rerun_id, d.result, d.checks::jsonb
              FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                   AS d(id, beneficiary_id, period, ruleset_id, ruleset_sha256, ruleset_version, evaluated_at, facts_as_of, trigger, rerun_id, result, checks)
            """;

    static final String INSERT_FACTS = """
            INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id)
            SELECT f.determination_id, f.beneficiary_id, f.fact_id
              FROM unnest(?::text[], ?::text[], ?::text[]) AS f(determination_id, beneficiary_id, fact_id)
            """;

    static final String SELECT_COLUMNS = """
            SELECT id, beneficiary_id, period, ruleset_id, ruleset_version, ruleset_sha256, evaluated_at, facts_as_of, trigger, rerun_id, result,
                   checks::text
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

    /** A determination to store. */
    public record NewDetermination(Determination determination) {
    }

    static final String COUNT = "SELECT count(*) FROM determination";

    /** How many determinations are stored, in the caller's transaction (GET /v1/stats). */
    public long count(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(COUNT); java.sql.ResultSet rs = statement.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public void insert(Connection connection, List<NewDetermination> determinations) throws SQLException {
        if (determinations.isEmpty()) {
            return;
        }
        Columns d = new Columns(12);
        Columns f = new Columns(3);
        for (NewDetermination entry : determinations) {
            Determination x = entry.determination();
            d.add(x.id(), x.beneficiaryId(), x.period(), x.ruleset().id(), x.ruleset().sha256(), x.ruleset().version(),
                    x.evaluatedAt().toString(), x.factsAsOf().toString(), x.trigger(), x.rerunId(), x.result(), document(x.checks()));
            for (String factId : factIds(x)) {
                f.add(x.id(), x.beneficiaryId(), factId);
            }
        }
        d.execute(connection, INSERT_DETERMINATIONS);
        f.execute(connection, INSERT_FACTS);
    }

    public List<Determination> byIds(Connection connection, List<String> ids) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(BY_IDS)) {
            statement.setArray(1, connection.createArrayOf("text", ids.toArray()));
            return read(statement);
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
            return read(statement);
        }
    }

    /** The distinct facts a determination read, in id order: its {@code determination_fact} rows. */
    static Set<String> factIds(Determination determination) {
        Set<String> ids = new TreeSet<>();
        determination.checks().forEach(check -> check.subchecks().forEach(subcheck -> ids.addAll(subcheck.factIds())));
        return ids;
    }

    private static List<Determination> read(PreparedStatement statement) throws SQLException {
        List<Determination> found = new ArrayList<>();
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                found.add(new Determination(rs.getString(1), rs.getString(2), rs.getString(3),
                        new RulesetRef(rs.getString(4), rs.getString(5), rs.getString(6)),
                        Timestamps.read(rs, 7), Timestamps.read(rs, 8), rs.getString(9), rs.getString(10), rs.getString(11),
                        checks(rs.getString(12)), null));
            }
        }
        return found;
    }

    // ---------------------------------------------------------------------------------------------
    // The checks document. Its keys are fixed here, not by the API's serialisation: stored documents
    // are hashed into the audit trail and must read back the same for as long as they are kept.

    static String document(List<CheckOutcome> checks) {
        StringWriter text = new StringWriter(256 * (1 + checks.size()));
        try (JsonGenerator json = DOCUMENTS.getFactory().createGenerator(text)) {
            json.writeStartArray();
            for (CheckOutcome check : checks) {
                json.writeStartObject();
                json.writeStringField("id", check.id());
                json.writeStringField("title", check.title());
                json.writeStringField("result", check.result());
                json.writeArrayFieldStart("subchecks");
                for (SubcheckOutcome subcheck : check.subchecks()) {
                    json.writeStartObject();
                    json.writeStringField("id", subcheck.id());
                    json.writeStringField("title", subcheck.title());
                    json.writeStringField("result", subcheck.result());
                    json.writeArrayFieldStart("fact_ids");
                    for (String factId : subcheck.factIds()) {
                        json.writeString(factId);
                    }
                    json.writeEndArray();
                    json.writeStringField("detail", subcheck.detail());
                    json.writeEndObject();
                }
                json.writeEndArray();
                json.writeEndObject();
            }
            json.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    static List<CheckOutcome> checks(String document) {
        JsonNode tree;
        try {
            tree = DOCUMENTS.readTree(document);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<CheckOutcome> checks = new ArrayList<>(tree.size());
        for (JsonNode check : tree) {
            JsonNode subcheckNodes = check.path("subchecks");
            List<SubcheckOutcome> subchecks = new ArrayList<>(subcheckNodes.size());
            for (JsonNode subcheck : subcheckNodes) {
                JsonNode factNodes = subcheck.path("fact_ids");
                List<String> factIds = new ArrayList<>(factNodes.size());
                factNodes.forEach(factId -> factIds.add(factId.textValue()));
                subchecks.add(new SubcheckOutcome(text(subcheck, "id"), text(subcheck, "title"), text(subcheck, "result"), factIds,
                        text(subcheck, "detail")));
            }
            checks.add(new CheckOutcome(text(check, "id"), text(check, "title"), text(check, "result"), subchecks));
        }
        return checks;
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.textValue();
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
