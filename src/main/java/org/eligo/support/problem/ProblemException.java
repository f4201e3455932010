package org.eligo.support.problem;

import java.time.Duration;
import java.util.List;

/** Thrown anywhere to answer the request with a problem document; mapped by {@link ProblemMappers}. */
public class ProblemException extends RuntimeException {

    private final transient Problem problem;
    private final Duration retryAfter;

    public ProblemException(Problem problem) {
        this(problem, null);
    }

    public ProblemException(Problem problem, Duration retryAfter) {
        super(problem.title() + (problem.detail() == null ? "" : ": " + problem.detail()), null, false, false);
        this.problem = problem;
        this.retryAfter = retryAfter;
    }

    public Problem problem() {
        return problem;
    }

    public Duration retryAfter() {
        return retryAfter;
    }

    public static ProblemException badRequest(String detail, List<FieldError> errors) {
        return new ProblemException(new Problem("urn:eligo:problem:invalid-request", "Invalid request", 400, detail, errors));
    }

    public static ProblemException badParameter(String name, String message) {
        return badRequest(message, List.of(FieldError.parameter(name, message)));
    }

    public static ProblemException unauthorized(String detail) {
        return new ProblemException(new Problem("urn:eligo:problem:unauthorized", "Unauthorized", 401, detail, null));
    }

    public static ProblemException forbidden(String detail) {
        return new ProblemException(new Problem("urn:eligo:problem:forbidden", "Forbidden", 403, detail, null));
    }

    public static ProblemException notFound(String detail) {
        return new ProblemException(new Problem("urn:eligo:problem:not-found", "Not found", 404, detail, null));
    }

    public static ProblemException conflict(String detail, List<FieldError> errors) {
        return new ProblemException(new Problem("urn:eligo:problem:conflict", "Conflict", 409, detail, errors));
    }

    /** 409 that a later request will not meet: the state it needs is on its way (a write not sealed yet, say). */
    public static ProblemException notYet(String detail, Duration retryAfter) {
        return new ProblemException(new Problem("urn:eligo:problem:not-yet", "Not yet", 409, detail, null), retryAfter);
    }

    public static ProblemException tooLarge(String detail, List<FieldError> errors) {
        return new ProblemException(new Problem("urn:eligo:problem:too-large", "Content too large", 413, detail, errors));
    }

    /** 429: this caller (a source) is over a rate limit; nothing was done, and after Retry-After it will be taken. */
    public static ProblemException tooManyRequests(String detail, List<FieldError> errors, Duration retryAfter) {
        return new ProblemException(new Problem("urn:eligo:problem:rate-limited", "Too many requests", 429, detail, errors), retryAfter);
    }

    public static ProblemException unavailable(String detail, Duration retryAfter) {
        return new ProblemException(new Problem("urn:eligo:problem:unavailable", "Service unavailable", 503, detail, null), retryAfter);
    }
}
