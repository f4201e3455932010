package org.eligo.facts;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads fact rows selected with {@link FactSql#selectColumns} into {@link Fact}s. */
final class FactRows {

    private FactRows() {
    }

    static Fact read(FactType type, ResultSet rs) throws SQLException {
        List<Field> fields = type.fields();
        Map<String, Object> values = new HashMap<>();
        for (int i = 0; i < fields.size(); i++) {
            Field field = fields.get(i);
            int column = 8 + i;
            Object value = switch (field.kind()) {
                case INTEGER -> rs.getObject(column, Integer.class);
                case BIGINT -> rs.getObject(column, Long.class);
                case DECIMAL -> rs.getBigDecimal(column);
                case BOOLEAN -> rs.getObject(column, Boolean.class);
                case DATE -> rs.getObject(column, LocalDate.class);
                case TEXT -> rs.getString(column);
            };
            values.put(field.name(), value);
        }
        return new Fact(rs.getString(1), type.name(), rs.getString(2), rs.getString(3), org.eligo.support.Timestamps.read(rs, 4), org.eligo.support.Timestamps.read(rs, 5),
                rs.getString(6), rs.getString(7), FactData.toJson(type, values));
    }

}
