package org.eligo.support.problem;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

import org.eligo.support.Db;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Turns every failure into problem+json: ours ({@link ProblemException}), the framework's
 * (404 for an unknown path, 405, 406, 415...), a database that is away or a transaction that lost a
 * race (503, to be retried), and anything
 * else, which is a bug (500, logged with its stack trace).
 */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public RestResponse<Problem> problem(ProblemException e) {
        RestResponse.ResponseBuilder<Problem> builder = builder(e.problem());
        if (e.retryAfter() != null) {
            builder.header(HttpHeaders.RETRY_AFTER, Math.max(1, e.retryAfter().toSeconds()));
        }
        return builder.build();
    }

    @ServerExceptionMapper
    public RestResponse<Problem> framework(WebApplicationException e) {
        Response.StatusType status = e.getResponse().getStatusInfo();
        Problem problem = new Problem("about:blank", status.getReasonPhrase(), status.getStatusCode(), e.getMessage(), null);
        return builder(problem).build();
    }

    @ServerExceptionMapper
    public RestResponse<Problem> database(DatabaseUnavailableException e) {
        LOG.warnf("Database busy or unavailable: %s", e.getMessage());
        return problem(ProblemException.unavailable("The database is busy or unavailable; try again shortly.", java.time.Duration.ofSeconds(5)));
    }

    @ServerExceptionMapper
    public RestResponse<Problem> bug(Throwable e) {
        if (Db.isTransient(e)) {
            return database(new DatabaseUnavailableException(e));
        }
        LOG.error("Unhandled error (a bug)", e);
        Problem problem = new Problem("urn:eligo:problem:internal", "Internal error", 500,
                "An unexpected error occurred; it has been logged.", null);
        return builder(problem).build();
    }

    private static RestResponse.ResponseBuilder<Problem> builder(Problem problem) {
        return RestResponse.ResponseBuilder.<Problem>create(problem.status()).entity(problem).type(Problem.MEDIA_TYPE);
    }
}
