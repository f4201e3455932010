package org.eligo.replays;

import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eligo.determinations.DeterminationQueue;
import org.eligo.facts.Fact;
import org.eligo.facts.FactData;
import org.eligo.facts.Facts;
import org.eligo.facts.FactType;
import org.eligo.facts.FactTypes;
import org.eligo.facts.Field;
import org.eligo.facts.NewFact;
import org.eligo.ingest.Messages;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetRegistry;
import org.eligo.support.Db;
import org.eligo.support.EligoClock;
import org.eligo.support.Ids;
import org.eligo.support.JsonValues;
import org.eligo.support.problem.FieldError;

/**
 * Replays stored messages through the current parsers, after a parser fix. For each beneficiary in
 * scope it works out the facts the messages give today and reconciles the stored facts with them:
 * a message whose fact changed gets a new fact (linked to the same message and to the replay) that
 * supersedes the old one; a fact whose message now belongs to another key is revoked by that new
 * fact; and a key left without its rightful active fact gets it back as a new fact. Nothing is
 * deleted or changed in place: revocations are the facts' one permitted change. Affected
 * beneficiaries get new determinations. A dry run does the same arithmetic and writes nothing.
 *
 * <p>One transaction, holding the beneficiaries' locks (or, for more than {@link #LOCK_EACH_UP_TO},
 * the lock of all beneficiaries), so processing of those beneficiaries waits for the replay and the
 * reconciliation sees a still picture. Reconciled {@link #CHUNK} beneficiaries at a time, so memory
 * holds one chunk's messages and facts, not the whole scope's.
 */
@ApplicationScoped
public class ReplayService {

    public static final int MAX_BENEFICIARIES = 10_000;

    private final Ids ids;
    private final Facts facts;
    private final DeterminationQueue determinations;
    private final RulesetRegistry rulesets;
    private final EligoClock clock;
    private final ObjectReader reader;
    private final FactTypes factTypes;
    private final Messages messages;
    private final Replays replays;

    public ReplayService(Ids ids, Facts facts, DeterminationQueue determinations, RulesetRegistry rulesets,
                         EligoClock clock, ObjectMapper mapper, FactTypes types, Messages messages, Replays replays) {
        this.factTypes = types;
        this.messages = messages;
        this.replays = replays;
        this.ids = ids;
        this.facts = facts;
        this.determinations = determinations;
        this.rulesets = rulesets;
        this.clock = clock;
        this.reader = mapper.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    }

    /** A message and what the current parsers make of it. */
    private record Derived(String messageId, FactType type, String beneficiaryId, List<Object> key, NewFact fact, ObjectNode data) {
    }

    /**
     * A replay, and every beneficiary whose messages and facts it read: those named, or for a replay
     * by type those found to have messages of the types (which the replay itself does not list, so
     * the caller records them in the access log from here).
     */
    public record Outcome(Replay replay, List<String> beneficiaries) {
    }

    /**
     * Beneficiaries reconciled at a time: their messages and facts are what the replay holds in
     * memory at once, whatever its size (before, all of up to 10,000 beneficiaries' at once).
     */
    static final int CHUNK = 500;

    /**
     * Up to this many beneficiaries a replay locks each one; above, it takes the lock of all
     * beneficiaries at once (Facts.lockAll): one lock instead of thousands in one transaction, which
     * outgrew PostgreSQL's shared lock table (64 per connection by default: 6,400 for 100
     * connections) and failed with "out of shared memory". Every writer of a beneficiary waits for
     * it meanwhile: ingest answers 503 with Retry-After for the replay's duration.
     */
    static final int LOCK_EACH_UP_TO = 1_000;

    @Transactional
    public Outcome replay(List<String> beneficiaryIds, List<String> typeNames, boolean dryRun, String reason) {
        List<FactType> types = typeNames.isEmpty() ? factTypes.all() : typeNames.stream().map(t -> factTypes.byName(t).orElseThrow()).toList();
        List<String> beneficiaries = beneficiaryIds.isEmpty() ? beneficiariesWith(types) : beneficiaryIds;
        if (beneficiaries.isEmpty()) {
            return new Outcome(new Replay(null, dryRun, beneficiaryIds, typeNames, reason, 0, 0, List.of(), List.of()), beneficiaries);
        }
        if (beneficiaries.size() > LOCK_EACH_UP_TO) {
            facts.lockAll();
        } else {
            facts.lock(beneficiaries);
        }
        Totals totals = new Totals(dryRun);
        for (int from = 0; from < beneficiaries.size(); from += CHUNK) {
            reconcile(beneficiaries.subList(from, Math.min(beneficiaries.size(), from + CHUNK)), types, totals);
        }
        if (dryRun || totals.replayId == null) {
            return new Outcome(new Replay(null, dryRun, beneficiaryIds, typeNames, reason, totals.replayed, totals.affected.size(),
                    totals.changes, totals.failures), beneficiaries);
        }
        Replay replay = new Replay(totals.replayId, false, beneficiaryIds, typeNames, reason, totals.replayed, totals.affected.size(),
                totals.changes, totals.failures);
        replays.record(replay);
        return new Outcome(replay, beneficiaries);
    }

