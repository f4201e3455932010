package org.eligo.auth;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eligo.support.Ids;
import org.jboss.logging.Logger;

import io.quarkus.qute.Location;
import io.quarkus.qute.Template;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The door of the console ({@code /console}), as {@link Gate} is the API's: every page request gets a
 * request id and an {@link Admission} from the person's session ({@link ConsoleSessions}), so the
 * pages' roles are checked and every page view is written to the access log by {@link AccessFilters},
 * exactly like an API read. Without a session, a page answers 303 to the sign-in page, which comes
 * back to the page afterwards. With authentication off ({@code eligo.auth.enabled=false}) every page
 * is open, as the API is.
 *
 * <p>It also serves the sign-in and sign-out forms. The development sign-in
 * ({@code eligo.console.dev-sign-in}) picks a role without a password; it is for the embedded quick
 * start only. Every form carries a CSRF token: the sign-in form's is checked against a cookie of its
 * own (double submit), every later form's against the session's; a POST whose {@code Origin} is
 * another site is refused before that.
 *
 * <p>Every console answer says: not to be cached (the pages hold beneficiaries' data), not to be
 * framed, scripts and styles only from this service.
 */
@ApplicationScoped
public class ConsoleGate {

    public static final String SIGN_IN = "/console/sign-in";
    public static final String SIGN_OUT = "/console/sign-out";
    /** Sign-in with the identity provider: quarkus-oidc's code flow guards this path, which then opens a console session. */
    public static final String OIDC = "/console/oidc";
    /** Where an identity provider sign-in returns to afterwards (a console page), kept across the provider's round trip. */
    static final String NEXT_COOKIE = "eligo_next";
    static final String ASSETS = "/console/assets/";
    /** Where a sign-in may return to: a console page, never another site ("//host", "/\host"). */
    private static final Pattern NEXT = Pattern.compile("/console(/[A-Za-z0-9._~/?=&%+-]*)?");
    private static final Pattern BENEFICIARY_PAGE = Pattern.compile("/console/beneficiaries/([^/;]+)/?");
    private static final Pattern NAME = Pattern.compile("[\\p{L}\\p{N} ._@'-]{1,100}");
    private static final Logger LOG = Logger.getLogger(ConsoleGate.class);

    private final AuthConfig auth;
    private final ConsoleConfig config;
    private final ConsoleSessions sessions;
    private final Refusals refusals;
    private final Ids ids;
    private final Template signIn;
    /** With authentication off: the one session every request gets, so forms still carry a token. */
    private final ConsoleSessions.Session open;
    /** Whether an identity provider is configured (quarkus-oidc's default tenant). */
    private final boolean oidc;

    public ConsoleGate(AuthConfig auth, ConsoleConfig config, ConsoleSessions sessions, Refusals refusals, Ids ids,
                       @Location("console/sign-in.html") Template signIn,
                       @org.eclipse.microprofile.config.inject.ConfigProperty(name = "quarkus.oidc.tenant-enabled", defaultValue = "false") boolean oidc) {
        this.oidc = oidc;
        this.auth = auth;
        this.config = config;
        this.sessions = sessions;
        this.refusals = refusals;
        this.ids = ids;
        this.signIn = signIn;
        this.open = new ConsoleSessions.Session(Caller.UNAUTHENTICATED, EnumSet.allOf(Role.class), Set.of(),
                java.time.Instant.MAX, sessions.token());
    }

    /**
     * Says where the console is and how one signs in. The development sign-in is expected with the
     * quick start's development keys; anywhere else it is a warning.
     */
    void announce(@Observes StartupEvent event, org.eclipse.microprofile.config.Config settings) {
        String at = "http://localhost:" + settings.getOptionalValue("quarkus.http.port", Integer.class).orElse(8080) + "/console/";
        if (!auth.enabled()) {
            LOG.infof("Console: %s (authentication off: no sign-in)", at);
        } else if (config.devSignIn() && settings.getOptionalValue(DevKeysConfigSourceFactory.ISSUER, String.class).filter(DevToken.ISSUER::equals).isPresent()) {
            LOG.infof("Console: %s (development sign-in: pick caseworker or analyst)", at);
        } else if (config.devSignIn()) {
            LOG.warnf("Console: %s. Its development sign-in is on (eligo.console.dev-sign-in): anyone who reaches it may sign in "
                    + "with any role, without a password. It is meant for the embedded quick start only.", at);
        } else {
            LOG.infof("Console: %s", at);
        }
    }

    void install(@Observes Router router) {
        router.route("/console*").order(Gate.ORDER).handler(this::admit);
        router.route(HttpMethod.GET, SIGN_IN).handler(this::signInForm);
        router.route(HttpMethod.POST, SIGN_IN).handler(BodyHandler.create().setBodyLimit(8 * 1024).setDeleteUploadedFilesOnEnd(true)
                .setHandleFileUploads(false)).handler(this::signInSubmit);
        router.route(HttpMethod.GET, OIDC).handler(this::signedInWithProvider);
        router.route(HttpMethod.POST, SIGN_OUT).handler(BodyHandler.create().setBodyLimit(8 * 1024).setHandleFileUploads(false))
                .handler(this::signOut);
    }

    private void admit(RoutingContext context) {
        String path = context.normalizedPath();
        context.response()
                .putHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
                .putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("Referrer-Policy", "same-origin");
        if (path.startsWith(ASSETS)) {
            context.next();
            return;
        }
        context.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        Admission admission = new Admission(ids.next("req_"));
        admission.attachTo(context);
        context.response().putHeader(Gate.REQUEST_ID, admission.requestId());
        // Every page view is recorded, whoever answers it (a page, a redirect to sign-in, a failure).
        context.addHeadersEndHandler(v -> refusals.record(context, context.response().getStatusCode()));
        java.util.regex.Matcher about = BENEFICIARY_PAGE.matcher(path);
        if (about.matches()) {
            // A page about a beneficiary is recorded under them even when it is refused (no session).
            try {
                admission.matched(Endpoints.Match.NONE, Gate.decode(about.group(1), false));
            } catch (IllegalArgumentException e) {
                admission.matched(Endpoints.Match.NONE, about.group(1));
            }
        }
        if (context.request().method() == HttpMethod.POST && !sameOrigin(context)) {
            refusals.answer(context, 403, "text/plain; charset=utf-8",
                    "A form of this console may only be sent from its own pages.".getBytes(StandardCharsets.UTF_8), java.util.Map.of());
            return;
        }
        if (path.equals(SIGN_IN) || path.equals(SIGN_OUT)) {
            context.next();
            return;
        }
        if (path.equals(OIDC)) {
            if (!oidc) {
                html(context, 404, "<!DOCTYPE html><html lang=\"en\"><title>No identity provider</title><p>This service has no identity provider "
                        + "configured. <a href=\"/console/sign-in\">Sign in</a>");
                return;
            }
            String next = context.request().getParam("next");
            if (next != null && NEXT.matcher(next).matches()) {
                context.response().addCookie(sessions.cookie(NEXT_COOKIE, next).setMaxAge(600));
            }
            // quarkus-oidc's code flow (an HTTP permission on this path) runs next: the provider's
            // sign-in, then back here with the person's ID token.
            context.next();
            return;
        }
        if (!auth.enabled()) {
            admission.unrestricted();
            sessions.attach(context, open);
            context.next();
            return;
        }
        ConsoleSessions.Session session = sessions.read(context).orElse(null);
        if (session == null) {
            String wanted = context.request().uri();
            String target = SIGN_IN + (NEXT.matcher(wanted).matches() && !wanted.equals("/console") && !wanted.equals("/console/")
                    ? "?next=" + URLEncoder.encode(wanted, StandardCharsets.UTF_8) : "");
            refusals.answer(context, 303, null, new byte[0], java.util.Map.of(HttpHeaders.LOCATION.toString(), target));
            return;
        }
        admission.authenticated(session.subject(), session.roles(), session.sources());
        sessions.attach(context, session);
        context.next();
    }

    private void signInForm(RoutingContext context) {
        ConsoleSessions.Session session = sessions.read(context).orElse(null);
        String next = next(context.request().getParam("next"));
        if (session != null || !auth.enabled()) {
            redirect(context, next);
            return;
        }
        String token = sessions.token();
        sessions.writeSignInToken(context, token);
        html(context, 200, signIn.data("csrf", token).data("next", next).data("devSignIn", devSignIn(context)).data("oidc", oidc).data("nextQuery", URLEncoder.encode(next, StandardCharsets.UTF_8))
                .data("roles", List.of(Role.CASEWORKER.claim(), Role.ANALYST.claim())).data("error", null).render());
    }

    /**
     * Back from the identity provider, signed in there: the console session is opened with the
     * subject, roles ({@code groups}) and sources of the ID token, read as the API reads a bearer
     * token's, and the person goes where they were going.
     */
    private void signedInWithProvider(RoutingContext context) {
        if (!(context.user() instanceof io.quarkus.vertx.http.runtime.security.QuarkusHttpUser user)
                || !(user.getSecurityIdentity().getPrincipal() instanceof org.eclipse.microprofile.jwt.JsonWebToken token)) {
            again(context, 401, "/console/", "The identity provider did not sign you in.");
            return;
        }
        Set<Role> roles;
        String subject;
        Set<String> sources;
        try {
            subject = Gate.subject(token);
            roles = Gate.roles(token);
            sources = Gate.strings(token, "sources");
        } catch (RuntimeException e) {
            again(context, 403, "/console/", "Your identity provider's claims could not be read: " + e.getMessage());
            return;
        }
        io.vertx.core.http.Cookie next = context.request().getCookie(NEXT_COOKIE);
        context.response().addCookie(sessions.cookie(NEXT_COOKIE, "").setMaxAge(0));
        sessions.write(context, sessions.open(subject, roles, sources));
        redirect(context, next(next == null ? null : next.getValue()));
    }

    private void signInSubmit(RoutingContext context) {
        String next = next(context.request().getFormAttribute("next"));
        String expected = sessions.signInToken(context).orElse(null);
        String submitted = context.request().getFormAttribute("csrf");
        if (expected == null || submitted == null || !java.security.MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
                submitted.getBytes(StandardCharsets.UTF_8))) {
            again(context, 403, next, "The sign-in form had expired. Please sign in again.");
            return;
        }
        if (!config.devSignIn()) {
            again(context, 404, next, "This service has no development sign-in.");
            return;
        }
        if (!devSignIn(context)) {
            again(context, 403, next, "The development sign-in is open only to a browser on the service's own machine.");
            return;
        }
        Role role = Role.fromClaim(String.valueOf(context.request().getFormAttribute("role")));
        if (role != Role.CASEWORKER && role != Role.ANALYST) {
            again(context, 400, next, "Choose a role: caseworker or analyst.");
            return;
        }
        String name = context.request().getFormAttribute("name");
        name = name == null || name.isBlank() ? "dev-" + role.claim() : name.trim();
        if (!NAME.matcher(name).matches()) {
            again(context, 400, next, "A name is 1 to 100 letters, digits, spaces and . _ @ ' -");
            return;
        }
        sessions.write(context, sessions.open(name, EnumSet.of(role), Set.of()));
        redirect(context, next);
    }

    private void signOut(RoutingContext context) {
        ConsoleSessions.Session session = sessions.read(context).orElse(null);
        if (session != null && !ConsoleSessions.csrfMatches(session, context.request().getFormAttribute("csrf"))) {
            html(context, 403, "<!DOCTYPE html><title>Not signed out</title><p>The form had expired. <a href=\"/console/\">Back</a>");
            return;
        }
        sessions.clear(context);
        // quarkus-oidc's own session, if the person came through the identity provider.
        context.response().addCookie(io.vertx.core.http.Cookie.cookie("q_session", "").setPath("/").setMaxAge(0));
        redirect(context, SIGN_IN);
    }

    /** The sign-in form again, with what was wrong, and a fresh token. */
    private void again(RoutingContext context, int status, String next, String error) {
        String token = sessions.token();
        sessions.writeSignInToken(context, token);
        html(context, status, signIn.data("csrf", token).data("next", next).data("devSignIn", devSignIn(context)).data("oidc", oidc).data("nextQuery", URLEncoder.encode(next, StandardCharsets.UTF_8))
                .data("roles", List.of(Role.CASEWORKER.claim(), Role.ANALYST.claim())).data("error", error).render());
    }

    /**
     * The development sign-in is offered only to a browser on the service's own machine (a loopback
     * address, as the connection shows it: forwarded headers are not believed). The quick start
     * listens on every interface, and a sign-in without a password must not reach the network.
     */
    private boolean devSignIn(RoutingContext context) {
        if (!config.devSignIn() || context.request().remoteAddress() == null) {
            return false;
        }
        try {
            String host = context.request().remoteAddress().hostAddress();
            return host != null && java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static String next(String wanted) {
        return wanted != null && NEXT.matcher(wanted).matches() ? wanted : "/console/";
    }

    private static boolean sameOrigin(RoutingContext context) {
        String origin = context.request().getHeader(HttpHeaders.ORIGIN);
        if (origin == null) {
            return true; // not a browser's cross-site form (browsers send Origin with every POST); the CSRF token still applies
        }
        // The request's own host, as the browser named it (Host) or as a trusted proxy forwarded it
        // (quarkus.http.proxy.enable-forwarded-host makes it the request's authority).
        String host = context.request().getHeader(HttpHeaders.HOST);
        String authority = context.request().authority() == null ? null : context.request().authority().toString();
        for (String name : new String[] {host, authority}) {
            if (name != null && (origin.equals("http://" + name) || origin.equals("https://" + name))) {
                return true;
            }
        }
        return false;
    }

    private static void redirect(RoutingContext context, String target) {
        context.response().setStatusCode(303).putHeader(HttpHeaders.LOCATION, target).end();
    }

    private static void html(RoutingContext context, int status, String body) {
        context.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "text/html; charset=utf-8").end(body);
    }
}
