package org.eligo.determinations;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.eligo.determinations.DeterminationView.CheckOutcome;
import org.eligo.determinations.DeterminationView.RulesetRef;
import org.eligo.determinations.DeterminationView.SubcheckOutcome;
import org.eligo.support.Db;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Parameters;

/**
 * The owner of {@code determination} and {@code determination_fact}: the only place their SQL lives
 * (V4__rulesets_and_determinations.sql; R__40_determinations.sql for their guards and chaining).
 * Every method joins the caller's transaction.
 *
 * <p>A determination is one row ({@link Determination}), its checks one JSON document in the format
 * written and read here; the database derives each check's and subcheck's outcome from it. The
 * distinct facts it read are one {@code determination_fact} row each, written here and read only by
 * the database (its guards and the hash chain's canonical form), so they have no entity. A set of
 * determinations is written with one statement per table (a JSON array of rows, and unnest of column
 * arrays for the fact links); one is read
 * back by id, a history page with a Panache query.
 *
 * <p>Set-wise because one INSERT per determination would pay a round trip, a statement and the
 * tables' statement triggers per row. One row per determination rather than 13 rows in four tables
 * (a row per check, subcheck and fact link, as before): PostgreSQL's CPU per rerun determination went
 * from 0.36-0.37 ms to 0.26-0.27 ms, rerun rate and GET determination?expand=facts p50 no worse (bench/run.sh,
 * 10,000 messages, 20,000 determinations; bench/README.md).
 */
@ApplicationScoped
public class Determinations implements PanacheRepositoryBase<Determination, String> {

    /** Only for the checks document: plain keys and trees, whatever the API's serialisation is configured to do. */
    private static final ObjectMapper DOCUMENTS = new ObjectMapper();

    /**
     * Set-wise: one statement for a batch of determinations instead of one per row (see above). The
     * batch is one JSON array of rows, each with its checks document nested as JSON, rather than a
     * text array per column: the driver escapes every element of a text array (a checks document is
     * mostly quotes) into a growing buffer, which was a quarter of the service's allocation in a
     * rerun (JFR, bench/run.sh, 20,000 messages). PostgreSQL reads the checks as jsonb either way.
     */
    static final String INSERT_DETERMINATIONS = """
            INSERT INTO determination (id, beneficiary_id, period, ruleset_id, ruleset_sha256, ruleset_version,
                                       evaluated_at, facts_as_of, trigger, rerun_id, result, checks)
            SELECT d.id, d.beneficiary_id, d.period, d.ruleset_id, d.ruleset_sha256, d.ruleset_version,
                   d.evaluated_at, d.facts_as_of, d.trigger, d.rerun_id, d.result, d.checks
              FROM json_to_recordset(?::json) AS d(id text, beneficiary_id text, period text, ruleset_id text, ruleset_sha256 text,
                   ruleset_version text, evaluated_at timestamptz, facts_as_of timestamptz, trigger text, rerun_id text, result text, checks jsonb)
            """;

    /**
     * Set-wise, as {@link #INSERT_DETERMINATIONS}: the batch's fact links in one statement (and one
     * run of their statement guard), from a JSON array of {@code [determination id, beneficiary,
     * [fact ids]]}: each determination's ids are sent once, not once per fact.
     */
    static final String INSERT_FACTS = """
            INSERT INTO determination_fact (determination_id, beneficiary_id, fact_id)
            SELECT l ->> 0, l ->> 1, f.fact_id
              FROM json_array_elements(?::json) AS l
                   CROSS JOIN LATERAL json_array_elements_text(l -> 2) AS f(fact_id)
            """;

    /**
     * Each beneficiary's latest determination for a period and ruleset (ids are ULIDs: id order is
     * creation order), for a whole chunk of beneficiaries in one statement: DISTINCT ON, which JPQL
     * cannot express, over index determination_history_period. Binds text[], period, ruleset.
     */
    static final String LATEST = """
            SELECT DISTINCT ON (beneficiary_id) beneficiary_id, id, result FROM determination
             WHERE beneficiary_id = ANY(?::text[]) AND period = ? AND ruleset_id = ?
             ORDER BY beneficiary_id, id DESC
            """;