    /** What the chunks of one replay add up to; the replay's id is minted by the first chunk that writes. */
    private static final class Totals {
        final boolean dryRun;
        String replayId;
        int replayed;
        final Set<String> affected = new TreeSet<>();
        final List<Replay.Change> changes = new ArrayList<>();
        final List<Replay.Failure> failures = new ArrayList<>();

        Totals(boolean dryRun) {
            this.dryRun = dryRun;
        }
    }

    /** Reconciles the facts of one chunk of beneficiaries with what today's parsers make of their messages. */
    private void reconcile(List<String> beneficiaries, List<FactType> types, Totals totals) {
        List<Replay.Failure> failures = new ArrayList<>();
        List<Derived> derived = derive(beneficiaries, types, failures);
        totals.failures.addAll(failures);
        totals.replayed += derived.size();

        // The stored picture: each message's latest fact, and each key's active fact.
        Map<String, Fact> latestByMessage = new HashMap<>();
        Map<String, Fact> activeByKey = new HashMap<>();
        Set<String> typeNamesInScope = new TreeSet<>(types.stream().map(FactType::name).toList());
        for (Fact fact : facts.allFor(beneficiaries)) {
            if (!typeNamesInScope.contains(fact.type())) {
                continue;
            }
            latestByMessage.merge(fact.messageId(), fact, (a, b) -> a.id().compareTo(b.id()) >= 0 ? a : b);
            if (fact.revokedAt() == null) {
                activeByKey.put(fact.type() + keyOf(fact), fact);
            }
        }
        // The picture today's parsers give: for each key, the message received last wins.
        Map<String, Derived> winnerByKey = new LinkedHashMap<>();
        // Each message derives once: looked up by id, not searched for (a search per active fact was
        // quadratic in a beneficiary's messages).
        Map<String, Derived> derivedByMessage = new HashMap<>();
        for (Derived d : derived) {
            winnerByKey.merge(d.type().name() + d.key(), d, (a, b) -> a.messageId().compareTo(b.messageId()) >= 0 ? a : b);
            derivedByMessage.put(d.messageId(), d);
        }

        List<Derived> changed = new ArrayList<>();
        List<Replay.Change> report = new ArrayList<>();
        for (Derived d : derived) {
            Fact latest = latestByMessage.get(d.messageId());
            if (latest == null || !latest.data().equals(d.data()) && !JsonValues.equal(latest.data(), d.data())) {
                changed.add(d);
                boolean moved = latest != null && !keyOf(latest).equals(d.key().toString());
                report.add(new Replay.Change(d.messageId(), d.beneficiaryId(), d.type().name(), latest == null ? "new" : moved ? "key" : "values",
                        latest == null ? null : latest.id(), latest == null ? null : latest.data(), d.data(), null));
            }
        }
        Set<String> changedMessages = new LinkedHashSet<>(changed.stream().map(Derived::messageId).toList());
        // Active facts whose message now derives to another key: revoked by that message's new fact.
        List<Fact> stale = new ArrayList<>();
        for (Fact active : activeByKey.values()) {
            Derived now = derivedByMessage.get(active.messageId());
            if (now != null && changedMessages.contains(now.messageId()) && !keyOf(active).equals(now.key().toString())) {
                stale.add(active);
            }
        }
        Set<String> staleIds = new java.util.HashSet<>(stale.stream().map(Fact::id).toList());
        // Keys whose rightful winner's fact is not the active one (for example once a stale fact goes).
        // A key whose active fact comes from a message today's parsers cannot read is left alone.
        Set<String> underivable = new java.util.HashSet<>(failures.stream().map(Replay.Failure::messageId).toList());
        for (Map.Entry<String, Derived> entry : winnerByKey.entrySet()) {
            Derived winner = entry.getValue();
            Fact active = activeByKey.get(entry.getKey());
            boolean staleActive = active != null && staleIds.contains(active.id());
            if (active != null && underivable.contains(active.messageId())) {
                continue;
            }
            if (!changedMessages.contains(winner.messageId()) && (active == null || staleActive || !active.messageId().equals(winner.messageId()))) {
                Fact latest = latestByMessage.get(winner.messageId());
                report.add(new Replay.Change(winner.messageId(), winner.beneficiaryId(), winner.type().name(), "reactivated",
                        latest == null ? null : latest.id(), latest == null ? null : latest.data(), winner.data(), null));
            }
        }
        if (totals.dryRun || report.isEmpty()) {
            report.forEach(change -> totals.affected.add(change.beneficiaryId()));
            totals.changes.addAll(report);
            return;
        }

        if (totals.replayId == null) {
            totals.replayId = ids.next(Ids.REPLAY);
        }
        String replayId = totals.replayId;
        // New facts' ids first, so that facts whose message moved to another key can be revoked
        // (by their message's new fact) before anything is written for the keys they leave.
        Map<String, String> minted = new HashMap<>();
        changed.forEach(d -> minted.put(d.messageId(), ids.next(Ids.FACT)));
        Instant revokedAt = facts.now();
        facts.revoke(revokedAt, stale.stream().map(Fact::id).toList(),
                stale.stream().map(fact -> minted.get(fact.messageId())).toList());
        Facts.Outcome first = facts.write(changed.stream().map(Derived::fact).toList(), replayId, minted);
        // Then give every key its rightful winner back, judged on what is now stored.
        Map<String, Fact> activeNow = new HashMap<>();
        for (Fact fact : facts.allFor(beneficiaries)) {
            if (fact.revokedAt() == null && typeNamesInScope.contains(fact.type())) {
                activeNow.put(fact.type() + keyOf(fact), fact);
            }
        }
        List<Derived> restore = new ArrayList<>();
        for (Map.Entry<String, Derived> entry : winnerByKey.entrySet()) {
            Fact active = activeNow.get(entry.getKey());
            if (active != null && underivable.contains(active.messageId())) {
                continue;
            }
            if (active == null || !active.messageId().equals(entry.getValue().messageId())) {
                restore.add(entry.getValue());
            }
        }
        Facts.Outcome second = facts.write(restore.stream().map(Derived::fact).toList(), replayId);
        List<Replay.Change> actual = new ArrayList<>(report.stream().filter(c -> !c.kind().equals("reactivated")).toList());
        for (Derived d : restore) {
            Fact latest = latestByMessage.get(d.messageId());
            actual.add(new Replay.Change(d.messageId(), d.beneficiaryId(), d.type().name(), "reactivated",
                    latest == null ? null : latest.id(), latest == null ? null : latest.data(), d.data(), null));
        }
        Map<String, String> newFactIds = new HashMap<>(first.factIdsByMessage());
        newFactIds.putAll(second.factIdsByMessage());
        List<Replay.Change> done = actual.stream().map(c -> new Replay.Change(c.messageId(), c.beneficiaryId(), c.type(), c.kind(),
                c.previousFactId(), c.previous(), c.rederived(), newFactIds.get(c.messageId()))).toList();
        Set<String> affected = new TreeSet<>();
        done.forEach(change -> affected.add(change.beneficiaryId()));
        // A message that failed under the old parser and derives today is processed now.
        messages.processedOnReplay(derived.stream().map(Derived::messageId).toList(), first.at());

        facts.markChanged(affected, first.at());
        determinations.enqueue(affected, clock.currentPeriod(), rulesets.all().stream().map(Ruleset::id).toList());
        totals.affected.addAll(affected);
        totals.changes.addAll(done);
    }

