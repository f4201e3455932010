package org.eligo.auth.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.AccessLog;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;
import org.eligo.determinations.DeterminationService;
import org.eligo.support.Requests;

/** The access log, for analysts and compliance investigators: who touched whose data, and when. */
@Path("/v1/access-log")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Audit")
@Allowed(Role.ANALYST)
public class AccessLogResource {

    private final AccessLog accessLog;

    public AccessLogResource(AccessLog accessLog) {
        this.accessLog = accessLog;
    }

    @GET
    @Operation(summary = "Recorded API requests, newest first, optionally for one beneficiary or one subject")
    public AccessLog.Page page(@QueryParam("beneficiary_id") String beneficiaryId, @QueryParam("subject") String subject,
                               @QueryParam("limit") String limit, @QueryParam("cursor") String cursor) {
        if (beneficiaryId != null) {
            Requests.requireBeneficiaryId(beneficiaryId);
        }
        if (subject != null && (subject.isEmpty() || subject.length() > 256)) {
            throw org.eligo.support.problem.ProblemException.badParameter("subject", "must be 1 to 256 characters");
        }
        return accessLog.page(beneficiaryId, subject, DeterminationService.limit(limit), cursor);
    }
}
