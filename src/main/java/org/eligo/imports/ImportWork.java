package org.eligo.imports;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.ingest.Backlog;
import org.eligo.ingest.IncomingMessage;
import org.eligo.ingest.MessageParser;
import org.eligo.ingest.Messages;
import org.eligo.queue.QueueConfig;
import org.eligo.support.EligoClock;
import org.eligo.support.Ids;
import org.eligo.support.JsonBodies;
import org.eligo.support.problem.FieldError;
import org.eligo.work.Failure;
import org.eligo.work.FailureCounters;
import org.eligo.work.FailurePolicy;
import org.eligo.work.WorkKind;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Bulk imports as work for the {@link org.eligo.work.WorkEngine}: each batch is the next chunk of
 * one import's staged lines ({@code eligo.imports.chunk-lines}), stored in one transaction.
 *
 * <p>A line is validated as {@code POST /v1/messages} validates a body, and its messages are
 * inserted set-wise with the same idempotency (one statement for the chunk, one ledger entry). Unlike
 * {@code /batch}, a chunk is not all or nothing: a line that is not JSON, fails validation, names a
 * source the submitting token did not hold, or reuses a key for other content is a rejected line of
 * the report, and the others are stored. A line whose key is already stored with the same content
 * (an earlier line of the file, or the same file sent again) is a duplicate and stores nothing.
 *
 * <p>While the backlog of unprocessed messages is at its limit ({@code eligo.ingest.max-backlog}),
 * no chunk is claimed: the import waits, it does not fail; a chunk is cut to the room left.
 */
@ApplicationScoped
public class ImportWork implements WorkKind<Imports.Claimed> {

    private final Imports imports;
    private final Messages messages;
    private final MessageParser parser;
    private final JsonBodies json;
    private final Ids ids;
    private final Backlog backlog;
    private final EligoClock clock;
    private final ImportsConfig config;
    private final FailurePolicy policy;
    private final FailureCounters counters;
    private final Counter stored;

    public ImportWork(Imports imports, Messages messages, MessageParser parser, JsonBodies json, Ids ids, Backlog backlog, EligoClock clock,
                      ImportsConfig config, QueueConfig queue, MeterRegistry registry) {
        this.imports = imports;
        this.messages = messages;
        this.parser = parser;
        this.json = json;
        this.ids = ids;
        this.backlog = backlog;
        this.clock = clock;
        this.config = config;
        this.policy = new FailurePolicy(queue.maxAttempts(), queue.retryInitialBackoff(), queue.retryMaxBackoff(),
                "import status FAILED with its last_error; the lines stored before stay stored, a new upload of the file stores the rest");
        this.counters = new FailureCounters(
                Counter.builder("eligo.imports.failed.attempts").description("Chunks of an import that failed as a whole (retried until the last)")
                        .register(registry),
                Counter.builder("eligo.imports.failed").description("Imports given up as FAILED after eligo.queue.max-attempts").register(registry));
        this.stored = Counter.builder("eligo.imports.lines").description("Import lines settled (stored, duplicate or rejected)").register(registry);
    }

    @Override
    public String name() {
        return "imports";
    }