    /** A page of a beneficiary's history, newest first: index determination_history (or _period). Built only from these constants. */
    static final String HISTORY = "beneficiaryId = :beneficiary";
    static final String HISTORY_IN_PERIOD = " and period = :period";
    static final String HISTORY_BEFORE = " and id < :before";
    static final String HISTORY_ORDER = " order by id desc";

    /** A beneficiary's latest determination for a period and ruleset. */
    public record Latest(String id, String result) {
    }

    private final Db db;
    private final org.eligo.ledger.Ledger ledger;

    public Determinations(Db db, org.eligo.ledger.Ledger ledger) {
        this.db = db;
        this.ledger = ledger;
    }

    /**
     * About how many determinations are stored (GET /v1/stats), without reading them: the planner's
     * estimate summed over the partitions ({@link Db#estimatedRows}). A count would read every
     * determination ever made, which only grows.
     */
    public long estimatedCount() {
        return db.estimatedRows("determination");
    }

    /** Stores {@code determinations} (each with its id) and their fact links. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void insert(List<DeterminationView> determinations) {
        if (determinations.isEmpty()) {
            return;
        }
        StringWriter rows = new StringWriter(1024 * determinations.size());
        StringWriter links = new StringWriter(256 * determinations.size());
        boolean linked = false;
        try (JsonGenerator json = DOCUMENTS.getFactory().createGenerator(rows);
             JsonGenerator link = DOCUMENTS.getFactory().createGenerator(links)) {
            link.writeStartArray();
            json.writeStartArray();
            for (DeterminationView x : determinations) {
                json.writeStartObject();
                json.writeStringField("id", x.id());
                json.writeStringField("beneficiary_id", x.beneficiaryId());
                json.writeStringField("period", x.period());
                json.writeStringField("ruleset_id", x.ruleset().id());
                json.writeStringField("ruleset_sha256", x.ruleset().sha256());
                json.writeStringField("ruleset_version", x.ruleset().version());
                json.writeStringField("evaluated_at", x.evaluatedAt().toString());
                json.writeStringField("facts_as_of", x.factsAsOf().toString());
                json.writeStringField("trigger", x.trigger());
                json.writeStringField("rerun_id", x.rerunId());
                json.writeStringField("result", x.result());
                // The checks document is stored as its canonical text (JSON like any other: jsonb keeps no key order or spacing),
                // written once for the row and for the ledger's hash.
                byte[] checks = org.eligo.ledger.Canonical.write(out -> writeCanonicalChecks(out, x.checks()));
                json.writeFieldName("checks");
                json.writeRawValue(new String(checks, java.nio.charset.StandardCharsets.UTF_8));
                json.writeEndObject();
                Set<String> factIds = factIds(x);
                link.writeStartArray();
                link.writeString(x.id());
                link.writeString(x.beneficiaryId());
                link.writeStartArray();
                for (String factId : factIds) {
                    link.writeString(factId);
                    linked = true;
                }
                link.writeEndArray();
                link.writeEndArray();
                ledger.record(LEDGER_TABLE + "/" + x.id(), canonical(x.id(), x.beneficiaryId(), x.period(), x.ruleset().id(), x.ruleset().sha256(),
                        x.ruleset().version(), x.evaluatedAt(), x.factsAsOf(), x.trigger(), x.rerunId(), x.result(),
                        new org.eligo.ledger.Canonical.Raw(out -> out.append(checks)),
                        factIds));
            }
            json.writeEndArray();
            link.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        boolean hasLinks = linked;
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(INSERT_DETERMINATIONS)) {
                statement.setString(1, rows.toString());
                statement.executeUpdate();
            }
            if (hasLinks) {
                try (PreparedStatement statement = connection.prepareStatement(INSERT_FACTS)) {
                    statement.setString(1, links.toString());
                    statement.executeUpdate();
                }
            }
            return null;
        });
    }

    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<DeterminationView> byId(String id) {
        return findByIdOptional(id).map(Determinations::view);
    }

    /** Up to {@code limit} of a beneficiary's determinations (of {@code period}, when given) older than {@code beforeId} (when given), newest first. */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<DeterminationView> history(String beneficiaryId, String period, String beforeId, int limit) {
        Parameters parameters = Parameters.with("beneficiary", beneficiaryId);
        String query = HISTORY;
        if (period != null) {
            query += HISTORY_IN_PERIOD;
            parameters.and("period", period);
        }
        if (beforeId != null) {
            query += HISTORY_BEFORE;
            parameters.and("before", beforeId);
        }
        return find(query + HISTORY_ORDER, parameters).page(0, limit).stream().map(Determinations::view).toList();
    }

