package org.eligo.facts;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eligo.support.problem.FieldError;

/**
 * Validates and parses a message's {@code data} against its {@link FactType} declaration. Validation collects
 * every problem with a JSON Pointer; parsing assumes validation passed and yields typed values in
 * field order (Integer, Long, BigDecimal, Boolean, LocalDate, or null when absent).
 */
public final class FactData {

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("uuuu-MM-dd").withResolverStyle(ResolverStyle.STRICT);
    private static final LocalDate EARLIEST_DATE = LocalDate.of(1850, 1, 1);

    /** The flag of a withdrawal (contract, "Withdrawal"): the key's fields and {@code "withdrawn": true}, nothing else. */
    public static final String WITHDRAWN = "withdrawn";

    private FactData() {
    }

    /** Whether {@code data} withdraws its key's fact (validated: the flag is true or absent). */
    public static boolean isWithdrawal(JsonNode data) {
        return data != null && data.path(WITHDRAWN).isBoolean() && data.get(WITHDRAWN).booleanValue();
    }

    /**
     * Adds to {@code errors} everything wrong with {@code data} for {@code type}.
     *
     * @param pointer JSON Pointer of {@code data} in the request body
     * @param today   the day the message is received
     */
    public static void validate(FactType type, JsonNode data, String pointer, LocalDate today, List<FieldError> errors) {
        if (data == null || !data.isObject()) {
            errors.add(FieldError.at(pointer, data == null ? "is required" : "must be an object"));
            return;
        }
        JsonNode flag = data.get(WITHDRAWN);
        if (flag != null && !(flag.isBoolean() && flag.booleanValue())) {
            errors.add(FieldError.at(pointer + "/" + WITHDRAWN, "is true, to withdraw the key's fact, or left out"));
            return;
        }
        boolean withdrawal = flag != null;
        for (Iterator<String> names = data.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            Field field = type.field(name);
            if (field == null && !name.equals(WITHDRAWN)) {
                errors.add(FieldError.at(pointer + "/" + escape(name), "unknown field for type " + type.name()));
            } else if (withdrawal && field != null && !field.key()) {
                errors.add(FieldError.at(pointer + "/" + escape(name), "not part of a withdrawal: it holds the key's fields ("
                        + String.join(", ", type.keyFields().stream().map(Field::name).toList()) + ") and \"withdrawn\": true only"));
            }
        }
        for (Field field : type.fields()) {
            if (withdrawal && !field.key()) {
                continue;
            }
            JsonNode value = data.get(field.name());
            String at = pointer + "/" + field.name();
            if (value == null || value.isNull()) {
                if (field.required()) {
                    errors.add(FieldError.at(at, value == null ? "is required" : "must not be null"));
                }
                continue;
            }
            String problem = checkValue(field, value, today);
            if (problem != null) {
                errors.add(FieldError.at(at, problem));
            }
        }
        if (!withdrawal) {
            for (FactType.Requirement requirement : type.requires()) {
                if (requirement instanceof FactType.Requirement.AtLeastOneOf one
                        && one.fields().stream().allMatch(name -> data.get(name) == null || data.get(name).isNull())) {
                    errors.add(FieldError.at(pointer, "needs at least one of " + String.join(", ", one.fields())));
                } else if (requirement instanceof FactType.Requirement.RequiredUnless unless
                        && (data.get(unless.field()) == null || data.get(unless.field()).isNull())
                        && !unless.is().equals(data.path(unless.when()).textValue())) {
                    errors.add(FieldError.at(pointer + "/" + unless.field(), "is required unless " + unless.when() + " is " + unless.is()));
                }
            }
        }
        if (type.key() == FactType.KeyKind.EPISODE && !withdrawal) {
            LocalDate start = date(data.get("start"));
            LocalDate end = date(data.get("end"));
            if (start != null && end != null && end.isBefore(start)) {
                errors.add(FieldError.at(pointer + "/end", "must not be before start (" + start + "): end is the episode's last day"));
            }
        }
    }

