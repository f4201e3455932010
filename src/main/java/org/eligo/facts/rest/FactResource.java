package org.eligo.facts.rest;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

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
import org.eligo.facts.Fact;
import org.eligo.facts.Facts;
import org.eligo.support.Ids;
import org.eligo.support.Requests;
import org.eligo.support.Timestamps;
import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;

/** Read access to facts: one by id, and a beneficiary's facts as of an instant. */
@Path("/v1")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Facts")
public class FactResource {

    /** A page of a beneficiary's facts at an instant. */
    @Schema(name = "BeneficiaryFacts")
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.ALWAYS)
    public record BeneficiaryFacts(String beneficiaryId, Instant asOf, List<Fact> facts,
                                   @Schema(nullable = true, description = "pass as cursor for the next page (it keeps this as_of); null on the last")
                                   String nextCursor) {
    }

    /** Facts a page holds by default and at most: a beneficiary's whole record, for all but the longest. */
    static final int DEFAULT_LIMIT = 500;
    static final int MAX_LIMIT = 1000;

    private final Facts facts;

    public FactResource(Facts facts) {
        this.facts = facts;
    }

    @GET
    @Path("/facts/{id}")
    @Operation(summary = "Read one fact")
    @APIResponse(responseCode = "200", description = "The fact")
    @APIResponse(responseCode = "404", description = "No such fact",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public Fact fact(@PathParam("id") String id) {
        if (!Ids.isWellFormed(id, Ids.FACT)) {
            throw ProblemException.notFound("No fact with id " + id);
        }
        return facts.byId(id).orElseThrow(() -> ProblemException.notFound("No fact with id " + id));
    }

    @GET
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    @Path("/beneficiaries/{beneficiary_id}/facts")
    @Operation(summary = "A beneficiary's facts as of an instant",
            description = "The facts active at as_of (created at or before it, not revoked at it); with include_revoked=true, "
                    + "every fact created at or before as_of.")
    @APIResponse(responseCode = "200", description = "The facts")
    @APIResponse(responseCode = "400", description = "A malformed parameter",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public BeneficiaryFacts beneficiaryFacts(
            @PathParam("beneficiary_id") String beneficiaryId,
            @Parameter(description = "RFC 3339 instant; default now") @QueryParam("as_of") String asOf,
            @Parameter(description = "true to include revoked facts; default false") @QueryParam("include_revoked") String includeRevoked,
            @Parameter(description = "facts per page, 1 to " + MAX_LIMIT + " (default " + DEFAULT_LIMIT + ")") @QueryParam("limit") String limit,
            @Parameter(description = "from a previous page's next_cursor") @QueryParam("cursor") String cursor) {
        Requests.requireBeneficiaryId(beneficiaryId);
        Instant instant = asOf == null ? null : parseAsOf(asOf);
        boolean revoked = Requests.parseBoolean("include_revoked", includeRevoked, false);
        int size = Requests.limit(limit, DEFAULT_LIMIT, MAX_LIMIT);
        Facts.Place after = null;
        if (cursor != null && !cursor.isEmpty()) {
            FactCursor.Decoded place = FactCursor.decode(cursor);
            if (instant != null && !instant.equals(place.asOf())) {
                throw ProblemException.badParameter("cursor", "belongs to a listing as of " + place.asOf() + ", not " + instant
                        + ": leave as_of out, or start again without a cursor");
            }
            instant = place.asOf();
            after = place.place();
        }
        Facts.Page page = facts.forBeneficiary(beneficiaryId, instant, revoked, after, size);
        return new BeneficiaryFacts(beneficiaryId, page.asOf(), page.facts(),
                page.next() == null ? null : FactCursor.encode(page.asOf(), page.next()));
    }

    private static Instant parseAsOf(String text) {
        try {
            return Timestamps.parse(text);
        } catch (DateTimeParseException e) {
            throw ProblemException.badParameter("as_of", "must be an RFC 3339 timestamp between the years 0001 and 9999, e.g. 2027-05-02T10:00:00Z");
        }
    }
}
