package org.eligo.ledger;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/**
 * A record's canonical content: the bytes its ledger leaf hashes, specified byte for byte in the
 * README ("The ledger", "Canonical content") so that anyone can recompute them.
 *
 * <p>JSON text in UTF-8, with no white space; object members sorted by key in UTF-16 code unit
 * order (as RFC 8785, JCS), members whose value is null left out at the top level (a column added
 * later does not change older records) but kept inside nested values (message data, checks), where
 * a null is content. Strings escape {@code "} and {@code \} with a backslash, the control characters
 * U+0000–U+001F as {@code \b \t \n \f \r} or {@code \}{@code u00xx} (lower-case hex), and nothing else.
 * Numbers are written as their decimal text with no exponent and the scale they have as stored
 * (PostgreSQL's {@code numeric} and {@code jsonb} keep it: 35.50 stays 35.50), which is where this
 * form departs from JCS. Instants are RFC 3339 in UTC with exactly six fraction digits (the
 * database keeps microseconds); dates are YYYY-MM-DD.
 *
 * <p>Nested JSON (a message's data, a determination's checks) is read back exactly: decimals as
 * {@link BigDecimal} with their scale, integers as integers, so the database's {@code jsonb::text}
 * and the service's own text give the same bytes.
 */
public final class Canonical {

    /** Reads nested JSON for canonical output: decimals exact, with their scale. */
    private static final ObjectMapper EXACT = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .build();

    private static final DateTimeFormatter INSTANT = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    /**
     * Nested JSON written in canonical form by its owner, straight into the output: for a large nested
     * value built from its objects rather than through text and a tree (a determination's checks, on
     * the write path). It must write exactly what {@link #putJson} would make of the stored text.
     */
    public record Raw(java.util.function.Consumer<Out> writer) {
    }

    /**
     * The canonical form's output: UTF-8 bytes written straight into a growable array (no String,
     * no StringBuilder that turns UTF-16 at the first non-Latin-1 character, no charset encoder:
     * those were 40 % of the service's CPU in a rerun, JFR, bench/run.sh).
     */
    public static final class Out {
        private byte[] bytes;
        private int length;

        Out(int capacity) {
            bytes = new byte[capacity];
        }

        private void ensure(int more) {
            if (length + more > bytes.length) {
                bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
            }
        }

        /** A character that is ASCII (the form's punctuation). */
        public Out append(char ascii) {
            ensure(1);
            bytes[length++] = (byte) ascii;
            return this;
        }

        /** Text that is ASCII (keys, numbers, literals), written as is. */
        public Out append(String ascii) {
            int n = ascii.length();
            ensure(n);
            for (int i = 0; i < n; i++) {
                bytes[length++] = (byte) ascii.charAt(i);
            }
            return this;
        }

        Out append(long value) {
            if (value == Long.MIN_VALUE) {
                return append(Long.toString(value));
            }
            if (value < 0) {
                append('-');
                value = -value;
            }
            ensure(19);
            int start = length;
            do {
                bytes[length++] = (byte) ('0' + value % 10);
                value /= 10;
            } while (value > 0);
            for (int i = start, j = length - 1; i < j; i++, j--) {
                byte t = bytes[i];
                bytes[i] = bytes[j];
                bytes[j] = t;
            }
            return this;
        }