    private List<String> beneficiariesWith(List<FactType> types) {
        List<String> found = messages.beneficiariesWithSettled(types.stream().map(FactType::name).toList());
        if (found.size() > MAX_BENEFICIARIES) {
            throw org.eligo.support.problem.ProblemException.tooLarge("The replay would cover " + found.size() + " beneficiaries; at most "
                    + MAX_BENEFICIARIES + " at once. Name beneficiary_ids to replay in parts.", null);
        }
        return found;
    }

    private List<Derived> derive(List<String> beneficiaries, List<FactType> types, List<Replay.Failure> failures) {
        List<Derived> derived = new ArrayList<>();
        for (Messages.Settled message : messages.settled(beneficiaries, types.stream().map(FactType::name).toList())) {
            try {
                FactType type = factTypes.byName(message.type()).orElseThrow(() -> new IllegalArgumentException("unknown type"));
                JsonNode data = reader.readTree(message.data());
                List<FieldError> errors = new ArrayList<>();
                FactData.validate(type, data, "/data", LocalDate.MAX, errors);
                if (!errors.isEmpty()) {
                    throw new IllegalArgumentException(errors.get(0).pointer() + " " + errors.get(0).message());
                }
                NewFact fact = new NewFact(message.id(), type, message.beneficiaryId(), FactData.parse(type, data), FactData.isWithdrawal(data));
                derived.add(new Derived(message.id(), type, fact.beneficiaryId(), fact.key(), fact,
                        FactData.shown(type, fact.values(), fact.withdrawn())));
            } catch (IOException | RuntimeException e) {
                failures.add(new Replay.Failure(message.id(), e.getMessage()));
            }
        }
        return derived;
    }

    /** A stored fact's key in the same form as {@link NewFact#key()}. */
    private String keyOf(Fact fact) {
        FactType type = factTypes.byName(fact.type()).orElseThrow();
        return List.of(fact.beneficiaryId(), type.name(), type.factKey(fact.data())).toString();
    }
}
