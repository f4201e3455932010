package org.eligo.operations;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;
import org.eligo.support.problem.RouteProblems;

import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.vertx.http.runtime.RouteConstants;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Request bodies are received in full by the I/O threads before an endpoint gets a worker thread:
 * the blocking endpoints would otherwise read their body on the worker, and clients that send a body
 * slowly (or never finish it) could hold every worker (SlowClientTest). Bodies are bounded by
 * {@code quarkus.http.limits.max-body-size}; the endpoints read whole bodies anyway, so this costs
 * no extra memory.
 *
 * <p>A body over that bound is refused with a problem+json 413 naming it (OversizedBodyTest): before
 * any of it is read when its Content-Length says so (ahead of Quarkus's own check, which answers with
 * an empty 413), and as soon as the bound is crossed when it comes chunked, so it is never buffered
 * past it.
 */
@ApplicationScoped
public class BodyBuffering {

    private static final int TOO_LARGE = 413;

    private final long maxBodyBytes;
    private final ObjectMapper json;

    public BodyBuffering(@ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize maxBodySize, ObjectMapper json) {
        this.maxBodyBytes = maxBodySize.asLongValue();
        this.json = json;
    }

    void install(@Observes Router router) {
        router.route().order(RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT - 1).handler(context -> {
            long announced = announcedLength(context.request());
            if (announced > maxBodyBytes) {
                RouteProblems.refuse(context, json, tooLarge("The body is " + announced + " bytes; the limit is " + maxBodyBytes + " bytes."));
            } else {
                context.next();
            }
        });
        BodyHandler bodies = BodyHandler.create(false).setBodyLimit(maxBodyBytes);
        router.route("/v1/*").order(-1000).handler(context -> {
            // An empty body is left to the endpoint: there is nothing to wait for, and an empty
            // buffered body would leave it waiting for a body that never comes.
            String length = context.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            boolean chunked = "chunked".equalsIgnoreCase(context.request().getHeader(HttpHeaders.TRANSFER_ENCODING));
            // HTTP/2 is off (quarkus.http.http2=false); were it on, a buffered HTTP/2 body would make
            // the REST layer fail ("request has already been read"), so those pass through.
            boolean http1 = context.request().version() != io.vertx.core.http.HttpVersion.HTTP_2;
            if (http1 && (chunked || (length != null && !length.trim().equals("0")))) {
                bodies.handle(context);
            } else {
                context.next();
            }
        }).failureHandler(context -> {
            // The body handler fails the request with a bare 413 once a chunked body crosses the bound.
            if (context.statusCode() == TOO_LARGE && context.failure() == null && !context.response().headWritten()) {
                RouteProblems.refuse(context, json, tooLarge("The body is larger than " + maxBodyBytes + " bytes, the limit."));
            } else {
                context.next();
            }
        });
    }

    /** The Content-Length a request announces, or -1 when it announces none (chunked) or garbage. */
    public static long announcedLength(HttpServerRequest request) {
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        try {
            return length == null ? -1 : Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Problem tooLarge(String detail) {
        return ProblemException.tooLarge(detail, null).problem();
    }
}
