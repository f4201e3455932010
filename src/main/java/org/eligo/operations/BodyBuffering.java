package org.eligo.operations;

import java.time.Duration;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eligo.auth.Admission;
import org.eligo.auth.Endpoints;
import org.eligo.auth.Gate;
import org.eligo.auth.Refusals;
import org.eligo.imports.rest.ImportResource;
import org.eligo.ingest.IngestConfig;
import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;
import org.eligo.support.problem.RouteProblems;

import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.vertx.http.runtime.RouteConstants;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.impl.RoutingContextInternal;

/**
 * Request bodies are received in full by the I/O threads before an endpoint gets a worker thread:
 * the blocking endpoints would otherwise read their body on the worker, and clients that send a body
 * slowly (or never finish it) could hold every worker (SlowClientTest).
 *
 * <p>Only admitted requests get here ({@link Gate} runs first: authenticated, authorized, endpoint
 * known), and their bodies are bounded while they arrive, chunked or not, by the same limits: the
 * endpoint's own ({@code eligo.ingest.max-body-bytes} for {@code POST /v1/messages},
 * {@code eligo.ingest.batch-max-body-bytes} for the batch) or else the outer bound
 * ({@code quarkus.http.limits.max-body-size}). A body over its limit is refused with a problem+json
 * 413 naming it: before any of it is read when its Content-Length says so, and as soon as the limit
 * is crossed when it comes chunked (OversizedBodyTest). Across all requests, the bytes held are
 * bounded by {@code eligo.http.max-buffered-bytes} ({@link BodyBudget}): a body that does not fit is
 * refused with 503 and {@code Retry-After}, before it is read when announced, as soon as it does
 * not fit when chunked. The endpoints copy and parse what is held, so the heap a body costs is a small
 * multiple of its size; the budget bounds that too.
 */
@ApplicationScoped
public class BodyBuffering {

    private static final String SINGLE = "/v1/messages";
    private static final String BATCH = "/v1/messages/batch";
    /** How long a client refused for want of buffer space is asked to wait. */
    static final Duration BUSY_RETRY_AFTER = Duration.ofSeconds(2);
    private static final int INITIAL_CHUNKED_CAPACITY = 64 * 1024;

    private final long maxBodyBytes;
    private final IngestConfig ingest;
    private final BodyBudget budget;
    private final Refusals refusals;
    private final ObjectMapper json;
    private final Duration bodyTimeout;

    public BodyBuffering(@ConfigProperty(name = "quarkus.http.limits.max-body-size") MemorySize maxBodySize, IngestConfig ingest,
                         BodyBudget budget, Refusals refusals, ObjectMapper json, HttpConfig http) {
        this.maxBodyBytes = maxBodySize.asLongValue();
        this.ingest = ingest;
        this.budget = budget;
        this.refusals = refusals;
        this.json = json;
        this.bodyTimeout = http.bodyTimeout();
    }

    void checkBudget(@Observes io.quarkus.runtime.StartupEvent start) {
        long largest = Math.max(maxBodyBytes, Math.max(limit(SINGLE), limit(BATCH)));
        if (budget.max() < largest) {
            org.jboss.logging.Logger.getLogger(BodyBuffering.class).warnf(
                    "eligo.http.max-buffered-bytes (%d) is below the largest body an endpoint accepts (%d): such bodies are always answered 503",
                    budget.max(), largest);
        }
    }

