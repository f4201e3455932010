package org.eligo.ingest;

import java.time.Instant;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.facts.FactType;

/**
 * A submitted message that passed validation, not yet stored.
 *
 * @param pointer JSON Pointer of the message in the request body ("" or "/messages/3"), for errors
 */
public record IncomingMessage(String pointer, String source, String externalId, FactType type, String beneficiaryId,
                              Instant occurredAt, JsonNode data) {

    /** The idempotency key. */
    public record Key(String source, String externalId) {
    }

    public Key key() {
        return new Key(source, externalId);
    }

    /** Same content as the contract defines it: equal type, beneficiary, occurred_at and data as JSON values. */
    public boolean sameContentAs(IncomingMessage other) {
        return type.equals(other.type) && beneficiaryId.equals(other.beneficiaryId)
                && java.util.Objects.equals(occurredAt, other.occurredAt) && org.eligo.support.JsonValues.equal(data, other.data);
    }
}
