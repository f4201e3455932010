package org.eligo.queue;

import org.eligo.facts.Facts;
import java.io.IOException;
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

import org.eligo.determinations.DeterminationQueue;
import org.eligo.facts.FactData;
import org.eligo.facts.FactType;
import org.eligo.facts.FactTypes;
import org.eligo.facts.NewFact;
import org.eligo.ingest.ClaimedMessage;
import org.eligo.ingest.Messages;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetRegistry;
import org.eligo.support.EligoClock;
import org.eligo.support.problem.FieldError;
import org.eligo.work.Failure;
import org.eligo.work.FailureCounters;
import org.eligo.work.FailurePolicy;
import org.eligo.work.LeaveForOthers;
import org.eligo.work.WorkKind;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Messages as work for the {@link org.eligo.work.WorkEngine}: turns claimed messages into facts,
 * and queues the determinations their changes call for.
 *
 * <p>A batch derives every message's fact, stores them set-wise and marks the messages PROCESSED
 * in the claim's transaction. A message whose data cannot become a fact is a failure of its own:
 * retried with backoff ({@code eligo.queue.retry-*}), and after {@code eligo.queue.max-attempts}
 * its dead end is status FAILED with its {@code last_error}, counted in {@code GET /v1/stats} and
 * redriven by {@code POST /v1/messages/{id}/retry}. Only messages of the fact types this instance
 * declares are claimed; others wait for an instance that declares them. The message table's SQL is
 * its owner's, {@link Messages}, whose claims and settlements join the engine's transaction.
 */
@ApplicationScoped
public class MessageWork implements WorkKind<ClaimedMessage> {

    private final Messages messages;
    private final Facts facts;
    private final QueueConfig config;
    private final ObjectReader reader;
    private final DeterminationQueue determinations;
    private final RulesetRegistry rulesets;
    private final EligoClock clock;
    private final FactTypes types;
    /** The types whose messages this instance claims: those it declares. */
    private final List<String> typeNames;
    private final FailurePolicy policy;
    private final FailureCounters counters;
    private final Counter processed;

    public MessageWork(Messages messages, Facts facts, QueueConfig config, ObjectMapper mapper,
                       DeterminationQueue determinations, RulesetRegistry rulesets, EligoClock clock, MeterRegistry registry, FactTypes types) {
        this.types = types;
        this.typeNames = types.all().stream().map(FactType::name).toList();
        this.processed = Counter.builder("eligo.messages.processed").description("Messages turned into facts").register(registry);
        this.messages = messages;
        this.facts = facts;
        this.config = config;
        this.determinations = determinations;
        this.rulesets = rulesets;
        this.clock = clock;
        this.reader = mapper.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        this.policy = new FailurePolicy(config.maxAttempts(), config.retryInitialBackoff(), config.retryMaxBackoff(),
                "status FAILED; POST /v1/messages/{id}/retry redrives it");
        this.counters = new FailureCounters(
                Counter.builder("eligo.messages.failed.attempts").description("Attempts at processing a message that failed (retried until the last)")
                        .register(registry),
                Counter.builder("eligo.messages.failed").description("Messages given up as FAILED after eligo.queue.max-attempts").register(registry));
    }

    @Override
    public String name() {
        return "messages";
    }

    @Override
    public int order() {
        return 0;
    }

    @Override
    public FailurePolicy policy() {
        return policy;
    }

    @Override
    public FailureCounters counters() {
        return counters;
    }

    @Override
    public List<ClaimedMessage> claim() {
        return messages.claim(typeNames, config.batchSize());
    }

    @Override
    public Optional<ClaimedMessage> claimAgain(ClaimedMessage message) {
        return messages.claimOne(message.id());
    }

    @Override
    public void process(List<ClaimedMessage> claimed, Failures<ClaimedMessage> failures) {
        List<NewFact> derived = new ArrayList<>(claimed.size());
        List<String> derivedIds = new ArrayList<>(claimed.size());
        for (ClaimedMessage message : claimed) {
            try {
                derived.add(derive(message));
                derivedIds.add(message.id());
            } catch (LeaveForOthers e) {
                throw e;
            } catch (RuntimeException e) {
                failures.fail(message, e);
            }
        }
        if (!derived.isEmpty()) {
            Facts.Outcome outcome = facts.write(derived);
            messages.markProcessed(derivedIds, outcome.at());
            // Beneficiaries whose active facts changed get a determination for the current period,
            // queued in this transaction so that it exists exactly when the facts do. Queued for the
            // rulesets loaded here: an instance that has another ruleset queues its own when it
            // processes that beneficiary's next message (and a rerun catches up after a deploy).
            determinations.enqueue(outcome.changedBeneficiaries(), clock.currentPeriod(),
                    rulesets.all().stream().map(Ruleset::id).toList());
            // Counted before commit: a rolled-back batch over-counts a little; rates are what this is for.
            processed.increment(derivedIds.size());
        }
    }

    @Override
    public void recordFailure(ClaimedMessage message, Failure failure) {
        messages.recordFailure(message.id(), failure);
    }

    @Override
    public int attempts(ClaimedMessage message) {
        return message.attempts();
    }

    @Override
    public String describe(ClaimedMessage message) {
        return message.id();
    }

    private NewFact derive(ClaimedMessage message) {
        // The claim takes only declared types; a type unknown here is another instance's work.
        FactType type = types.byName(message.type()).orElseThrow(() -> new LeaveForOthers("message type " + message.type()));
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
}
