package org.eligo.rules;

import java.util.List;

/** The outcome of a subcheck, a check or a whole determination. */
public enum Result {
    PASSED, NOT_PASSED, NO_DATA, ERROR, SKIPPED;

    /**
     * Three-valued (Kleene-style) "at least k of these parts", as the ruleset contract defines it:
     * SKIPPED parts are left out; if every part is SKIPPED (or there are none) the result is SKIPPED.
     * With p parts PASSED and u parts NO_DATA or ERROR: p ≥ k is PASSED; p + u &lt; k is NOT_PASSED
     * (it cannot pass whatever the unknowns turn out to be); otherwise ERROR if any part is ERROR,
     * else NO_DATA.
     */
    public static Result atLeast(int k, List<Result> parts) {
        int counted = 0;
        int passed = 0;
        int unknown = 0;
        boolean error = false;
        for (Result part : parts) {
            if (part == SKIPPED) {
                continue;
            }
            counted++;
            if (part == PASSED) {
                passed++;
            } else if (part == NO_DATA || part == ERROR) {
                unknown++;
                error |= part == ERROR;
            }
        }
        if (counted == 0) {
            return SKIPPED;
        }
        if (passed >= k) {
            return PASSED;
        }
        if (passed + unknown < k) {
            return NOT_PASSED;
        }
        return error ? ERROR : NO_DATA;
    }

    /** "All": at least as many as there are parts that are not SKIPPED. */
    public static Result all(List<Result> parts) {
        return atLeast((int) parts.stream().filter(p -> p != SKIPPED).count(), parts);
    }
}