    /** Each beneficiary's latest determination for {@code period} and {@code rulesetId}, where there is one. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Map<String, Latest> latest(Collection<String> beneficiaries, String period, String rulesetId) {
        return db.inCurrent(connection -> {
            Map<String, Latest> latest = new HashMap<>();
            try (PreparedStatement statement = connection.prepareStatement(LATEST)) {
                statement.setArray(1, connection.createArrayOf("text", beneficiaries.toArray()));
                statement.setString(2, period);
                statement.setString(3, rulesetId);
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        latest.put(rs.getString(1), new Latest(rs.getString(2), rs.getString(3)));
                    }
                }
            }
            return latest;
        });
    }

    /** The distinct facts a determination read, in id order: its {@code determination_fact} rows. */
    static Set<String> factIds(DeterminationView determination) {
        Set<String> ids = new TreeSet<>();
        determination.checks().forEach(check -> check.subchecks().forEach(subcheck -> ids.addAll(subcheck.factIds())));
        return ids;
    }

    private static DeterminationView view(Determination row) {
        return new DeterminationView(row.id, row.beneficiaryId, row.period, new RulesetRef(row.rulesetId, row.rulesetVersion, row.rulesetSha256),
                row.evaluatedAt, row.factsAsOf, row.trigger.value(), row.rerunId, row.result, checks(row.checks), null);
    }

    // ---------------------------------------------------------------------------------------------
    // The checks document. Its keys are fixed here, not by the API's serialisation: stored documents
    // are hashed into the audit trail and must read back the same for as long as they are kept.

    /** A determination's ledger leaves are labelled determination/&lt;id&gt;. */
    public static final String LEDGER_TABLE = "determination";

    /**
     * A determination's canonical content (README, "The ledger"): its row, its checks document as
     * stored, and the ids of the facts it read (its determination_fact links), sorted.
     */
    public static org.eligo.ledger.Canonical canonical(String id, String beneficiaryId, String period, String rulesetId, String rulesetSha256, String rulesetVersion,
                                   java.time.Instant evaluatedAt, java.time.Instant factsAsOf, String trigger, String rerunId, String result,
                                   String checks, java.util.Collection<String> factIds) {
        return canonical(id, beneficiaryId, period, rulesetId, rulesetSha256, rulesetVersion, evaluatedAt, factsAsOf, trigger, rerunId, result,
                (Object) checks, factIds);
    }

    /** The same, with the checks already in canonical form (the write path: {@link #writeCanonicalChecks}). */
    public static org.eligo.ledger.Canonical canonical(String id, String beneficiaryId, String period, String rulesetId, String rulesetSha256, String rulesetVersion,
                                   java.time.Instant evaluatedAt, java.time.Instant factsAsOf, String trigger, String rerunId, String result,
                                   org.eligo.ledger.Canonical.Raw checks, java.util.Collection<String> factIds) {
        return canonical(id, beneficiaryId, period, rulesetId, rulesetSha256, rulesetVersion, evaluatedAt, factsAsOf, trigger, rerunId, result,
                (Object) checks, factIds);
    }

