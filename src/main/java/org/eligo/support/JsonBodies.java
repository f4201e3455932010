package org.eligo.support;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;

/**
 * Reads request bodies strictly: bounded in size (413), valid JSON only (400), no duplicate keys,
 * no trailing content, decimals kept exact. Resources read bodies through here rather than letting
 * the framework bind them, so that every problem is problem+json with a pointer.
 */
@ApplicationScoped
public class JsonBodies {

    private final ObjectReader reader;

    public JsonBodies(ObjectMapper mapper) {
        // Duplicate keys and trailing content would make "what was sent" ambiguous: both are errors.
        this.reader = mapper.reader()
                .with(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    }

    /** The body as JSON; at most {@code maxBytes}. */
    public JsonNode read(InputStream body, int maxBytes) {
        byte[] bytes = readBounded(body, maxBytes);
        if (bytes.length == 0) {
            throw ProblemException.badRequest("The request body is empty; a JSON object is expected.", List.of(FieldError.at("", "is required")));
        }
        requireUtf8(bytes);
        requireNoNul(bytes);
        try {
            return reader.readTree(bytes);
        } catch (JacksonException e) {
            String reason = e instanceof JsonProcessingException processing ? processing.getOriginalMessage() : e.getMessage();
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw ProblemException.badRequest("The body is not valid JSON" + where + ": " + reason, List.of(FieldError.at("", "is not valid JSON")));
        } catch (IOException e) {
            throw ProblemException.badRequest("The body could not be read: " + e.getMessage(), List.of(FieldError.at("", "could not be read")));
        }
    }

    /**
     * One JSON text read as strictly as a body (a line of a bulk import, already known to be UTF-8):
     * null, with an error at the root added to {@code errors}, when it is not JSON.
     */
    public JsonNode parse(String text, List<FieldError> errors) {
        try {
            return reader.readTree(text);
        } catch (JacksonException e) {
            String reason = e instanceof JsonProcessingException processing ? processing.getOriginalMessage() : e.getMessage();
            String where = e.getLocation() == null ? "" : " at column " + e.getLocation().getColumnNr();
            errors.add(FieldError.at("", "is not valid JSON" + where + ": " + reason));
            return null;
        } catch (IOException e) {
            errors.add(FieldError.at("", "could not be read: " + e.getMessage()));
            return null;
        }
    }

    /**
     * JSON is UTF-8 (RFC 8259), and only well-formed UTF-8 is accepted: the JSON parser decodes
     * leniently (the overlong "\xC0\xAF" became "/"), so a body that is not strictly UTF-8
     * (overlong forms, surrogates, truncated sequences, stray bytes) is a 400 naming the body.
     * Decoded through a small buffer, so checking costs no copy of the body.
     */
    static void requireUtf8(byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(8192);
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                throw ProblemException.badRequest("The body is not valid UTF-8 (at byte " + in.position() + ").",
                        List.of(FieldError.at("", "is not valid UTF-8")));
            }
            if (!result.isOverflow()) {
                break;
            }
            out.clear();
        }
        while (decoder.flush(out).isOverflow()) {
            out.clear();
        }
    }

    /**
     * A raw NUL is never part of a JSON text (in a string it must be escaped), yet it is valid UTF-8,
     * and the parser, given bytes, reads NULs among the first four as UTF-16 or UTF-32 and decodes the
     * body as that: without this check a UTF-16 or UTF-32 body (its ASCII is NULs and ASCII bytes) was
     * stored as if it had been sent in UTF-8.
     */
    static void requireNoNul(byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                throw ProblemException.badRequest("The body holds a NUL byte (at byte " + i + "): it is not JSON in UTF-8 (UTF-16 or UTF-32?).",
                        List.of(FieldError.at("", "is not valid UTF-8 JSON")));
            }
        }
    }

    /** The body as a JSON object with only the {@code allowed} members; anything else is a 400. */
    public JsonNode readObject(InputStream body, int maxBytes, Set<String> allowed, List<FieldError> errors) {
        JsonNode root = read(body, maxBytes);
        if (!root.isObject()) {
            throw ProblemException.badRequest("The body must be a JSON object.", List.of(FieldError.at("", "must be an object")));
        }
        unknownFields(root, allowed, "", errors);
        return root;
    }

    /** Adds an error for each member of {@code node} not in {@code known}. */
    public static void unknownFields(JsonNode node, Set<String> known, String pointer, List<FieldError> errors) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                errors.add(FieldError.at(pointer + "/" + name.replace("~", "~0").replace("/", "~1"), "unknown field"));
            }
        }
    }

    private static byte[] readBounded(InputStream body, int maxBytes) {
        if (body == null) {
            return new byte[0];
        }
        try {
            byte[] bytes = body.readNBytes(maxBytes + 1);
            if (bytes.length > maxBytes) {
                throw ProblemException.tooLarge("The body is larger than " + maxBytes + " bytes.", null);
            }
            return bytes;
        } catch (IOException e) {
            throw ProblemException.badRequest("The body could not be read: " + e.getMessage(), List.of(FieldError.at("", "could not be read")));
        }
    }
}
