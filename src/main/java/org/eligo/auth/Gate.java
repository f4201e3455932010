package org.eligo.auth;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.json.JsonArray;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import org.eclipse.microprofile.jwt.JsonWebToken;
import org.eligo.support.Ids;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.Problem;
import org.eligo.support.problem.ProblemException;
import org.jboss.logging.Logger;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The door of {@code /v1}: every request under it passes here first, on the I/O thread and before
 * any byte of its body is read (the request arrives paused, and stays so until this is done). It
 * gives the request its id, authenticates it (the bearer token is verified with {@link VerifiedTokens};
 * a token not verified in the last seconds is verified on a worker thread, since a key may have to be
 * fetched), finds its endpoint ({@link Endpoints}) and checks the caller's roles against the
 * endpoint's {@link Allowed}, and refuses what it must with problem+json (401, 403, 404, 405, and 400
 * for a query parameter or path with control characters or invalid UTF-8), recorded in the access log
 * ({@link Refusals}). Only then is the body received (BodyBuffering, bounded) and the endpoint called.
 *
 * <p>Before, this was done by a REST filter, after the body had been buffered: a client without a
 * token could make the service hold 17 MB per connection.
 */
@ApplicationScoped
public class Gate {

    /** Ahead of every other route: nothing may read a body before the request is admitted. */
    public static final int ORDER = Integer.MIN_VALUE;
    static final String REQUEST_ID = "X-Request-Id";
    private static final Pattern CLIENT_REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    /**
     * A compact JWS: three base64url parts without padding. Nothing else is passed to the verifier,
     * so no variant of one token (padded, say) misses the verified-token cache and forces a
     * verification, or crowds other callers' tokens out of it.
     */
    private static final Pattern BEARER = Pattern.compile("(?i)bearer +([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+) *");
    private static final Logger LOG = Logger.getLogger(Gate.class);

    private final AuthConfig config;
    private final VerifiedTokens tokens;
    private final Endpoints endpoints;
    private final Refusals refusals;
    private final Ids ids;

    public Gate(AuthConfig config, VerifiedTokens tokens, Endpoints endpoints, Refusals refusals, Ids ids) {
        this.config = config;
        this.tokens = tokens;
        this.endpoints = endpoints;
        this.refusals = refusals;
        this.ids = ids;
    }

    void install(@Observes Router router) {
        router.route("/v1/*").order(ORDER).handler(this::admit);
    }

    private void admit(RoutingContext context) {
        HttpServerRequest request = context.request();
        String clientId = request.getHeader(REQUEST_ID);
        Admission admission = new Admission(clientId != null && CLIENT_REQUEST_ID.matcher(clientId).matches() ? clientId : ids.next("req_"));
        admission.attachTo(context);
        context.response().putHeader(REQUEST_ID, admission.requestId());
        // Whatever answers the request, it is recorded: an answer that neither the endpoints'
        // filter nor a refusal recorded (a framework failure, say) is recorded as it leaves.
        context.addHeadersEndHandler(v -> refusals.record(context, context.response().getStatusCode()));
        Problem head = HeaderLimits.check(request);
        if (head != null) {
            refusals.refuse(context, head, Map.of());
            return;
        }
        String transferEncoding = request.getHeader(HttpHeaders.TRANSFER_ENCODING);
        if (transferEncoding != null && !transferEncoding.trim().equalsIgnoreCase("chunked")) {
            // RFC 9112, 6.3: a transfer coding other than chunked cannot be framed here; the HTTP
            // decoder would take what follows for the next request (smuggling), so: 400 and close.
            refusals.refuse(context, ProblemException.badRequest("Transfer-Encoding '" + transferEncoding
                    + "' is not supported; send the body with Content-Length or Transfer-Encoding: chunked.",
                    List.of(FieldError.parameter("Transfer-Encoding", "must be chunked, or absent"))).problem(), Map.of());
            return;
        }
        // The endpoint is looked up first (no I/O) so that even a refusal names the beneficiary it was about.
        Endpoints.Match match = endpoints.match(request.method().name(), context.normalizedPath());
        String beneficiary = match.endpoint() == null ? null : match.endpoint().parameter(context.normalizedPath(), "beneficiary_id");
        if (beneficiary != null && beneficiary.indexOf(';') >= 0) {
            // Matrix parameters are not part of the id (JAX-RS drops them too), so a refusal is
            // recorded under the same beneficiary as the request would have been served for.
            beneficiary = beneficiary.substring(0, beneficiary.indexOf(';'));
        }
        try {
            admission.matched(match, beneficiary == null ? null : decode(beneficiary, false));
        } catch (IllegalArgumentException e) {
            admission.matched(match, beneficiary);
        }
        if (!config.enabled()) {
            admission.unrestricted();
            route(context, admission);
            return;
        }
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        java.util.regex.Matcher bearer = header == null ? null : BEARER.matcher(header);
        if (bearer == null || !bearer.matches()) {
            unauthorized(context, header == null ? "This endpoint needs 'Authorization: Bearer <token>'."
                    : "The Authorization header must be 'Bearer <token>'.");
            return;
        }
        String token = bearer.group(1);
        JsonWebToken remembered = tokens.remembered(token);
        if (remembered != null) {
            authenticated(context, admission, remembered);
            return;
        }
        context.vertx().<JsonWebToken>executeBlocking(() -> tokens.parse(token), false).onComplete(verified -> {
            if (context.response().closed()) {
                // The client left while its token was checked: nothing may be reserved or read for
                // it any more (no handler would ever release it); it is recorded as abandoned.
                refusals.abandoned(context);
            } else if (verified.succeeded()) {
                authenticated(context, admission, verified.result());
            } else {
                LOG.debugf("Token refused (request %s): %s", admission.requestId(), verified.cause());
                unauthorized(context, "The bearer token is not valid (signature, issuer, expiry or claims).");
            }
        });
    }