    /** Before messages: an import's messages are then processed in the same round. */
    @Override
    public int order() {
        return -1;
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
    public List<Imports.Claimed> claim() {
        long room = backlog.room();
        if (room <= 0) {
            return List.of();
        }
        return imports.claim((int) Math.min(config.chunkLines(), room)).map(List::of).orElse(List.of());
    }

    @Override
    public Optional<Imports.Claimed> claimAgain(Imports.Claimed claimed) {
        return imports.claimAgain(claimed.id(), Math.max(1, claimed.lines().size()));
    }

    @Override
    public void process(List<Imports.Claimed> claimed, Failures<Imports.Claimed> failures) {
        for (Imports.Claimed chunk : claimed) {
            if (chunk.lines().isEmpty()) {
                // Every line settled already (a count cut short by a crash cannot happen: lines and counts commit together).
                imports.settle(chunk.id(), chunk.storedThrough(), new Imports.Settlement(chunk.lastLineNo(), 0, 0, List.of()));
                continue;
            }
            imports.settle(chunk.id(), chunk.storedThrough(), store(chunk));
            stored.increment(chunk.lines().size());
        }
    }

    /** Validates the chunk's lines, stores the valid ones' messages set-wise and says what became of each line. */
    private Imports.Settlement store(Imports.Claimed chunk) {
        LocalDate today = clock.today();
        List<Imports.Rejection> rejections = new ArrayList<>();
        long duplicates = 0;
        // The first line of a key in this chunk stands for the key's later lines here.
        Map<IncomingMessage.Key, Candidate> byKey = new HashMap<>();
        List<Candidate> distinct = new ArrayList<>();
        for (Imports.Line line : chunk.lines()) {
            List<FieldError> errors = new ArrayList<>();
            IncomingMessage message = null;
            if (line.problem() != null) {
                errors.add(FieldError.at("", line.problem()));
            } else {
                JsonNode node = json.parse(line.text(), errors);
                if (node != null) {
                    message = parser.validate(node, "", today, errors);
                }
            }
            if (message != null && chunk.sources() != null && !chunk.sources().contains(message.source())) {
                errors.add(FieldError.at("/source", "the token that sent the import does not allow the source '" + message.source() + "'"));
                message = null;
            }
            if (message == null) {
                rejections.add(new Imports.Rejection(line.lineNo(), Imports.Rejection.INVALID, errors));
                continue;
            }
            Candidate first = byKey.get(message.key());
            if (first == null) {
                Candidate candidate = new Candidate(line.lineNo(), message);
                byKey.put(message.key(), candidate);
                distinct.add(candidate);
            } else if (first.message().sameContentAs(message)) {
                duplicates++;
            } else {
                rejections.add(conflicting(line.lineNo(), "line " + first.lineNo() + " of this file"));
            }
        }
        long inserted = 0;
        if (!distinct.isEmpty()) {
            // In key order, as every submission inserts: two writers of overlapping keys wait for each other, never deadlock.
            distinct.sort(Comparator.comparing((Candidate c) -> c.message().source()).thenComparing(c -> c.message().externalId()));
            List<String> newIds = distinct.stream().map(c -> ids.next(Ids.MESSAGE)).toList();
            List<Messages.Stored> stored = messages.store(distinct.stream().map(Candidate::message).toList(), newIds, chunk.traceparent());
            for (int i = 0; i < distinct.size(); i++) {
                switch (stored.get(i).outcome()) {
                    case NEW -> inserted++;
                    case DUPLICATE -> duplicates++;
                    case CONFLICT -> rejections.add(conflicting(distinct.get(i).lineNo(), "message " + stored.get(i).id()
                            + (stored.get(i).purged() ? " (removed by retention; its key stays taken)" : "")));
                }
            }
        }
        rejections.sort(Comparator.comparingLong(Imports.Rejection::lineNo));
        long through = chunk.lines().get(chunk.lines().size() - 1).lineNo();
        return new Imports.Settlement(through, inserted, duplicates, rejections);
    }

    private static Imports.Rejection conflicting(long lineNo, String other) {
        return new Imports.Rejection(lineNo, Imports.Rejection.CONFLICTING,
                List.of(FieldError.at("/external_id", "source and external_id already identify " + other + " with different content")));
    }

    /** A valid line and its message. */
    private record Candidate(long lineNo, IncomingMessage message) {
    }

    @Override
    public void recordFailure(Imports.Claimed claimed, Failure failure) {
        imports.recordFailure(claimed.id(), failure);
    }

    @Override
    public int attempts(Imports.Claimed claimed) {
        return claimed.attempts();
    }

    @Override
    public String describe(Imports.Claimed claimed) {
        return "import " + claimed.id() + (claimed.lines().isEmpty() ? "" : " lines " + claimed.lines().get(0).lineNo() + "-"
                + claimed.lines().get(claimed.lines().size() - 1).lineNo());
    }
}
