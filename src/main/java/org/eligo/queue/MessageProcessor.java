package org.eligo.queue;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

import org.eligo.facts.FactData;
import org.eligo.facts.FactType;
import org.eligo.facts.FactTypes;
import org.eligo.facts.FactWriter;
import org.eligo.facts.NewFact;
import org.eligo.determinations.DeterminationQueue;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetRegistry;
import org.eligo.support.Db;
import org.eligo.support.EligoClock;
import org.eligo.support.problem.FieldError;
import org.jboss.logging.Logger;

/**
 * Turns claimed messages into facts, and queues the determinations their changes call for.
 *
 * <p>Fast path: one transaction claims a batch, derives every fact, stores them set-wise and marks
 * the messages PROCESSED. A message whose data cannot be turned into a fact gets its failure recorded
 * in that same transaction and does not hold up the others. If the batch's SQL fails (which should
 * not happen), the transaction rolls back and each of its messages is retried alone in its own
 * transaction, so one bad message fails by itself. A transient failure (the database away, a lost
 * race, a time-out) is not the messages' fault: it is rethrown, the worker backs off, and no attempt
 * is counted, so a database hiccup can never mark good messages FAILED.
 */
@ApplicationScoped
public class MessageProcessor implements WorkSource {

    private static final Logger LOG = Logger.getLogger(MessageProcessor.class);

    private final Db db;
    private final MessageQueue queue;
    private final FactWriter facts;
    private final QueueConfig config;
    private final ObjectReader reader;
    private final DeterminationQueue determinations;
    private final RulesetRegistry rulesets;
    private final EligoClock clock;
    private final FactTypes types;
    /** The types whose messages this instance claims: those it declares. */
    private final List<String> typeNames;
    private final io.micrometer.core.instrument.Counter processed;
    private final io.micrometer.core.instrument.Counter failed;
    private final io.micrometer.core.instrument.Counter givenUp;

    public MessageProcessor(Db db, MessageQueue queue, FactWriter facts, QueueConfig config, ObjectMapper mapper,
                            DeterminationQueue determinations, RulesetRegistry rulesets, EligoClock clock,
                            io.micrometer.core.instrument.MeterRegistry registry, FactTypes types) {
        this.types = types;
        this.typeNames = types.all().stream().map(FactType::name).toList();
        this.processed = registry.counter("eligo.messages.processed");
        this.failed = registry.counter("eligo.messages.failed.attempts");
        this.givenUp = registry.counter("eligo.messages.failed");
        this.db = db;
        this.queue = queue;
        this.facts = facts;
        this.config = config;
        this.determinations = determinations;
        this.rulesets = rulesets;
        this.clock = clock;
        this.reader = mapper.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    }

    /** Claims and processes one batch; returns how many messages it claimed (0: the queue is empty). */
    @Override
    public int processBatch() {
        List<String> claimedIds = new ArrayList<>();
        try {
            return db.inTransaction(connection -> {
                List<ClaimedMessage> claimed = queue.claim(connection, typeNames, config.batchSize());
                claimed.forEach(message -> claimedIds.add(message.id()));
                process(connection, claimed);
                return claimed.size();
            });
        } catch (RuntimeException e) {
            if (claimedIds.isEmpty() || Db.isTransient(e)) {
                throw e;
            }
            LOG.warnf(e, "A batch of %d messages failed; processing them one by one", claimedIds.size());
            for (String id : claimedIds) {
                processAlone(id);
            }
            return claimedIds.size();
        }
    }

    private void processAlone(String id) {
        try {
            db.inTransaction(connection -> {
                Optional<ClaimedMessage> message = queue.claimOne(connection, id);
                if (message.isPresent()) {
                    process(connection, List.of(message.get()));
                }
                return null;
            });
        } catch (RuntimeException e) {
            if (Db.isTransient(e)) {
                throw e;
            }
            db.inTransaction(connection -> {
                Optional<ClaimedMessage> message = queue.claimOne(connection, id);
                if (message.isPresent()) {
                    fail(connection, message.get(), e);
                }
                return null;
            });
        }
    }

    private void process(Connection connection, List<ClaimedMessage> claimed) throws SQLException {
        List<NewFact> derived = new ArrayList<>(claimed.size());
        List<String> derivedIds = new ArrayList<>(claimed.size());
        for (ClaimedMessage message : claimed) {
            try {
                derived.add(derive(message));
                derivedIds.add(message.id());
            } catch (RuntimeException e) {
                fail(connection, message, e);
            }
        }
        if (!derived.isEmpty()) {
            FactWriter.Outcome outcome = facts.write(connection, derived);
            queue.markProcessed(connection, derivedIds, outcome.at());
            // Beneficiaries whose active facts changed get a determination for the current period,
            // queued in this transaction so that it exists exactly when the facts do.
            determinations.enqueue(connection, outcome.changedBeneficiaries(), clock.currentPeriod(),
                    rulesets.all().stream().map(Ruleset::id).toList());
            // Counted before commit: a rolled-back batch over-counts a little; rates are what this is for.
            processed.increment(derivedIds.size());
        }
    }

    private NewFact derive(ClaimedMessage message) {
        FactType type = types.byName(message.type())
                .orElseThrow(() -> new IllegalArgumentException("unknown message type " + message.type()));
        JsonNode data;
        try {
            data = reader.readTree(message.data());
        } catch (IOException e) {
            throw new IllegalArgumentException("data is not JSON: " + e.getMessage(), e);
        }
        // Ingest validated this already; checking again names the field if stored data ever disagrees.
        // The "not after the day received" rule was decided at receipt, so it is not re-applied.
        List<FieldError> errors = new ArrayList<>();
        FactData.validate(type, data, "/data", LocalDate.MAX, errors);
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid data: " + errors.stream()
                    .map(error -> error.pointer() + " " + error.message()).collect(Collectors.joining("; ")));
        }
        return new NewFact(message.id(), type, message.beneficiaryId(), FactData.parse(type, data), FactData.isWithdrawal(data));
    }

    private void fail(Connection connection, ClaimedMessage message, Exception error) throws SQLException {
        int attempt = message.attempts() + 1;
        String reason = error.getClass().getSimpleName() + ": " + error.getMessage();
        boolean givingUp = attempt >= config.maxAttempts();
        LOG.warnf("Message %s failed (attempt %d of %d%s): %s", message.id(), attempt, config.maxAttempts(),
                givingUp ? ", giving up" : "", reason);
        queue.recordFailure(connection, message.id(), reason, config.maxAttempts(), backoff(attempt));
        failed.increment();
        if (givingUp) {
            givenUp.increment();
        }
    }

    /** The wait before attempt {@code attempt + 1}: the initial backoff doubled per attempt, capped. */
    Duration backoff(int attempt) {
        Duration delay = config.retryInitialBackoff().multipliedBy(1L << Math.min(attempt - 1, 30));
        return delay.compareTo(config.retryMaxBackoff()) > 0 ? config.retryMaxBackoff() : delay;
    }
}