    void install(@Observes Router router) {
        // Outside /v1 no endpoint takes a body: one over the outer bound is refused as a problem
        // (ahead of Quarkus's own check, which answers with an empty 413).
        router.route().order(RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT - 1).handler(context -> {
            long announced = announcedLength(context.request());
            if (announced > maxBodyBytes && Admission.of(context) == null) {
                RouteProblems.refuse(context, json, tooLarge("The body is " + announced + " bytes; the limit is " + maxBodyBytes + " bytes."));
            } else {
                context.next();
            }
        });
        router.route("/v1/*").order(Gate.ORDER + 1).handler(this::receive);
        // The bulk import streams its body to the database (ImportResource), bounded by
        // eligo.imports.max-bytes as it arrives: Quarkus's bound (quarkus.http.limits.max-body-size,
        // enforced from the Content-Length before the REST layer) is not its bound. The header is
        // set aside around that check and put back, and the chunked-body bound Quarkus leaves for
        // the REST layer is removed. Only admitted requests reach these routes' second half.
        router.post(ImportResource.UPLOAD).order(RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT - 1).handler(context -> {
            String length = context.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length != null && Admission.of(context) != null) {
                context.put(IMPORT_LENGTH, length);
                context.request().headers().remove(HttpHeaders.CONTENT_LENGTH);
            }
            context.next();
        });
        router.post(ImportResource.UPLOAD).order(RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT + 1).handler(context -> {
            String length = context.get(IMPORT_LENGTH);
            if (length != null) {
                context.request().headers().set(HttpHeaders.CONTENT_LENGTH, length);
            }
            context.remove(QUARKUS_MAX_REQUEST_SIZE);
            context.next();
        });
    }

    private static final String IMPORT_LENGTH = "eligo.import-content-length";
    /** io.quarkus.vertx.http.runtime.VertxHttpRecorder.MAX_REQUEST_SIZE_KEY. */
    private static final String QUARKUS_MAX_REQUEST_SIZE = "io.quarkus.max-request-size";

    private void receive(RoutingContext context) {
        HttpServerRequest request = context.request();
        Admission admission = Admission.of(context);
        // HTTP/2 is off (quarkus.http.http2=false); were it on, a buffered HTTP/2 body would make
        // the REST layer fail ("request has already been read"), so those pass through.
        if (admission == null || !Refusals.announcesBody(request) || request.version() == HttpVersion.HTTP_2) {
            // An empty body is left to the endpoint: there is nothing to wait for.
            context.next();
            return;
        }
        if (context.response().closed()) {
            // Gone already (while its token was checked, say): an end handler added now would never
            // run, so nothing may be reserved for it.
            refusals.abandoned(context);
            return;
        }
        if (admission.endpoint() != null && ImportResource.UPLOAD.equals(admission.endpoint().template())) {
            // Streamed by its endpoint, not held here (see install).
            context.next();
            return;
        }
        long limit = limit(admission.endpoint());
        long announced = announcedLength(request);
        if (limit == 0) {
            // Only POST endpoints read a body; held for any other, it would only take budget.
            refusals.refuse(context, tooLarge(admission.endpoint().method() + " " + admission.endpoint().template()
                    + " takes no body; send none."), Map.of());
            return;
        }
        if (announced > limit) {
            refusals.refuse(context, tooLarge("The body is " + announced + " bytes; the limit here is " + limit + " bytes."), Map.of());
            return;
        }
        // Reserved before anything is allocated for it: a body that does not fit costs nothing.
        if (announced > 0 && !budget.reserve(announced)) {
            busy(context);
            return;
        }
        Body body = new Body(limit, announced);
        body.reserved = Math.max(announced, 0);
        long deadline = context.vertx().setTimer(bodyTimeout.toMillis(), expired -> {
            if (!body.complete && !body.refused) {
                body.refuse(context, () -> refusals.refuse(context, new Problem("about:blank", "Request Timeout", 408,
                        "The body did not arrive within " + bodyTimeout.toSeconds() + " s.", null), Map.of()));
            }
        });
        context.addEndHandler(ended -> {
            context.vertx().cancelTimer(deadline);
            body.release();
            if (!body.complete && !body.refused) {
                // The client went away before its body was through: recorded, as 499.
                refusals.abandoned(context);
            }
        });
        if (request.headers().contains(HttpHeaders.EXPECT, HttpHeaders.CONTINUE, true)) {
            context.response().writeContinue();
        }
        request.handler(chunk -> body.append(context, chunk));
        request.exceptionHandler(failure -> body.release());
        request.endHandler(ended -> {
            if (!body.refused) {
                body.complete = true;
                RoutingContextInternal internal = (RoutingContextInternal) context;
                internal.visitHandler(RoutingContextInternal.BODY_HANDLER);
                internal.setBody(body.bytes);
                context.next();
            }
        });
        request.resume();
    }

    /** One request's body as it arrives, and what it holds of the budget. */
    private final class Body {
        final long limit;
        final Buffer bytes;
        long reserved;
        boolean refused;
        boolean complete;
        private boolean released;

        Body(long limit, long announced) {
            this.limit = limit;
            this.bytes = Buffer.buffer((int) Math.min(announced > 0 ? announced : INITIAL_CHUNKED_CAPACITY, limit));
        }

        void append(RoutingContext context, Buffer chunk) {
            if (refused) {
                return;
            }
            long total = (long) bytes.length() + chunk.length();
            if (total > limit) {
                refuse(context, () -> refusals.refuse(context, tooLarge("The body is larger than " + limit + " bytes, the limit here."), Map.of()));
                return;
            }
            if (total > reserved) {
                // Chunked (or longer than announced, which the HTTP decoder does not let through): reserve as it comes.
                long more = total - reserved;
                if (!budget.reserve(more)) {
                    refuse(context, () -> busy(context));
                    return;
                }
                reserved += more;
            }
            bytes.appendBuffer(chunk);
        }

        private void refuse(RoutingContext context, Runnable answer) {
            refused = true;
            context.request().pause();
            answer.run();
        }

        /** Called on the request's I/O thread only (end of the exchange, or a broken connection). */
        void release() {
            if (!released) {
                released = true;
                budget.release(reserved);
            }
        }
    }

    /** The body an endpoint reads at most: its own limit for POST endpoints; 0 (none) for every other method. */
    private long limit(Endpoints.Endpoint endpoint) {
        if (endpoint == null) {
            return maxBodyBytes;
        }
        return "POST".equals(endpoint.method()) ? limit(endpoint.template()) : 0;
    }

    private long limit(String postTemplate) {
        return switch (postTemplate) {
            case SINGLE -> Math.min(ingest.maxBodyBytes(), maxBodyBytes);
            case BATCH -> Math.min(ingest.batchMaxBodyBytes(), maxBodyBytes);
            default -> maxBodyBytes;
        };
    }

    private void busy(RoutingContext context) {
        refusals.refuse(context, ProblemException.unavailable("The service is holding as many request bodies as it may; try again shortly.",
                BUSY_RETRY_AFTER).problem(), Map.of("Retry-After", Long.toString(BUSY_RETRY_AFTER.toSeconds())));
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
