package org.eligo.facts;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * The per-beneficiary advisory locks that order everything that writes or decides on a
 * beneficiary's facts (see {@code eligo_lock_beneficiaries} in db/migration/R__10_coordination.sql).
 * Held until the transaction ends. While one is held no fact of that beneficiary is being written, so the
 * clock read after taking it is an instant whose active facts are all committed and visible.
 */
public final class BeneficiaryLocks {

    /** Waits for the locks (taken in sorted order, so never deadlocks with another caller); returns the clock after. */
    static final String LOCK = "SELECT eligo_lock_beneficiaries(?::text[])";

    /** Takes the locks that are free at once; returns the beneficiaries locked. Never waits. */
    static final String TRY_LOCK = "SELECT eligo_try_lock_beneficiaries(?::text[])";

    static final String CLOCK = "SELECT clock_timestamp()";

    private BeneficiaryLocks() {
    }

    public static Instant lock(Connection connection, Collection<String> beneficiaries) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(LOCK)) {
            statement.setArray(1, connection.createArrayOf("text", beneficiaries.stream().distinct().toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return org.eligo.support.Timestamps.read(rs, 1);
            }
        }
    }

    public static Set<String> tryLock(Connection connection, Collection<String> beneficiaries) throws SQLException {
        Set<String> locked = new HashSet<>();
        try (PreparedStatement statement = connection.prepareStatement(TRY_LOCK)) {
            statement.setArray(1, connection.createArrayOf("text", beneficiaries.stream().distinct().sorted().toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    locked.add(rs.getString(1));
                }
            }
        }
        return locked;
    }

    public static Instant now(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(CLOCK); ResultSet rs = statement.executeQuery()) {
            rs.next();
            return org.eligo.support.Timestamps.read(rs, 1);
        }
    }
}
