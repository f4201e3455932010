package org.eligo.ledger.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Caller;
import org.eligo.auth.Role;
import org.eligo.ledger.Verifications;
import org.eligo.support.problem.Problem;
import org.jboss.resteasy.reactive.RestResponse;

/** Full verifications of the ledger as background jobs, with their progress. */
@Path("/v1/integrity/verifications")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Integrity")
@Allowed(Role.ANALYST)
public class VerificationResource {

    private final Verifications verifications;
    private final Caller caller;

    public VerificationResource(Verifications verifications, Caller caller) {
        this.verifications = verifications;
        this.caller = caller;
    }

    @POST
    @Operation(summary = "Start a full verification in the background",
            description = "The same check as GET /v1/integrity/verify, on a worker thread; follow it at GET /v1/integrity/verifications/{id}.")
    @APIResponse(responseCode = "202", description = "Started",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Verifications.Run.class)))
    @APIResponse(responseCode = "503", description = "This instance already runs eligo.ledger.max-concurrent-verifications full verifications; see Retry-After",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public RestResponse<Verifications.Run> start() {
        return RestResponse.status(RestResponse.Status.ACCEPTED, verifications.startFull(caller.subject()));
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "A verification: its status, progress and, once DONE, its answer")
    @APIResponse(responseCode = "200", description = "The verification",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Verifications.Run.class)))
    @APIResponse(responseCode = "404", description = "No such verification",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Verifications.Run get(@PathParam("id") String id) {
        return verifications.get(id);
    }
}
