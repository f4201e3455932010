package org.eligo.ledger.rest;

import java.util.List;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;
import org.eligo.ledger.Sealer;

/** The public keys that sign the ledger's blocks, for anyone checking a receipt or a digest. */
@Path("/v1/integrity/public-key")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Integrity")
public class PublicKeyResource {

    private final Sealer sealer;

    public PublicKeyResource(Sealer sealer) {
        this.sealer = sealer;
    }

    @GET
    @Operation(summary = "The Ed25519 public keys that sign ledger blocks, each with the period it was in use",
            description = "Trusted keys only (the service's configuration decides, not the database). in_use_until is null for the key in use now.")
    @Allowed({Role.AGENCY, Role.CASEWORKER, Role.ANALYST})
    public List<Sealer.KeyInUse> publicKeys() {
        return sealer.keysInUse();
    }
}
