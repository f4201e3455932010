package org.eligo.auth;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import io.vertx.ext.web.RoutingContext;

/**
 * What {@link Gate} established about one {@code /v1} request before any of its body was read: its
 * request id, who is calling, and the endpoint it asks for. Kept with the request's
 * {@link RoutingContext}, so that whoever answers it (the gate, the body buffering, or an endpoint
 * through {@link AccessFilters}) records it in the access log under the same id, exactly once.
 */
public final class Admission {

    private static final String KEY = Admission.class.getName();
    /** Recorded as the subject of a request without a (valid) token. */
    static final String ANONYMOUS = "(anonymous)";

    private final String requestId;
    private volatile String subject = ANONYMOUS;
    private volatile Set<Role> roles = EnumSet.noneOf(Role.class);
    private volatile Set<String> sources = Set.of();
    private volatile boolean unrestricted;
    private volatile Endpoints.Match match = Endpoints.Match.NONE;
    private volatile String beneficiaryId;
    private final AtomicBoolean recorded = new AtomicBoolean();

    Admission(String requestId) {
        this.requestId = requestId;
    }

    /** The admission of a {@code /v1} request; null for requests outside {@code /v1}, which are not recorded. */
    public static Admission of(RoutingContext context) {
        return context == null ? null : context.get(KEY);
    }

    void attachTo(RoutingContext context) {
        context.put(KEY, this);
    }

    void authenticated(String subject, Set<Role> roles, Set<String> sources) {
        this.subject = subject;
        this.roles = roles.isEmpty() ? EnumSet.noneOf(Role.class) : EnumSet.copyOf(roles);
        this.sources = Set.copyOf(sources);
    }

    void unrestricted() {
        this.subject = Caller.UNAUTHENTICATED;
        this.roles = EnumSet.allOf(Role.class);
        this.unrestricted = true;
    }

    void matched(Endpoints.Match match, String beneficiaryId) {
        this.match = match;
        this.beneficiaryId = beneficiaryId;
    }

    Endpoints.Match match() {
        return match;
    }

    /** The beneficiary named in the path (decoded), for the access log of a refused request; null when none. */
    String beneficiaryId() {
        return beneficiaryId;
    }

    /** True the first time only: whoever gets true writes the request's one access-log row. */
    boolean claimRecord() {
        return recorded.compareAndSet(false, true);
    }

    public String requestId() {
        return requestId;
    }

    public String subject() {
        return subject;
    }

    public Set<Role> roles() {
        return roles;
    }

    Set<String> sources() {
        return sources;
    }

    boolean isUnrestricted() {
        return unrestricted;
    }

    /** The endpoint the request was matched to; null when none. */
    public Endpoints.Endpoint endpoint() {
        return match.endpoint();
    }
}
