package org.eligo.facts;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.support.Db;

/** Reads facts: one by id, a message's, and a beneficiary's as of an instant; one statement each, whatever the types. */
@ApplicationScoped
public class FactReader {

    private final Db db;
    private final FactTypes types;

    public FactReader(Db db, FactTypes types) {
        this.db = db;
        this.types = types;
    }

    public Optional<Fact> find(String factId) {
        return db.read(connection -> query(connection, FactSql.BY_ID, factId).stream().findFirst());
    }

    /** A beneficiary's facts at an instant. */
    public record AsOf(Instant asOf, List<Fact> facts) {
    }

    /**
     * A beneficiary's facts at {@code asOf} (null: the database's now, the clock record timestamps
     * come from): those active then (created at or before it and not revoked at it), or with
     * {@code includeRevoked} every fact created at or before it. Ordered by type name, key, id.
     */
    public AsOf forBeneficiary(String beneficiaryId, Instant asOf, boolean includeRevoked) {
        return db.read(connection -> {
            Instant at = asOf != null ? asOf : BeneficiaryLocks.now(connection);
            List<Fact> facts = includeRevoked
                    ? query(connection, FactSql.CREATED_BY, beneficiaryId, at)
                    : query(connection, FactSql.ACTIVE_AT, beneficiaryId, at, at);
            return new AsOf(at, facts);
        });
    }

    /** The facts of several beneficiaries active at {@code asOf}, by beneficiary, in the caller's transaction. */
    public Map<String, List<Fact>> activeFor(Connection connection, Collection<String> beneficiaryIds, Instant asOf) throws SQLException {
        Map<String, List<Fact>> byBeneficiary = new HashMap<>();
        if (beneficiaryIds.isEmpty()) {
            return byBeneficiary;
        }
        Object ids = connection.createArrayOf("text", beneficiaryIds.toArray());
        for (Fact fact : query(connection, FactSql.ACTIVE_AT_FOR_MANY, ids, asOf, asOf)) {
            byBeneficiary.computeIfAbsent(fact.beneficiaryId(), b -> new ArrayList<>()).add(fact);
        }
        return byBeneficiary;
    }

    /** Every fact of these beneficiaries, revoked or not, oldest first, in the caller's transaction. */
    public List<Fact> allFor(Connection connection, Collection<String> beneficiaryIds) throws SQLException {
        return query(connection, FactSql.ALL_FOR_MANY, connection.createArrayOf("text", beneficiaryIds.toArray()));
    }

    /** The facts with these ids, whatever their type, in the caller's transaction. */
    public List<Fact> byIds(Connection connection, Collection<String> factIds) throws SQLException {
        if (factIds.isEmpty()) {
            return new ArrayList<>();
        }
        return query(connection, FactSql.BY_IDS, connection.createArrayOf("text", factIds.toArray()));
    }

    /** Active and revoked facts, of every type. */
    public record Counts(long active, long revoked) {
    }

    static final String COUNTS = "SELECT count(*) FILTER (WHERE revoked_at IS NULL), count(*) FILTER (WHERE revoked_at IS NOT NULL) FROM fact";

    /** The counts, in the caller's transaction. */
    public Counts counts(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(COUNTS); ResultSet rs = statement.executeQuery()) {
            rs.next();
            return new Counts(rs.getLong(1), rs.getLong(2));
        }
    }

    private List<Fact> query(Connection connection, String statementText, Object... parameters) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(statementText)) {
            for (int i = 0; i < parameters.length; i++) {
                Object parameter = parameters[i];
                statement.setObject(i + 1, parameter instanceof Instant instant ? instant.atOffset(ZoneOffset.UTC) : parameter);
            }
            List<Fact> facts = new ArrayList<>();
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    facts.add(FactRows.read(types, rs));
                }
            }
            return facts;
        }
    }
}
