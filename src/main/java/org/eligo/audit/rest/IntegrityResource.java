package org.eligo.audit.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;
import org.eligo.audit.Integrity;
import org.eligo.audit.IntegrityService;

/** Verifies the audit trail. */
@Path("/v1/integrity")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Integrity")
@Allowed(Role.ANALYST)
public class IntegrityResource {

    private final IntegrityService integrity;

    public IntegrityResource(IntegrityService integrity) {
        this.integrity = integrity;
    }

    @GET
    @Path("/verify")
    @Operation(summary = "Check every stored record against its hash chain",
            description = "ok false names the first record found altered, removed or missing from its chain.")
    public Integrity verify() {
        return integrity.verify();
    }
}
