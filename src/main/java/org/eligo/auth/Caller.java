package org.eligo.auth;

import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Set;

import jakarta.enterprise.context.RequestScoped;

import org.eligo.support.problem.ProblemException;

/**
 * Who is calling, as {@link Gate} established it (filled in by {@link AccessFilters}), and which
 * beneficiaries the request concerned (for the access log).
 */
@RequestScoped
public class Caller {

    /** Recorded as the subject when authentication is switched off. */
    public static final String UNAUTHENTICATED = "(auth disabled)";

    private String subject = "(anonymous)";
    private Set<Role> roles = EnumSet.noneOf(Role.class);
    private Set<String> sources = Set.of();
    private boolean unrestricted;
    private String requestId;
    private final Set<String> beneficiaries = new LinkedHashSet<>();

    /** The request as the gate admitted it (with authentication off: every role, every source). */
    void admit(Admission admission) {
        this.requestId = admission.requestId();
        this.subject = admission.subject();
        this.roles = admission.roles().isEmpty() ? EnumSet.noneOf(Role.class) : EnumSet.copyOf(admission.roles());
        this.sources = Set.copyOf(admission.sources());
        this.unrestricted = admission.isUnrestricted();
    }

    public String subject() {
        return subject;
    }

    public Set<Role> roles() {
        return roles;
    }

    public String requestId() {
        return requestId;
    }

    public boolean has(Role role) {
        return roles.contains(role);
    }

    /**
     * An agency may submit only for the sources in its token. Callers with another role never
     * reach the submit endpoints, and with authentication off every source is allowed.
     */
    public void requireMaySubmitFor(Collection<String> submittedSources) {
        if (unrestricted) {
            return;
        }
        for (String source : new LinkedHashSet<>(submittedSources)) {
            if (!sources.contains(source)) {
                throw ProblemException.forbidden("Your token does not allow the source '" + source + "'.");
            }
        }
    }

    /** The sources this caller may submit for; null when any (authentication off). A bulk import checks each line against them. */
    public Set<String> submittableSources() {
        return unrestricted ? null : sources;
    }

    /** An agency reads only its own sources' messages; caseworkers and analysts read all. */
    public void requireMayReadMessageOf(String source) {
        if (unrestricted || has(Role.CASEWORKER) || has(Role.ANALYST)) {
            return;
        }
        if (!sources.contains(source)) {
            throw ProblemException.forbidden("Your token does not allow reading messages of that source.");
        }
    }

    /** Notes that this request concerned a beneficiary, for the access log. */
    public void concerns(String beneficiaryId) {
        if (beneficiaryId != null) {
            beneficiaries.add(beneficiaryId);
        }
    }

    public void concerns(Collection<String> beneficiaryIds) {
        beneficiaryIds.forEach(this::concerns);
    }

    Set<String> beneficiaries() {
        return beneficiaries;
    }
}
