package org.eligo.ledger.rest;

import jakarta.ws.rs.GET;
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
import org.eligo.auth.Role;
import org.eligo.ledger.Receipts;
import org.eligo.support.problem.Problem;

/** A determination's receipt: offline proof that it is in a signed block. */
@Path("/v1/determinations/{id}/receipt")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Integrity")
public class ReceiptResource {

    private final Receipts receipts;
    private final org.eligo.determinations.DeterminationService determinations;
    private final org.eligo.auth.Caller caller;

    public ReceiptResource(Receipts receipts, org.eligo.determinations.DeterminationService determinations, org.eligo.auth.Caller caller) {
        this.receipts = receipts;
        this.determinations = determinations;
        this.caller = caller;
    }

    @GET
    @Operation(summary = "A proof that anyone can check offline that this determination, with its checks and fact ids, is in a signed block",
            description = "README, \"The ledger\", says how to check it with sha256sum and openssl, or a short script.")
    @APIResponse(responseCode = "200", description = "The receipt",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Receipts.Receipt.class)))
    @APIResponse(responseCode = "404", description = "No such determination, or its month was removed by retention (the purge is named)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "Not sealed yet (see Retry-After), or the stored determination does not match the ledger",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public Receipts.Receipt receipt(@PathParam("id") String id) {
        Receipts.Receipt receipt = receipts.forDetermination(id);
        // The receipt holds the determination itself: its beneficiary goes in the access log.
        caller.concerns(determinations.get(id, false).beneficiaryId());
        return receipt;
    }
}
