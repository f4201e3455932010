package org.eligo.replays.rest;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import com.fasterxml.jackson.databind.JsonNode;

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
import org.eligo.replays.Replay;
import org.eligo.replays.ReplayService;
import org.eligo.support.JsonBodies;
import org.eligo.support.Requests;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;
import org.jboss.resteasy.reactive.RestResponse;

/** Replays stored messages through the current parsers (analysts). */
@Path("/v1/replays")
@Tag(name = "Replays")
@Allowed(Role.ANALYST)
public class ReplayResource {

    private static final int MAX_BODY = 1024 * 1024;
    private static final int MAX_REASON = 2000;

    @Schema(name = "ReplayRequest", additionalProperties = Schema.False.class)
    record ReplayRequest(@Schema(description = "beneficiaries to replay (or leave out and name types)", maxItems = 10000) List<String> beneficiaryIds,
                         @Schema(description = "fact types to replay (GET /v1/fact-types lists them); default all")
                         List<String> types,
                         @Schema(defaultValue = "false", description = "report what would change and store nothing") Boolean dryRun,
                         String reason) {
    }

    private final ReplayService replays;
    private final JsonBodies bodies;

    private final Caller caller;

    private final FactTypes types;

    public ReplayResource(ReplayService replays, JsonBodies bodies, Caller caller, FactTypes types) {
        this.types = types;
        this.caller = caller;
        this.replays = replays;
        this.bodies = bodies;
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Re-derive facts from stored messages with the current parsers",
            description = "dry_run reports, fact by fact, what would change. Otherwise re-derived facts supersede the old ones, linked to the "
                    + "same messages and to the replay, and the affected beneficiaries get new determinations. Nothing is deleted.")
    @RequestBody(required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ReplayRequest.class)))
    @APIResponse(responseCode = "201", description = "The replay, stored, with what it changed",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Replay.class)))
    @APIResponse(responseCode = "200", description = "A dry run, or a replay that found nothing to change (nothing stored)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = Replay.class)))
    @APIResponse(responseCode = "400", description = "An invalid request",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public RestResponse<Replay> replay(InputStream body) {
        List<FieldError> errors = new ArrayList<>();
        JsonNode request = bodies.readObject(body, MAX_BODY, Set.of("beneficiary_ids", "types", "dry_run", "reason"), errors);
        List<String> beneficiaries = strings(request, "beneficiary_ids", errors);
        for (int i = 0; i < beneficiaries.size(); i++) {
            if (!Requests.BENEFICIARY_ID.matcher(beneficiaries.get(i)).matches()) {
                errors.add(FieldError.at("/beneficiary_ids/" + i, Requests.BENEFICIARY_ID_RULE));
            }
        }
        if (beneficiaries.size() > ReplayService.MAX_BENEFICIARIES) {
            errors.add(FieldError.at("/beneficiary_ids", "at most " + ReplayService.MAX_BENEFICIARIES));
        }
        List<String> types = strings(request, "types", errors);
        for (int i = 0; i < types.size(); i++) {
            if (this.types.byName(types.get(i)).isEmpty()) {
                errors.add(FieldError.at("/types/" + i, "unknown type; known types: " + this.types.names()));
            }
        }
        if (beneficiaries.isEmpty() && types.isEmpty() && errors.isEmpty()) {
            errors.add(FieldError.at("/beneficiary_ids", "name beneficiary_ids, types, or both"));
        }
        JsonNode dryRun = request.get("dry_run");
        if (dryRun != null && !dryRun.isNull() && !dryRun.isBoolean()) {
            errors.add(FieldError.at("/dry_run", "must be true or false"));
        }
        JsonNode reason = request.get("reason");
        if (reason != null && !reason.isNull() && (!reason.isTextual() || reason.textValue().length() > MAX_REASON)) {
            errors.add(FieldError.at("/reason", "must be text of at most " + MAX_REASON + " characters"));
        }
        if (!errors.isEmpty()) {
            throw ProblemException.badRequest("The replay request is invalid; see errors.", errors);
        }
        ReplayService.Outcome outcome = replays.replay(beneficiaries.stream().distinct().toList(), types.stream().distinct().toList(),
                dryRun != null && dryRun.asBoolean(false), reason == null || reason.isNull() ? null : reason.textValue().replace('\u0000', ' '));
        // Every beneficiary whose record the replay read, named or found by type (a replay by type names none).
        caller.concerns(outcome.beneficiaries());
        Replay replay = outcome.replay();
        return RestResponse.ResponseBuilder.create(replay.id() == null ? RestResponse.Status.OK : RestResponse.Status.CREATED, replay).build();
    }

    private static List<String> strings(JsonNode request, String field, List<FieldError> errors) {
        JsonNode node = request.get(field);
        List<String> values = new ArrayList<>();
        if (node == null || node.isNull()) {
            return values;
        }
        if (!node.isArray()) {
            errors.add(FieldError.at("/" + field, "must be an array of strings"));
            return values;
        }
        for (int i = 0; i < node.size(); i++) {
            if (!node.get(i).isTextual()) {
                errors.add(FieldError.at("/" + field + "/" + i, "must be a string"));
            } else {
                values.add(node.get(i).textValue());
            }
        }
        return values;
    }
}
