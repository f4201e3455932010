package org.eligo.facts;

/**
 * The SQL of the {@code fact} table, whose owner is this package ({@link FactWriter} writes,
 * {@link FactReader} reads). One table holds every fact type: a row's {@code type} names its
 * declaration, {@code fact_key} is its key within the beneficiary and type ({@link FactType#factKey}),
 * and {@code data} its typed fields as JSON (the typed view of each type, {@code fact_<type>}, shows
 * them as columns to SQL readers). One statement reads a beneficiary's facts of every type, however
 * many types are declared. Arrays are bound as text[] and cast, which keeps the JDBC side uniform.
 */
final class FactSql {

    private FactSql() {
    }

    /** Columns of a SELECT, read by {@link FactRows}. */
    static final String COLUMNS = "id, type, beneficiary_id, message_id, created_at, revoked_at, revoked_by, replay_id, withdrawn, data::text";

    static final String BY_ID = "SELECT " + COLUMNS + " FROM fact WHERE id = ?";

    /** Active at T: created at or before T and not (yet) revoked at T. Binds beneficiary, T, T. */
    static final String ACTIVE_AT = "SELECT " + COLUMNS + " FROM fact"
            + " WHERE beneficiary_id = ? AND created_at <= ? AND (revoked_at IS NULL OR revoked_at > ?) ORDER BY type, fact_key, id";

    /** Everything known at T, revoked or not. Binds beneficiary, T. */
    static final String CREATED_BY = "SELECT " + COLUMNS + " FROM fact WHERE beneficiary_id = ? AND created_at <= ? ORDER BY type, fact_key, id";

    /** As ACTIVE_AT for several beneficiaries. Binds text[], T, T. */
    static final String ACTIVE_AT_FOR_MANY = "SELECT " + COLUMNS + " FROM fact"
            + " WHERE beneficiary_id = ANY(?::text[]) AND created_at <= ? AND (revoked_at IS NULL OR revoked_at > ?) ORDER BY type, fact_key, id";

    static final String BY_IDS = "SELECT " + COLUMNS + " FROM fact WHERE id = ANY(?::text[])";

    static final String ALL_FOR_MANY = "SELECT " + COLUMNS + " FROM fact WHERE beneficiary_id = ANY(?::text[]) ORDER BY id";

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
     * Revokes active facts. The revoked_at IS NULL guard makes a second revocation impossible; callers
     * check the count. Binds revoked_at, text[] ids, text[] revoked_by.
     */
    static final String REVOKE = """
            UPDATE fact AS f SET revoked_at = ?, revoked_by = r.revoked_by
              FROM unnest(?::text[], ?::text[]) AS r(id, revoked_by)
             WHERE f.id = r.id AND f.revoked_at IS NULL
            """;

    /**
     * Inserts facts, one statement for a batch of any types. Binds created_at, revoked_at (for those
     * revoked from birth), replay_id, then text[] of id, beneficiary, message, revoked_by, type,
     * fact_key, withdrawn and data.
     */
    static final String INSERT = """
            INSERT INTO fact (id, beneficiary_id, message_id, created_at, revoked_at, revoked_by, replay_id, type, fact_key, withdrawn, data)
            SELECT n.id, n.beneficiary_id, n.message_id, ?, CASE WHEN n.revoked_by IS NULL THEN NULL ELSE ?::timestamptz END, n.revoked_by, ?,
                   n.type, n.fact_key, n.withdrawn::boolean, n.data::jsonb
              FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
                   AS n(id, beneficiary_id, message_id, revoked_by, type, fact_key, withdrawn, data)
            """;
}
