package org.eligo.ingest.rest;

import java.io.InputStream;
import java.util.List;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Caller;
import org.eligo.auth.Role;
import org.eligo.ingest.IncomingMessage;
import org.eligo.ingest.MessageParser;
import org.eligo.ingest.MessageQueries;
import org.eligo.ingest.MessageService;
import org.eligo.ingest.MessageView;
import org.eligo.ingest.Receipt;
import org.eligo.support.problem.Problem;
import org.jboss.resteasy.reactive.RestResponse;

/**
 * The ingest API. The body is read as bytes and parsed here (not bound by the framework) so that
 * size limits, malformed JSON and every invalid field come back as problem+json with pointers.
 */
@Path("/v1/messages")
@Tag(name = "Messages")
public class MessageResource {

    /** The answer to a batch: one receipt per submitted message, in input order. */
    @Schema(name = "BatchReceipt")
    public record BatchReceipt(List<Receipt> results) {
    }

    private final MessageParser parser;
    private final MessageService messages;
    private final MessageQueries queries;
    private final Caller caller;

    public MessageResource(MessageParser parser, MessageService messages, MessageQueries queries, Caller caller) {
        this.parser = parser;
        this.messages = messages;
        this.queries = queries;
        this.caller = caller;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The messages with a status, newest first: FAILED (what processing gave up on, with the error) or RECEIVED (the backlog)",
            description = "An agency sees its token's sources' messages only; an analyst sees all.")
    @APIResponse(responseCode = "200", description = "A page of messages",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = MessageQueries.Page.class)))
    @APIResponse(responseCode = "400", description = "No status, another status, a malformed limit or cursor",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.AGENCY, Role.ANALYST})
    public MessageQueries.Page list(@Parameter(description = "FAILED or RECEIVED", required = true) @QueryParam("status") String status,
                                    @Parameter(description = "messages per page, 1 to 500 (default 50)") @QueryParam("limit") String limit,
                                    @Parameter(description = "from a previous answer's next_cursor") @QueryParam("cursor") String cursor) {
        java.util.Set<String> sources = caller.has(Role.ANALYST) ? null : caller.submittableSources();
        MessageQueries.Page page = queries.withStatus(status, sources == null ? null : List.copyOf(sources), limit, cursor);
        // The access log names every beneficiary whose messages the page shows.
        caller.concerns(page.items().stream().map(MessageView::beneficiaryId).distinct().toList());
        return page;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Submit one message",
            description = "Idempotent on (source, external_id). The message is committed before the answer.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = ApiSchemas.MessageSubmission.class)))
    @APIResponse(responseCode = "202", description = "Stored; it will be processed",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Receipt.class)))
    @APIResponse(responseCode = "200", description = "Already stored with identical content (duplicate: true)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Receipt.class)))
    @APIResponse(responseCode = "400", description = "Not JSON, not an object, an unknown type, or invalid fields (errors name each by pointer)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "The key is already used for different content",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "413", description = "The body is over the limit (default 1 MiB)",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "429", description = "The source is over its rate limit on this instance (eligo.ingest.rate-limit.*, off by default);"
            + " nothing stored; see Retry-After", content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "The backlog is over its limit; see Retry-After",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed(Role.AGENCY)
    public RestResponse<Receipt> submit(InputStream body, @HeaderParam("traceparent") String traceparent) {
        List<IncomingMessage> submitted = List.of(parser.parseOne(body));
        authorize(submitted);
        Receipt receipt = messages.submit(submitted, traceparent).get(0);
        return RestResponse.ResponseBuilder.create(receipt.duplicate() ? RestResponse.Status.OK : RestResponse.Status.ACCEPTED, receipt).build();
    }

    @POST
    @Path("/batch")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Submit up to 1000 messages, all or nothing",
            description = "If any item is invalid, 400 lists every bad item by pointer and nothing is stored; a 409 likewise stores nothing.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON,
            schema = @Schema(implementation = ApiSchemas.BatchSubmission.class)))
    @APIResponse(responseCode = "202", description = "Stored (or recognised as duplicates), one result per message in input order",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = BatchReceipt.class)))
    @APIResponse(responseCode = "400", description = "Invalid items; nothing stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "A key already used for different content; nothing stored",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "413", description = "The body (default 16 MiB) or the number of messages is over the limit",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "429", description = "The source is over its rate limit on this instance (eligo.ingest.rate-limit.*, off by default);"
            + " nothing stored; see Retry-After", content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "503", description = "The backlog is over its limit; see Retry-After",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed(Role.AGENCY)
    public RestResponse<BatchReceipt> submitBatch(InputStream body, @HeaderParam("traceparent") String traceparent) {
        List<IncomingMessage> submitted = parser.parseBatch(body);
        authorize(submitted);
        return RestResponse.ResponseBuilder.create(RestResponse.Status.ACCEPTED, new BatchReceipt(messages.submit(submitted, traceparent))).build();
    }

    /** An agency submits only for its token's sources (403 stores nothing); the log names whose data came in. */
    private void authorize(List<IncomingMessage> submitted) {
        caller.requireMaySubmitFor(submitted.stream().map(IncomingMessage::source).toList());
        caller.concerns(submitted.stream().map(IncomingMessage::beneficiaryId).toList());
    }

    @POST
    @Path("/{id}/retry")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Redrive a FAILED message (after the cause of its failure is fixed)")
    @APIResponse(responseCode = "202", description = "Queued again with fresh attempts",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = MessageView.class)))
    @APIResponse(responseCode = "404", description = "No such message",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @APIResponse(responseCode = "409", description = "The message is not FAILED",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed(Role.ANALYST)
    public RestResponse<MessageView> retry(@PathParam("id") String id) {
        queries.get(id);
        return RestResponse.ResponseBuilder.create(RestResponse.Status.ACCEPTED, messages.retry(id)).build();
    }

    @GET
    @Path("/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Read a message, its processing state and the facts derived from it")
    @APIResponse(responseCode = "200", description = "The message",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = MessageView.class)))
    @APIResponse(responseCode = "404", description = "No such message",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed({Role.AGENCY, Role.CASEWORKER, Role.ANALYST})
    public MessageView get(@PathParam("id") String id) {
        MessageView message = queries.get(id);
        caller.requireMayReadMessageOf(message.source());
        return message;
    }
}
