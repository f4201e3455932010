package org.eligo.replays;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * What a replay changed (or, as a dry run, would change), fact by fact.
 *
 * @param id      null for a dry run, which stores nothing
 * @param changes one entry per message whose re-derived fact differs from its latest fact, or whose
 *                fact must become active again
 */
@Schema(name = "Replay")
public record Replay(@Schema(nullable = true) String id, boolean dryRun, List<String> beneficiaryIds, List<String> types, String reason,
                     int messagesReplayed, int beneficiariesChanged, List<Change> changes, List<Failure> failures) {

    /** One message's fact: before, after, and the facts involved. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Change(String messageId, String beneficiaryId, String type, String kind, String previousFactId, JsonNode previous,
                         JsonNode rederived, String newFactId) {
    }

    /** A message the current parsers cannot turn into a fact; its facts are left as they are. */
    public record Failure(String messageId, String error) {
    }
}
