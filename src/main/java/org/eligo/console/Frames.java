package org.eligo.console;

import org.eligo.auth.ConsoleSessions;
import org.eligo.auth.Role;

import io.quarkus.vertx.http.runtime.CurrentVertxRequest;

/** A page's frame from the session its request was admitted with. */
final class Frames {

    private Frames() {
    }

    static Views.Frame of(CurrentVertxRequest request, String title) {
        ConsoleSessions.Session session = ConsoleSessions.of(request.getCurrent());
        if (session == null) {
            return new Views.Frame("", "", false, false, title);
        }
        return new Views.Frame(session.subject(), session.csrf(), session.has(Role.CASEWORKER) || session.has(Role.ANALYST),
                session.has(Role.ANALYST), title);
    }
}
