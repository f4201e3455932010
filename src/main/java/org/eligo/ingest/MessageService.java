package org.eligo.ingest;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.work.WorkSignal;
import org.eligo.support.Db;
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

    public static final String RECEIVED = "RECEIVED";

    private final Db db;
    private final Ids ids;
    private final MessageStore store;
    private final Backlog backlog;
    private final WorkSignal workSignal;

    public MessageService(Db db, Ids ids, MessageStore store, Backlog backlog, WorkSignal workSignal) {
        this.db = db;
        this.ids = ids;
        this.store = store;
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
        List<Receipt> distinctReceipts = db.inTransactionRetrying(3, connection -> {
            // The chain trigger takes the beneficiaries' locks: a beneficiary held long (a replay) must
            // cost this request a quick 503, not pin a pooled connection and starve everyone else.
            try (java.sql.Statement statement = connection.createStatement()) {
                statement.execute("SET LOCAL lock_timeout = '2s'");
            }
            Set<String> inserted = store.insert(connection, insertOrder, insertIds, trace);
            List<IncomingMessage> repeated = new ArrayList<>();
            for (int i = 0; i < distinct.size(); i++) {
                if (!inserted.contains(newIds.get(i))) {
                    repeated.add(distinct.get(i));
                }
            }
            Map<IncomingMessage.Key, MessageStore.Existing> existing = repeated.isEmpty() ? Map.of() : store.existing(connection, repeated);
            List<Receipt> receipts = new ArrayList<>(distinct.size());
            for (int i = 0; i < distinct.size(); i++) {
                IncomingMessage message = distinct.get(i);
                if (inserted.contains(newIds.get(i))) {
                    receipts.add(new Receipt(newIds.get(i), RECEIVED, false));
                    continue;
                }
                MessageStore.Existing stored = existing.get(message.key());
                if (stored == null) {
                    // ON CONFLICT skipped it, so the key exists; it must be visible to this later statement.
                    throw new IllegalStateException("message key " + message.key() + " conflicted but is not visible");
                }
                if (!stored.content().sameContentAs(message)) {
                    throw conflict(message, "message " + stored.id());
                }
                receipts.add(new Receipt(stored.id(), stored.status(), true));
            }
            return receipts;
        });
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

    /** Binds the message id. Sets a FAILED message back to the queue with fresh attempts; its last_error stays. */
    static final String RETRY = """
            UPDATE message SET status = 'RECEIVED', attempts = 0, next_attempt_at = clock_timestamp()
             WHERE id = ? AND status = 'FAILED'
            """;

    /**
     * Redrives a FAILED message (after its cause is fixed): it is queued again with fresh attempts.
     * Returns the message as this transaction left it: read after commit, a worker may already
     * have claimed it again, and the caller would not see the reset it asked for.
     */
    public MessageView retry(String id) {
        MessageView view = db.inTransaction(connection -> {
            try (java.sql.PreparedStatement statement = connection.prepareStatement(RETRY)) {
                statement.setString(1, id);
                if (statement.executeUpdate() == 0) {
                    return null;
                }
            }
            return store.find(connection, id).orElseThrow();
        });
        if (view == null) {
            throw ProblemException.conflict("Message " + id + " is not FAILED; only a failed message can be retried.", null);
        }
        workSignal.wake();
        return view;
    }

    private List<Receipt> resubmissionsOnly(List<IncomingMessage> messages) {
        Map<IncomingMessage.Key, MessageStore.Existing> existing = db.read(connection -> store.existing(connection, messages));
        List<Receipt> receipts = new ArrayList<>(messages.size());
        for (IncomingMessage message : messages) {
            MessageStore.Existing stored = existing.get(message.key());
            if (stored == null || !stored.content().sameContentAs(message)) {
                throw backlog.full();
            }
            receipts.add(new Receipt(stored.id(), stored.status(), true));
        }
        return receipts;
    }

    private static Receipt withDuplicate(Receipt receipt) {
        return new Receipt(receipt.id(), receipt.status(), true);
    }

    private static ProblemException conflict(IncomingMessage message, String other) {
        return ProblemException.conflict("source '" + message.source() + "' and external_id '" + message.externalId()
                        + "' already identify " + other + " with different content; nothing was stored.",
                List.of(FieldError.at(message.pointer() + "/external_id", "already used for different content")));
    }
}
