package org.eligo.facts;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * Until the merge: fact writes as callers outside this package (message processing, replays)
 * still ask for them, each handing its transaction's connection. No SQL here: {@link Facts} owns
 * the table and its writers' lock; each method below is one call to it, which joins the caller's
 * transaction (the connection handed in is the one enlisted in it, the one {@link Facts} gets too)
 * and so ignores the connection. Callers move to {@link Facts} and this class goes.
 */
@ApplicationScoped
public class FactWriter {

    private final Facts facts;

    public FactWriter(Facts facts) {
        this.facts = facts;
    }

    /** As {@link Facts.Outcome}. */
    public record Outcome(Instant at, Set<String> changedBeneficiaries, Map<String, String> factIdsByMessage) {

        static Outcome of(Facts.Outcome outcome) {
            return new Outcome(outcome.at(), outcome.changedBeneficiaries(), outcome.factIdsByMessage());
        }
    }

    /** {@link Facts#write(List)}. */
    public Outcome write(Connection connection, List<NewFact> facts) throws SQLException {
        return Outcome.of(this.facts.write(facts));
    }

    /** {@link Facts#write(List, String)}. */
    public Outcome write(Connection connection, List<NewFact> facts, String replayId) throws SQLException {
        return Outcome.of(this.facts.write(facts, replayId));
    }

    /** {@link Facts#write(List, String, Map)}. */
    public Outcome write(Connection connection, List<NewFact> facts, String replayId, Map<String, String> presetIds) throws SQLException {
        return Outcome.of(this.facts.write(facts, replayId, presetIds));
    }

    /** {@link Facts#markChanged}. */
    public void markChanged(Connection connection, Collection<String> beneficiaries, Instant at) throws SQLException {
        facts.markChanged(beneficiaries, at);
    }

    /** {@link Facts#revoke}. */
    public void revoke(Connection connection, Instant at, List<String> factIds, List<String> revokedBy) throws SQLException {
        facts.revoke(at, factIds, revokedBy);
    }
}
