package org.eligo.rules.rest;

import java.util.List;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetRegistry;
import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;

/** The loaded rulesets, and one with its definition (its files as JSON). */
@Path("/v1/rulesets")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Rulesets")
@Allowed({Role.CASEWORKER, Role.ANALYST})
public class RulesetResource {

    /** A ruleset; {@code definition} only when one is asked for by id. */
    @Schema(name = "Ruleset")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RulesetView(String id, String version, String sha256, String title,
                              @Schema(description = "the ruleset and parameters files as JSON") JsonNode definition,
                              @Schema(description = "every version and when it came into force, oldest first") List<RulesetRegistry.Activation> history) {
    }

    private final RulesetRegistry rulesets;

    public RulesetResource(RulesetRegistry rulesets) {
        this.rulesets = rulesets;
    }

    @GET
    @Operation(summary = "The loaded rulesets")
    public List<RulesetView> list() {
        return rulesets.all().stream().map(r -> view(r, false)).toList();
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "A loaded ruleset with its definition")
    @APIResponse(responseCode = "200", description = "The ruleset")
    @APIResponse(responseCode = "404", description = "No such ruleset",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public RulesetView get(@PathParam("id") String id) {
        Ruleset ruleset = rulesets.find(id).orElseThrow(() -> ProblemException.notFound("No ruleset with id " + id));
        return new RulesetView(ruleset.id(), ruleset.version(), ruleset.sha256(), ruleset.title(), ruleset.definition(), rulesets.history(id));
    }

    @GET
    @Path("/{id}/versions/{sha256}")
    @Operation(summary = "A recorded version of a ruleset with its definition: the one a determination's ruleset.sha256 names, loaded or not")
    @APIResponse(responseCode = "200", description = "The version, with the ruleset and parameters files as they were (parameter values, dates and references)")
    @APIResponse(responseCode = "404", description = "No such version of that ruleset was ever loaded",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public RulesetView version(@PathParam("id") String id, @PathParam("sha256") String sha256) {
        ProblemException missing = ProblemException.notFound("No version " + sha256 + " of ruleset " + id + " was ever loaded");
        if (!SHA256.matcher(sha256).matches()) {
            throw missing;
        }
        RulesetRegistry.Recorded recorded = rulesets.recorded(id, sha256).orElseThrow(() -> missing);
        return new RulesetView(id, recorded.version(), sha256, recorded.title(), recorded.definition(), null);
    }

    private static final java.util.regex.Pattern SHA256 = java.util.regex.Pattern.compile("[0-9a-f]{64}");

    private static RulesetView view(Ruleset ruleset, boolean withDefinition) {
        return new RulesetView(ruleset.id(), ruleset.version(), ruleset.sha256(), ruleset.title(), withDefinition ? ruleset.definition() : null, null);
    }
}
