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
    public record Raw(java.util.function.Consumer<StringBuilder> writer) {
    }

    /**
     * Each thread's builder and encoder for hashing: a record's canonical form is written, encoded and
     * hashed without a String or a byte array of its own (the hashing of every record a rerun writes
     * was a third of the service's allocation: JFR, bench/run.sh). A builder that grew past
     * {@value #KEEP_CHARS} characters is dropped after use rather than kept.
     */
    private static final ThreadLocal<Hashing> HASHING = ThreadLocal.withInitial(Hashing::new);
    private static final int KEEP_CHARS = 1 << 20;

    private static final class Hashing {
        StringBuilder text = new StringBuilder(4096);
        final java.nio.charset.CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder();
        final java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(8192);
    }

    private final TreeMap<String, Object> members = new TreeMap<>();

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
        if (value != null) {
            members.put(key, value);
        }
        return this;
    }

    /** Nested JSON given as text (as stored, or as about to be stored), read exactly. */
    public Canonical putJson(String key, String json) {
        if (json != null) {
            try {
                members.put(key, EXACT.readTree(json));
            } catch (IOException e) {
                throw new IllegalArgumentException("not JSON: " + key, e);
            }
        }
        return this;
    }

    public byte[] bytes() {
        StringBuilder out = new StringBuilder(256);
        writeMembers(out, members);
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Feeds the canonical content's UTF-8 bytes to {@code digest}: the same bytes as {@link #bytes()}, with no copy of them. */
    public void digestInto(java.security.MessageDigest digest) {
        Hashing hashing = HASHING.get();
        StringBuilder out = hashing.text;
        out.setLength(0);
        try {
            writeMembers(out, members);
            java.nio.CharBuffer chars = java.nio.CharBuffer.wrap(out);
            java.nio.charset.CharsetEncoder encoder = hashing.encoder.reset();
            java.nio.ByteBuffer bytes = hashing.bytes;
            while (true) {
                bytes.clear();
                java.nio.charset.CoderResult result = encoder.encode(chars, bytes, true);
                if (result.isError()) {
                    // What String.getBytes would do with an unpaired surrogate: replace it (the database refuses such text anyway).
                    throw new IllegalArgumentException("not valid Unicode text at " + chars.position());
                }
                bytes.flip();
                digest.update(bytes);
                if (result.isUnderflow()) {
                    break;
                }
            }
            bytes.clear();
            encoder.flush(bytes);
            bytes.flip();
            digest.update(bytes);
        } finally {
            if (out.capacity() > KEEP_CHARS) {
                hashing.text = new StringBuilder(4096);
            }
        }
    }

    /** The canonical content as text (what a receipt shows). */
    public String text() {
        return new String(bytes(), StandardCharsets.UTF_8);
    }

    /** An instant as the canonical form writes it. */
    public static String instant(Instant instant) {
        StringBuilder out = new StringBuilder(27);
        instant(out, instant);
        return out.toString();
    }

    /** Writes an instant as uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z' (UTC), without a formatter's allocations. */
    private static void instant(StringBuilder out, Instant instant) {
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

    private static StringBuilder pad(StringBuilder out, int value, int width) {
        for (int limit = 10, digits = 1; digits < width; limit *= 10, digits++) {
            if (value < limit) {
                out.append('0');
            }
        }
        return out.append(value);
    }

    private static void writeMembers(StringBuilder out, Map<String, Object> members) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> member : members.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            string(out, member.getKey());
            out.append(':');
            value(out, member.getValue());
        }
        out.append('}');
    }

    private static void value(StringBuilder out, Object value) {
        if (value instanceof String s) {
            string(out, s);
        } else if (value instanceof Boolean b) {
            out.append(b.booleanValue());
        } else if (value instanceof Integer || value instanceof Long) {
            out.append(((Number) value).longValue());
        } else if (value instanceof BigInteger) {
            out.append(value);
        } else if (value instanceof BigDecimal d) {
            out.append(d.toPlainString());
        } else if (value instanceof Instant i) {
            out.append('"');
            instant(out, i);
            out.append('"');
        } else if (value instanceof LocalDate d) {
            string(out, d.toString());
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
    private static void json(StringBuilder out, JsonNode node) {
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
                    string(out, field.getKey());
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
            case STRING -> string(out, node.textValue());
            case NUMBER -> out.append(node.isIntegralNumber() ? node.bigIntegerValue().toString() : node.decimalValue().toPlainString());
            case BOOLEAN -> out.append(node.booleanValue());
            case NULL -> out.append("null");
            default -> throw new IllegalArgumentException("no canonical form for JSON " + node.getNodeType());
        }
    }

    /** A JSON string as this form writes it (for a {@link Raw} value's writer). */
    public static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
