package org.eligo.facts;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.eligo.facts.FactType.Absent;
import org.eligo.facts.FactType.KeyKind;
import org.eligo.support.yaml.YamlNode;

/**
 * Reads one fact-type declaration ({@code rules/fact-types/<type>.yaml}) and checks all of it, so a
 * wrong declaration stops start-up with its file, line and problem. The format is in rules/README.md.
 */
public final class FactTypeLoader {

    /** Dotted lower-case names; short enough that "fact_" + the name stays a PostgreSQL identifier (63 bytes). */
    static final Pattern TYPE_NAME = Pattern.compile("[a-z][a-z0-9_]{0,28}(\\.[a-z][a-z0-9_]{0,28}){1,2}");
    private static final Pattern FIELD_NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}");
    /** Names a declared field may not take: the fact's own columns, and the withdrawal flag. */
    static final Set<String> RESERVED = Set.of("id", "type", "beneficiary_id", "message_id", "created_at", "revoked_at",
            "revoked_by", "replay_id", "data", "withdrawn", "fact_key");
    private static final Set<String> FIELD_TYPES = Set.of("integer", "number", "boolean", "date", "string");
    private static final BigDecimal INT_MIN = BigDecimal.valueOf(Integer.MIN_VALUE);
    private static final BigDecimal INT_MAX = BigDecimal.valueOf(Integer.MAX_VALUE);
    private static final BigDecimal LONG_MIN = BigDecimal.valueOf(Long.MIN_VALUE);
    private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);
    /** Decimal values are bounded so that every accepted value is exact in numeric and in JSON. */
    private static final BigDecimal DECIMAL_LIMIT = new BigDecimal("1000000000000000");

    private FactTypeLoader() {
    }

    /** The fields every fact of a key kind has, before its declared ones. */
    static List<Field> keyKindFields(KeyKind kind) {
        return switch (kind) {
            case PERSON -> List.of();
            case MONTH -> List.of(
                    Field.keyInteger("year", 1900, 2200, "the year of the month the fact is about"),
                    Field.keyInteger("month", 1, 12, "the month (1-12) the fact is about"));
            case EPISODE -> List.of(
                    Field.keyText("episode_id", 100, "the agency's id of the episode: one active fact per beneficiary and episode id"),
                    Field.date("start", true, true, "the episode's first day (not after the day the message is received)"),
                    Field.date("end", false, false, "the episode's last day, inclusive (absent: open-ended); not before start"));
        };
    }

    /**
     * One declaration.
     *
     * @param file the file, for error messages; its name must be the type's name and ".yaml"
     * @param text the file's content
     */
    public static FactType parse(Path file, String text) {
        YamlNode root = YamlNode.parse(file, text);
        Map<String, YamlNode> members = root.map("a fact type declaration",
                Set.of("type", "description", "reference", "key", "absent", "fields", "requires"));
        String name = required(root, members, "type").text("type");
        if (!TYPE_NAME.matcher(name).matches()) {
            throw members.get("type").error("type '" + name + "' must be dotted lower_snake_case words, e.g. income.monthly (2 or 3 parts, each at most 29 characters)");
        }
        String fileName = file.getFileName().toString();
        if (!fileName.equals(name + ".yaml")) {
            throw members.get("type").error("the declaration of " + name + " must be in a file named " + name + ".yaml, not " + fileName);
        }
        String description = required(root, members, "description").text("description");
        String reference = required(root, members, "reference").text("reference");
        KeyKind kind = switch (required(root, members, "key").text("key")) {
            case "person" -> KeyKind.PERSON;
            case "month" -> KeyKind.MONTH;
            case "episode" -> KeyKind.EPISODE;
            default -> throw members.get("key").error("key is person, month or episode");
        };
        Absent absent = switch (required(root, members, "absent").text("absent")) {
            case "unknown" -> Absent.UNKNOWN;
            case "none" -> Absent.NONE;
            default -> throw members.get("absent").error("absent is unknown (tests needing the fact are NO_DATA) or none (NOT_PASSED)");
        };
        List<Field> fields = new ArrayList<>(keyKindFields(kind));
        Set<String> names = new HashSet<>();
        fields.forEach(f -> names.add(f.name()));
        if (members.containsKey("fields") && !members.get("fields").isScalar()) {
            for (Map.Entry<YamlNode, YamlNode> entry : members.get("fields").entries("fields")) {
                String fieldName = entry.getKey().text("a field name");
                if (!FIELD_NAME.matcher(fieldName).matches()) {
                    throw entry.getKey().error("field name '" + fieldName + "' must be lower_snake_case");
                }
                if (RESERVED.contains(fieldName)) {
                    throw entry.getKey().error("'" + fieldName + "' is reserved (a fact's own column, or the withdrawal flag)");
                }
                if (!names.add(fieldName)) {
                    throw entry.getKey().error("'" + fieldName + "' is already a field of a " + kind.label() + " fact");
                }
                fields.add(field(fieldName, entry.getValue()));
            }
        } else if (members.containsKey("fields")) {
            throw members.get("fields").error("fields is a mapping of field names to their declarations (or leave it out)");
        }
        List<FactType.Requirement> requires = members.containsKey("requires") ? requires(members.get("requires"), fields) : List.of();
        return new FactType(name, kind, absent, description, reference, List.copyOf(fields), requires, fileName, text);
    }

    /**
     * {@code requires}: a list of {@code {at_least_one_of: [a, b, ...]}} (at least one of these
     * optional fields is given) and {@code {field: f, unless: {g: value}}} (the optional field f is
     * given unless the text field g holds value). The fields named must be declared, optional and
     * without a default (a default would always fill them).
     */
    private static List<FactType.Requirement> requires(YamlNode node, List<Field> fields) {
        Map<String, Field> byName = new HashMap<>();
        fields.forEach(f -> byName.put(f.name(), f));
        List<FactType.Requirement> requires = new ArrayList<>();
        for (YamlNode item : node.list("requires")) {
            Map<String, YamlNode> spec = item.map("a requirement", Set.of("at_least_one_of", "field", "unless"));
            if (spec.containsKey("at_least_one_of")) {
                if (spec.size() != 1) {
                    throw item.error("a requirement is either {at_least_one_of: [fields]} or {field: f, unless: {g: value}}");
                }
                List<String> names = new ArrayList<>();
                for (YamlNode n : spec.get("at_least_one_of").list("at_least_one_of")) {
                    String fieldName = n.text("a field name");
                    optionalField(n, byName, fieldName);
                    if (names.contains(fieldName)) {
                        throw n.error("'" + fieldName + "' is named twice");
                    }
                    names.add(fieldName);
                }
                if (names.size() < 2) {
                    throw spec.get("at_least_one_of").error("at_least_one_of names two fields or more (for one, make it required)");
                }
                requires.add(new FactType.Requirement.AtLeastOneOf(names));
            } else {
                if (!spec.containsKey("field") || !spec.containsKey("unless")) {
                    throw item.error("a requirement is either {at_least_one_of: [fields]} or {field: f, unless: {g: value}}");
                }
                String fieldName = spec.get("field").text("field");
                optionalField(spec.get("field"), byName, fieldName);
                List<Map.Entry<YamlNode, YamlNode>> unless = spec.get("unless").entries("unless");
                if (unless.size() != 1) {
                    throw spec.get("unless").error("unless names one field and its value, e.g. {kind: application}");
                }
                YamlNode whenNode = unless.get(0).getKey();
                String when = whenNode.text("a field name");
                Field whenField = byName.get(when);
                if (whenField == null || whenField.kind() != Field.Kind.TEXT || whenField.values().isEmpty()) {
                    throw whenNode.error("'" + when + "' must be a declared string field with values");
                }
                String is = unless.get(0).getValue().text("a value");
                if (!whenField.values().contains(is)) {
                    throw unless.get(0).getValue().error("'" + is + "' is not one of " + when + "'s values " + whenField.values());
                }
                if (when.equals(fieldName)) {
                    throw whenNode.error("a field cannot be required unless it has a value itself");
                }
                requires.add(new FactType.Requirement.RequiredUnless(fieldName, when, is));
            }
        }
        return List.copyOf(requires);
    }

    private static void optionalField(YamlNode at, Map<String, Field> byName, String name) {
        Field field = byName.get(name);
        if (field == null) {
            throw at.error("'" + name + "' is not a field of this type");
        }
        if (field.key() || field.required() || field.defaultValue() != null) {
            throw at.error("'" + name + "' must be an optional field without a default to be named in requires");
        }
    }

    private static Field field(String name, YamlNode node) {
        Map<String, YamlNode> spec = node.map("field " + name,
                Set.of("type", "required", "default", "min", "max", "decimals", "values", "max_length", "not_after_received", "description"));
        String type = required(node, spec, "type").text("type");
        if (!FIELD_TYPES.contains(type)) {
            throw spec.get("type").error("a field's type is one of " + String.join(", ", FIELD_TYPES.stream().sorted().toList()));
        }
        boolean required = spec.containsKey("required") && spec.get("required").bool("required");
        String description = spec.containsKey("description") ? spec.get("description").text("description") : null;
        Set<String> allowed = switch (type) {
            case "integer" -> Set.of("min", "max");
            case "number" -> Set.of("min", "max", "decimals");
            case "string" -> Set.of("values", "max_length");
            case "date" -> Set.of("not_after_received");
            default -> Set.of();
        };
        for (String option : List.of("min", "max", "decimals", "values", "max_length", "not_after_received")) {
            if (spec.containsKey(option) && !allowed.contains(option)) {
                throw spec.get(option).error("'" + option + "' does not apply to a " + type + " field");
            }
        }
        BigDecimal min = spec.containsKey("min") ? spec.get("min").number("min") : null;
        BigDecimal max = spec.containsKey("max") ? spec.get("max").number("max") : null;
        if (min != null && max != null && min.compareTo(max) > 0) {
            throw spec.get("min").error("min " + min.toPlainString() + " is above max " + max.toPlainString());
        }
        Field.Kind kind;
        int decimals = 0;
        int maxLength = 0;
        List<String> values = List.of();
        switch (type) {
            case "integer" -> {
                for (String bound : List.of("min", "max")) {
                    if (spec.containsKey(bound)) {
                        BigDecimal value = spec.get(bound).number(bound);
                        if (value.stripTrailingZeros().scale() > 0 || value.compareTo(LONG_MIN) < 0 || value.compareTo(LONG_MAX) > 0) {
                            throw spec.get(bound).error(bound + " of an integer field is a whole number within 64 bits");
                        }
                    }
                }
                kind = min != null && max != null && min.compareTo(INT_MIN) >= 0 && max.compareTo(INT_MAX) <= 0
                        ? Field.Kind.INTEGER : Field.Kind.BIGINT;
            }
            case "number" -> {
                kind = Field.Kind.DECIMAL;
                if (!spec.containsKey("decimals")) {
                    throw node.error("a number field says how many decimal places it keeps: decimals: 0 to " + Field.MAX_DECIMAL_SCALE);
                }
                BigDecimal places = spec.get("decimals").number("decimals");
                if (places.stripTrailingZeros().scale() > 0 || places.signum() < 0 || places.intValue() > Field.MAX_DECIMAL_SCALE) {
                    throw spec.get("decimals").error("decimals is a whole number from 0 to " + Field.MAX_DECIMAL_SCALE);
                }
                decimals = places.intValue();
                if (min == null || max == null || min.abs().compareTo(DECIMAL_LIMIT) >= 0 || max.abs().compareTo(DECIMAL_LIMIT) >= 0) {
                    throw node.error("a number field needs min and max, each below " + DECIMAL_LIMIT.toPlainString() + " in size");
                }
            }
            case "boolean" -> kind = Field.Kind.BOOLEAN;
            case "date" -> kind = Field.Kind.DATE;
            default -> {
                kind = Field.Kind.TEXT;
                if (spec.containsKey("values")) {
                    List<String> listed = new ArrayList<>();
                    for (YamlNode value : spec.get("values").list("values")) {
                        String text = value.text("a value");
                        if (text.isEmpty() || listed.contains(text)) {
                            throw value.error("values are distinct, non-empty texts");
                        }
                        listed.add(text);
                    }
                    if (listed.isEmpty()) {
                        throw spec.get("values").error("values lists at least one value");
                    }
                    values = List.copyOf(listed);
                    maxLength = listed.stream().mapToInt(String::length).max().orElse(1);
                } else if (spec.containsKey("max_length")) {
                    BigDecimal length = spec.get("max_length").number("max_length");
                    if (length.stripTrailingZeros().scale() > 0 || length.signum() <= 0 || length.intValue() > Field.MAX_TEXT_LENGTH) {
                        throw spec.get("max_length").error("max_length is a whole number from 1 to " + Field.MAX_TEXT_LENGTH);
                    }
                    maxLength = length.intValue();
                } else {
                    throw node.error("a string field lists its values (values: [...]) or bounds its length (max_length: n)");
                }
            }
        }
        boolean notAfterToday = spec.containsKey("not_after_received") && spec.get("not_after_received").bool("not_after_received");
        Object defaultValue = null;
        if (spec.containsKey("default")) {
            if (required) {
                throw spec.get("default").error("a required field has no default");
            }
            defaultValue = defaultValue(spec.get("default"), kind, min, max, values);
        }
        return new Field(name, kind, false, required, defaultValue, min, max, decimals, notAfterToday, values, maxLength, description);
    }

    private static Object defaultValue(YamlNode node, Field.Kind kind, BigDecimal min, BigDecimal max, List<String> values) {
        return switch (kind) {
            case BOOLEAN -> node.bool("default");
            case DATE -> {
                try {
                    yield LocalDate.parse(node.text("default"));
                } catch (DateTimeParseException e) {
                    throw node.error("default must be a date (YYYY-MM-DD)");
                }
            }
            case TEXT -> {
                String text = node.text("default");
                if (!values.isEmpty() && !values.contains(text)) {
                    throw node.error("default must be one of the values");
                }
                yield text;
            }
            default -> {
                BigDecimal number = node.number("default");
                if ((min != null && number.compareTo(min) < 0) || (max != null && number.compareTo(max) > 0)) {
                    throw node.error("default is outside min..max");
                }
                if (kind == Field.Kind.DECIMAL) {
                    yield number;
                }
                if (number.stripTrailingZeros().scale() > 0) {
                    throw node.error("default of an integer field is a whole number");
                }
                yield kind == Field.Kind.INTEGER ? (Object) number.intValueExact() : (Object) number.longValueExact();
            }
        };
    }

    private static YamlNode required(YamlNode parent, Map<String, YamlNode> members, String key) {
        YamlNode value = members.get(key);
        if (value == null) {
            throw parent.error("'" + key + "' is required here");
        }
        return value;
    }
}
