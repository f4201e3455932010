package org.eligo.facts;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The SQL for one fact type, written out once from its {@link FactType}. Table and column names come
 * from the fact type declarations (names checked against a strict pattern), never from a request; values are always bind parameters. Arrays are
 * bound as text[] and cast per column, which keeps the JDBC side uniform.
 */
final class FactSql {

    /** Written once per type (declarations are immutable once loaded), keyed by name. */
    private static final java.util.Map<String, FactSql> BY_TYPE = new java.util.concurrent.ConcurrentHashMap<>();

    static FactSql of(FactType type) {
        FactSql sql = BY_TYPE.computeIfAbsent(type.name(), name -> new FactSql(type));
        return sql.type.equals(type) ? sql : new FactSql(type);
    }

    static final String COMMON_COLUMNS = "id, beneficiary_id, message_id, created_at, revoked_at, revoked_by";

    final FactType type;
    /** Columns of a SELECT, common ones first, then the fields in order. */
    final String selectColumns;
    final String byId;
    final String activeAt;
    final String createdBy;
    final String activeAtForMany;
    final String byIds;
    final String allForMany;
    /** Active facts for a set of keys: binds one text[] per key column (beneficiary first). */
    final String activeForKeys;
    /** Facts already made from these messages: binds text[] of message ids. */
    final String existingForMessages;
    /** Revokes active facts: binds revoked_at, text[] ids, text[] revoked_by. */
    final String revoke;
    /** Inserts facts: binds created_at, revoked_at, replay_id, then text[] of id, beneficiary, message, revoked_by and each field. */
    final String insert;

    private FactSql(FactType type) {
        this.type = type;
        List<Field> fields = type.fields();
        String fieldColumns = fields.stream().map(Field::name).collect(Collectors.joining(", "));
        this.selectColumns = COMMON_COLUMNS + ", replay_id, " + fieldColumns;
        String from = " FROM " + type.table() + " ";
        this.byId = "SELECT " + selectColumns + from + "WHERE id = ?";
        String order = " ORDER BY " + keyOrder(type) + "id";
        // Active at T: created at or before T and not (yet) revoked at T.
        this.activeAt = "SELECT " + selectColumns + from
                + "WHERE beneficiary_id = ? AND created_at <= ? AND (revoked_at IS NULL OR revoked_at > ?)" + order;
        this.activeAtForMany = "SELECT " + selectColumns + from
                + "WHERE beneficiary_id = ANY(?::text[]) AND created_at <= ? AND (revoked_at IS NULL OR revoked_at > ?)" + order;
        this.byIds = "SELECT " + selectColumns + from + "WHERE id = ANY(?::text[])";
        this.allForMany = "SELECT " + selectColumns + from + "WHERE beneficiary_id = ANY(?::text[]) ORDER BY id";
        // Everything known at T, revoked or not.
        this.createdBy = "SELECT " + selectColumns + from + "WHERE beneficiary_id = ? AND created_at <= ?" + order;

        List<Field> keys = type.keyFields();
        String keyNames = keys.stream().map(f -> ", " + f.name()).collect(Collectors.joining());
        String keyArrays = keys.stream().map(f -> ", ?::text[]").collect(Collectors.joining());
        String keyJoin = keys.stream().map(f -> " AND f." + f.name() + " = k." + f.name() + "::" + f.kind().sqlType())
                .collect(Collectors.joining());
        this.activeForKeys = "SELECT f.id, f.message_id, f.beneficiary_id" + keys.stream().map(f -> ", f." + f.name()).collect(Collectors.joining())
                + " FROM " + type.table() + " f"
                + " JOIN unnest(?::text[]" + keyArrays + ") AS k(beneficiary_id" + keyNames + ")"
                + " ON f.beneficiary_id = k.beneficiary_id" + keyJoin
                + " WHERE f.revoked_at IS NULL";
        this.existingForMessages = "SELECT message_id" + from + "WHERE message_id = ANY(?::text[])";
        // The revoked_at IS NULL guard makes a second revocation impossible; callers check the count.
        this.revoke = "UPDATE " + type.table() + " AS f SET revoked_at = ?, revoked_by = r.revoked_by"
                + " FROM unnest(?::text[], ?::text[]) AS r(id, revoked_by)"
                + " WHERE f.id = r.id AND f.revoked_at IS NULL";
        String fieldArrays = IntStream.range(0, fields.size()).mapToObj(i -> ", ?::text[]").collect(Collectors.joining());
        String fieldCasts = fields.stream().map(f -> ", n." + f.name() + "::" + f.kind().sqlType()).collect(Collectors.joining());
        this.insert = "INSERT INTO " + type.table() + " (" + COMMON_COLUMNS + ", replay_id, " + fieldColumns + ")"
                + " SELECT n.id, n.beneficiary_id, n.message_id, ?, CASE WHEN n.revoked_by IS NULL THEN NULL ELSE ?::timestamptz END, n.revoked_by, ?"
                + fieldCasts
                + " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[]" + fieldArrays + ")"
                + " AS n(id, beneficiary_id, message_id, revoked_by, " + fieldColumns + ")";
    }

    private static String keyOrder(FactType type) {
        return type.keyFields().stream().map(f -> f.name() + ", ").collect(Collectors.joining());
    }
}
