package org.eligo.work;

import java.sql.SQLException;
import java.util.Set;

import org.eligo.support.Db;

/**
 * Whose fault a failure of queued work is, which decides what it costs (issue 20: a schema mismatch
 * or a missing grant used to mark every message FAILED within seconds, while a statement time-out
 * was retried for ever by a worker that then never reached its other kinds of work).
 */
public enum FailureClass {

    /**
     * Of the moment: the database away, a lost race, a lock not granted in time
     * ({@link Db#isTransient}, less what {@link #ITEM} claims). Retried after a backoff; no attempt
     * is spent.
     */
    TRANSIENT,

    /**
     * Of this installation, not of any item: the schema is not what this release expects (undefined
     * table or column), a grant is missing, the database is read-only or its disk full, a class is
     * missing from the build. Every item would fail the same way, so none is charged: the kind is
     * held (retried after a backoff, an error in the log and {@code eligo_work_held_total}) until
     * an operator fixes the cause.
     */
    ENVIRONMENT,

    /**
     * The item's own: its data, or a limit it alone reaches (a statement time-out, out of memory, a
     * stack overflow on a deeply nested document). Each is deterministic for that item, so retrying
     * without counting would retry it for ever: the batch is split and the item that fails alone is
     * charged an attempt under its kind's policy.
     */
    ITEM;

    /**
     * SQLSTATE classes of the installation: 0A feature not supported, 28 authorization, 2F/38/39
     * routine failures, 3D catalog, 3F schema, 42 syntax or access rule (undefined object,
     * insufficient privilege), 58 system error, XX internal error.
     */
    private static final Set<String> ENVIRONMENT_CLASSES = Set.of("0A", "28", "2F", "38", "39", "3D", "3F", "42", "58", "XX");
    /** And single states: read-only transaction (a standby, a failover), disk full. */
    private static final Set<String> ENVIRONMENT_STATES = Set.of("25006", "53100");
    /** States {@link Db#isTransient} calls of the moment that are the work's own when they recur: statement time-out, out of memory (of shared memory too: a lock table too small for one batch's locks). */
    private static final Set<String> ITEM_STATES = Set.of("57014", "53200");

    public static FailureClass of(Throwable failure) {
        boolean item = false;
        for (Throwable t : Db.failures(failure)) {
            if (t instanceof LinkageError) {
                return ENVIRONMENT;
            }
            if (t instanceof VirtualMachineError) {
                item = true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (ENVIRONMENT_STATES.contains(state) || (state.length() == 5 && ENVIRONMENT_CLASSES.contains(state.substring(0, 2)))) {
                    return ENVIRONMENT;
                }
                if (ITEM_STATES.contains(state)) {
                    item = true;
                }
            }
        }
        if (item) {
            return ITEM;
        }
        return Db.isTransient(failure) ? TRANSIENT : ITEM;
    }
}
