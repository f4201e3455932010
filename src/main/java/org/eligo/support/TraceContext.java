package org.eligo.support;

import java.util.regex.Pattern;

/**
 * The W3C trace context header ({@code traceparent}): version-traceid-parentid-flags in lower-case
 * hex. Anything else a client sends under that name is ignored, as the W3C recommendation says, and
 * so never stored: neither with a message nor in the access log.
 */
public final class TraceContext {

    private static final Pattern TRACEPARENT = Pattern.compile("[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
    private static final String ZERO_TRACE = "0".repeat(32);
    private static final String ZERO_PARENT = "0".repeat(16);

    private TraceContext() {
    }

    /**
     * {@code header} (trimmed) when it is a valid traceparent, else null: the pattern above, version
     * {@code ff} is reserved as invalid, and an all-zero trace id or parent id is invalid.
     */
    public static String traceparent(String header) {
        if (header == null || header.length() > 64) {
            return null;
        }
        String value = header.trim();
        if (!TRACEPARENT.matcher(value).matches() || value.startsWith("ff")
                || value.substring(3, 35).equals(ZERO_TRACE) || value.substring(36, 52).equals(ZERO_PARENT)) {
            return null;
        }
        return value;
    }
}