        /** A JSON string: {@code "} and {@code \} escaped, control characters as the form says, the rest UTF-8. */
        public Out string(String s) {
            int n = s.length();
            ensure(n * 6 + 2);
            byte[] b = bytes;
            int at = length;
            b[at++] = '"';
            for (int i = 0; i < n; i++) {
                char c = s.charAt(i);
                if (c < 0x80) {
                    if (c >= 0x20 && c != '"' && c != '\\') {
                        b[at++] = (byte) c;
                        continue;
                    }
                    b[at++] = '\\';
                    switch (c) {
                        case '"' -> b[at++] = '"';
                        case '\\' -> b[at++] = '\\';
                        case '\b' -> b[at++] = 'b';
                        case '\t' -> b[at++] = 't';
                        case '\n' -> b[at++] = 'n';
                        case '\f' -> b[at++] = 'f';
                        case '\r' -> b[at++] = 'r';
                        default -> {
                            b[at++] = 'u';
                            b[at++] = '0';
                            b[at++] = '0';
                            b[at++] = (byte) HEX[c >> 4];
                            b[at++] = (byte) HEX[c & 0xf];
                        }
                    }
                } else if (c < 0x800) {
                    b[at++] = (byte) (0xc0 | (c >> 6));
                    b[at++] = (byte) (0x80 | (c & 0x3f));
                } else if (Character.isSurrogate(c)) {
                    if (!Character.isHighSurrogate(c) || i + 1 >= n || !Character.isLowSurrogate(s.charAt(i + 1))) {
                        // The database refuses such text: nothing stored can hold it.
                        throw new IllegalArgumentException("not valid Unicode text: an unpaired surrogate at " + i);
                    }
                    int cp = Character.toCodePoint(c, s.charAt(++i));
                    b[at++] = (byte) (0xf0 | (cp >> 18));
                    b[at++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
                    b[at++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
                    b[at++] = (byte) (0x80 | (cp & 0x3f));
                } else {
                    b[at++] = (byte) (0xe0 | (c >> 12));
                    b[at++] = (byte) (0x80 | ((c >> 6) & 0x3f));
                    b[at++] = (byte) (0x80 | (c & 0x3f));
                }
            }
            b[at++] = '"';
            length = at;
            return this;
        }

        /** Bytes already in canonical form (written by {@link Canonical#write} before). */
        public Out append(byte[] canonical) {
            ensure(canonical.length);
            System.arraycopy(canonical, 0, bytes, length, canonical.length);
            length += canonical.length;
            return this;
        }

        byte[] toByteArray() {
            return java.util.Arrays.copyOf(bytes, length);
        }
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** What {@code writer} writes, as canonical bytes: a nested value written once, then stored and hashed (a {@link Raw} of them). */
    public static byte[] write(java.util.function.Consumer<Out> writer) {
        Out out = new Out(1024);
        writer.accept(out);
        return out.toByteArray();
    }

    /**
     * Each thread's output for hashing: a record's canonical form is written and hashed without a
     * String or a byte array of its own (the hashing of every record a rerun writes was a third of
     * the service's allocation: JFR, bench/run.sh). An output that grew past {@value #KEEP_BYTES}
     * bytes is dropped after use rather than kept.
     */
    private static final ThreadLocal<Out[]> HASHING = ThreadLocal.withInitial(() -> new Out[] {new Out(4096)});
    private static final int KEEP_BYTES = 1 << 20;

    private final TreeMap<String, Object> members = new TreeMap<>();

    /** The canonical bytes, once {@link #freeze()} wrote them; the members are then dropped. */
    private byte[] frozen;

    private Canonical() {
    }

    /** A new top-level object. */
    public static Canonical object() {
        return new Canonical();
    }

    /**
     * Adds a member; null is left out. Values: String, Boolean, Integer, Long, BigInteger, BigDecimal,
     * Instant (microsecond precision), LocalDate, a JsonNode, or a List of these (an array).
     */
    public Canonical put(String key, Object value) {
        requireOpen();
        if (value != null) {
            members.put(key, value);
        }
        return this;
    }

    /** Nested JSON given as text (as stored, or as about to be stored), read exactly. */
    public Canonical putJson(String key, String json) {
        requireOpen();
        if (json != null) {
            try {
                members.put(key, EXACT.readTree(json));
            } catch (IOException e) {
                throw new IllegalArgumentException("not JSON: " + key, e);
            }
        }
        return this;
    }

    /**
     * Writes the canonical bytes now, keeps them and drops the members: the content is complete and
     * can no longer change. Verification's workers do this ({@link RecordedStream}), so that the
     * thread walking the ledger only hashes, and a tree of a determination's checks is not kept
     * waiting in a queue.
     */
    public Canonical freeze() {
        if (frozen == null) {
            frozen = bytes();
            members.clear();
        }
        return this;
    }

    private void requireOpen() {
        if (frozen != null) {
            throw new IllegalStateException("frozen: its bytes are written");
        }
    }

    public byte[] bytes() {
        if (frozen != null) {
            return frozen.clone();
        }
        Out out = new Out(256);
        writeMembers(out, members);
        return out.toByteArray();
    }

    /** Feeds the canonical content's UTF-8 bytes to {@code digest}: the same bytes as {@link #bytes()}, with no copy of them. */
    public void digestInto(java.security.MessageDigest digest) {
        if (frozen != null) {
            digest.update(frozen);
            return;
        }
        Out[] holder = HASHING.get();
        Out out = holder[0];
        out.length = 0;
        try {
            writeMembers(out, members);
            digest.update(out.bytes, 0, out.length);
        } finally {
            if (out.bytes.length > KEEP_BYTES) {
                holder[0] = new Out(4096);
            }
        }
    }

    /** The canonical content as text (what a receipt shows). */
    public String text() {
        return new String(bytes(), StandardCharsets.UTF_8);
    }

    /** An instant as the canonical form writes it. */
    public static String instant(Instant instant) {
        Out out = new Out(27);
        instant(out, instant);
        return new String(out.toByteArray(), StandardCharsets.US_ASCII);
    }

    /** Writes an instant as uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z' (UTC), without a formatter's allocations. */
    private static void instant(Out out, Instant instant) {
        if (instant.getNano() % 1000 != 0) {
            // The database keeps microseconds: a finer instant would hash a value that is not stored.
            throw new IllegalArgumentException("an instant to hash must have microsecond precision, as stored: " + instant);
        }
        java.time.LocalDateTime t = java.time.LocalDateTime.ofEpochSecond(instant.getEpochSecond(), instant.getNano(), ZoneOffset.UTC);
        if (t.getYear() < 0 || t.getYear() > 9999) {
            out.append(INSTANT.format(instant));
            return;
        }
        pad(out, t.getYear(), 4).append('-');
        pad(out, t.getMonthValue(), 2).append('-');
        pad(out, t.getDayOfMonth(), 2).append('T');
        pad(out, t.getHour(), 2).append(':');
        pad(out, t.getMinute(), 2).append(':');
        pad(out, t.getSecond(), 2).append('.');
        pad(out, t.getNano() / 1000, 6).append('Z');
    }

    private static Out pad(Out out, int value, int width) {
        for (int limit = 10, digits = 1; digits < width; limit *= 10, digits++) {
            if (value < limit) {
                out.append('0');
            }
        }
        return out.append(value);
    }

    private static void writeMembers(Out out, Map<String, Object> members) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> member : members.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            out.string(member.getKey());
            out.append(':');
            value(out, member.getValue());
        }
        out.append('}');
    }

