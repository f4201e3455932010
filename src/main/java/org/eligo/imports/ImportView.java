package org.eligo.imports;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** A bulk import as {@code GET /v1/imports/{id}} shows it: its progress, then its report, with a page of its rejected lines. */
@Schema(name = "Import")
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ImportView(String id,
                         ImportStatus status,
                         @Schema(description = "true while the import waits for the backlog of unprocessed messages to fall below its limit")
                         boolean paused,
                         String submittedBy,
                         Instant receivedAt,
                         Instant finishedAt,
                         @Schema(description = "non-blank lines in the file") long lines,
                         @Schema(description = "lines settled so far: new + duplicate + conflicting + invalid") long linesDone,
                         @Schema(description = "lines stored as new messages") long newLines,
                         @Schema(description = "lines whose key was already stored with the same content (nothing stored again)") long duplicateLines,
                         @Schema(description = "lines whose key was already used for other content (rejected)") long conflictingLines,
                         @Schema(description = "lines that are not a valid message, or name a source the token does not hold (rejected)") long invalidLines,
                         @Schema(description = "why the last attempt at a chunk failed as a whole, if one did") String lastError,
                         @Schema(description = "rejected lines in line order, a page at a time") List<RejectedLine> rejected,
                         @Schema(description = "pass as cursor for the next page of rejected lines; null on the last") String nextCursor) {

    /** A rejected line: its number in the file (from 1), why, and where in the line (JSON Pointers into it). */
    @Schema(name = "RejectedLine")
    public record RejectedLine(long line, @Schema(enumeration = {Imports.Rejection.INVALID, Imports.Rejection.CONFLICTING}) String kind, List<LineError> errors) {
    }

    /**
     * One thing wrong with a line: a JSON Pointer into the line, and what is wrong there. (Not the
     * problem+json {@code FieldError}: a type an endpoint returns gets Quarkus's generated
     * serializer, which would change how every problem writes its errors.)
     */
    @Schema(name = "LineError")
    public record LineError(String pointer, String message) {
    }

    /** An import in a list: its progress and counts, without its rejected lines (GET /v1/imports/{id} pages those). */
    @Schema(name = "ImportSummary")
    @JsonInclude(JsonInclude.Include.ALWAYS)
    public record Summary(String id, ImportStatus status, boolean paused, String submittedBy, Instant receivedAt, Instant finishedAt, long lines,
                          long linesDone, long newLines, long duplicateLines, long conflictingLines, long invalidLines, String lastError) {
    }

    /** A page of imports, newest first. */
    @Schema(name = "ImportPage")
    public record Page(List<Summary> items, @Schema(description = "pass as cursor for the next page; null on the last") String nextCursor) {
    }

    /** The answer to an upload. */
    @Schema(name = "ImportAccepted")
    public record Accepted(String id, ImportStatus status, long lines) {
    }
}
