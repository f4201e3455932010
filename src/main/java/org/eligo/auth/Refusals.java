package org.eligo.auth;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.eligo.support.problem.Problem;
import org.jboss.logging.Logger;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * Answers a {@code /v1} request from the I/O thread, before or while its body arrives (401, 403,
 * 404, 405, 413, 503...), and records it in the access log first, as {@link AccessFilters} does for
 * the endpoints' answers. The I/O thread may not wait for the row's commit, so the answer is sent
 * when the row's write completes; a row that fails is logged and the refusal still sent (nothing is
 * handed out by a refusal).
 */
@ApplicationScoped
public class Refusals {

    private static final Logger LOG = Logger.getLogger(Refusals.class);
    /** How long a refused request's remaining body is read and dropped before its connection is closed. */
    static final long LINGER_MILLIS = 2000;

    private final AccessLog accessLog;
    private final ObjectMapper json;

    public Refusals(AccessLog accessLog, ObjectMapper json) {
        this.accessLog = accessLog;
        this.json = json;
    }

    /** Status recorded for a request whose client closed the connection before it could be answered (nginx's convention). */
    public static final int CLIENT_CLOSED = 499;

    /**
     * Records a request whose connection closed before it was answered (its client went away
     * mid-body), unless it was recorded already; nothing can be sent.
     */
    public void abandoned(RoutingContext context) {
        record(context, CLIENT_CLOSED);
    }

    /**
     * Queues the request's one access-log row with {@code status}, unless it was recorded already
     * (or is outside {@code /v1}); the future completes when the row is written, and a row that
     * fails is logged here. For answers the REST layer does not give (refusals, abandoned requests,
     * framework failures), which {@link AccessFilters} cannot see.
     */
    CompletableFuture<Void> record(RoutingContext context, int status) {
        Admission admission = Admission.of(context);
        if (admission == null || !admission.claimRecord()) {
            return CompletableFuture.completedFuture(null);
        }
        HttpServerRequest request = context.request();
        CompletableFuture<Void> written = accessLog.record(admission.requestId(), admission.subject(), admission.roles(),
                request.method().name(), request.path(), request.query(), status, Gate.beneficiaries(admission),
                request.getHeader("traceparent"));
        written.whenComplete((ignored, failure) -> {
            if (failure != null) {
                LOG.warnf("Could not record request %s (%d): %s", admission.requestId(), status, failure.getMessage());
            }
        });
        return written;
    }

    /** Answers with {@code problem} (and {@code headers}); see {@link #answer}. */
    public void refuse(RoutingContext context, Problem problem, Map<String, String> headers) {
        byte[] body;
        try {
            body = json.writeValueAsBytes(problem);
        } catch (JsonProcessingException e) {
            context.fail(e);
            return;
        }
        answer(context, problem.status(), Problem.MEDIA_TYPE, body, headers);
    }

    /**
     * Records the request (once) and then ends it with {@code status}. A request that announced a
     * body is answered with {@code Connection: close}: the rest of its body is never read, so the
     * connection cannot carry another request.
     */
    public void answer(RoutingContext context, int status, String contentType, byte[] body, Map<String, String> headers) {
        context.request().pause();
        CompletableFuture<Void> recorded = record(context, status);
        Context vertxContext = Vertx.currentContext();
        // Not past AccessLog.WAIT: while the database stalls, a refusal still answers (it hands
        // nothing out), and its connection does not wait on the stall; the row may yet be written.
        recorded.copy().orTimeout(AccessLog.WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).whenComplete((ignored, failure) -> {
            if (vertxContext == null) {
                send(context, status, contentType, body, headers);
            } else {
                vertxContext.runOnContext(v -> send(context, status, contentType, body, headers));
            }
        });
    }

    private static void send(RoutingContext context, int status, String contentType, byte[] body, Map<String, String> headers) {
        HttpServerResponse response = context.response();
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            // Someone else started answering (cannot happen on the paths that refuse); only closing is left.
            context.request().connection().close();
            return;
        }
        response.setStatusCode(status);
        headers.forEach(response::putHeader);
        boolean unread = announcesBody(context.request());
        if (unread) {
            response.putHeader(HttpHeaders.CONNECTION, "close");
        }
        if (contentType != null) {
            response.putHeader(HttpHeaders.CONTENT_TYPE, contentType);
        }
        response.end(io.vertx.core.buffer.Buffer.buffer(body)).onComplete(sent -> {
            if (unread) {
                closeAfterLinger(context);
            }
        });
    }

    /**
     * Closes the connection of a request whose body was refused unread. Not at once: closing a
     * socket with unread bytes makes the kernel reset it, and a client still sending would then
     * lose the answer before reading it (RFC 9112, 9.6). So the rest of the body is read and
     * dropped (held nowhere) until it ends or for {@link #LINGER_MILLIS} at most, then the
     * connection is closed.
     */
    private static void closeAfterLinger(RoutingContext context) {
        HttpServerRequest request = context.request();
        io.vertx.core.http.HttpConnection connection = request.connection();
        long timer = context.vertx().setTimer(LINGER_MILLIS, t -> connection.close());
        try {
            request.handler(dropped -> { });
            request.exceptionHandler(failure -> { });
            request.endHandler(ended -> {
                context.vertx().cancelTimer(timer);
                connection.close();
            });
            request.resume();
        } catch (IllegalStateException alreadyEnded) {
            context.vertx().cancelTimer(timer);
            connection.close();
        }
    }

    /** A body follows the headers: chunked, or a Content-Length other than 0. */
    public static boolean announcesBody(HttpServerRequest request) {
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        return request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null || (length != null && !length.trim().equals("0"));
    }
}
