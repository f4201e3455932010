package org.eligo.ingest.rest;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import com.fasterxml.jackson.databind.ObjectMapper;

import org.eligo.ingest.IngestConfig;
import org.eligo.operations.BodyBuffering;
import org.eligo.support.problem.ProblemException;
import org.eligo.support.problem.RouteProblems;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Refuses an ingest body that announces (Content-Length) more than its endpoint's limit before any
 * of it is read, with the same problem+json 413 the resource gives for a body that turns out too
 * large while it is read. It runs ahead of BodyBuffering's outer bound, so the limit a client is told
 * is its endpoint's own.
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
        long announced = BodyBuffering.announcedLength(context.request());
        if (announced <= limit) {
            context.next();
            return;
        }
        RouteProblems.refuse(context, mapper, ProblemException.tooLarge(
                "The body is " + announced + " bytes; the limit here is " + limit + " bytes.", null).problem());
    }
}
