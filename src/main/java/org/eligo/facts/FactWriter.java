package org.eligo.facts;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.support.Ids;

/**
 * Stores new facts and applies supersession, inside the caller's transaction.
 *
 * <p>The rule (contract, "Facts"): for one key the fact from the later-received message — the greater
 * message id — is active; every other is revoked, with {@code revoked_by} naming the active fact. The
 * order in which messages are processed does not matter: a message processed after a newer one for
 * the same key yields a fact that is revoked from birth.
 *
 * <p>Why two writers cannot leave two active facts for a key, or lose one: every write first takes
 * the transaction-scoped advisory locks of all its beneficiaries ({@code eligo_lock_beneficiaries},
 * in sorted order, so no deadlock). A second transaction touching the same beneficiary waits until
 * the first commits, and then, in READ COMMITTED, its next statements see the first one's facts, so
 * it compares message ids against the real current active fact. The partial unique index on the
 * key {@code WHERE revoked_at IS NULL} is the database's own guarantee behind that reasoning: a bug
 * here would fail the transaction, never store two active facts. {@code UNIQUE (message_id)} makes
 * processing a message twice unable to store a second fact.
 */
@ApplicationScoped
public class FactWriter {

    private final Ids ids;

    public FactWriter(Ids ids) {
        this.ids = ids;
    }

    /** What a write did. */
    public record Outcome(Instant at, Set<String> changedBeneficiaries, Map<String, String> factIdsByMessage) {
    }

    /**
     * Stores the facts derived from {@code facts} (messages without a fact yet) and revokes what they
     * supersede. Messages that already have their fact are skipped.
     */
    public Outcome write(Connection connection, List<NewFact> facts) throws SQLException {
        return write(connection, facts, null);
    }

    /**
     * As {@link #write(Connection, List)}, for a replay: the messages have facts already and get
     * another, linked to {@code replayId}. Supersession is the same rule; between two facts of one
     * message, the newer derivation wins.
     */
    public Outcome write(Connection connection, List<NewFact> facts, String replayId) throws SQLException {
        return write(connection, facts, replayId, Map.of());
    }

    /** As above, with the new facts' ids chosen by the caller (message id -> fact id), so it can refer to them first. */
    public Outcome write(Connection connection, List<NewFact> facts, String replayId, Map<String, String> presetIds) throws SQLException {
        Instant at = BeneficiaryLocks.lock(connection, facts.stream().map(NewFact::beneficiaryId).toList());
        Set<String> changed = new TreeSet<>();
        Map<String, String> factIds = new HashMap<>();
        Set<String> alreadyDerived = replayId == null ? existingFor(connection, facts) : Set.of();
        Map<List<Object>, List<NewFact>> byKey = new LinkedHashMap<>();
        for (NewFact fact : facts) {
            if (!alreadyDerived.contains(fact.messageId())) {
                byKey.computeIfAbsent(fact.key(), k -> new ArrayList<>()).add(fact);
            }
        }
        if (!byKey.isEmpty()) {
            Map<List<Object>, Active> active = activeFor(connection, byKey.keySet());
            List<String> revokeIds = new ArrayList<>();
            List<String> revokeBy = new ArrayList<>();
            List<NewFact> inserts = new ArrayList<>();
            List<String> insertIds = new ArrayList<>();
            List<String> insertRevokedBy = new ArrayList<>();
            for (Map.Entry<List<Object>, List<NewFact>> entry : byKey.entrySet()) {
                List<NewFact> group = new ArrayList<>(entry.getValue());
                group.sort(Comparator.comparing(NewFact::messageId));
                List<String> newIds = group.stream().map(f -> presetIds.containsKey(f.messageId()) ? presetIds.get(f.messageId()) : ids.next(Ids.FACT)).toList();
                NewFact newest = group.get(group.size() - 1);
                Active current = active.get(entry.getKey());
                String winner;
                if (current != null && current.messageId().compareTo(newest.messageId()) > 0) {
                    // A later-received message already decided this key: every new fact is revoked from birth.
                    // (Equal message ids, in a replay: the new derivation wins.)
                    winner = current.factId();
                } else {
                    winner = newIds.get(newIds.size() - 1);
                    if (current != null) {
                        revokeIds.add(current.factId());
                        revokeBy.add(winner);
                    }
                    changed.add(newest.beneficiaryId());
                }
                for (int i = 0; i < group.size(); i++) {
                    String id = newIds.get(i);
                    inserts.add(group.get(i));
                    insertIds.add(id);
                    insertRevokedBy.add(id.equals(winner) ? null : winner);
                    factIds.put(group.get(i).messageId(), id);
                }
            }
            revoke(connection, at, revokeIds, revokeBy);
            insert(connection, at, inserts, insertIds, insertRevokedBy, replayId);
        }
        markChanged(connection, changed, at);
        return new Outcome(at, changed, factIds);
    }

    /** The current active fact of a key. */
    private record Active(String factId, String messageId) {
    }

