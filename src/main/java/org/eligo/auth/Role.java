package org.eligo.auth;

/** The contract's roles, as they appear in a token's {@code groups} claim. */
public enum Role {
    /** Submits messages for the sources listed in its token, and reads those messages. */
    AGENCY("agency"),
    /** Reads messages, facts, determinations and rulesets; requests determinations and evaluations. */
    CASEWORKER("caseworker"),
    /** Everything a caseworker may, plus reruns, replays, redrives, integrity checks and the access log. */
    ANALYST("analyst");

    private final String claim;

    Role(String claim) {
        this.claim = claim;
    }

    public String claim() {
        return claim;
    }

    public static Role fromClaim(String group) {
        for (Role role : values()) {
            if (role.claim.equals(group)) {
                return role;
            }
        }
        return null;
    }
}
