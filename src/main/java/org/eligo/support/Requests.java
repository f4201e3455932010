package org.eligo.support;

import java.util.regex.Pattern;

import org.eligo.support.problem.ProblemException;

/** Checks of path and query parameters shared by the resources. */
public final class Requests {

    /** The contract's beneficiary id: 1 to 64 of [A-Za-z0-9._:-]. */
    public static final Pattern BENEFICIARY_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

    private Requests() {
    }

    public static void requireBeneficiaryId(String beneficiaryId) {
        if (beneficiaryId == null || !BENEFICIARY_ID.matcher(beneficiaryId).matches()) {
            throw ProblemException.badParameter("beneficiary_id", "must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', ':', '-'");
        }
    }

    public static boolean parseBoolean(String name, String value, boolean defaultValue) {
        if (value == null || value.isEmpty()) {
            return defaultValue;
        }
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw ProblemException.badParameter(name, "must be true or false");
        };
    }
}
