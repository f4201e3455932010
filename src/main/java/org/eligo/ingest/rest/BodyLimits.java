package org.eligo.ingest.rest;


import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.eligo.ingest.IngestConfig;
import org.eligo.support.problem.Problem;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses an ingest body that announces (Content-Length) more than its endpoint's limit before any
 * of it is read, with the same problem+json 413 the resource gives for a body that turns out too
 * large while it is read. Without this, bodies past the HTTP server's outer limit would get a bare 413.
 */
@ApplicationScoped
public class BodyLimits {

    private static final String SINGLE = "/v1/messages";
    private static final String BATCH = "/v1/messages/batch";

    private final IngestConfig config;
    private final ObjectMapper mapper;

    public BodyLimits(IngestConfig config, ObjectMapper mapper) {
        this.config = config;
        this.mapper = mapper;
    }

    void install(@Observes Router router) {
        router.post(SINGLE).order(Integer.MIN_VALUE).handler(context -> check(context, config.maxBodyBytes()));
        router.post(BATCH).order(Integer.MIN_VALUE).handler(context -> check(context, config.batchMaxBodyBytes()));
    }

    private void check(RoutingContext context, long limit) {
        String length = context.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        long announced;
        try {
            announced = length == null ? -1 : Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            announced = -1;
        }
        if (announced <= limit) {
            context.next();
            return;
        }
        Problem problem = new Problem("urn:eligo:problem:too-large", "Content too large", 413,
                "The body is " + announced + " bytes; the limit here is " + limit + " bytes.", null);
        try {
            context.response().setStatusCode(413)
                    .putHeader(HttpHeaders.CONTENT_TYPE, Problem.MEDIA_TYPE)
                    .putHeader(HttpHeaders.CONNECTION, "close")
                    .end(mapper.writeValueAsString(problem));
        } catch (JsonProcessingException e) {
            context.fail(e);
        }
    }
}
