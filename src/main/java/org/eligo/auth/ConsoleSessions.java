package org.eligo.auth;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.ext.web.RoutingContext;

/**
 * The console's sign-in, kept in a cookie the browser cannot read from script ({@code HttpOnly})
 * and the service can trust: who signed in, their roles and sources (as their identity provider's
 * claims gave them, the same claims a bearer token carries), when the sign-in ends, and the
 * session's CSRF token, signed with HMAC-SHA256. Nothing is stored server-side, so any instance
 * with the same key reads it, and a sign-in never leaves a token in a URL or in JavaScript.
 *
 * <p>A cookie that does not verify, or has expired, is as good as none: the person signs in again.
 */
@ApplicationScoped
public class ConsoleSessions {

    public static final String COOKIE = "eligo_session";
    /** Before sign-in: the CSRF token of the sign-in form itself. */
    public static final String SIGN_IN_COOKIE = "eligo_sign_in";
    static final String PATH = "/console";
    private static final String KEY = ConsoleSessions.class.getName();
    private static final Logger LOG = Logger.getLogger(ConsoleSessions.class);

    /** One signed-in person. {@code csrf} is the token every form of this session must carry back. */
    public record Session(String subject, Set<Role> roles, Set<String> sources, Instant expires, String csrf) {

        public boolean has(Role role) {
            return roles.contains(role);
        }
    }

    private final ConsoleConfig config;
    private final SecretKeySpec key;
    private final SecureRandom random = new SecureRandom();
    private final Clock clock = Clock.systemUTC();

    public ConsoleSessions(ConsoleConfig config) {
        this.config = config;
        byte[] secret;
        if (config.sessionKey().isPresent()) {
            secret = Base64.getDecoder().decode(config.sessionKey().get().trim());
            if (secret.length < 32) {
                throw new IllegalStateException("eligo.console.session-key must be at least 32 bytes (base64); it is " + secret.length);
            }
        } else {
            secret = new byte[32];
            random.nextBytes(secret);
            LOG.info("eligo.console.session-key is not set: console sign-ins last until this process stops, on this instance only.");
        }
        this.key = new SecretKeySpec(secret, "HmacSHA256");
    }

    /** Signs {@code subject} in: a session until the configured duration has passed. */
    public Session open(String subject, Set<Role> roles, Set<String> sources) {
        return new Session(subject, roles.isEmpty() ? EnumSet.noneOf(Role.class) : EnumSet.copyOf(roles), Set.copyOf(sources),
                clock.instant().plus(config.sessionDuration()), token());
    }

    /** A random token: the CSRF token of a session or a sign-in form. */
    public String token() {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** The session cookie for {@code session}. */
    public void write(RoutingContext context, Session session) {
        StringBuilder payload = new StringBuilder();
        payload.append(encode(session.subject())).append('\n')
                .append(String.join(",", session.roles().stream().map(Role::claim).toList())).append('\n')
                .append(String.join(",", session.sources().stream().map(ConsoleSessions::encode).toList())).append('\n')
                .append(session.expires().getEpochSecond()).append('\n')
                .append(session.csrf());
        String body = Base64.getUrlEncoder().withoutPadding().encodeToString(payload.toString().getBytes(StandardCharsets.UTF_8));
        context.response().addCookie(cookie(COOKIE, body + "." + sign(body)).setMaxAge(config.sessionDuration().toSeconds()));
    }

    /** Signs out: the browser forgets the cookie. */
    public void clear(RoutingContext context) {
        context.response().addCookie(cookie(COOKIE, "").setMaxAge(0));
    }

    /** A short-lived cookie the sign-in form's token is checked against (double submit). */
    public void writeSignInToken(RoutingContext context, String token) {
        context.response().addCookie(cookie(SIGN_IN_COOKIE, token).setMaxAge(3600));
    }

    public Optional<String> signInToken(RoutingContext context) {
        Cookie cookie = context.request().getCookie(SIGN_IN_COOKIE);
        return cookie == null || cookie.getValue().isEmpty() ? Optional.empty() : Optional.of(cookie.getValue());
    }

    /** The request's session: a cookie that verifies and has not expired; empty otherwise. */
    public Optional<Session> read(RoutingContext context) {
        Cookie cookie = context.request().getCookie(COOKIE);
        if (cookie == null) {
            return Optional.empty();
        }
        String value = cookie.getValue();
        int dot = value.lastIndexOf('.');
        if (dot <= 0 || !MessageDigest.isEqual(sign(value.substring(0, dot)).getBytes(StandardCharsets.US_ASCII),
                value.substring(dot + 1).getBytes(StandardCharsets.US_ASCII))) {
            return Optional.empty();
        }
        try {
            String[] lines = new String(Base64.getUrlDecoder().decode(value.substring(0, dot)), StandardCharsets.UTF_8).split("\n", -1);
            Set<Role> roles = EnumSet.noneOf(Role.class);
            for (String claim : lines[1].split(",")) {
                Role role = Role.fromClaim(claim);
                if (role != null) {
                    roles.add(role);
                }
            }
            Set<String> sources = new LinkedHashSet<>();
            for (String source : lines[2].isEmpty() ? new String[0] : lines[2].split(",")) {
                sources.add(URLDecoder.decode(source, StandardCharsets.UTF_8));
            }
            Instant expires = Instant.ofEpochSecond(Long.parseLong(lines[3]));
            if (!clock.instant().isBefore(expires)) {
                return Optional.empty();
            }
            return Optional.of(new Session(URLDecoder.decode(lines[0], StandardCharsets.UTF_8), roles, sources, expires, lines[4]));
        } catch (RuntimeException e) {
            // Signed by us but unreadable: only a format change between versions can do this.
            LOG.debugf("Unreadable console session: %s", e);
            return Optional.empty();
        }
    }

    /** Keeps the request's session with it, for the pages (see {@link #of}). */
    void attach(RoutingContext context, Session session) {
        context.put(KEY, session);
    }

    /** The session the console's gate admitted the request with; null without one (authentication off). */
    public static Session of(RoutingContext context) {
        return context == null ? null : context.get(KEY);
    }

    /** True when {@code submitted} is the session's CSRF token (compared in constant time). */
    public static boolean csrfMatches(Session session, String submitted) {
        return session != null && submitted != null
                && MessageDigest.isEqual(session.csrf().getBytes(StandardCharsets.UTF_8), submitted.getBytes(StandardCharsets.UTF_8));
    }

    /** A console cookie: path {@code /console}, HttpOnly, Lax, secure when configured. */
    Cookie cookie(String name, String value) {
        // Lax: a link to a page (from an e-mail, say) arrives signed in; a form posted from another
        // site does not (and would still lack the session's CSRF token).
        return Cookie.cookie(name, value).setPath(PATH).setHttpOnly(true).setSecure(config.secureCookie()).setSameSite(CookieSameSite.LAX);
    }

    private String sign(String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(body.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }
}