    private static void value(Out out, Object value) {
        if (value instanceof String s) {
            out.string(s);
        } else if (value instanceof Boolean b) {
            out.append(b ? "true" : "false");
        } else if (value instanceof Integer || value instanceof Long) {
            out.append(((Number) value).longValue());
        } else if (value instanceof BigInteger) {
            out.append(value.toString());
        } else if (value instanceof BigDecimal d) {
            out.append(d.toPlainString());
        } else if (value instanceof Instant i) {
            out.append('"');
            instant(out, i);
            out.append('"');
        } else if (value instanceof LocalDate d) {
            out.string(d.toString());
        } else if (value instanceof Raw raw) {
            raw.writer().accept(out);
        } else if (value instanceof JsonNode node) {
            json(out, node);
        } else if (value instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                value(out, list.get(i));
            }
            out.append(']');
        } else {
            throw new IllegalArgumentException("no canonical form for " + value.getClass().getName());
        }
    }

    /** Nested JSON: every member kept, nulls included, keys sorted. */
    private static void json(Out out, JsonNode node) {
        switch (node.getNodeType()) {
            case OBJECT -> {
                TreeMap<String, JsonNode> sorted = new TreeMap<>();
                node.fields().forEachRemaining(field -> sorted.put(field.getKey(), field.getValue()));
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, JsonNode> field : sorted.entrySet()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    out.string(field.getKey());
                    out.append(':');
                    json(out, field.getValue());
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                Iterator<JsonNode> elements = node.elements();
                boolean first = true;
                while (elements.hasNext()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    json(out, elements.next());
                }
                out.append(']');
            }
            case STRING -> out.string(node.textValue());
            case NUMBER -> out.append(node.isIntegralNumber() ? node.bigIntegerValue().toString() : node.decimalValue().toPlainString());
            case BOOLEAN -> out.append(node.booleanValue() ? "true" : "false");
            case NULL -> out.append("null");
            default -> throw new IllegalArgumentException("no canonical form for JSON " + node.getNodeType());
        }
    }
}
