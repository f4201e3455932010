package org.eligo.determinations.rest;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import com.fasterxml.jackson.databind.JsonNode;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Caller;
import org.eligo.auth.Role;
import org.eligo.determinations.DeterminationDiff;
import org.eligo.determinations.DeterminationService;
import org.eligo.determinations.DeterminationView;
import org.eligo.support.JsonBodies;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;
import org.jboss.resteasy.reactive.RestResponse;

/** Determinations: request one, evaluate without storing, read one, a beneficiary's history, and redrive failed automatic ones. */
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Determinations")
public class DeterminationResource {

    private static final int MAX_BODY = 64 * 1024;

    @Schema(name = "DeterminationRequest", additionalProperties = Schema.False.class)
    record DeterminationRequest(@Schema(required = true, pattern = "^\\d{4}-\\d{2}$", example = "2027-07") String period,
                                @Schema(description = "optional when one ruleset is loaded", example = "medicaid-community-engagement") String ruleset) {
    }

    @Schema(name = "EvaluationRequest", additionalProperties = Schema.False.class)
    record EvaluationRequest(@Schema(required = true, pattern = "^\\d{4}-\\d{2}$", example = "2027-07") String period,
                             String ruleset,
                             @Schema(format = "date-time", description = "evaluate on the facts active at this instant; default now") String asOf,
                             @Schema(description = "What-if: parameters of the ruleset (a state option, a threshold) to evaluate with "
                                     + "instead of the ruleset's values, by name: true or false for a switch, YYYY-MM-DD for a date, "
                                     + "a number otherwise (not negative, whole if the parameter's values are, months at most 12). "
                                     + "Derived parameters follow. The answer names them in ruleset.parameters.",
                                     example = "{\"application_review_months\": 3}") java.util.Map<String, Object> parameters) {
    }

    /** A page of determinations, newest first. */
    @Schema(name = "DeterminationPage")
    public record DeterminationPage(List<DeterminationView> items, String nextCursor) {
    }

    /** The answer to a redrive. */
    @Schema(name = "DeterminationRedrive")
    public record Redriven(@Schema(description = "queued determinations at their dead end that are due again") long redriven) {
    }

    private final DeterminationService determinations;
    private final JsonBodies bodies;
    private final Caller caller;

    public DeterminationResource(DeterminationService determinations, JsonBodies bodies, Caller caller) {
        this.determinations = determinations;
        this.bodies = bodies;
        this.caller = caller;
    }

    @POST
    @Path("/beneficiaries/{beneficiary_id}/determinations")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Make and store a determination (trigger: request)")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = DeterminationRequest.class)))
    @APIResponse(responseCode = "201", description = "The stored determination",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = DeterminationView.class)))
    @APIResponse(responseCode = "400", description = "Invalid period, ruleset or beneficiary id",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public RestResponse<DeterminationView> request(@PathParam("beneficiary_id") String beneficiaryId, InputStream body) {
        List<FieldError> errors = new ArrayList<>();
        JsonNode request = bodies.readObject(body, MAX_BODY, Set.of("period", "ruleset"), errors);
        DeterminationView made = determinations.request(beneficiaryId, request, errors);
        return RestResponse.ResponseBuilder.create(RestResponse.Status.CREATED, made)
                .location(java.net.URI.create("/v1/determinations/" + made.id())).build();
    }

    @POST
    @Path("/beneficiaries/{beneficiary_id}/evaluations")
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Evaluate without storing (time travel, what-if)",
            description = "The same shape as a determination, with id null, on the facts active at as_of (default now).")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = EvaluationRequest.class)))
    @APIResponse(responseCode = "200", description = "The evaluation, not stored",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = DeterminationView.class)))
    @APIResponse(responseCode = "400", description = "Invalid period, ruleset, as_of, parameters or beneficiary id",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public DeterminationView evaluate(@PathParam("beneficiary_id") String beneficiaryId, InputStream body) {
        List<FieldError> errors = new ArrayList<>();
        JsonNode request = bodies.readObject(body, MAX_BODY, Set.of("period", "ruleset", "as_of", "parameters"), errors);
        return determinations.evaluate(beneficiaryId, request, errors);
    }

    @GET
    @Path("/determinations/{id}")
    @Operation(summary = "Read a determination; ?expand=facts adds the facts its subchecks read")
    @APIResponse(responseCode = "200", description = "The determination",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = DeterminationView.class)))
    @APIResponse(responseCode = "404", description = "No such determination",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public DeterminationView get(@PathParam("id") String id,
                             @Parameter(description = "facts: include every fact a subcheck read") @QueryParam("expand") String expand) {
        if (expand != null && !expand.isEmpty() && !expand.equals("facts")) {
            throw ProblemException.badParameter("expand", "the only expansion is 'facts'");
        }
        return determinations.get(id, "facts".equals(expand));
    }

    @GET
    @Path("/determinations/{a}/diff/{b}")
    @Operation(summary = "What differs between two determinations: result, ruleset, subchecks that changed, facts read")
    @APIResponse(responseCode = "200", description = "The differences",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = DeterminationDiff.class)))
    @APIResponse(responseCode = "404", description = "No such determination",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public DeterminationDiff diff(@PathParam("a") String a, @PathParam("b") String b) {
        DeterminationDiff diff = determinations.diff(a, b);
        caller.concerns(diff.beneficiaryId().a());
        caller.concerns(diff.beneficiaryId().b());
        return diff;
    }

    @POST
    @Path("/determinations/queue/redrive")
    @Operation(summary = "Redrive queued automatic determinations at their dead end (after the cause of their failure is fixed)",
            description = "A queued automatic determination that failed eligo.determinations.max-attempts times stays queued with its last "
                    + "error and is no longer tried (GET /v1/stats counts it as determinations.failed). This makes those of one beneficiary, "
                    + "of one ruleset, or all of them, due again with fresh attempts.")
    @APIResponse(responseCode = "202", description = "How many are due again",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Redriven.class)))
    @APIResponse(responseCode = "400", description = "A malformed beneficiary id or ruleset",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed(Role.ANALYST)
    public RestResponse<Redriven> redrive(@Parameter(description = "only this beneficiary's") @QueryParam("beneficiary_id") String beneficiaryId,
                                          @Parameter(description = "only this ruleset's") @QueryParam("ruleset") String ruleset) {
        caller.concerns(beneficiaryId);
        return RestResponse.ResponseBuilder.create(RestResponse.Status.ACCEPTED, new Redriven(determinations.redrive(beneficiaryId, ruleset))).build();
    }

    @GET
    @Path("/beneficiaries/{beneficiary_id}/determinations")
    @Operation(summary = "A beneficiary's determinations, newest first")
    @APIResponse(responseCode = "200", description = "A page; pass next_cursor as cursor for the next",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = DeterminationPage.class)))
    @APIResponse(responseCode = "400", description = "A malformed parameter",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public DeterminationPage history(@PathParam("beneficiary_id") String beneficiaryId,
                                     @Parameter(description = "only this month, YYYY-MM") @QueryParam("period") String period,
                                     @Parameter(description = "1 to 500, default 50") @QueryParam("limit") String limit,
                                     @Parameter(description = "from a previous page's next_cursor") @QueryParam("cursor") String cursor) {
        DeterminationService.Page page = determinations.history(beneficiaryId, period, limit, cursor);
        return new DeterminationPage(page.items(), page.nextCursor());
    }
}
