package org.eligo.support;

import java.util.regex.Pattern;

import org.eligo.support.problem.ProblemException;

/** Checks of path and query parameters shared by the resources. */
public final class Requests {

    /** The contract's beneficiary id: 1 to 64 of [A-Za-z0-9._:-]. */
    public static final Pattern BENEFICIARY_ID = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    public static final String BENEFICIARY_ID_RULE = "must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', ':', '-'";

    /** A period: a month from 1900-01 to 2200-12. */
    public static final Pattern PERIOD = Pattern.compile("(19\\d\\d|2[01]\\d\\d|2200)-(0[1-9]|1[0-2])");
    public static final String PERIOD_RULE = "must be a month YYYY-MM between 1900-01 and 2200-12";

    private Requests() {
    }

    public static void requireBeneficiaryId(String beneficiaryId) {
        if (beneficiaryId == null || !BENEFICIARY_ID.matcher(beneficiaryId).matches()) {
            throw ProblemException.badParameter("beneficiary_id", BENEFICIARY_ID_RULE);
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