    private void authenticated(RoutingContext context, Admission admission, JsonWebToken token) {
        try {
            admission.authenticated(subject(token), roles(token), strings(token, "sources"));
        } catch (RuntimeException e) {
            // A claim of the wrong JSON type in a correctly signed token (the JWT library itself may
            // throw reading it): the token is not one we accept.
            LOG.debugf("Token with malformed claims refused (request %s): %s", admission.requestId(), e);
            unauthorized(context, "The bearer token's claims are malformed" + (e instanceof MalformedClaim ? ": " + e.getMessage() : "") + ".");
            return;
        }
        route(context, admission);
    }

    private void route(RoutingContext context, Admission admission) {
        HttpServerRequest request = context.request();
        String method = request.method().name();
        Endpoints.Match match = admission.match();
        Endpoints.Endpoint endpoint = match.endpoint();
        if (endpoint == null) {
            if (match.methods().isEmpty()) {
                refusals.refuse(context, ProblemException.notFound("There is no endpoint at this path.").problem(), Map.of());
                return;
            }
            Set<String> methods = new java.util.TreeSet<>(match.methods());
            methods.add("OPTIONS");
            if (methods.contains("GET")) {
                methods.add("HEAD");
            }
            String allow = String.join(", ", methods);
            if ("OPTIONS".equals(method)) {
                refusals.answer(context, 204, null, new byte[0], Map.of("Allow", allow));
            } else {
                refusals.refuse(context, new Problem("about:blank", "Method Not Allowed", 405,
                        "This path allows " + allow + ".", null), Map.of("Allow", allow));
            }
            return;
        }
        if (!admission.isUnrestricted() && !endpoint.allows(admission.roles())) {
            refusals.refuse(context, ProblemException.forbidden("Your role may not do this: it needs " + endpoint.describeAllowed() + ".").problem(),
                    Map.of());
            return;
        }
        FieldError bad = badParameter(request);
        if (bad != null) {
            refusals.refuse(context, ProblemException.badRequest(bad.message(), List.of(bad)).problem(), Map.of());
            return;
        }
        context.next();
    }

    private void unauthorized(RoutingContext context, String detail) {
        refusals.refuse(context, ProblemException.unauthorized(detail).problem(), Map.of("WWW-Authenticate", "Bearer"));
    }

    static List<String> beneficiaries(Admission admission) {
        return admission.beneficiaryId() == null ? List.of() : List.of(admission.beneficiaryId());
    }

    /**
     * The first query parameter (or the path) that is not valid percent-encoded UTF-8 or holds a
     * control character, as a problem naming it; null when all are clean. Nothing with a NUL reaches
     * the database (PostgreSQL refuses it in text, which was a 500).
     */
    static FieldError badParameter(HttpServerRequest request) {
        String path = request.path();
        for (String segment : path.split("/")) {
            String problem = problem(segment, false);
            if (problem != null) {
                return FieldError.parameter("path", "The path " + problem + ".");
            }
        }
        String query = request.query();
        if (query == null) {
            return null;
        }
        for (String parameter : query.split("&")) {
            int equals = parameter.indexOf('=');
            String rawName = equals < 0 ? parameter : parameter.substring(0, equals);
            String nameProblem = problem(rawName, true);
            String name = nameProblem == null ? decode(rawName, true) : "(unreadable)";
            if (nameProblem != null) {
                return FieldError.parameter(name, "A query parameter's name " + nameProblem + ".");
            }
            String valueProblem = equals < 0 ? null : problem(parameter.substring(equals + 1), true);
            if (valueProblem != null) {
                return FieldError.parameter(name, "The value of '" + name + "' " + valueProblem + ".");
            }
        }
        return null;
    }

