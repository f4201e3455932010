package org.eligo.ingest.rest;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import jakarta.ws.rs.Consumes;
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
import org.eligo.facts.FactTypes;
import org.eligo.ingest.MessageService;
import org.eligo.ingest.Messages;
import org.eligo.support.JsonBodies;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;
import org.jboss.resteasy.reactive.RestResponse;

import com.fasterxml.jackson.databind.JsonNode;

/** Redrives failed messages in bulk: after the cause of a failure is fixed, all it failed go back to the queue in one call. */
@Path("/v1/messages/retry")
@Tag(name = "Messages")
public class FailedMessagesResource {

    static final int MAX_BODY = 16 * 1024;
    static final int DEFAULT_LIMIT = 1_000;
    static final int MAX_LIMIT = 10_000;
    static final int MAX_ERROR_TEXT = 500;

    @Schema(name = "RetryFailedRequest", additionalProperties = Schema.False.class)
    record RetryFailedRequest(@Schema(description = "only messages of this fact type") String type,
                              @Schema(description = "only messages whose last error contains this text (not a pattern)", maxLength = MAX_ERROR_TEXT)
                              String errorContains,
                              @Schema(description = "at most this many, oldest first", minimum = "1", maximum = "10000", defaultValue = "1000")
                              Integer limit) {
    }

    /** What was redriven: how many, and which (oldest first). */
    @Schema(name = "RetriedMessages")
    public record Retried(int retried, List<String> ids) {
    }

    private final MessageService messages;
    private final JsonBodies bodies;
    private final Caller caller;
    private final FactTypes types;

    public FailedMessagesResource(MessageService messages, JsonBodies bodies, Caller caller, FactTypes types) {
        this.messages = messages;
        this.bodies = bodies;
        this.caller = caller;
        this.types = types;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Redrive FAILED messages in bulk (after the cause of their failure is fixed)",
            description = "Up to limit FAILED messages, oldest first, optionally of one type and whose last error contains a text, are queued "
                    + "again with fresh attempts. Repeat until retried is 0 to redrive more than limit.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = RetryFailedRequest.class)))
    @APIResponse(responseCode = "202", description = "The messages queued again",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Retried.class)))
    @APIResponse(responseCode = "400", description = "An invalid request",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    @Allowed(Role.ANALYST)
    public RestResponse<Retried> retry(InputStream body) {
        List<FieldError> errors = new ArrayList<>();
        JsonNode request = bodies.readObject(body, MAX_BODY, Set.of("type", "error_contains", "limit"), errors);
        String type = text(request, "type", 200, errors);
        if (type != null && types.byName(type).isEmpty()) {
            errors.add(FieldError.at("/type", "unknown type; known types: " + types.names()));
        }
        String errorContains = text(request, "error_contains", MAX_ERROR_TEXT, errors);
        int limit = DEFAULT_LIMIT;
        JsonNode given = request.get("limit");
        if (given != null && !given.isNull()) {
            if (!given.canConvertToInt() || !given.isIntegralNumber() || given.intValue() < 1 || given.intValue() > MAX_LIMIT) {
                errors.add(FieldError.at("/limit", "must be a whole number from 1 to " + MAX_LIMIT));
            } else {
                limit = given.intValue();
            }
        }
        if (!errors.isEmpty()) {
            throw ProblemException.badRequest("The retry request is invalid; see errors.", errors);
        }
        List<Messages.Redriven> redriven = messages.retryFailed(type, errorContains, limit);
        caller.concerns(redriven.stream().map(Messages.Redriven::beneficiaryId).distinct().toList());
        return RestResponse.ResponseBuilder.create(RestResponse.Status.ACCEPTED,
                new Retried(redriven.size(), redriven.stream().map(Messages.Redriven::id).toList())).build();
    }

    private static String text(JsonNode request, String field, int max, List<FieldError> errors) {
        JsonNode node = request.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual() || node.textValue().isEmpty() || node.textValue().length() > max || node.textValue().indexOf('\u0000') >= 0) {
            errors.add(FieldError.at("/" + field, "must be non-empty text of at most " + max + " characters"));
            return null;
        }
        return node.textValue();
    }
}
