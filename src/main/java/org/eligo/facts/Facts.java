package org.eligo.facts;

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
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eligo.ledger.Canonical;
import org.eligo.ledger.Ledger;
import org.eligo.support.Db;
import org.eligo.support.Ids;
import org.eligo.support.Timestamps;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;

/**
 * The owner of table {@code fact}: every statement on it is here, and so is the per-beneficiary
 * advisory lock that serialises its writers (lock class 17772, taken by
 * {@code eligo_lock_beneficiaries} and {@code eligo_try_lock_beneficiaries}, R__10_coordination.sql,
 * where the key is made; nothing else takes it). ({@code fact_type}, the declarations as applied, is
 * {@link FactTypeSchema}'s, written at migration.)
 *
 * <p>One table holds every fact type: a row's {@code type} names its declaration, {@code fact_key} is
 * its key within the beneficiary and type ({@link FactType#factKey}), and {@code data} its typed
 * fields as JSON (the typed view of each type, {@code fact_<type>}, shows them as columns to SQL
 * readers). One statement reads a beneficiary's facts of every type, however many types are declared.
 *
 * <p>Reads a request makes on its own (a fact by id, a beneficiary's facts as of an instant, a
 * message's facts, the counts) are Panache/JPQL. What writers and workers do is set-wise JDBC, as
 * named constants, run on the caller's transaction ({@link Db#inCurrent}): a batch is one statement
 * whatever its size, arrays are bound as one {@code text[]} parameter (where a JPQL {@code IN} list
 * is one parameter per element, and a new statement text for every size), and it reads what this
 * owner's own set-wise statements wrote and revoked earlier in the same transaction (entities
 * loaded earlier in it would be served from the persistence context as they were first read).
 *
 * <p>Supersession (contract, "Facts"): for one key the fact from the later-received message — the
 * greater message id — is active; every other is revoked, with {@code revoked_by} naming the active
 * fact. The order in which messages are processed does not matter: a message processed after a newer
 * one for the same key yields a fact that is revoked from birth.
 *
 * <p>Why two writers cannot leave two active facts for a key, or lose one: every write first takes
 * the transaction-scoped advisory locks of all its beneficiaries ({@link #lock}, in sorted order, so
 * no deadlock). A second transaction touching the same beneficiary waits until the first commits,
 * and then, in READ COMMITTED, its next statements see the first one's facts, so it compares message
 * ids against the real current active fact. The partial unique index on the key
 * {@code WHERE revoked_at IS NULL} ({@code fact_active}) is the database's own guarantee behind that
 * reasoning: a bug here would fail the transaction, never store two active facts.
 * {@code fact_one_per_message} makes processing a message twice unable to store a second fact.
 */
@ApplicationScoped
public class Facts implements PanacheRepositoryBase<Fact, String> {

    // --- The per-beneficiary lock ---

    /**
     * Waits for the locks (taken in sorted order, so never deadlocks with another caller) and returns
     * the clock read after: while they are held no fact of those beneficiaries is being written, so
     * it is an instant whose active facts are all committed and visible. Binds text[].
     */
    static final String LOCK = "SELECT eligo_lock_beneficiaries(?::text[])";

    /** Takes the locks that are free at once; returns the beneficiaries locked. Never waits. Binds text[]. */
    static final String TRY_LOCK = "SELECT eligo_try_lock_beneficiaries(?::text[])";

    /** The database's clock, the one fact timestamps come from. */
    static final String CLOCK = "SELECT clock_timestamp()";

    // --- Reads on the caller's transaction ---

    /** Columns of a JDBC SELECT, read by {@link #read(ResultSet)}. */
    static final String COLUMNS = "id, type, beneficiary_id, message_id, created_at, revoked_at, revoked_by, replay_id, withdrawn, data::text";

    /** Active at T (created at or before T and not yet revoked at T), for several beneficiaries. Binds text[], T, T. */
    static final String ACTIVE_AT_FOR_MANY = "SELECT " + COLUMNS + " FROM fact"
            + " WHERE beneficiary_id = ANY(?::text[]) AND created_at <= ? AND (revoked_at IS NULL OR revoked_at > ?) ORDER BY type, fact_key, id";