    private static org.eligo.ledger.Canonical canonical(String id, String beneficiaryId, String period, String rulesetId, String rulesetSha256, String rulesetVersion,
                                    java.time.Instant evaluatedAt, java.time.Instant factsAsOf, String trigger, String rerunId, String result,
                                    Object checks, java.util.Collection<String> factIds) {
        org.eligo.ledger.Canonical content = org.eligo.ledger.Canonical.object().put("id", id).put("beneficiary_id", beneficiaryId)
                .put("period", period).put("ruleset_id", rulesetId).put("ruleset_sha256", rulesetSha256).put("ruleset_version", rulesetVersion)
                .put("evaluated_at", evaluatedAt).put("facts_as_of", factsAsOf).put("trigger", trigger).put("rerun_id", rerunId)
                .put("result", result).put("fact_ids", List.copyOf(new TreeSet<>(factIds)));
        return checks instanceof String text ? content.putJson("checks", text) : content.put("checks", checks);
    }

    /**
     * The checks document in canonical form, written straight from the outcomes: exactly what
     * {@code Canonical.putJson} makes of the stored document (keys sorted: a check's id, result,
     * subchecks, title; a subcheck's detail, fact_ids, id, result, title; a null detail kept), without
     * writing it as text and reading it back into a tree for every determination of a rerun. The
     * same bytes are the text stored (insert). LedgerTest checks it against the stored document.
     */
    private static void writeCanonicalChecks(org.eligo.ledger.Canonical.Out out, List<CheckOutcome> checks) {
        out.append('[');
        for (int c = 0; c < checks.size(); c++) {
            CheckOutcome check = checks.get(c);
            out.append(c == 0 ? "{\"id\":" : ",{\"id\":");
            text(out, check.id());
            out.append(",\"result\":");
            text(out, check.result());
            out.append(",\"subchecks\":[");
            for (int i = 0; i < check.subchecks().size(); i++) {
                SubcheckOutcome subcheck = check.subchecks().get(i);
                out.append(i == 0 ? "{\"detail\":" : ",{\"detail\":");
                text(out, subcheck.detail());
                out.append(",\"fact_ids\":[");
                for (int f = 0; f < subcheck.factIds().size(); f++) {
                    if (f > 0) {
                        out.append(',');
                    }
                    text(out, subcheck.factIds().get(f));
                }
                out.append("],\"id\":");
                text(out, subcheck.id());
                out.append(",\"result\":");
                text(out, subcheck.result());
                out.append(",\"title\":");
                text(out, subcheck.title());
                out.append('}');
            }
            out.append("],\"title\":");
            text(out, check.title());
            out.append('}');
        }
        out.append(']');
    }

