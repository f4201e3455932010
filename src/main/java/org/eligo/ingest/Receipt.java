package org.eligo.ingest;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/** What ingest answers for one message: its id, current status, and whether it was a resubmission. */
@Schema(name = "MessageReceipt")
public record Receipt(String id, MessageStatus status, boolean duplicate) {
}