    /** Every fact of several beneficiaries, revoked or not, oldest first. Binds text[]. */
    static final String ALL_FOR_MANY = "SELECT " + COLUMNS + " FROM fact WHERE beneficiary_id = ANY(?::text[]) ORDER BY id";

    /** Binds text[] of ids. */
    static final String BY_IDS = "SELECT " + COLUMNS + " FROM fact WHERE id = ANY(?::text[])";

    // --- Writes ---

    /** The active facts of a set of keys (the partial unique index fact_active). Binds text[] beneficiaries, types, keys. */
    static final String ACTIVE_FOR_KEYS = """
            SELECT f.id, f.message_id, f.beneficiary_id, f.type, f.fact_key
              FROM fact f
              JOIN unnest(?::text[], ?::text[], ?::text[]) AS k(beneficiary_id, type, fact_key)
                ON f.beneficiary_id = k.beneficiary_id AND f.type = k.type AND f.fact_key = k.fact_key
             WHERE f.revoked_at IS NULL
            """;

    /** Facts already made from these messages by ordinary processing. Binds text[] of message ids. */
    static final String EXISTING_FOR_MESSAGES = "SELECT message_id FROM fact WHERE message_id = ANY(?::text[]) AND replay_id IS NULL";

    /**
     * Revokes active facts, one statement for a batch. The revoked_at IS NULL guard makes a second
     * revocation impossible; callers check the count. Binds revoked_at, text[] ids, text[] revoked_by.
     */
    static final String REVOKE = """
            UPDATE fact AS f SET revoked_at = ?, revoked_by = r.revoked_by
              FROM unnest(?::text[], ?::text[]) AS r(id, revoked_by)
             WHERE f.id = r.id AND f.revoked_at IS NULL
            """;

    /**
     * Inserts facts, one statement for a batch of any types (instead of one per fact; its statement
     * triggers, the hash chain's among them, then run once per batch). Binds created_at, revoked_at
     * (for those revoked from birth), replay_id, then text[] of id, beneficiary, message, revoked_by,
     * type, fact_key, withdrawn and data.
     */
    static final String INSERT = """
            INSERT INTO fact (id, beneficiary_id, message_id, created_at, revoked_at, revoked_by, replay_id, type, fact_key, withdrawn, data)
            SELECT n.id, n.beneficiary_id, n.message_id, ?, CASE WHEN n.revoked_by IS NULL THEN NULL ELSE ?::timestamptz END, n.revoked_by, ?,
                   n.type, n.fact_key, n.withdrawn::boolean, n.data::jsonb
              FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                   AS n(id, beneficiary_id, message_id, revoked_by, type, fact_key, withdrawn, data)
            """;

    /**
     * Records, for reruns of scope 'changed', that beneficiaries' active facts changed (table
     * {@code beneficiary_facts_changed}, written only here, with the facts, and read by
     * org.eligo.reruns.RerunService). ON CONFLICT: one statement for a batch, whoever wrote the row
     * first. Binds the instant and text[] of beneficiaries.
     */
    static final String MARK_CHANGED = """
            INSERT INTO beneficiary_facts_changed (beneficiary_id, changed_at)
            SELECT b, ? FROM unnest(?::text[]) AS b
            ON CONFLICT (beneficiary_id) DO UPDATE SET changed_at = greatest(beneficiary_facts_changed.changed_at, excluded.changed_at)
            """;

    // --- The schema step's probe ---

    /** Whether a type has facts: a probe of the partial unique index fact_active would need a beneficiary, so this stops at the first row. */
    static final String ANY_OF_TYPE = "SELECT EXISTS (SELECT 1 FROM fact WHERE type = ?)";

    /** Decimals read back exactly as stored (35.50 stays 35.50), not through a double. */
    private static final ObjectReader JSON = new ObjectMapper().reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private final Db db;
    private final Ids ids;
    private final FactTypes types;
    private final Ledger ledger;

