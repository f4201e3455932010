package org.eligo.ingest;

import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import jakarta.transaction.Transactional.TxType;

import org.eligo.support.Db;

/**
 * The transactions of {@link MessageService}, one method each. A bean of their own because the
 * service does things around them that must happen outside: trying a submission again after a lost
 * race (in a new transaction), and waking the workers once a change is committed. (CDI does not
 * intercept a bean's calls to itself, so a {@code @Transactional} method there would not start one.)
 */
@ApplicationScoped
class MessageTransactions {

    private final Db db;
    private final Messages messages;

    MessageTransactions(Db db, Messages messages) {
        this.db = db;
        this.messages = messages;
    }

    /**
     * Stores the new ones of {@code distinct} (inserted in the order of {@code insertOrder}, with
     * {@code insertIds}) and answers a receipt for each of {@code distinct}, in its order: all or
     * nothing, so a conflict on any key ({@link MessageService#conflict}) stores none of them.
     */
    @Transactional(TxType.REQUIRES_NEW)
    List<Receipt> store(List<IncomingMessage> distinct, List<String> newIds, List<IncomingMessage> insertOrder, List<String> insertIds, String traceparent) {
        // The chain trigger takes the beneficiaries' locks: a beneficiary held long (a replay) must
        // cost this request a quick 503, not pin a pooled connection and starve everyone else.
        db.inCurrent(connection -> {
            try (Statement statement = connection.createStatement()) {
                return statement.execute("SET LOCAL lock_timeout = '2s'");
            }
        });
        List<Messages.Stored> stored = messages.store(insertOrder, insertIds, traceparent);
        Map<String, Messages.Stored> byOfferedId = new HashMap<>();
        for (int i = 0; i < insertIds.size(); i++) {
            byOfferedId.put(insertIds.get(i), stored.get(i));
        }
        List<Receipt> receipts = new ArrayList<>(distinct.size());
        for (int i = 0; i < distinct.size(); i++) {
            Messages.Stored outcome = byOfferedId.get(newIds.get(i));
            switch (outcome.outcome()) {
                case NEW -> receipts.add(new Receipt(outcome.id(), MessageStatus.RECEIVED, false));
                case DUPLICATE -> receipts.add(new Receipt(outcome.id(), outcome.status(), true, outcome.purged() ? Boolean.TRUE : null));
                case CONFLICT -> throw MessageService.conflict(distinct.get(i), "message " + outcome.id()
                        + (outcome.purged() ? " (removed by retention; its key stays taken)" : ""));
            }
        }
        return receipts;
    }

    /**
     * Queues a FAILED message again with fresh attempts; empty if it is not FAILED. Returns the
     * message as this transaction left it: read after commit, a worker may already have claimed it
     * again, and the caller would not see the reset it asked for.
     */
    @Transactional
    Optional<MessageView> retry(String id) {
        if (!messages.retry(id)) {
            return Optional.empty();
        }
        return Optional.of(messages.view(id).orElseThrow());
    }

    /** Redrives the FAILED messages that match, in one transaction (Messages.retryFailed). */
    @Transactional
    List<Messages.Redriven> retryFailed(String type, String errorContains, int limit) {
        return messages.retryFailed(type, errorContains, limit);
    }
}
