package org.eligo.facts.rest;

import java.util.List;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;
import org.eligo.facts.FactType;
import org.eligo.facts.FactTypeSchemas;
import org.eligo.facts.FactTypes;

/**
 * The fact types the service accepts, as declared in {@code rules/fact-types/}. No beneficiary data:
 * every role may read it, agencies included (it says what they may send).
 */
@Path("/v1/fact-types")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Facts")
@Allowed({Role.AGENCY, Role.CASEWORKER, Role.ANALYST})
public class FactTypeResource {

    /** One declared fact type. */
    @Schema(name = "FactType")
    public record FactTypeView(
            @Schema(description = "the message and fact type", example = "income.monthly") String type,
            @Schema(enumeration = {"person", "month", "episode"}, description = "what identifies one fact besides the beneficiary") String key,
            @Schema(enumeration = {"unknown", "none"}, description = "what having no active fact of the type means: unknown (NO_DATA) or none (NOT_PASSED)") String absent,
            String description,
            @Schema(description = "the law or rule it comes from") String reference,
            @Schema(type = SchemaType.OBJECT, description = "the JSON Schema of the type's data") ObjectNode schema) {
    }

    private final FactTypes types;

    public FactTypeResource(FactTypes types) {
        this.types = types;
    }

    @GET
    @Operation(summary = "The fact types the service accepts, with the JSON Schema of each one's data")
    public List<FactTypeView> list() {
        return types.all().stream().map(FactTypeResource::view).toList();
    }

    static FactTypeView view(FactType type) {
        return new FactTypeView(type.name(), type.key().label(), type.absent().label(), type.description(), type.reference(),
                FactTypeSchemas.of(type));
    }
}