    /** A valid date value, or null. */
    private static LocalDate date(JsonNode value) {
        if (value == null || !value.isTextual()) {
            return null;
        }
        try {
            return LocalDate.parse(value.textValue(), DATE);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static String checkValue(Field field, JsonNode value, LocalDate today) {
        switch (field.kind()) {
            case INTEGER, BIGINT -> {
                if (!value.isIntegralNumber()) {
                    return "must be an integer";
                }
                return checkRange(field, new BigDecimal(value.bigIntegerValue()));
            }
            case DECIMAL -> {
                if (!value.isNumber()) {
                    return "must be a number";
                }
                BigDecimal number = value.decimalValue();
                String range = checkRange(field, number);
                if (range != null) {
                    return range;
                }
                return number.stripTrailingZeros().scale() > field.decimals()
                        ? "must have at most " + field.decimals() + " decimal places" : null;
            }
            case BOOLEAN -> {
                return value.isBoolean() ? null : "must be true or false";
            }
            case DATE -> {
                if (!value.isTextual()) {
                    return "must be a date (YYYY-MM-DD)";
                }
                LocalDate date;
                try {
                    date = LocalDate.parse(value.textValue(), DATE);
                } catch (DateTimeParseException e) {
                    return "must be a date (YYYY-MM-DD)";
                }
                if (date.isBefore(EARLIEST_DATE)) {
                    return "must not be before " + EARLIEST_DATE;
                }
                if (field.notAfterToday() && date.isAfter(today)) {
                    return "must not be after the day the message is received (" + today + ")";
                }
                return null;
            }
            case TEXT -> {
                if (!value.isTextual()) {
                    return "must be a string";
                }
                String text = value.textValue();
                if (!field.values().isEmpty()) {
                    return field.values().contains(text) ? null : "must be one of " + String.join(", ", field.values());
                }
                if (text.isEmpty() || text.codePointCount(0, text.length()) > field.maxLength()) {
                    return "must be 1 to " + field.maxLength() + " characters";
                }
                // PostgreSQL cannot hold NUL in text, nor an unpaired surrogate: refused here, not at storage.
                for (int i = 0; i < text.length(); i++) {
                    char c = text.charAt(i);
                    if (c == 0 || (Character.isSurrogate(c)
                            && !(Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(++i))))) {
                        return "must not contain NUL or unpaired surrogates";
                    }
                }
                return null;
            }
            default -> throw new IllegalStateException("unknown kind " + field.kind());
        }
    }

    private static String checkRange(Field field, BigDecimal number) {
        if (field.min() != null && number.compareTo(field.min()) < 0 || field.max() != null && number.compareTo(field.max()) > 0) {
            if (field.min() != null && field.max() != null) {
                return "must be between " + field.min().toPlainString() + " and " + field.max().toPlainString();
            }
            return field.min() != null ? "must be at least " + field.min().toPlainString() : "must be at most " + field.max().toPlainString();
        }
        if (field.kind() == Field.Kind.INTEGER && (number.compareTo(BigDecimal.valueOf(Integer.MIN_VALUE)) < 0 || number.compareTo(BigDecimal.valueOf(Integer.MAX_VALUE)) > 0)
                || field.kind() == Field.Kind.BIGINT && (number.compareTo(BigDecimal.valueOf(Long.MIN_VALUE)) < 0 || number.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0)) {
            return "is out of range";
        }
        return null;
    }

    /** Typed values of a validated {@code data} object, in the type's field order. */
    public static Object[] parse(FactType type, JsonNode data) {
        if (data == null || !data.isObject()) {
            throw new IllegalArgumentException("data must be an object");
        }
        List<Field> fields = type.fields();
        Object[] values = new Object[fields.size()];
        boolean withdrawal = isWithdrawal(data);
        for (int i = 0; i < fields.size(); i++) {
            Field field = fields.get(i);
            JsonNode node = data.get(field.name());
            if (withdrawal && !field.key()) {
                continue;
            }
            if (node == null || node.isNull()) {
                if (field.required()) {
                    throw new IllegalArgumentException(field.name() + " is required");
                }
                values[i] = field.defaultValue();
                continue;
            }
            values[i] = switch (field.kind()) {
                case INTEGER -> exactInteger(field, node).intValueExact();
                case BIGINT -> exactInteger(field, node).longValueExact();
                case DECIMAL -> {
                    if (!node.isNumber()) {
                        throw new IllegalArgumentException(field.name() + " must be a number");
                    }
                    yield node.decimalValue();
                }
                case BOOLEAN -> {
                    if (!node.isBoolean()) {
                        throw new IllegalArgumentException(field.name() + " must be true or false");
                    }
                    yield node.booleanValue();
                }
                case DATE -> LocalDate.parse(node.asText(), DATE);
                case TEXT -> {
                    if (!node.isTextual()) {
                        throw new IllegalArgumentException(field.name() + " must be a string");
                    }
                    yield node.textValue();
                }
            };
        }
        return values;
    }

    private static BigInteger exactInteger(Field field, JsonNode node) {
        if (!node.isIntegralNumber()) {
            throw new IllegalArgumentException(field.name() + " must be an integer");
        }
        return node.bigIntegerValue();
    }

    /**
     * The {@code data} a fact stores: the fields with a value, typed (numbers exact, dates as
     * YYYY-MM-DD); absent optional fields without a default are left out.
     */
    public static ObjectNode stored(FactType type, Object[] values) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        List<Field> fields = type.fields();
        for (int i = 0; i < fields.size(); i++) {
            Object value = values[i];
            String name = fields.get(i).name();
            if (value instanceof Integer n) {
                node.put(name, n);
            } else if (value instanceof Long n) {
                node.put(name, n);
            } else if (value instanceof BigDecimal n) {
                node.put(name, n);
            } else if (value instanceof Boolean b) {
                node.put(name, b);
            } else if (value != null) {
                node.put(name, value.toString());
            }
        }
        return node;
    }

    /** The {@code data} a fact of these values shows (as {@link Facts} returns it). */
    public static ObjectNode shown(FactType type, Object[] values, boolean withdrawn) {
        return shown(type, stored(type, values), withdrawn);
    }

    /**
     * The {@code data} a fact shows from its stored {@code data}: every declared field, null where
     * not reported; a withdrawal shows its key fields and {@code "withdrawn": true}.
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
            data.put(WITHDRAWN, true);
        }
        return data;
    }

    /** The {@code data} object a fact shows: every field, null where absent. */
    public static ObjectNode toJson(FactType type, Map<String, Object> values) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        for (Field field : type.fields()) {
            Object value = values.get(field.name());
            if (value == null) {
                node.putNull(field.name());
            } else if (value instanceof Integer i) {
                node.put(field.name(), i);
            } else if (value instanceof Long l) {
                node.put(field.name(), l);
            } else if (value instanceof BigDecimal d) {
                node.put(field.name(), d);
            } else if (value instanceof Boolean b) {
                node.put(field.name(), b);
            } else {
                node.put(field.name(), value.toString());
            }
        }
        return node;
    }

    /** JSON Pointer escaping of one reference token (RFC 6901). */
    public static String escape(String token) {
        return token.replace("~", "~0").replace("/", "~1");
    }
}
