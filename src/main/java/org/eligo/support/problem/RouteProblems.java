package org.eligo.support.problem;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * Answers with a problem document from a Vert.x route, where no endpoint (and so no
 * {@link ProblemMappers}) is involved: a body refused before or while it is received.
 */
public final class RouteProblems {

    private RouteProblems() {
    }

    /**
     * Ends the exchange with {@code problem} and closes the connection afterwards: the rest of the
     * request body is never read, so the connection cannot carry another request.
     */
    public static void refuse(RoutingContext context, ObjectMapper json, Problem problem) {
        try {
            context.response().setStatusCode(problem.status())
                    .putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                    .putHeader(HttpHeaders.CONNECTION, "close")
                    .end(json.writeValueAsString(problem));
        } catch (JsonProcessingException e) {
            context.fail(e);
        }
    }
}
