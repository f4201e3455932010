package org.eligo.support;

import com.github.f4b6a3.ulid.UlidFactory;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * Mints the public ids: a type prefix and a ULID, so that id order is creation order.
 *
 * <p>The monotonic factory is created when the bean is, at run time, never in a static initialiser:
 * its random source must not be frozen into a native image.
 */
@ApplicationScoped
public class Ids {

    public static final String MESSAGE = "msg_";
    public static final String FACT = "fact_";
    public static final String DETERMINATION = "det_";
    public static final String RERUN = "run_";
    public static final String REPLAY = "rpl_";
    public static final String VERIFICATION = "ver_";
    public static final String IMPORT = "imp_";

    private static final int ULID_LENGTH = 26;

    private final UlidFactory factory = UlidFactory.newMonotonicInstance();

    public String next(String prefix) {
        return prefix + factory.create();
    }

    /** True when {@code id} has the prefix and a well-formed ULID; a cheap guard before a lookup. */
    public static boolean isWellFormed(String id, String prefix) {
        if (id == null || !id.startsWith(prefix) || id.length() != prefix.length() + ULID_LENGTH) {
            return false;
        }
        for (int i = prefix.length(); i < id.length(); i++) {
            char c = id.charAt(i);
            boolean crockford = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U');
            if (!crockford) {
                return false;
            }
        }
        return true;
    }
}
