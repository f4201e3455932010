package org.eligo.reruns;

/**
 * Where one beneficiary of a rerun is ({@code rerun_item.state}, V5__reruns.sql): PENDING until the
 * chunk that determines it commits, then DONE with its determination; FAILED with its error (its
 * dead end, at the first failure) until the run is retried.
 */
public enum RerunItemState {
    PENDING, DONE, FAILED
}
