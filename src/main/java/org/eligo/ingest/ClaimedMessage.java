package org.eligo.ingest;

/** A message a worker holds the row lock of, with what it needs to derive the fact. */
public record ClaimedMessage(String id, String type, String beneficiaryId, String data, int attempts) {
}
