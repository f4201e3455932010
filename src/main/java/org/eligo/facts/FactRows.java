package org.eligo.facts;

import java.sql.ResultSet;
import java.sql.SQLException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eligo.support.Timestamps;

/** Reads fact rows selected with {@link FactSql#COLUMNS} into {@link Fact}s. */
final class FactRows {

    /** Decimals read back exactly as stored (35.50 stays 35.50), not through a double. */
    private static final ObjectReader JSON = new ObjectMapper().reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private FactRows() {
    }

    static Fact read(FactTypes types, ResultSet rs) throws SQLException {
        String typeName = rs.getString(2);
        JsonNode stored;
        try {
            stored = JSON.readTree(rs.getString(10));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("fact " + rs.getString(1) + ": data is not JSON", e);
        }
        boolean withdrawn = rs.getBoolean(9);
        ObjectNode data = types.byName(typeName).map(type -> shown(type, stored, withdrawn))
                // A type no longer declared cannot be: start-up refuses to drop the declaration of a type with facts.
                .orElseGet(() -> (ObjectNode) stored);
        return new Fact(rs.getString(1), typeName, rs.getString(3), rs.getString(4), Timestamps.read(rs, 5), Timestamps.read(rs, 6),
                rs.getString(7), rs.getString(8), data);
    }

    /**
     * The {@code data} a fact shows: every declared field, null where not reported; a withdrawal
     * shows its key fields and {@code "withdrawn": true}.
     */
    static ObjectNode shown(FactType type, JsonNode stored, boolean withdrawn) {
        ObjectNode data = JsonNodeFactory.instance.objectNode();
        for (Field field : type.fields()) {
            if (withdrawn && !field.key()) {
                continue;
            }
            JsonNode value = stored.get(field.name());
            data.set(field.name(), value == null ? JsonNodeFactory.instance.nullNode() : value);
        }
        if (withdrawn) {
            data.put(FactData.WITHDRAWN, true);
        }
        return data;
    }
}
