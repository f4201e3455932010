package org.eligo.ingest;

/**
 * Where a message is in its processing (column {@code message.status}; the table's CHECK lists the
 * same names). A message is RECEIVED until a worker turns it into a fact (PROCESSED) or gives up on
 * it after {@code eligo.queue.max-attempts} (FAILED, until POST /v1/messages/{id}/retry queues it
 * again). {@link Messages} owns the table and is where these become SQL.
 */
public enum MessageStatus {
    RECEIVED,
    PROCESSED,
    FAILED
}