    /** Why a percent-encoded component is unacceptable, or null. */
    private static String problem(String raw, boolean form) {
        String decoded;
        try {
            decoded = decode(raw, form);
        } catch (IllegalArgumentException e) {
            return "is not valid percent-encoded UTF-8";
        }
        for (int i = 0; i < decoded.length(); i++) {
            if (Character.isISOControl(decoded.charAt(i))) {
                return "may not contain control characters (such as NUL)";
            }
        }
        return null;
    }

    /** Strict percent-decoding: a malformed escape or bytes that are not UTF-8 (overlong forms included) throw. */
    static String decode(String raw, boolean form) {
        if (raw.indexOf('%') < 0 && raw.chars().allMatch(c -> c < 0x80)) {
            return form ? raw.replace('+', ' ') : raw;
        }
        ByteBuffer bytes = ByteBuffer.allocate(raw.length() * 4);
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                if (i + 2 >= raw.length()) {
                    throw new IllegalArgumentException("truncated escape");
                }
                int high = Character.digit(raw.charAt(i + 1), 16), low = Character.digit(raw.charAt(i + 2), 16);
                if (high < 0 || low < 0) {
                    throw new IllegalArgumentException("malformed escape");
                }
                bytes.put((byte) (high * 16 + low));
                i += 2;
            } else if (c > 0x7f && c <= 0xff) {
                // The HTTP decoder hands the request line over a byte a character: an unencoded
                // non-ASCII byte is checked as UTF-8 like an encoded one.
                bytes.put((byte) c);
            } else if (c > 0xff) {
                bytes.put(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            } else {
                bytes.put((byte) (form && c == '+' ? ' ' : c));
            }
        }
        bytes.flip();
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes);
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not UTF-8", e);
        }
    }

    /** The caller's name: {@code upn}, else {@code preferred_username}, else {@code sub}, as MicroProfile JWT names it. */
    static String subject(JsonWebToken token) {
        for (String claim : List.of("upn", "preferred_username", "sub")) {
            Object value = token.getClaim(claim);
            if (value != null) {
                // The subject is stored with what the caller does (reruns, replays, the access log).
                String subject = text(value, claim);
                if (subject.isEmpty() || subject.length() > AccessLog.MAX_TEXT || subject.chars().anyMatch(Character::isISOControl)) {
                    throw new MalformedClaim("'" + claim + "' must be 1 to " + AccessLog.MAX_TEXT + " characters without control characters");
                }
                return subject;
            }
        }
        throw new MalformedClaim("the token names no subject (upn, preferred_username or sub)");
    }

    static Set<Role> roles(JsonWebToken token) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        strings(token, "groups").stream().map(Role::fromClaim).filter(java.util.Objects::nonNull).forEach(roles::add);
        return roles;
    }

    /**
     * A claim that must be an array of strings; absent is empty, anything else throws. A single
     * string counts as one value, except that smallrye-jwt itself splits a string {@code groups}
     * claim at spaces ("caseworker analyst" is two groups), as MicroProfile JWT allows.
     */
    static Set<String> strings(JsonWebToken token, String claim) {
        Object value = token.getClaim(claim);
        Set<String> strings = new LinkedHashSet<>();
        if (value == null) {
            return strings;
        }
        if (value instanceof JsonString || value instanceof String) {
            strings.add(text(value, claim));
        } else if (value instanceof JsonArray array) {
            for (JsonValue item : array) {
                strings.add(text(item, claim));
            }
        } else if (value instanceof Collection<?> items) {
            for (Object item : items) {
                strings.add(text(item, claim));
            }
        } else {
            throw new MalformedClaim("'" + claim + "' must be an array of strings");
        }
        return strings;
    }

    private static String text(Object value, String claim) {
        if (value instanceof JsonString string) {
            return string.getString();
        }
        if (value instanceof String string) {
            return string;
        }
        throw new MalformedClaim("'" + claim + "' must be a string" + (claim.equals("groups") || claim.equals("sources") ? " or an array of strings" : ""));
    }

    /** A claim the service reads is of the wrong type or shape; its message names the claim. */
    private static final class MalformedClaim extends RuntimeException {

        MalformedClaim(String message) {
            super(message, null, false, false);
        }
    }
}
