package org.eligo.support;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The contract's timestamp form: RFC 3339, UTC, always six fractional digits. */
public final class Timestamps {

    private static final DateTimeFormatter FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    /** RFC 3339 date-time: four-digit year, seconds, an optional fraction, Z or an offset. */
    private static final Pattern RFC_3339 =
            Pattern.compile("\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(?:\\.(\\d{1,9}))?(?:[Zz]|[+-]\\d{2}:\\d{2})");

    /** What PostgreSQL and the four-digit output form can both hold. */
    private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999Z");

    private Timestamps() {
    }

    public static String format(Instant instant) {
        return instant == null ? null : FORMAT.format(instant);
    }

    /** A timestamptz column as an instant (null stays null). */
    public static Instant read(java.sql.ResultSet rs, int column) throws java.sql.SQLException {
        OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    /**
     * Parses an RFC 3339 timestamp. Fractions finer than a microsecond (PostgreSQL's precision) are
     * refused rather than silently cut, so what is stored is exactly what was sent; so are instants
     * outside the years 0001 to 9999.
     *
     * @throws DateTimeParseException when the text is not such a timestamp
     */
    public static Instant parse(String text) {
        Matcher matcher = RFC_3339.matcher(text);
        if (!matcher.matches()) {
            throw new DateTimeParseException("not an RFC 3339 timestamp", text, 0);
        }
        String fraction = matcher.group(1);
        if (fraction != null && fraction.length() > 6 && !fraction.substring(6).chars().allMatch(c -> c == '0')) {
            throw new DateTimeParseException("finer than a microsecond", text, 0);
        }
        Instant instant = OffsetDateTime.parse(text.toUpperCase(java.util.Locale.ROOT), DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
            throw new DateTimeParseException("outside the years 0001 to 9999", text, 0);
        }
        return instant;
    }
}
