package org.eligo.facts;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.LocalDate;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The JSON Schema of a fact type's {@code data}, written from its declaration: what
 * {@code GET /v1/fact-types} serves and what the OpenAPI document shows for each type. Validation
 * ({@link FactData}) reads the same declaration, so the two cannot drift apart.
 */
public final class FactTypeSchemas {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private FactTypeSchemas() {
    }

    /**
     * The schema of {@code data} for {@code type}: one of the fact's fields (the first alternative)
     * or a withdrawal of the key's fact (the key's fields and {@code "withdrawn": true}).
     */
    public static ObjectNode of(FactType type) {
        ObjectNode schema = JSON.objectNode();
        schema.put("title", type.name());
        schema.put("description", type.description() + " Key: " + keyText(type) + ". Reference: " + type.reference() + ".");
        ArrayNode oneOf = schema.putArray("oneOf");
        ObjectNode fact = object(type.fields(), type.name() + ": the fact", null);
        requirements(type, fact);
        oneOf.add(fact);
        ObjectNode withdrawal = object(type.keyFields(), type.name() + ": a withdrawal",
                "Withdraws the key's fact (sent for the wrong person, say): the key's fields and \"withdrawn\": true, nothing else."
                        + " It supersedes the key's fact, and the key then reads as having no fact.");
        ObjectNode flag = ((ObjectNode) withdrawal.get("properties")).putObject(FactData.WITHDRAWN);
        flag.put("type", "boolean");
        flag.putArray("enum").add(true);
        ((ArrayNode) withdrawal.withArray("required")).add(FactData.WITHDRAWN);
        oneOf.add(withdrawal);
        return schema;
    }

    private static ObjectNode object(java.util.List<Field> fields, String title, String description) {
        ObjectNode schema = JSON.objectNode();
        schema.put("type", "object");
        schema.put("title", title);
        if (description != null) {
            schema.put("description", description);
        }
        ObjectNode properties = schema.putObject("properties");
        ArrayNode required = schema.putArray("required");
        for (Field field : fields) {
            properties.set(field.name(), property(field));
            if (field.required()) {
                required.add(field.name());
            }
        }
        if (required.isEmpty()) {
            schema.remove("required");
        }
        schema.put("additionalProperties", false);
        return schema;
    }

    /** The declaration's {@code requires}, as {@code allOf} of {@code anyOf} alternatives. */
    private static void requirements(FactType type, ObjectNode fact) {
        if (type.requires().isEmpty()) {
            return;
        }
        ArrayNode allOf = fact.putArray("allOf");
        for (FactType.Requirement requirement : type.requires()) {
            ArrayNode anyOf = allOf.addObject().putArray("anyOf");
            if (requirement instanceof FactType.Requirement.AtLeastOneOf one) {
                one.fields().forEach(name -> anyOf.addObject().putArray("required").add(name));
            } else if (requirement instanceof FactType.Requirement.RequiredUnless unless) {
                anyOf.addObject().putArray("required").add(unless.field());
                ObjectNode otherwise = anyOf.addObject();
                otherwise.putObject("properties").putObject(unless.when()).put("const", unless.is());
                otherwise.putArray("required").add(unless.when());
            }
        }
    }

    private static String keyText(FactType type) {
        return switch (type.key()) {
            case PERSON -> "one per beneficiary";
            case MONTH -> "one per beneficiary, year and month";
            case EPISODE -> "one per beneficiary and episode_id";
        };
    }

    private static ObjectNode property(Field field) {
        ObjectNode property = JSON.objectNode();
        property.put("type", field.kind().jsonType());
        switch (field.kind()) {
            case DATE -> property.put("format", "date");
            case DECIMAL -> {
                if (field.decimals() > 0) {
                    property.put("multipleOf", BigDecimal.ONE.movePointLeft(field.decimals()));
                } else {
                    property.put("multipleOf", 1);
                }
            }
            case TEXT -> {
                if (!field.values().isEmpty()) {
                    ArrayNode values = property.putArray("enum");
                    field.values().forEach(values::add);
                } else {
                    property.put("minLength", 1);
                    property.put("maxLength", field.maxLength());
                }
            }
            default -> {
            }
        }
        if (field.min() != null) {
            property.put("minimum", number(field.min()));
        }
        if (field.max() != null) {
            property.put("maximum", number(field.max()));
        }
        Object defaultValue = field.defaultValue();
        if (defaultValue instanceof Boolean b) {
            property.put("default", b);
        } else if (defaultValue instanceof Integer i) {
            property.put("default", i);
        } else if (defaultValue instanceof Long l) {
            property.put("default", l);
        } else if (defaultValue instanceof BigDecimal d) {
            property.put("default", d);
        } else if (defaultValue instanceof String || defaultValue instanceof LocalDate) {
            property.put("default", defaultValue.toString());
        }
        StringBuilder description = new StringBuilder(field.description() == null ? "" : field.description());
        if (field.notAfterToday()) {
            append(description, "not after the day the message is received");
        }
        if (field.kind() == Field.Kind.DECIMAL) {
            append(description, "at most " + field.decimals() + " decimal places");
        }
        if (!description.isEmpty()) {
            property.put("description", description.toString());
        }
        return property;
    }

    private static void append(StringBuilder description, String text) {
        if (!description.toString().contains(text)) {
            description.append(description.isEmpty() ? "" : "; ").append(text);
        }
    }

    private static BigDecimal number(BigDecimal value) {
        BigDecimal stripped = value.stripTrailingZeros();
        return stripped.scale() < 0 ? new BigDecimal(new BigInteger(stripped.toPlainString())) : stripped;
    }
}
