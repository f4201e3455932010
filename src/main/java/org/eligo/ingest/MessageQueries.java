package org.eligo.ingest;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.support.Ids;
import org.eligo.support.problem.ProblemException;

/** Reads stored messages. */
@ApplicationScoped
public class MessageQueries {

    private final Messages messages;

    public MessageQueries(Messages messages) {
        this.messages = messages;
    }

    public MessageView get(String id) {
        if (!Ids.isWellFormed(id, Ids.MESSAGE)) {
            throw ProblemException.notFound("No message with id " + id);
        }
        return messages.view(id)
                .orElseThrow(() -> ProblemException.notFound("No message with id " + id));
    }
}