    private static Set<String> existingFor(Connection connection, List<NewFact> facts) throws SQLException {
        Set<String> existing = new HashSet<>();
        try (PreparedStatement statement = connection.prepareStatement(FactSql.EXISTING_FOR_MESSAGES)) {
            statement.setArray(1, connection.createArrayOf("text", facts.stream().map(NewFact::messageId).toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    existing.add(rs.getString(1));
                }
            }
        }
        return existing;
    }

    /** The active facts of these keys ([beneficiary, type, fact key]), one statement for every type. */
    private static Map<List<Object>, Active> activeFor(Connection connection, Set<List<Object>> keys) throws SQLException {
        String[][] columns = new String[3][keys.size()];
        int row = 0;
        for (List<Object> key : keys) {
            for (int c = 0; c < 3; c++) {
                columns[c][row] = (String) key.get(c);
            }
            row++;
        }
        Map<List<Object>, Active> active = new HashMap<>();
        try (PreparedStatement statement = connection.prepareStatement(FactSql.ACTIVE_FOR_KEYS)) {
            for (int c = 0; c < 3; c++) {
                statement.setArray(c + 1, connection.createArrayOf("text", columns[c]));
            }
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    active.put(List.of(rs.getString(3), rs.getString(4), rs.getString(5)), new Active(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return active;
    }

    /** Binds text[] of beneficiaries and the instant their active facts changed. */
    static final String MARK_CHANGED = """
            INSERT INTO beneficiary_facts_changed (beneficiary_id, changed_at)
            SELECT b, ? FROM unnest(?::text[]) AS b
            ON CONFLICT (beneficiary_id) DO UPDATE SET changed_at = greatest(beneficiary_facts_changed.changed_at, excluded.changed_at)
            """;

    /** Records that these beneficiaries' active facts changed at {@code at} (for reruns of scope 'changed'). */
    public void markChanged(Connection connection, Collection<String> beneficiaries, Instant at) throws SQLException {
        if (beneficiaries.isEmpty()) {
            return;
        }
        try (PreparedStatement statement = connection.prepareStatement(MARK_CHANGED)) {
            statement.setObject(1, at.atOffset(ZoneOffset.UTC));
            // Sorted: concurrent writers of disjoint sets never lock these rows in opposite orders.
            statement.setArray(2, connection.createArrayOf("text", beneficiaries.stream().sorted().toArray()));
            statement.executeUpdate();
        }
    }

    /** Revokes active facts (a replay's facts whose message now derives to another key), each by the fact named beside it. */
    public void revoke(Connection connection, Instant at, List<String> factIds, List<String> revokedBy) throws SQLException {
        if (factIds.isEmpty()) {
            return;
        }
        try (PreparedStatement statement = connection.prepareStatement(FactSql.REVOKE)) {
            statement.setObject(1, at.atOffset(ZoneOffset.UTC));
            statement.setArray(2, connection.createArrayOf("text", factIds.toArray()));
            statement.setArray(3, connection.createArrayOf("text", revokedBy.toArray()));
            int revoked = statement.executeUpdate();
            if (revoked != factIds.size()) {
                // Cannot happen while the beneficiary lock is held; failing keeps the data consistent if it does.
                throw new IllegalStateException("expected to revoke " + factIds.size() + " facts but revoked " + revoked);
            }
        }
    }

    private static void insert(Connection connection, Instant at, List<NewFact> facts, List<String> factIds,
                               List<String> revokedBy, String replayId) throws SQLException {
        int n = facts.size();
        String[] beneficiaries = new String[n];
        String[] messages = new String[n];
        String[] types = new String[n];
        String[] keys = new String[n];
        String[] withdrawn = new String[n];
        String[] data = new String[n];
        for (int i = 0; i < n; i++) {
            NewFact fact = facts.get(i);
            beneficiaries[i] = fact.beneficiaryId();
            messages[i] = fact.messageId();
            types[i] = fact.type().name();
            keys[i] = fact.factKey();
            withdrawn[i] = Boolean.toString(fact.withdrawn());
            data[i] = FactData.stored(fact.type(), fact.values()).toString();
        }
        try (PreparedStatement statement = connection.prepareStatement(FactSql.INSERT)) {
            OffsetDateTime timestamp = at.atOffset(ZoneOffset.UTC);
            statement.setObject(1, timestamp);
            statement.setObject(2, timestamp);
            statement.setString(3, replayId);
            statement.setArray(4, connection.createArrayOf("text", factIds.toArray()));
            statement.setArray(5, connection.createArrayOf("text", beneficiaries));
            statement.setArray(6, connection.createArrayOf("text", messages));
            statement.setArray(7, connection.createArrayOf("text", revokedBy.toArray()));
            statement.setArray(8, connection.createArrayOf("text", types));
            statement.setArray(9, connection.createArrayOf("text", keys));
            statement.setArray(10, connection.createArrayOf("text", withdrawn));
            statement.setArray(11, connection.createArrayOf("text", data));
            statement.executeUpdate();
        }
    }
}
