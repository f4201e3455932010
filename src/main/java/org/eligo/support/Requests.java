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

    /** An opaque paging cursor: the last key of the page, base64url so clients do not build their own. */
    public static String encodeCursor(String key) {
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The id in a cursor from {@link #encodeCursor} of an id with {@code prefix} ({@link Ids}); a 400 naming {@code cursor} when it is not one. */
    public static String decodeIdCursor(String cursor, String prefix) {
        String id = decodeCursor(cursor, ANY_KEY);
        if (!Ids.isWellFormed(id, prefix)) {
            throw ProblemException.badParameter("cursor", "is not a cursor this service gave out");
        }
        return id;
    }

    private static final Pattern ANY_KEY = Pattern.compile(".+");

    /** The key in a cursor from {@link #encodeCursor}; a 400 naming {@code cursor} when it is not one ({@code valid} says what a key looks like). */
    public static String decodeCursor(String cursor, Pattern valid) {
        try {
            String key = new String(java.util.Base64.getUrlDecoder().decode(cursor), java.nio.charset.StandardCharsets.UTF_8);
            if (valid.matcher(key).matches()) {
                return key;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw ProblemException.badParameter("cursor", "is not a cursor this service gave out");
    }

    /** A page size: {@code text} as a whole number from 1 to {@code max}, {@code defaultValue} when absent; a 400 naming {@code limit} otherwise. */
    public static int limit(String text, int defaultValue, int max) {
        if (text == null || text.isEmpty()) {
            return defaultValue;
        }
        try {
            int limit = Integer.parseInt(text);
            if (limit >= 1 && limit <= max) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw org.eligo.support.problem.ProblemException.badParameter("limit", "must be a whole number from 1 to " + max);
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
