package org.eligo.ingest;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.work.WorkSignal;
import org.eligo.support.Ids;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;

/**
 * Accepts messages: idempotently, all or nothing, and committed before the caller hears 2xx.
 *
 * <p>Idempotency on (source, external_id): a new key is stored (202); the same key with the same
 * content answers the stored message (200, duplicate); the same key with other content is a 409.
 * A batch is one transaction, so a 409 on any item stores none of them.
 */
@ApplicationScoped
public class MessageService {

    /** Transactions that lose a race are tried again, up to this many in all. */
    private static final int RACE_ATTEMPTS = 3;

    private final Ids ids;
    private final Messages store;
    private final MessageTransactions transactions;
    private final Backlog backlog;
    private final WorkSignal workSignal;
    private final RateLimit rateLimit;

    public MessageService(Ids ids, Messages store, MessageTransactions transactions, Backlog backlog, WorkSignal workSignal, RateLimit rateLimit) {
        this.rateLimit = rateLimit;
        this.ids = ids;
        this.store = store;
        this.transactions = transactions;
        this.backlog = backlog;
        this.workSignal = workSignal;
    }

    /**
     * Stores {@code messages} (validated) and returns one receipt per message, in input order,
     * recording the request's W3C {@code traceparent} with each new message (an invalid one is
     * ignored, as the W3C recommendation says).
     */
    public List<Receipt> submit(List<IncomingMessage> messages, String traceparent) {
        String trace = org.eligo.support.TraceContext.traceparent(traceparent);
        // Before the backlog and the database: a source over its rate costs no query.
        rateLimit.admit(messages);
        if (backlog.isFull(messages.size())) {
            // Full: nothing new is taken, but an agency retrying what it already sent still learns it was stored.
            return resubmissionsOnly(messages);
        }
        // Repeats of a key inside one request: the first occurrence stands for the others.
        Map<IncomingMessage.Key, Integer> firstByKey = new HashMap<>();
        List<IncomingMessage> distinct = new ArrayList<>();
        int[] representative = new int[messages.size()];
        for (int i = 0; i < messages.size(); i++) {
            IncomingMessage message = messages.get(i);
            Integer first = firstByKey.putIfAbsent(message.key(), distinct.size());
            if (first == null) {
                distinct.add(message);
                representative[i] = distinct.size() - 1;
            } else if (!distinct.get(first).sameContentAs(message)) {
                throw conflict(message, "an earlier message in this batch (" + distinct.get(first).pointer() + ")");
            } else {
                representative[i] = -1 - first;
            }
        }
        List<String> newIds = distinct.stream().map(m -> ids.next(Ids.MESSAGE)).toList();
        // Rows are inserted in key order, so two requests with overlapping keys wait for each other
        // instead of deadlocking; a lost race that still happens is retried.
        List<Integer> keyOrder = new ArrayList<>();
        for (int i = 0; i < distinct.size(); i++) {
            keyOrder.add(i);
        }
        keyOrder.sort(Comparator.comparing((Integer i) -> distinct.get(i).source()).thenComparing(i -> distinct.get(i).externalId()));
        List<IncomingMessage> insertOrder = keyOrder.stream().map(distinct::get).toList();
        List<String> insertIds = keyOrder.stream().map(newIds::get).toList();
        List<Receipt> distinctReceipts = storeRetrying(distinct, newIds, insertOrder, insertIds, trace);
        if (distinctReceipts.stream().anyMatch(r -> !r.duplicate())) {
            workSignal.wake();
        }
        List<Receipt> receipts = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            int r = representative[i];
            receipts.add(r >= 0 ? distinctReceipts.get(r) : withDuplicate(distinctReceipts.get(-1 - r)));
        }
        return receipts;
    }

    /**
     * Redrives a FAILED message (after its cause is fixed): it is queued again with fresh attempts.
     * Returns the message as its redrive left it.
     */
    public MessageView retry(String id) {
        MessageView view = transactions.retry(id).orElseThrow(
                () -> ProblemException.conflict("Message " + id + " is not FAILED; only a failed message can be retried.", null));
        // After commit: a worker woken before it could not claim the message yet.
        workSignal.wake();
        return view;
    }

    /**
     * Redrives up to {@code limit} FAILED messages at once, oldest first, optionally only of
     * {@code type} and those whose last error contains {@code errorContains}: after a fix, every
     * message it failed goes back to the queue in one call rather than one call per message.
     */
    public List<Messages.Redriven> retryFailed(String type, String errorContains, int limit) {
        List<Messages.Redriven> redriven = transactions.retryFailed(type, errorContains, limit);
        if (!redriven.isEmpty()) {
            workSignal.wake();
        }
        return redriven;
    }

    /** One transaction storing the batch, again (up to three in all) if it loses a race (a deadlock, a serialization failure). */
    private List<Receipt> storeRetrying(List<IncomingMessage> distinct, List<String> newIds, List<IncomingMessage> insertOrder,
                                        List<String> insertIds, String trace) {
        for (int attempt = 1; ; attempt++) {
            try {
                return transactions.store(distinct, newIds, insertOrder, insertIds, trace);
            } catch (RuntimeException e) {
                if (attempt >= RACE_ATTEMPTS || !lostRace(e)) {
                    throw e;
                }
            }
        }
    }

    private static boolean lostRace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && ("40P01".equals(sql.getSQLState()) || "40001".equals(sql.getSQLState()))) {
                return true;
            }
        }
        return false;
    }

    private List<Receipt> resubmissionsOnly(List<IncomingMessage> incoming) {
        Map<IncomingMessage.Key, Messages.Existing> existing = store.existing(incoming);
        List<Receipt> receipts = new ArrayList<>(incoming.size());
        for (IncomingMessage message : incoming) {
            Messages.Existing stored = existing.get(message.key());
            if (stored == null || !stored.content().sameContentAs(message)) {
                throw backlog.full();
            }
            receipts.add(new Receipt(stored.id(), stored.status(), true));
        }
        return receipts;
    }

    private static Receipt withDuplicate(Receipt receipt) {
        return new Receipt(receipt.id(), receipt.status(), true, receipt.purged());
    }

    static ProblemException conflict(IncomingMessage message, String other) {
        return ProblemException.conflict("source '" + message.source() + "' and external_id '" + message.externalId()
                        + "' already identify " + other + " with different content; nothing was stored.",
                List.of(FieldError.at(message.pointer() + "/external_id", "already used for different content")));
    }
}
