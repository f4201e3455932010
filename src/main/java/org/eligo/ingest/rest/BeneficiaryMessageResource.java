package org.eligo.ingest.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;
import org.eligo.ingest.MessageQueries;
import org.eligo.support.problem.Problem;

/** A beneficiary's messages as they arrived, newest first: what a caseworker's timeline starts from. */
@Path("/v1/beneficiaries/{beneficiary_id}/messages")
@Tag(name = "Messages")
public class BeneficiaryMessageResource {

    private final MessageQueries queries;

    public BeneficiaryMessageResource(MessageQueries queries) {
        this.queries = queries;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    @Operation(summary = "A beneficiary's messages, newest first, each with its status, its error and the facts made from it")
    @APIResponse(responseCode = "200", description = "A page of messages",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = MessageQueries.Page.class)))
    @APIResponse(responseCode = "400", description = "A malformed beneficiary id, limit or cursor",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public MessageQueries.Page messages(@PathParam("beneficiary_id") String beneficiaryId,
                                @Parameter(description = "messages per page, 1 to 500 (default 50)") @QueryParam("limit") String limit,
                                @Parameter(description = "from a previous answer's next_cursor") @QueryParam("cursor") String cursor) {
        return queries.ofBeneficiary(beneficiaryId, limit, cursor);
    }
}
