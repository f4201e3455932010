package org.eligo.ingest;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What ingest answers for one message: its id, current status, and whether it was a resubmission;
 * {@code purged} (present only when true): the message stored under this key was removed by
 * retention, so its status is the last it had, and the key stays taken (issue 20).
 */
@Schema(name = "MessageReceipt")
public record Receipt(String id, MessageStatus status, boolean duplicate,
                      @JsonInclude(JsonInclude.Include.NON_NULL)
                      @Schema(description = "true when the message stored under this key was removed by retention: the key stays taken; absent otherwise")
                      Boolean purged) {

    public Receipt(String id, MessageStatus status, boolean duplicate) {
        this(id, status, duplicate, null);
    }
}
