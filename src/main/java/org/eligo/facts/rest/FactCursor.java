package org.eligo.facts.rest;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import org.eligo.facts.Facts;
import org.eligo.support.problem.ProblemException;

/**
 * The cursor of a page of a beneficiary's facts: the listing's instant and the last fact's place
 * (type, key, id), so that the next page continues after it as of the same instant. Opaque to
 * clients: base64url of the instant, the type, the key and the id, a line each. Instants, type names
 * and ids hold no line break; whatever the key holds, it is what lies between the type and the id.
 */
final class FactCursor {

    record Decoded(Instant asOf, Facts.Place place) {
    }

    private FactCursor() {
    }

    static String encode(Instant asOf, Facts.Place place) {
        String text = asOf + "\n" + place.type() + "\n" + place.factKey() + "\n" + place.id();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    static Decoded decode(String cursor) {
        try {
            String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            List<String> parts = new ArrayList<>(List.of(text.split("\n", -1)));
            if (parts.size() < 4 || parts.get(1).isEmpty() || parts.get(parts.size() - 1).isEmpty()) {
                throw new IllegalArgumentException("not four parts");
            }
            String key = String.join("\n", parts.subList(2, parts.size() - 1));
            return new Decoded(Instant.parse(parts.get(0)), new Facts.Place(parts.get(1), key, parts.get(parts.size() - 1)));
        } catch (RuntimeException e) {
            throw ProblemException.badParameter("cursor", "is not a cursor this endpoint gave (pass next_cursor as it was)");
        }
    }
}
