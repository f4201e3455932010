package org.eligo.reruns;

/**
 * Where a rerun is ({@code rerun.status}, V5__reruns.sql): QUEUED until its first chunk is claimed,
 * RUNNING while it has pending items, then DONE; CANCELLED by an analyst (pending items stay
 * pending, unclaimed). FAILED is allowed by the table and shown by the API, and nothing sets it
 * today: a beneficiary that fails fails its item, not its run.
 */
public enum RerunStatus {
    QUEUED, RUNNING, DONE, CANCELLED, FAILED
}
