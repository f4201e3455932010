package org.eligo.imports.rest;

import java.io.InputStream;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Caller;
import org.eligo.auth.Role;
import org.eligo.imports.ImportService;
import org.eligo.imports.ImportView;
import org.eligo.support.problem.Problem;
import org.jboss.resteasy.reactive.RestResponse;

/**
 * Bulk imports. The upload is streamed to the database as it arrives (it is not buffered like the
 * other bodies: org.eligo.operations.BodyBuffering lets it through), so a file of millions of lines
 * costs the service constant memory. (A class of its own: JAX-RS picks the resource class by its
 * path first, and MessageResource's /v1/messages would otherwise take /v1/messages/import.)
 */
@Path(ImportResource.UPLOAD)
@Tag(name = "Imports")
public class ImportResource {

    public static final String UPLOAD = "/v1/messages/import";

    private final ImportService imports;
    private final Caller caller;

    public ImportResource(ImportService imports, Caller caller) {
        this.imports = imports;
        this.caller = caller;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Import a file of messages: newline-delimited JSON, one message per line (gzip accepted)",
            description = "The file is streamed into the database and answered 202 once every line is committed; the lines are then "
                    + "stored as messages in the background (GET /v1/imports/{id}). Valid lines are stored even when others are "
                    + "rejected; each line is idempotent like any submission, so a file sent again stores nothing twice. While the "
                    + "backlog is at its limit the import waits. Send `Content-Type: application/x-ndjson`; gzip with "
                    + "`Content-Encoding: gzip` (a gzip file is recognised without it too).")
    @RequestBody(required = true, content = @Content(mediaType = "application/x-ndjson",
            schema = @Schema(type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.STRING,
                    description = "one message object (as POST /v1/messages takes) per line")))
    @APIResponse(responseCode = "202", description = "Every line received; the import stores them (GET /v1/imports/{id})",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ImportView.Accepted.class)))
    @APIResponse(responseCode = "400", description = "No lines, or the body is not gzip as announced; nothing stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "413", description = "The file is over eligo.imports.max-bytes; nothing stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "As many uploads as the instance takes at once are under way; see Retry-After",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed(Role.AGENCY)
    public RestResponse<ImportView.Accepted> upload(InputStream body, @HeaderParam("Content-Encoding") String contentEncoding,
                                                    @HeaderParam("traceparent") String traceparent) {
        ImportView.Accepted accepted = imports.receive(body, contentEncoding, caller.subject(), caller.submittableSources(), traceparent);
        return RestResponse.ResponseBuilder.create(RestResponse.Status.ACCEPTED, accepted)
                .header("Location", "/v1/imports/" + accepted.id()).build();
    }
}
