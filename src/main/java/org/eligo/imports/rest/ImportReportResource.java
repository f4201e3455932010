package org.eligo.imports.rest;

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
import org.eligo.auth.Caller;
import org.eligo.auth.Role;
import org.eligo.determinations.DeterminationService;
import org.eligo.imports.ImportService;
import org.eligo.imports.ImportView;
import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;

/** A bulk import's progress and report (the upload is {@link ImportResource}'s). */
@Path("/v1/imports")
@Tag(name = "Imports")
public class ImportReportResource {

    private final ImportService imports;
    private final Caller caller;

    public ImportReportResource(ImportService imports, Caller caller) {
        this.imports = imports;
        this.caller = caller;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The imports, newest first, with their progress and counts: an agency's own, or every one for an analyst")
    @APIResponse(responseCode = "200", description = "A page of imports",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ImportView.Page.class)))
    @APIResponse(responseCode = "400", description = "An unknown status, a malformed limit or cursor",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.AGENCY, Role.ANALYST})
    public ImportView.Page list(@Parameter(description = "STORING (in progress), DONE or FAILED; default all") @QueryParam("status") String status,
                                @Parameter(description = "imports per page, 1 to 500 (default 50)") @QueryParam("limit") String limit,
                                @Parameter(description = "from a previous answer's next_cursor") @QueryParam("cursor") String cursor) {
        String sender = caller.has(Role.ANALYST) || caller.submittableSources() == null ? null : caller.subject();
        return imports.list(status, sender, DeterminationService.limit(limit), cursor);
    }

    @GET
    @Path("/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "An import's progress, then its report: counts and the rejected lines, a page at a time")
    @APIResponse(responseCode = "200", description = "The import",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ImportView.class)))
    @APIResponse(responseCode = "403", description = "An agency reads only the imports its own token's subject sent",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "404", description = "No such import",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.AGENCY, Role.ANALYST})
    public ImportView get(@PathParam("id") String id,
                          @Parameter(description = "rejected lines per page, 1 to 500 (default 50)") @QueryParam("limit") String limit,
                          @Parameter(description = "from a previous answer's next_cursor") @QueryParam("cursor") String cursor) {
        int pageSize = DeterminationService.limit(limit);
        return imports.view(id, pageSize, cursor, submitter -> {
            if (!caller.has(Role.ANALYST) && !submitter.equals(caller.subject()) && caller.submittableSources() != null) {
                throw ProblemException.forbidden("An agency reads only the imports sent with its own token's subject.");
            }
        });
    }
}