    public Facts(Db db, Ids ids, FactTypes types, Ledger ledger) {
        this.ledger = ledger;
        this.db = db;
        this.ids = ids;
        this.types = types;
    }

    // ---------------------------------------------------------------- the lock

    /** Every beneficiary at once, waiting for it (R__10_coordination.sql). Binds nothing. */
    static final String LOCK_ALL = "SELECT eligo_lock_all_beneficiaries()";

    /**
     * Takes the lock of every beneficiary at once, waiting for writers of any to finish; returns the
     * clock read after. For a transaction that would otherwise lock thousands one by one (a large
     * replay); every writer of any beneficiary waits for it until it ends.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public Instant lockAll() {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(LOCK_ALL); ResultSet rs = statement.executeQuery()) {
                rs.next();
                return Timestamps.read(rs, 1);
            }
        });
    }

    /** Takes the locks of these beneficiaries, waiting for them; returns the clock read after (see {@link #LOCK}). Held until the transaction ends. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Instant lock(Collection<String> beneficiaries) {
        return db.inCurrent(connection -> lock(connection, beneficiaries));
    }

    /**
     * {@link #lock} for a request a person or client waits on: waiting at most {@code wait} (then
     * PostgreSQL's lock_timeout, 55P03, which is a 503 with Retry-After), so that a beneficiary held
     * long (a replay, a rerun chunk) costs the request a quick answer instead of pinning a pooled
     * connection. The limit holds for the rest of the transaction.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public Instant lockWaitingAtMost(Collection<String> beneficiaries, java.time.Duration wait) {
        return db.inCurrent(connection -> {
            try (java.sql.Statement statement = connection.createStatement()) {
                statement.execute("SET LOCAL lock_timeout = '" + Math.max(1, wait.toMillis()) + "ms'");
            }
            return lock(connection, beneficiaries);
        });
    }

    /** Takes the locks of these beneficiaries that are free at once; returns the beneficiaries locked. Never waits. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Set<String> tryLock(Collection<String> beneficiaries) {
        return db.inCurrent(connection -> {
            Set<String> locked = new HashSet<>();
            try (PreparedStatement statement = connection.prepareStatement(TRY_LOCK)) {
                statement.setArray(1, connection.createArrayOf("text", beneficiaries.stream().distinct().sorted().toArray()));
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        locked.add(rs.getString(1));
                    }
                }
            }
            return locked;
        });
    }

    /** The database's clock now (after {@link #tryLock}, the instant as of which the locked beneficiaries' facts are read). */
    @Transactional(Transactional.TxType.MANDATORY)
    public Instant now() {
        return db.inCurrent(Facts::now);
    }

