package org.eligo.facts;

import java.util.List;

/**
 * A kind of fact: the message type that produces it, the table that stores it, and its typed
 * fields. Code that handles facts (validation, parsing, storage, supersession, reads, the rules
 * engine) is written once against this description; a new fact type is a new constant here, a
 * table in a new versioned migration, and its row in eligo_tables() (db/migration/R__90_tables.sql).
 *
 * @param name   the message and fact type, e.g. {@code income.monthly}
 * @param table  the table holding these facts (a constant, never user input)
 * @param fields typed fields in column order
 */
public record FactType(String name, String table, List<Field> fields) {

    public List<Field> keyFields() {
        return fields.stream().filter(Field::key).toList();
    }

    public Field field(String fieldName) {
        return fields.stream().filter(f -> f.name().equals(fieldName)).findFirst().orElse(null);
    }
}
