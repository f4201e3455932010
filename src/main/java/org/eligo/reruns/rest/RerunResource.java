package org.eligo.reruns.rest;

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
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Caller;
import org.eligo.auth.Role;
import org.eligo.reruns.RerunService;
import org.eligo.reruns.RerunView;
import org.eligo.support.JsonBodies;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.Problem;
import org.jboss.resteasy.reactive.RestResponse;

/** Reruns for analysts: start one, watch it, cancel it, redrive its failed items, see what changed. */
@Path("/v1/reruns")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Reruns")
@Allowed(Role.ANALYST)
public class RerunResource {

    @Schema(name = "RerunRequest", additionalProperties = Schema.False.class)
    record RerunRequest(@Schema(required = true, enumeration = {"changed", "all", "beneficiaries"}) String scope,
                        @Schema(description = "with scope beneficiaries") List<String> beneficiaryIds,
                        @Schema(required = true, example = "2027-07") String period,
                        @Schema(description = "optional when one ruleset is loaded") String ruleset,
                        String reason) {
    }

    /** A page of changed results. */
    @Schema(name = "RerunChangePage")
    public record ChangePage(List<RerunView.Change> items, String nextCursor) {
    }

    private final RerunService reruns;
    private final JsonBodies bodies;
    private final Caller caller;

    public RerunResource(RerunService reruns, JsonBodies bodies, Caller caller) {
        this.reruns = reruns;
        this.bodies = bodies;
        this.caller = caller;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Operation(summary = "Rerun determinations for the changed, everyone, or named beneficiaries")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RerunRequest.class)))
    @APIResponse(responseCode = "202", description = "Stored and queued",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RerunView.Accepted.class)))
    @APIResponse(responseCode = "400", description = "An invalid request",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public RestResponse<RerunView.Accepted> create(InputStream body) {
        List<FieldError> errors = new ArrayList<>();
        JsonNode request = bodies.readObject(body, 16 * 1024 * 1024, Set.of("scope", "beneficiary_ids", "period", "ruleset", "reason"), errors);
        RerunService.Request checked = reruns.check(request, errors);
        caller.concerns(checked.beneficiaries());
        RerunView.Accepted accepted = reruns.create(checked, caller.subject());
        return RestResponse.ResponseBuilder.create(RestResponse.Status.ACCEPTED, accepted)
                .location(java.net.URI.create("/v1/reruns/" + accepted.id())).build();
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "A rerun's progress: done, failed, changed results, rate and ETA")
    @APIResponse(responseCode = "200", description = "The rerun",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RerunView.class)))
    @APIResponse(responseCode = "404", description = "No such rerun",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public RerunView get(@PathParam("id") String id) {
        return reruns.get(id);
    }

    @POST
    @Path("/{id}/cancel")
    @Operation(summary = "Cancel a rerun: chunks in flight finish, no new one starts")
    @APIResponse(responseCode = "202", description = "Cancelled (or already finished)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RerunView.class)))
    public RestResponse<RerunView> cancel(@PathParam("id") String id) {
        return RestResponse.ResponseBuilder.create(RestResponse.Status.ACCEPTED, reruns.cancel(id)).build();
    }

    @POST
    @Path("/{id}/retry")
    @Operation(summary = "Redrive a rerun's FAILED items (after the cause of their failure is fixed)")
    @APIResponse(responseCode = "202", description = "The failed items are pending again and the run is running",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RerunView.class)))
    @APIResponse(responseCode = "404", description = "No such rerun",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "The run has no failed items, or was cancelled",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public RestResponse<RerunView> retry(@PathParam("id") String id) {
        return RestResponse.ResponseBuilder.create(RestResponse.Status.ACCEPTED, reruns.retry(id)).build();
    }

    @GET
    @Path("/{id}/changes")
    @Operation(summary = "The beneficiaries whose result changed, with both determination ids")
    @APIResponse(responseCode = "200", description = "A page of changes",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ChangePage.class)))
    public ChangePage changes(@PathParam("id") String id, @QueryParam("limit") String limit, @QueryParam("cursor") String cursor) {
        RerunService.ChangePage page = reruns.changes(id, limit, cursor);
        // A page of changes names beneficiaries and their results: each is recorded in the access log.
        caller.concerns(page.items().stream().map(RerunView.Change::beneficiaryId).toList());
        return new ChangePage(page.items(), page.nextCursor());
    }
}