    private static Instant lock(Connection connection, Collection<String> beneficiaries) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(LOCK)) {
            statement.setArray(1, connection.createArrayOf("text", beneficiaries.stream().distinct().toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return Timestamps.read(rs, 1);
            }
        }
    }

    private static Instant now(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(CLOCK); ResultSet rs = statement.executeQuery()) {
            rs.next();
            return Timestamps.read(rs, 1);
        }
    }

    // ---------------------------------------------------------------- reads of a request

    /** One fact by id. */
    @Transactional
    public Optional<Fact> byId(String factId) {
        return findByIdOptional(factId).map(this::shown);
    }

    /** Everything known at T, revoked or not. Binds beneficiary, T. */
    static final String CREATED_BY_WHERE = "from Fact f where f.beneficiaryId = ?1 and f.createdAt <= ?2";

    /** Active at T: created at or before T and not (yet) revoked at T. Binds beneficiary, T. */
    static final String ACTIVE_AT_WHERE = "from Fact f where f.beneficiaryId = ?1 and f.createdAt <= ?2 and (f.revokedAt is null or f.revokedAt > ?2)";

    /** A beneficiary's facts are shown in this order: type name, key, id. */
    static final String IN_ORDER = " order by f.type, f.factKey, f.id";

    /** After a place in that order (a page's last fact). Binds type ?3, key ?4, id ?5. */
    static final String AFTER = " and (f.type > ?3 or (f.type = ?3 and (f.factKey > ?4 or (f.factKey = ?4 and f.id > ?5))))";

    static final String CREATED_BY = CREATED_BY_WHERE + IN_ORDER;
    static final String ACTIVE_AT = ACTIVE_AT_WHERE + IN_ORDER;

    /** A fact's place in a beneficiary's facts: where a page ends and the next begins. */
    public record Place(String type, String factKey, String id) {
    }

    /** A page of a beneficiary's facts at {@code asOf}; {@code next} is null on the last page. */
    public record Page(Instant asOf, List<Fact> facts, Place next) {
    }

    /**
     * {@link #forBeneficiary(String, Instant, boolean)} a page at a time: at most {@code limit} facts
     * after {@code after} (null: from the first), in the same order. Every page of one listing must
     * be asked with the same instant (the first page's {@code asOf}), so that none moves between pages.
     */
    @Transactional
    public Page forBeneficiary(String beneficiaryId, Instant asOf, boolean includeRevoked, Place after, int limit) {
        Instant at = asOf != null ? asOf : db.inCurrent(Facts::now);
        String where = includeRevoked ? CREATED_BY_WHERE : ACTIVE_AT_WHERE;
        List<Fact> rows = after == null
                ? find(where + IN_ORDER, beneficiaryId, at).range(0, limit).list()
                : find(where + AFTER + IN_ORDER, beneficiaryId, at, after.type(), after.factKey(), after.id()).range(0, limit).list();
        Place next = null;
        if (rows.size() > limit) {
            rows = rows.subList(0, limit);
            Fact last = rows.get(limit - 1);
            next = new Place(last.type(), last.factKey(), last.id());
        }
        return new Page(at, rows.stream().map(this::shown).toList(), next);
    }

    /** A beneficiary's facts at an instant. */
    public record AsOf(Instant asOf, List<Fact> facts) {
    }

    /**
     * A beneficiary's facts at {@code asOf} (null: the database's now, the clock record timestamps
     * come from): those active then (created at or before it and not revoked at it), or with
     * {@code includeRevoked} every fact created at or before it. Ordered by type name, key, id.
     */
    @Transactional
    public AsOf forBeneficiary(String beneficiaryId, Instant asOf, boolean includeRevoked) {
        Instant at = asOf != null ? asOf : db.inCurrent(Facts::now);
        List<Fact> facts = list(includeRevoked ? CREATED_BY : ACTIVE_AT, beneficiaryId, at);
        return new AsOf(at, facts.stream().map(this::shown).toList());
    }

    /** The ids of the facts a message produced (by ordinary processing and by replays), in id order: oldest first. */
    @Transactional
    public List<String> idsOfMessage(String messageId) {
        return idsOfMessages(List.of(messageId)).getOrDefault(messageId, List.of());
    }

    static final String IDS_OF_MESSAGES = "select f.messageId, f.id from Fact f where f.messageId in ?1 order by f.id";

    /** {@link #idsOfMessage} for several messages at once: each message's fact ids (none: absent), oldest first. */
    @Transactional
    public Map<String, List<String>> idsOfMessages(Collection<String> messageIds) {
        Map<String, List<String>> ids = new HashMap<>();
        if (messageIds.isEmpty()) {
            return ids;
        }
        for (Object[] row : getEntityManager().createQuery(IDS_OF_MESSAGES, Object[].class).setParameter(1, messageIds).getResultList()) {
            ids.computeIfAbsent((String) row[0], message -> new ArrayList<>()).add((String) row[1]);
        }
        return ids;
    }

    /** Active and revoked facts, of every type. */
    public record Counts(long active, long revoked) {
    }

    /**
     * The share of facts revoked, as ANALYZE last sampled it (revoked_at's null fraction); 0 before
     * the table was ever analyzed. Read by {@link #counts}.
     */
    static final String REVOKED_SHARE = """
            SELECT coalesce((SELECT 1 - null_frac FROM pg_stats
                              WHERE schemaname = current_schema() AND tablename = 'fact' AND attname = 'revoked_at'), 0)
            """;

    /**
     * Estimates of the counts, in the caller's transaction (the stats read every table's counts in one
     * snapshot), without reading the table: the planner's row estimate ({@link org.eligo.support.Db#estimatedRows})
     * split by the sampled share of revoked facts. Counting them would read every fact ever made.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public Counts counts() {
        long all = db.estimatedRows("fact");
        double revokedShare = db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(REVOKED_SHARE); ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getDouble(1);
            }
        });
        long revoked = Math.min(all, Math.round(all * revokedShare));
        return new Counts(all - revoked, revoked);
    }

    // ---------------------------------------------------------------- reads of writers and workers

    /** The facts of several beneficiaries active at {@code asOf}, by beneficiary, in the caller's transaction. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Map<String, List<Fact>> activeFor(Collection<String> beneficiaryIds, Instant asOf) {
        Map<String, List<Fact>> byBeneficiary = new HashMap<>();
        if (beneficiaryIds.isEmpty()) {
            return byBeneficiary;
        }
        for (Fact fact : query(ACTIVE_AT_FOR_MANY, beneficiaryIds, asOf, asOf)) {
            byBeneficiary.computeIfAbsent(fact.beneficiaryId(), b -> new ArrayList<>()).add(fact);
        }
        return byBeneficiary;
    }

    /** Every fact of these beneficiaries, revoked or not, oldest first, in the caller's transaction. */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<Fact> allFor(Collection<String> beneficiaryIds) {
        return query(ALL_FOR_MANY, beneficiaryIds);
    }

    /** The facts with these ids, whatever their type (in the caller's transaction if there is one). */
    @Transactional
    public List<Fact> byIds(Collection<String> factIds) {
        if (factIds.isEmpty()) {
            return new ArrayList<>();
        }
        return query(BY_IDS, factIds);
    }

    /** Runs a SELECT of {@link #COLUMNS}; a collection parameter is bound as text[], an instant as timestamptz. */
    private List<Fact> query(String statementText, Object... parameters) {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(statementText)) {
                for (int i = 0; i < parameters.length; i++) {
                    Object parameter = parameters[i];
                    if (parameter instanceof Collection<?> values) {
                        statement.setArray(i + 1, connection.createArrayOf("text", values.toArray()));
                    } else {
                        statement.setObject(i + 1, parameter instanceof Instant instant ? instant.atOffset(ZoneOffset.UTC) : parameter);
                    }
                }
                List<Fact> facts = new ArrayList<>();
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        facts.add(read(rs));
                    }
                }
                return facts;
            }
        });
    }

    private Fact read(ResultSet rs) throws SQLException {
        String id = rs.getString(1);
        String type = rs.getString(2);
        return new Fact(id, type, rs.getString(3), rs.getString(4), Timestamps.read(rs, 5), Timestamps.read(rs, 6), rs.getString(7),
                rs.getString(8), shown(id, type, rs.getString(10), rs.getBoolean(9)));
    }

    /** A fact read through Hibernate, with the data it shows. */
    private Fact shown(Fact row) {
        row.show(shown(row.id(), row.type(), row.stored(), row.withdrawn()));
        return row;
    }

    private ObjectNode shown(String factId, String typeName, String storedJson, boolean withdrawn) {
        JsonNode stored;
        try {
            stored = JSON.readTree(storedJson);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("fact " + factId + ": data is not JSON", e);
        }
        return types.byName(typeName).map(type -> FactData.shown(type, stored, withdrawn))
                // A type no longer declared cannot be: start-up refuses to drop the declaration of a type with facts.
                .orElseGet(() -> (ObjectNode) stored);
    }

    // ---------------------------------------------------------------- writes

    /** What a write did. */
    public record Outcome(Instant at, Set<String> changedBeneficiaries, Map<String, String> factIdsByMessage) {
    }

    /**
     * Stores the facts derived from {@code facts} (messages without a fact yet) and revokes what they
     * supersede, in the caller's transaction, under the locks of their beneficiaries (taken here).
     * Messages that already have their fact are skipped.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public Outcome write(List<NewFact> facts) {
        return db.inCurrent(connection -> write(connection, facts, null, Map.of()));
    }

    /**
     * As {@link #write(List)}, for a replay: the messages have facts already and get another, linked
     * to {@code replayId}. Supersession is the same rule; between two facts of one message, the newer
     * derivation wins.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public Outcome write(List<NewFact> facts, String replayId) {
        return db.inCurrent(connection -> write(connection, facts, replayId, Map.of()));
    }

    /** As above, with the new facts' ids chosen by the caller (message id -> fact id), so it can refer to them first. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Outcome write(List<NewFact> facts, String replayId, Map<String, String> presetIds) {
        return db.inCurrent(connection -> write(connection, facts, replayId, presetIds));
    }

    private Outcome write(Connection connection, List<NewFact> facts, String replayId, Map<String, String> presetIds) throws SQLException {
        Instant at = lock(connection, facts.stream().map(NewFact::beneficiaryId).toList());
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
        try (PreparedStatement statement = connection.prepareStatement(EXISTING_FOR_MESSAGES)) {
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
        try (PreparedStatement statement = connection.prepareStatement(ACTIVE_FOR_KEYS)) {
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

    /** Records that these beneficiaries' active facts changed at {@code at} (for reruns of scope 'changed'), in the caller's transaction. */
    @Transactional(Transactional.TxType.MANDATORY)
    public void markChanged(Collection<String> beneficiaries, Instant at) {
        db.inCurrent(connection -> {
            markChanged(connection, beneficiaries, at);
            return null;
        });
    }

    private static void markChanged(Connection connection, Collection<String> beneficiaries, Instant at) throws SQLException {
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

    /**
     * Revokes active facts (a replay's facts whose message now derives to another key), each by the
     * fact named beside it, in the caller's transaction (which holds their beneficiaries' locks).
     */
    @Transactional(Transactional.TxType.MANDATORY)
    public void revoke(Instant at, List<String> factIds, List<String> revokedBy) {
        db.inCurrent(connection -> {
            revoke(connection, at, factIds, revokedBy);
            return null;
        });
    }

    private void revoke(Connection connection, Instant at, List<String> factIds, List<String> revokedBy) throws SQLException {
        if (factIds.isEmpty()) {
            return;
        }
        try (PreparedStatement statement = connection.prepareStatement(REVOKE)) {
            statement.setObject(1, at.atOffset(ZoneOffset.UTC));
            statement.setArray(2, connection.createArrayOf("text", factIds.toArray()));
            statement.setArray(3, connection.createArrayOf("text", revokedBy.toArray()));
            int revoked = statement.executeUpdate();
            if (revoked != factIds.size()) {
                // Cannot happen while the beneficiary lock is held; failing keeps the data consistent if it does.
                throw new IllegalStateException("expected to revoke " + factIds.size() + " facts but revoked " + revoked);
            }
        }
        for (int i = 0; i < factIds.size(); i++) {
            ledger.record(revocationLabel(factIds.get(i)), revocation(factIds.get(i), at, revokedBy.get(i)));
        }
    }

    private void insert(Connection connection, Instant at, List<NewFact> facts, List<String> factIds,
                        List<String> revokedBy, String replayId) throws SQLException {
        int n = facts.size();
        String[] beneficiaries = new String[n];
        String[] messages = new String[n];
        String[] typeNames = new String[n];
        String[] keys = new String[n];
        String[] withdrawn = new String[n];
        String[] data = new String[n];
        for (int i = 0; i < n; i++) {
            NewFact fact = facts.get(i);
            beneficiaries[i] = fact.beneficiaryId();
            messages[i] = fact.messageId();
            typeNames[i] = fact.type().name();
            keys[i] = fact.factKey();
            withdrawn[i] = Boolean.toString(fact.withdrawn());
            data[i] = FactData.stored(fact.type(), fact.values()).toString();
        }
        try (PreparedStatement statement = connection.prepareStatement(INSERT)) {
            OffsetDateTime timestamp = at.atOffset(ZoneOffset.UTC);
            statement.setObject(1, timestamp);
            statement.setObject(2, timestamp);
            statement.setString(3, replayId);
            statement.setArray(4, connection.createArrayOf("text", factIds.toArray()));
            statement.setArray(5, connection.createArrayOf("text", beneficiaries));
            statement.setArray(6, connection.createArrayOf("text", messages));
            statement.setArray(7, connection.createArrayOf("text", revokedBy.toArray()));
            statement.setArray(8, connection.createArrayOf("text", typeNames));
            statement.setArray(9, connection.createArrayOf("text", keys));
            statement.setArray(10, connection.createArrayOf("text", withdrawn));
            statement.setArray(11, connection.createArrayOf("text", data));
            statement.executeUpdate();
        }
        for (int i = 0; i < n; i++) {
            String id = factIds.get(i);
            ledger.record(LEDGER_TABLE + "/" + id, canonical(id, beneficiaries[i], messages[i], at, replayId, typeNames[i], keys[i],
                    facts.get(i).withdrawn(), data[i]));
            if (revokedBy.get(i) != null) {
                // Revoked from birth (processed after a newer message for its key): its revocation is a record of its own, as any later one.
                ledger.record(revocationLabel(id), revocation(id, at, revokedBy.get(i)));
            }
        }
    }

    /** A fact's ledger leaves are labelled fact/&lt;id&gt;, its revocation's fact/&lt;id&gt;/revocation. */
    public static final String LEDGER_TABLE = "fact";

    public static String revocationLabel(String factId) {
        return LEDGER_TABLE + "/" + factId + "/revocation";
    }

    /**
     * A fact's canonical content (README, "The ledger"): everything but its revocation, which is a
     * record of its own ({@link #revocation}) because it comes later.
     */
    public static Canonical canonical(String id, String beneficiaryId, String messageId, Instant createdAt, String replayId, String type,
                                   String factKey, boolean withdrawn, String data) {
        return Canonical.object().put("id", id).put("beneficiary_id", beneficiaryId).put("message_id", messageId)
                .put("created_at", createdAt).put("replay_id", replayId).put("type", type).put("fact_key", factKey)
                .put("withdrawn", withdrawn).putJson("data", data);
    }

    /** A revocation's canonical content: which fact, when, and by which newer fact. */
    public static Canonical revocation(String factId, Instant revokedAt, String revokedBy) {
        return Canonical.object().put("id", factId).put("revoked_at", revokedAt).put("revoked_by", revokedBy);
    }

    // ---------------------------------------------------------------- the schema step's probe

    /**
     * Whether facts of a type exist, for {@link FactTypeSchema} deciding whether a changed declaration
     * may be applied. On the connection it is handed, unlike every other method here: the schema
     * step's, on the {@code migrations} datasource, which has no JTA ({@code transactions=disabled}) and
     * runs as the schema owner inside the transaction that holds that step's own lock (17775).
     */
    static boolean anyOfType(Connection schemaOwner, String type) throws SQLException {
        try (PreparedStatement statement = schemaOwner.prepareStatement(ANY_OF_TYPE)) {
            statement.setString(1, type);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    // ---------------------------------------------------------------- verification

    /**
     * Every stored fact in its ledger form, in id order, each followed by its revocation if it has
     * one (which is label order: fact/&lt;id&gt; before fact/&lt;id&gt;/revocation), streamed. In the
     * caller's transaction.
     */
    static final String ALL_IN_LEDGER_FORM = """
            SELECT id, beneficiary_id, message_id, created_at, replay_id, type, fact_key, withdrawn, data::text, revoked_at, revoked_by
              FROM fact ORDER BY id COLLATE "C"
            """;

    /** The same, for the given ids. Binds text[]. */
    static final String SOME_IN_LEDGER_FORM = ALL_IN_LEDGER_FORM.replace("ORDER BY id COLLATE \"C\"", "WHERE id = ANY(?::text[]) ORDER BY id COLLATE \"C\"");

    @Transactional(Transactional.TxType.MANDATORY)
    public void forEachRecorded(org.eligo.ledger.Ledger.Sink<org.eligo.ledger.Recorded> sink) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(ALL_IN_LEDGER_FORM)) {
                statement.setFetchSize(5000);
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        for (org.eligo.ledger.Recorded recorded : recordedRow(rs)) {
                            if (!sink.accept(recorded)) {
                                return null;
                            }
                        }
                    }
                }
            }
            return null;
        });
    }

    /** The stored facts among {@code ids} in their ledger form, each followed by its revocation if it has one. */
    @Transactional(Transactional.TxType.MANDATORY)
    public List<org.eligo.ledger.Recorded> recorded(Collection<String> ids) {
        return db.inCurrent(connection -> {
            List<org.eligo.ledger.Recorded> found = new ArrayList<>();
            try (PreparedStatement statement = connection.prepareStatement(SOME_IN_LEDGER_FORM)) {
                statement.setArray(1, connection.createArrayOf("text", ids.toArray()));
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        found.addAll(recordedRow(rs));
                    }
                }
            }
            return found;
        });
    }

    /** A fact's row as the ledger sees it: its creation, and its revocation when it has one. */
    private static List<org.eligo.ledger.Recorded> recordedRow(ResultSet rs) throws SQLException {
        String id = rs.getString(1);
        org.eligo.ledger.Recorded fact = new org.eligo.ledger.Recorded(LEDGER_TABLE + "/" + id, canonical(id, rs.getString(2), rs.getString(3),
                Timestamps.read(rs, 4), rs.getString(5), rs.getString(6), rs.getString(7), rs.getBoolean(8), rs.getString(9)));
        if (rs.getString(11) == null && rs.getObject(10) == null) {
            return List.of(fact);
        }
        return List.of(fact, new org.eligo.ledger.Recorded(revocationLabel(id), revocation(id, Timestamps.read(rs, 10), rs.getString(11))));
    }

    /**
     * The first revoked fact whose revoker does not rightly supersede it (a fact of its key from a
     * later message, or a replay's fact of its message: the rule eligo_fact_revocation_guard enforces
     * at commit), for a revocation written with that trigger off. The revoker is looked for among
     * the fact's beneficiary's facts (a revoker of another beneficiary is not found, so wrong), which
     * on Citus keeps the join on one shard.
     */
    static final String WRONGLY_REVOKED = """
            SELECT f.id FROM fact f LEFT JOIN fact g ON g.beneficiary_id = f.beneficiary_id AND g.id = f.revoked_by
             WHERE f.revoked_by IS NOT NULL
               AND (g.id IS NULL OR g.id = f.id
                    OR NOT ((g.type = f.type AND g.fact_key = f.fact_key AND g.message_id > f.message_id)
                            OR (g.replay_id IS NOT NULL AND g.message_id = f.message_id)))
             ORDER BY f.id LIMIT 1
            """;

    /** The newest fact of the first key that has facts but no active one (every fact of it revoked: a revocation without a successor). */
    static final String KEY_LEFT_WITHOUT_ACTIVE = """
            SELECT max(id) FROM fact GROUP BY beneficiary_id, type, fact_key HAVING bool_and(revoked_at IS NOT NULL) ORDER BY 1 LIMIT 1
            """;

    /** The first fact whose revocation breaks the revocation rules, with why; empty when none does. */
    @Transactional(Transactional.TxType.MANDATORY)
    public Optional<String[]> firstWronglyRevoked() {
        return db.inCurrent(connection -> {
            for (String[] check : new String[][] {
                    {WRONGLY_REVOKED, "revoked by a fact that does not supersede it (not one of its key from a later message, nor a replay of its message)"},
                    {KEY_LEFT_WITHOUT_ACTIVE, "its key has no active fact left (revoked without a successor)"}}) {
                try (PreparedStatement statement = connection.prepareStatement(check[0]); ResultSet rs = statement.executeQuery()) {
                    if (rs.next() && rs.getString(1) != null) {
                        return Optional.of(new String[] {rs.getString(1), check[1]});
                    }
                }
            }
            return Optional.<String[]>empty();
        });
    }
}
