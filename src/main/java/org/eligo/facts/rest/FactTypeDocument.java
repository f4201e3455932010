package org.eligo.facts.rest;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.media.Schema.SchemaType;
import org.eligo.facts.FactType;
import org.eligo.facts.FactTypeSchemas;
import org.eligo.facts.FactTypes;

import com.fasterxml.jackson.databind.JsonNode;

import io.quarkus.smallrye.openapi.OpenApiFilter;

/**
 * Describes each declared fact type's {@code data} in the OpenAPI document, from the declarations
 * the service reads at start ({@code <eligo.rules.directory>/fact-types}), so the document shows
 * the types this deployment accepts. The annotations name two schemas this fills in:
 * {@value #TYPE_NAMES} (the type names) and {@value #DATA} (one of each type's data schema, named
 * like {@code IncomeMonthlyData}). Each data schema is {@link FactTypeSchemas#of}, the one
 * {@code GET /v1/fact-types} serves.
 */
@OpenApiFilter(OpenApiFilter.RunStage.RUNTIME_STARTUP)
public class FactTypeDocument implements OASFilter {

    /** The schema of a message or fact {@code type}: an enumeration of the declared names. */
    public static final String TYPE_NAMES = "FactTypeName";
    /** The schema of a message's or fact's {@code data}: one of the declared types' data. */
    public static final String DATA = "FactData";

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        String rules = ConfigProvider.getConfig().getOptionalValue("eligo.rules.directory", String.class).orElse("rules");
        FactTypes types = FactTypes.load(Path.of(rules).resolve(FactTypes.FOLDER));
        if (openAPI.getComponents() == null) {
            openAPI.setComponents(OASFactory.createComponents());
        }
        Schema names = OASFactory.createSchema().addType(SchemaType.STRING)
                .description("A fact type declared in rules/fact-types/ (GET /v1/fact-types lists them with their schemas)");
        Schema data = OASFactory.createSchema().addType(SchemaType.OBJECT)
                .description("The fact's typed fields, validated strictly for its type: unknown fields, wrong types and out-of-range values are 400.");
        List<Schema> oneOf = new ArrayList<>();
        for (FactType type : types.all()) {
            names.addEnumeration(type.name());
            String name = schemaName(type);
            openAPI.getComponents().addSchema(name, schema(FactTypeSchemas.of(type)));
            oneOf.add(OASFactory.createSchema().ref(name));
        }
        if (!oneOf.isEmpty()) {
            data.setOneOf(oneOf);
        }
        openAPI.getComponents().addSchema(TYPE_NAMES, names);
        openAPI.getComponents().addSchema(DATA, data);
    }

    /** income.monthly -> IncomeMonthlyData. */
    static String schemaName(FactType type) {
        StringBuilder name = new StringBuilder();
        for (String part : type.name().split("[._]")) {
            name.append(part.substring(0, 1).toUpperCase(Locale.ROOT)).append(part.substring(1));
        }
        return name.append("Data").toString();
    }

    /** The OpenAPI model of a JSON Schema written by {@link FactTypeSchemas} (the keywords it uses). */
    private static Schema schema(JsonNode json) {
        Schema schema = OASFactory.createSchema();
        if (json.has("type")) {
            schema.addType(SchemaType.valueOf(json.get("type").asText().toUpperCase(Locale.ROOT)));
        }
        if (json.has("title")) {
            schema.title(json.get("title").asText());
        }
        if (json.has("description")) {
            schema.description(json.get("description").asText());
        }
        if (json.has("format")) {
            schema.format(json.get("format").asText());
        }
        if (json.has("minimum")) {
            schema.minimum(json.get("minimum").decimalValue());
        }
        if (json.has("maximum")) {
            schema.maximum(json.get("maximum").decimalValue());
        }
        if (json.has("multipleOf")) {
            schema.multipleOf(new BigDecimal(json.get("multipleOf").asText()));
        }
        if (json.has("minLength")) {
            schema.minLength(json.get("minLength").asInt());
        }
        if (json.has("maxLength")) {
            schema.maxLength(json.get("maxLength").asInt());
        }
        if (json.has("enum")) {
            json.get("enum").forEach(value -> schema.addEnumeration(value.isBoolean() ? (Object) value.booleanValue() : value.asText()));
        }
        if (json.has("default")) {
            JsonNode value = json.get("default");
            schema.defaultValue(value.isBoolean() ? value.booleanValue() : value.isNumber() ? value.numberValue() : value.asText());
        }
        if (json.has("oneOf")) {
            java.util.List<Schema> alternatives = new java.util.ArrayList<>();
            json.get("oneOf").forEach(alternative -> alternatives.add(schema(alternative)));
            schema.setOneOf(alternatives);
        }
        if (json.has("properties")) {
            json.get("properties").fields().forEachRemaining(entry -> schema.addProperty(entry.getKey(), schema(entry.getValue())));
        }
        if (json.has("required")) {
            json.get("required").forEach(name -> schema.addRequired(name.asText()));
        }
        if (json.has("additionalProperties")) {
            schema.additionalPropertiesBoolean(json.get("additionalProperties").booleanValue());
        }
        return schema;
    }
}
