package org.eligo.auth;

import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;

import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

import io.quarkus.vertx.http.runtime.CurrentVertxRequest;

/**
 * The endpoints' side of who may do what, and the record of it. {@link Gate} has already
 * authenticated the request and checked its roles before its body was read; here, on the endpoint's
 * worker thread:
 *
 * <p>Before the endpoint: the {@link Caller} is filled in from the request's {@link Admission}, its
 * id goes into the log context, and the caller's roles are checked once more against the
 * {@link Allowed} of the method actually dispatched to (an endpoint without one refuses everyone), so
 * a path the gate read differently can never let a caller through. A request that did not pass the
 * gate (it matched a resource by a path the gate does not see as {@code /v1}) is refused.
 *
 * <p>After the endpoint, whatever its outcome (refusals included): one append-only
 * {@link AccessLog} row. A response is not sent without its row: if the row cannot be written, the
 * answer becomes a 503, so no read of a beneficiary's data goes unrecorded. (A write whose row
 * fails has still happened; its client sees the 503, retries, and the idempotent retry is recorded.)
 * Requests outside {@code /v1} have no admission and are not recorded.
 */
public class AccessFilters {

    private static final Logger LOG = Logger.getLogger(AccessFilters.class);
    private static final String BENEFICIARY_PARAMETER = "beneficiary_id";

    private final Caller caller;
    private final AccessLog accessLog;
    private final CurrentVertxRequest vertxRequest;

    public AccessFilters(Caller caller, AccessLog accessLog, CurrentVertxRequest vertxRequest) {
        this.caller = caller;
        this.accessLog = accessLog;
        this.vertxRequest = vertxRequest;
    }

    @ServerRequestFilter(priority = Priorities.AUTHENTICATION)
    public Optional<RestResponse<Problem>> authorize(ContainerRequestContext request, ResourceInfo resource) {
        Admission admission = Admission.of(vertxRequest.getCurrent());
        if (admission == null) {
            return Optional.of(problem(ProblemException.notFound("There is no endpoint at this path.").problem()));
        }
        caller.admit(admission);
        // Log lines written while serving the request carry its id (in JSON logs: mdc.request_id).
        MDC.put("request_id", admission.requestId());
        Set<Role> allowed = Endpoints.allowedRoles(resource.getResourceMethod(), resource.getResourceClass());
        if (!admission.isUnrestricted() && allowed.stream().noneMatch(admission.roles()::contains)) {
            return Optional.of(problem(ProblemException.forbidden("Your role may not do this: it needs "
                    + Endpoints.describe(allowed) + ".").problem()));
        }
        return Optional.empty();
    }

    @ServerResponseFilter(priority = Priorities.USER + 1000)
    public void record(ContainerRequestContext request, ContainerResponseContext response) {
        try {
            Admission admission = Admission.of(vertxRequest.getCurrent());
            if (admission != null && admission.claimRecord()) {
                recordAccess(admission, request, response);
            }
        } finally {
            MDC.remove("request_id");
        }
    }

    private void recordAccess(Admission admission, ContainerRequestContext request, ContainerResponseContext response) {
        // X-Request-Id is on the response already: the Gate put it there for every /v1 answer.
        Set<String> beneficiaries = new LinkedHashSet<>();
        String fromPath = request.getUriInfo().getPathParameters().getFirst(BENEFICIARY_PARAMETER);
        if (fromPath != null) {
            beneficiaries.add(fromPath);
        }
        if (response.getEntity() instanceof AboutBeneficiary about) {
            beneficiaries.add(about.beneficiaryId());
        }
        beneficiaries.addAll(caller.beneficiaries());
        java.net.URI uri = request.getUriInfo().getRequestUri();
        if (response.getStatus() == 503) {
            // Unavailable already (the database away or hanging, a limit reached): nothing is handed
            // out, so the row is queued without waiting for it. Waiting would add the access log's own
            // wait (up to 10 s) to a request that already spent the database time-outs (issue 20:
            // 20 s for a 10 s socket time-out, seen by scripts/Faults.java with the database frozen).
            accessLog.record(admission.requestId(), admission.subject(), admission.roles(), request.getMethod(), uri.getRawPath(),
                    uri.getRawQuery(), response.getStatus(), beneficiaries, request.getHeaderString("traceparent"))
                    .whenComplete((written, failure) -> {
                        if (failure != null) {
                            LOG.warnf("Could not record the failed request %s: %s", admission.requestId(), failure.getMessage());
                        }
                    });
            return;
        }
        try {
            accessLog.append(admission.requestId(), admission.subject(), admission.roles(), request.getMethod(), uri.getRawPath(),
                    uri.getRawQuery(), response.getStatus(), beneficiaries, request.getHeaderString("traceparent"));
        } catch (RuntimeException e) {
            if (response.getStatus() >= 400) {
                // Nothing is being handed out; the original failure says more than ours would.
                LOG.warnf("Could not record the failed request %s: %s", admission.requestId(), e.getMessage());
                return;
            }
            LOG.errorf(e, "Could not record access (request %s); withholding the response", admission.requestId());
            ProblemException unavailable = ProblemException.unavailable("The access could not be recorded; try again shortly.",
                    java.time.Duration.ofSeconds(5));
            response.setStatus(503);
            response.getHeaders().putSingle(HttpHeaders.RETRY_AFTER, Long.toString(unavailable.retryAfter().toSeconds()));
            response.setEntity(unavailable.problem(), new java.lang.annotation.Annotation[0], MediaType.valueOf(Problem.MEDIA_TYPE));
        }
    }

    private static RestResponse<Problem> problem(Problem problem) {
        return RestResponse.ResponseBuilder.<Problem>create(problem.status()).entity(problem).type(Problem.MEDIA_TYPE).build();
    }
}
