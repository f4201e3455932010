package org.eligo.facts;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * Until the merge: the fact reads as callers outside this package (determinations, reruns,
 * replays, stats) still ask for them, each handing its transaction's connection. No SQL here:
 * {@link Facts} owns the table, and each method below is one call to it, which joins the caller's
 * transaction (the connection handed in is the one enlisted in it, the one {@link Facts} gets too)
 * and so ignores the connection. Callers move to {@link Facts} and this class goes.
 */
@ApplicationScoped
public class FactReader {

    private final Facts facts;

    public FactReader(Facts facts) {
        this.facts = facts;
    }

    /** {@link Facts#activeFor}. */
    public Map<String, List<Fact>> activeFor(Connection connection, Collection<String> beneficiaryIds, Instant asOf) throws SQLException {
        return facts.activeFor(beneficiaryIds, asOf);
    }

    /** {@link Facts#allFor}. */
    public List<Fact> allFor(Connection connection, Collection<String> beneficiaryIds) throws SQLException {
        return facts.allFor(beneficiaryIds);
    }

    /** {@link Facts#byIds} (in a transaction of its own when the caller reads outside one). */
    public List<Fact> byIds(Connection connection, Collection<String> factIds) throws SQLException {
        return facts.byIds(factIds);
    }

    /** As {@link Facts.Counts}. */
    public record Counts(long active, long revoked) {
    }

    /** {@link Facts#counts}. */
    public Counts counts(Connection connection) throws SQLException {
        Facts.Counts counts = facts.counts();
        return new Counts(counts.active(), counts.revoked());
    }
}
