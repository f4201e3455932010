package org.eligo.ingest;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.support.Db;
import org.eligo.support.Ids;
import org.eligo.support.problem.ProblemException;

/** Reads stored messages. */
@ApplicationScoped
public class MessageQueries {

    private final Db db;
    private final MessageStore store;

    public MessageQueries(Db db, MessageStore store) {
        this.db = db;
        this.store = store;
    }

    public MessageView get(String id) {
        if (!Ids.isWellFormed(id, Ids.MESSAGE)) {
            throw ProblemException.notFound("No message with id " + id);
        }
        return db.read(connection -> store.find(connection, id))
                .orElseThrow(() -> ProblemException.notFound("No message with id " + id));
    }
}
