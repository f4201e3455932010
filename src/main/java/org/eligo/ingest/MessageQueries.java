package org.eligo.ingest;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.support.Ids;
import org.eligo.support.problem.ProblemException;

/** Reads stored messages. */
@ApplicationScoped
public class MessageQueries {

    private final Messages messages;
    private final org.eligo.facts.Facts facts;

    public MessageQueries(Messages messages, org.eligo.facts.Facts facts) {
        this.messages = messages;
        this.facts = facts;
    }

    /**
     * The message, then its facts' ids. Two statements, each its own snapshot, yet they agree: a
     * message has facts exactly when it is PROCESSED (its facts commit with that status, and are
     * never deleted while it is kept), so the facts are read only for a message already seen
     * PROCESSED, and are all there by then.
     */
    public MessageView get(String id) {
        if (!Ids.isWellFormed(id, Ids.MESSAGE)) {
            throw ProblemException.notFound("No message with id " + id);
        }
        MessageView message = messages.view(id).orElseThrow(() -> ProblemException.notFound("No message with id " + id));
        return message.status() == MessageStatus.PROCESSED ? message.withFactIds(facts.idsOfMessage(id)) : message;
    }
}
