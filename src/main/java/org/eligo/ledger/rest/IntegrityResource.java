package org.eligo.ledger.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;
import org.eligo.ledger.Integrity;
import org.eligo.ledger.Verifications;
import org.eligo.support.problem.Problem;

/** Verifies every stored record against the ledger. */
@Path("/v1/integrity/verify")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Integrity")
@Allowed(Role.ANALYST)
public class IntegrityResource {

    private final Verifications verifications;

    public IntegrityResource(Verifications verifications) {
        this.verifications = verifications;
    }

    @GET
    @Operation(summary = "Check every stored record, entry and block against the ledger",
            description = "ok false names the first record found altered, removed, written behind the service's back, or wrongly sealed, and says which check failed.")
    @APIResponse(responseCode = "200", description = "The answer",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Integrity.class)))
    @APIResponse(responseCode = "503", description = "This instance already runs eligo.ledger.max-concurrent-verifications full verifications; see Retry-After",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public Integrity verify() {
        return verifications.verifyNow();
    }
}