    /** A string of the checks document, or null, as the canonical form writes nested values. */
    private static void text(org.eligo.ledger.Canonical.Out out, String value) {
        if (value == null) {
            out.append("null");
        } else {
            out.string(value);
        }
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

    /**
     * Every stored determination in its ledger form, in id order, with the fact ids its links name
     * (one pass over each table, merged by determination id), streamed. In the caller's transaction.
     */
    static final String ALL_IN_LEDGER_FORM = """
            SELECT d.id, d.beneficiary_id, d.period, d.ruleset_id, d.ruleset_sha256, d.ruleset_version, d.evaluated_at, d.facts_as_of,
                   d.trigger, d.rerun_id, d.result, d.checks::text, d.ledger_tx::text,
                   (SELECT array_agg(l.fact_id) FROM determination_fact l WHERE l.determination_id = d.id AND l.beneficiary_id = d.beneficiary_id)
              FROM determination d ORDER BY d.id COLLATE "C"
            """;

    @Transactional(Transactional.TxType.MANDATORY)
    public void forEachRecorded(org.eligo.ledger.Ledger.Sink<org.eligo.ledger.Recorded> sink) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(ALL_IN_LEDGER_FORM)) {
                statement.setFetchSize(2000);
                // The rows' canonical forms (their checks parsed) are written on other threads while
                // this one reads on: org.eligo.ledger.RecordedStream says why.
                try (java.sql.ResultSet rs = statement.executeQuery();
                     org.eligo.ledger.RecordedStream<StoredRow> stream = new org.eligo.ledger.RecordedStream<>(Determinations::recorded, sink)) {
                    boolean going = true;
                    while (going && rs.next()) {
                        going = stream.add(storedRow(rs));
                    }
                    if (going) {
                        stream.finish();
                    }
                }
            }
            return null;
        });
    }

    /** One determination in its ledger form (for a receipt). Binds the id. */
    static final String ONE_IN_LEDGER_FORM = ALL_IN_LEDGER_FORM.replace("ORDER BY d.id COLLATE \"C\"", "WHERE d.id = ?");

    /** Some determinations in their ledger form. Binds text[]. */
    static final String SOME_IN_LEDGER_FORM = ALL_IN_LEDGER_FORM.replace("ORDER BY d.id COLLATE \"C\"", "WHERE d.id = ANY(?::text[]) ORDER BY d.id COLLATE \"C\"");

    /** The stored determinations among {@code ids} in their ledger form (for verifying what was sealed lately). */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<org.eligo.ledger.Recorded> recorded(java.util.Collection<String> ids) {
        return db.inCurrent(connection -> {
            List<org.eligo.ledger.Recorded> found = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(SOME_IN_LEDGER_FORM)) {
                statement.setArray(1, connection.createArrayOf("text", ids.toArray()));
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        found.add(recordedRow(rs));
                    }
                }
            }
            return found;
        });
    }

    /** One determination in its ledger form (for a receipt); empty when it is not stored. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<org.eligo.ledger.Recorded> recorded(String id) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(ONE_IN_LEDGER_FORM)) {
                statement.setString(1, id);
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    return rs.next() ? Optional.of(recordedRow(rs)) : Optional.<org.eligo.ledger.Recorded>empty();
                }
            }
        });
    }

    /** A row of {@link #ALL_IN_LEDGER_FORM} as the ledger sees it. */
    private static org.eligo.ledger.Recorded recordedRow(java.sql.ResultSet rs) throws java.sql.SQLException {
        return recorded(storedRow(rs));
    }

    /** A row of {@link #ALL_IN_LEDGER_FORM} as read, before its canonical form is written. */
    record StoredRow(String id, String beneficiaryId, String period, String rulesetId, String rulesetSha256, String rulesetVersion,
                     java.time.Instant evaluatedAt, java.time.Instant factsAsOf, String trigger, String rerunId, String result, String checks,
                     String ledgerTx, List<String> factIds) {
    }

    private static StoredRow storedRow(java.sql.ResultSet rs) throws java.sql.SQLException {
        java.sql.Array links = rs.getArray(14);
        List<String> factIds = links == null ? List.of() : List.of((String[]) links.getArray());
        return new StoredRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
                org.eligo.support.Timestamps.read(rs, 7), org.eligo.support.Timestamps.read(rs, 8), rs.getString(9), rs.getString(10),
                rs.getString(11), rs.getString(12), rs.getString(13), factIds);
    }

    private static org.eligo.ledger.Recorded recorded(StoredRow row) {
        return new org.eligo.ledger.Recorded(LEDGER_TABLE + "/" + row.id(), canonical(row.id(), row.beneficiaryId(), row.period(), row.rulesetId(),
                row.rulesetSha256(), row.rulesetVersion(), row.evaluatedAt(), row.factsAsOf(), row.trigger(), row.rerunId(), row.result(),
                row.checks(), row.factIds()), row.ledgerTx());
    }
}
