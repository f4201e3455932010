package org.eligo.auth;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.eligo.support.problem.Problem;
import org.eligo.support.problem.RouteProblems;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;

/**
 * Request headers larger than {@link #MAX_HEADER_BYTES} are refused with a problem+json 431, and a
 * request line longer than {@link #MAX_REQUEST_LINE} with a problem+json 414. The HTTP decoder's own
 * bounds ({@code quarkus.http.limits.max-header-size} and {@code max-initial-line-length}) are set
 * above these, because Vert.x answers a request its decoder refuses with an empty 431 or 414 that no
 * application code sees; past those outer bounds (64K, 16K) that is still the answer. {@link Gate}
 * applies the checks to {@code /v1} (so the refusal is recorded), the route here to every other path.
 */
@ApplicationScoped
public class HeaderLimits {

    /** Header bytes a request may carry (names, values and their separators); Quarkus's default. */
    public static final int MAX_HEADER_BYTES = 20 * 1024;
    /** Characters the request line may have (method, target, version); Quarkus's default. */
    public static final int MAX_REQUEST_LINE = 4096;

    private final ObjectMapper json;

    public HeaderLimits(ObjectMapper json) {
        this.json = json;
    }

    void install(@Observes Router router) {
        router.route().order(Gate.ORDER).handler(context -> {
            String path = context.normalizedPath();
            boolean v1 = path.equals("/v1") || path.startsWith("/v1/");
            Problem problem = v1 ? null : check(context.request());
            if (problem != null) {
                RouteProblems.refuse(context, json, problem);
            } else {
                context.next();
            }
        });
    }

    /** The problem with the request's head, or null when it is within bounds. */
    static Problem check(HttpServerRequest request) {
        if (request.method().name().length() + request.uri().length() + " HTTP/1.1".length() + 1 > MAX_REQUEST_LINE) {
            return new Problem("urn:eligo:problem:uri-too-long", "URI too long", 414,
                    "The request line is longer than " + MAX_REQUEST_LINE + " characters.", null);
        }
        if (headerBytes(request) > MAX_HEADER_BYTES) {
            return tooLarge();
        }
        return null;
    }

    private static long headerBytes(HttpServerRequest request) {
        long bytes = 0;
        for (Map.Entry<String, String> header : request.headers()) {
            bytes += header.getKey().length() + header.getValue().length() + 4;
        }
        return bytes;
    }

    private static Problem tooLarge() {
        return new Problem("urn:eligo:problem:headers-too-large", "Request header fields too large", 431,
                "The request's headers are larger than " + MAX_HEADER_BYTES + " bytes.", null);
    }
}
