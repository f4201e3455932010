package org.eligo.facts;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.Set;

import io.quarkus.arc.Arc;

/**
 * Until the merge: the per-beneficiary lock as callers outside this package (determinations,
 * reruns, replays) still take it, handing their transaction's connection. The lock is
 * {@link Facts}'s ({@link Facts#lock}, {@link Facts#tryLock}, {@link Facts#now}), with its SQL;
 * each method below is one call to it, which joins the caller's transaction (the connection handed
 * in is the one enlisted in it, the one {@link Facts} gets too) and so ignores the connection.
 * Callers move to {@link Facts} and this class goes.
 */
public final class BeneficiaryLocks {

    private BeneficiaryLocks() {
    }

    public static Instant lock(Connection connection, Collection<String> beneficiaries) throws SQLException {
        return facts().lock(beneficiaries);
    }

    public static Set<String> tryLock(Connection connection, Collection<String> beneficiaries) throws SQLException {
        return facts().tryLock(beneficiaries);
    }

    public static Instant now(Connection connection) throws SQLException {
        return facts().now();
    }

    private static Facts facts() {
        return Arc.container().instance(Facts.class).get();
    }
}
