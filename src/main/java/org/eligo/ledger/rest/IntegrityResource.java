package org.eligo.ledger.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;
import org.eligo.ledger.Integrity;
import org.eligo.ledger.LedgerVerifier;

/** Verifies every stored record against the ledger. */
@Path("/v1/integrity/verify")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Integrity")
@Allowed(Role.ANALYST)
public class IntegrityResource {

    private final LedgerVerifier verifier;

    public IntegrityResource(LedgerVerifier verifier) {
        this.verifier = verifier;
    }

    @GET
    @Operation(summary = "Check every stored record, entry and block against the ledger",
            description = "ok false names the first record found altered, removed, written behind the service's back, or wrongly sealed, and says which check failed.")
    public Integrity verify() {
        return verifier.verify();
    }
}
