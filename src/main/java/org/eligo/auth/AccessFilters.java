package org.eligo.auth;

import java.lang.reflect.Method;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import jakarta.json.JsonArray;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.jwt.JsonWebToken;
import org.eligo.support.Ids;
import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;
import org.jboss.resteasy.reactive.RestResponse;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.CurrentIdentityAssociation;
import io.quarkus.security.identity.SecurityIdentity;

/**
 * Who may do what, and the record of it, for every {@code /v1} endpoint.
 *
 * <p>Before the endpoint: the bearer token is verified (MicroProfile JWT; authentication is lazy,
 * {@code quarkus.http.auth.proactive=false}, so that it happens here and its failures answer as
 * problem+json), the caller's roles are matched against the endpoint's {@link Allowed}, and the
 * {@link Caller} is filled in. No token or a bad one: 401; a role the endpoint does not allow, or an
 * endpoint without {@link Allowed}: 403. Both filters run on the endpoint's worker thread (the
 * endpoints are blocking), where waiting for the identity and writing to the database is allowed.
 *
 * <p>After the endpoint, whatever its outcome (refusals included): one append-only
 * {@link AccessLog} row. A response is not sent without its row: if the row cannot be written, the
 * answer becomes a 503, so no read of a beneficiary's data goes unrecorded. (A write whose row
 * fails has still happened; its client sees the 503, retries, and the idempotent retry is recorded.)
 */
public class AccessFilters {

    private static final Logger LOG = Logger.getLogger(AccessFilters.class);
    static final String REQUEST_ID = "X-Request-Id";
    private static final Pattern CLIENT_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    private static final String BENEFICIARY_PARAMETER = "beneficiary_id";

    private final Caller caller;
    private final CurrentIdentityAssociation identities;
    private final AuthConfig config;
    private final AccessLog accessLog;
    private final Ids ids;

    public AccessFilters(Caller caller, CurrentIdentityAssociation identities, AuthConfig config, AccessLog accessLog, Ids ids) {
        this.caller = caller;
        this.identities = identities;
        this.config = config;
        this.accessLog = accessLog;
        this.ids = ids;
    }

    @ServerRequestFilter(priority = Priorities.AUTHENTICATION)
    public Optional<RestResponse<Problem>> authorize(ContainerRequestContext request, ResourceInfo resource) {
        String clientId = request.getHeaderString(REQUEST_ID);
        caller.requestId(clientId != null && CLIENT_REQUEST_ID.matcher(clientId).matches() ? clientId : ids.next("req_"));
        // Log lines written while serving the request carry its id (in JSON logs: mdc.request_id).
        MDC.put("request_id", caller.requestId());
        if (!config.enabled()) {
            caller.unrestricted();
            return Optional.empty();
        }
        SecurityIdentity identity;
        try {
            identity = identities.getIdentity();
        } catch (AuthenticationFailedException e) {
            return Optional.of(unauthorized("The bearer token is not valid (signature, issuer or expiry)."));
        }
        if (identity == null || identity.isAnonymous()) {
            return Optional.of(unauthorized("This endpoint needs 'Authorization: Bearer <token>'."));
        }
        Set<Role> roles = EnumSet.noneOf(Role.class);
        identity.getRoles().stream().map(Role::fromClaim).filter(java.util.Objects::nonNull).forEach(roles::add);
        caller.authenticated(identity.getPrincipal().getName(), roles, sources(identity));
        Allowed allowed = allowed(resource);
        if (allowed == null || java.util.Arrays.stream(allowed.value()).noneMatch(roles::contains)) {
            return Optional.of(problem(ProblemException.forbidden("Your role may not do this: it needs "
                    + (allowed == null ? "a role no one has" : describe(allowed)) + ".").problem()));
        }
        return Optional.empty();
    }

    @ServerResponseFilter(priority = Priorities.USER + 1000)
    public void record(ContainerRequestContext request, ContainerResponseContext response) {
        try {
            recordAccess(request, response);
        } finally {
            MDC.remove("request_id");
        }
    }

    private void recordAccess(ContainerRequestContext request, ContainerResponseContext response) {
        response.getHeaders().putSingle(REQUEST_ID, caller.requestId());
        Set<String> beneficiaries = new LinkedHashSet<>();
        String fromPath = request.getUriInfo().getPathParameters().getFirst(BENEFICIARY_PARAMETER);
        if (fromPath != null) {
            beneficiaries.add(fromPath);
        }
        if (response.getEntity() instanceof AboutBeneficiary about) {
            beneficiaries.add(about.beneficiaryId());
        }
        beneficiaries.addAll(caller.beneficiaries());
        String query = request.getUriInfo().getRequestUri().getRawQuery();
        String path = request.getUriInfo().getRequestUri().getRawPath() + (query == null ? "" : "?" + query);
        try {
            accessLog.append(caller.requestId(), caller.subject(), caller.roles(), request.getMethod(), path,
                    response.getStatus(), beneficiaries, request.getHeaderString("traceparent"));
        } catch (RuntimeException e) {
            if (response.getStatus() >= 400) {
                // Nothing is being handed out; the original failure says more than ours would.
                LOG.warnf("Could not record the failed request %s: %s", caller.requestId(), e.getMessage());
                return;
            }
            LOG.errorf(e, "Could not record access (request %s); withholding the response", caller.requestId());
            ProblemException unavailable = ProblemException.unavailable("The access could not be recorded; try again shortly.",
                    java.time.Duration.ofSeconds(5));
            response.setStatus(503);
            response.getHeaders().putSingle(HttpHeaders.RETRY_AFTER, Long.toString(unavailable.retryAfter().toSeconds()));
            response.setEntity(unavailable.problem(), new java.lang.annotation.Annotation[0], MediaType.valueOf(Problem.MEDIA_TYPE));
        }
    }

    private static Allowed allowed(ResourceInfo resource) {
        Method method = resource.getResourceMethod();
        if (method == null) {
            return null;
        }
        Allowed onMethod = method.getAnnotation(Allowed.class);
        return onMethod != null ? onMethod : resource.getResourceClass().getAnnotation(Allowed.class);
    }

    private static String describe(Allowed allowed) {
        return String.join(" or ", java.util.Arrays.stream(allowed.value()).map(Role::claim).toList());
    }

    /** The token's {@code sources} claim (an array of strings); anything else counts as none. */
    private static Set<String> sources(SecurityIdentity identity) {
        Set<String> sources = new LinkedHashSet<>();
        if (!(identity.getPrincipal() instanceof JsonWebToken token)) {
            return sources;
        }
        Object claim = token.getClaim("sources");
        if (claim instanceof JsonArray array) {
            for (JsonValue value : array) {
                if (value instanceof JsonString text) {
                    sources.add(text.getString());
                }
            }
        } else if (claim instanceof java.util.Collection<?> values) {
            values.stream().filter(String.class::isInstance).map(String.class::cast).forEach(sources::add);
        }
        return sources;
    }

    private static RestResponse<Problem> unauthorized(String detail) {
        return RestResponse.ResponseBuilder.<Problem>create(401)
                .entity(ProblemException.unauthorized(detail).problem())
                .type(Problem.MEDIA_TYPE).header(HttpHeaders.WWW_AUTHENTICATE, "Bearer").build();
    }

    private static RestResponse<Problem> problem(Problem problem) {
        return RestResponse.ResponseBuilder.<Problem>create(problem.status()).entity(problem).type(Problem.MEDIA_TYPE).build();
    }
}
