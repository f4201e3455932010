package org.eligo.ingest;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * A message as stored (table {@code message}, owned by {@link Messages}; the table and why it is
 * partitioned: V2__messages.sql). Its content never changes (a trigger refuses it, and the columns
 * are not updatable here); only its processing state moves. Messages are inserted set-wise by
 * {@link Messages#insert}, never persisted one by one through this entity.
 */
@Entity
@Table(name = "message")
public class Message {

    @Id
    public String id;

    @Column(updatable = false)
    public String source;

    @Column(name = "external_id", updatable = false)
    public String externalId;

    /** The fact type the message carries. */
    @Column(updatable = false)
    public String type;

    @Column(name = "beneficiary_id", updatable = false)
    public String beneficiaryId;

    @Column(name = "occurred_at", updatable = false)
    public Instant occurredAt;

    @Column(name = "received_at", insertable = false, updatable = false)
    public Instant receivedAt;

    /** The data as submitted: jsonb, read as its text. */
    @Column(updatable = false)
    public String data;

    @Column(updatable = false)
    public String traceparent;

    @Enumerated(EnumType.STRING)
    public MessageStatus status;

    public int attempts;

    @Column(name = "last_error")
    public String lastError;

    /** Not claimed before this instant (a failed attempt's backoff). */
    @Column(name = "next_attempt_at")
    public Instant nextAttemptAt;

    @Column(name = "processed_at")
    public Instant processedAt;
}
