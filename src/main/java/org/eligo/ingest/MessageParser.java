package org.eligo.ingest;

import java.io.InputStream;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.facts.FactData;
import org.eligo.facts.FactType;
import org.eligo.facts.FactTypes;
import org.eligo.support.EligoClock;
import org.eligo.support.JsonBodies;
import org.eligo.support.Requests;
import org.eligo.support.Timestamps;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;

/**
 * Reads submitted messages from a request body and validates them strictly, collecting every
 * problem with a JSON Pointer into the body. Nothing that passes here can fail to store: strings
 * are checked for what PostgreSQL cannot hold (NUL, lone surrogates) and numbers for range and scale.
 */
@ApplicationScoped
public class MessageParser {

    private static final Pattern SOURCE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final int MAX_EXTERNAL_ID_LENGTH = 200;
    private static final Set<String> MESSAGE_FIELDS = Set.of("source", "external_id", "type", "beneficiary_id", "occurred_at", "data");
    private static final Set<String> BATCH_FIELDS = Set.of("messages");

    private final JsonBodies bodies;
    private final IngestConfig config;
    private final EligoClock clock;
    private final FactTypes types;

    public MessageParser(JsonBodies bodies, IngestConfig config, EligoClock clock, FactTypes types) {
        this.types = types;
        this.bodies = bodies;
        this.config = config;
        this.clock = clock;
    }

    /** The body of {@code POST /v1/messages}. */
    public IncomingMessage parseOne(InputStream body) {
        JsonNode root = bodies.read(body, config.maxBodyBytes());
        List<FieldError> errors = new ArrayList<>();
        IncomingMessage message = validate(root, "", clock.today(), errors);
        if (!errors.isEmpty()) {
            throw ProblemException.badRequest("The message is invalid; see errors.", errors);
        }
        return message;
    }

    /** The body of {@code POST /v1/messages/batch}: every invalid item is reported, or all are returned. */
    public List<IncomingMessage> parseBatch(InputStream body) {
        JsonNode root = bodies.read(body, config.batchMaxBodyBytes());
        List<FieldError> errors = new ArrayList<>();
        if (!root.isObject()) {
            throw ProblemException.badRequest("The body must be a JSON object {\"messages\": [...]}.", List.of(FieldError.at("", "must be an object")));
        }
        JsonBodies.unknownFields(root, BATCH_FIELDS, "", errors);
        JsonNode items = root.get("messages");
        if (items == null || !items.isArray()) {
            errors.add(FieldError.at("/messages", items == null ? "is required" : "must be an array"));
            throw ProblemException.badRequest("The batch is invalid; see errors.", errors);
        }
        if (items.isEmpty()) {
            errors.add(FieldError.at("/messages", "must hold at least one message"));
        }
        if (items.size() > config.batchMaxMessages()) {
            throw ProblemException.tooLarge("A batch holds at most " + config.batchMaxMessages() + " messages; this one has " + items.size() + ".",
                    List.of(FieldError.at("/messages", "at most " + config.batchMaxMessages() + " messages")));
        }
        LocalDate today = clock.today();
        List<IncomingMessage> messages = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            messages.add(validate(items.get(i), "/messages/" + i, today, errors));
        }
        if (!errors.isEmpty()) {
            throw ProblemException.badRequest("The batch is invalid; nothing was stored. See errors.", errors);
        }
        return messages;
    }

    /** Validates one message object at {@code pointer}; returns it, or null with {@code errors} added. */
    public IncomingMessage validate(JsonNode node, String pointer, LocalDate today, List<FieldError> errors) {
        int before = errors.size();
        if (node == null || !node.isObject()) {
            errors.add(FieldError.at(pointer, "must be an object"));
            return null;
        }
        JsonBodies.unknownFields(node, MESSAGE_FIELDS, pointer, errors);
        String source = requiredText(node, "source", pointer, errors);
        if (source != null && !SOURCE.matcher(source).matches()) {
            errors.add(FieldError.at(pointer + "/source", "must match [a-z0-9][a-z0-9._-]{0,63}"));
        }
        String externalId = requiredText(node, "external_id", pointer, errors);
        if (externalId != null) {
            String problem = checkExternalId(externalId);
            if (problem != null) {
                errors.add(FieldError.at(pointer + "/external_id", problem));
            }
        }
        String beneficiaryId = requiredText(node, "beneficiary_id", pointer, errors);
        if (beneficiaryId != null && !Requests.BENEFICIARY_ID.matcher(beneficiaryId).matches()) {
            errors.add(FieldError.at(pointer + "/beneficiary_id", Requests.BENEFICIARY_ID_RULE));
        }
        Instant occurredAt = null;
        JsonNode occurred = node.get("occurred_at");
        if (occurred != null && !occurred.isNull()) {
            if (!occurred.isTextual()) {
                errors.add(FieldError.at(pointer + "/occurred_at", "must be an RFC 3339 timestamp string"));
            } else {
                try {
                    occurredAt = Timestamps.parse(occurred.textValue());
                } catch (DateTimeParseException e) {
                    errors.add(FieldError.at(pointer + "/occurred_at", "must be an RFC 3339 timestamp between the years 0001 and 9999, at most microseconds, e.g. 2027-05-02T10:00:00Z"));
                }
            }
        }
        String typeName = requiredText(node, "type", pointer, errors);
        Optional<FactType> type = Optional.empty();
        if (typeName != null) {
            type = types.byName(typeName);
            if (type.isEmpty()) {
                errors.add(FieldError.at(pointer + "/type", "unknown type; known types: " + types.names()));
            }
        }
        JsonNode data = node.get("data");
        if (type.isPresent()) {
            FactData.validate(type.get(), data, pointer + "/data", today, errors);
        } else if (data == null || !data.isObject()) {
            errors.add(FieldError.at(pointer + "/data", data == null ? "is required" : "must be an object"));
        }
        if (errors.size() > before) {
            return null;
        }
        return new IncomingMessage(pointer, source, externalId, type.get(), beneficiaryId, occurredAt, data);
    }

    private static String requiredText(JsonNode node, String field, String pointer, List<FieldError> errors) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            errors.add(FieldError.at(pointer + "/" + field, value == null ? "is required" : "must not be null"));
            return null;
        }
        if (!value.isTextual()) {
            errors.add(FieldError.at(pointer + "/" + field, "must be a string"));
            return null;
        }
        return value.textValue();
    }

    private static String checkExternalId(String externalId) {
        int length = externalId.codePointCount(0, externalId.length());
        if (length < 1 || length > MAX_EXTERNAL_ID_LENGTH) {
            return "must be 1 to " + MAX_EXTERNAL_ID_LENGTH + " characters";
        }
        for (int i = 0; i < externalId.length(); i++) {
            char c = externalId.charAt(i);
            if (Character.isISOControl(c)) {
                return "must not contain control characters";
            }
            if (Character.isHighSurrogate(c) && (i + 1 >= externalId.length() || !Character.isLowSurrogate(externalId.charAt(++i)))) {
                return "must be valid Unicode (a lone surrogate was found)";
            }
            if (Character.isLowSurrogate(c)) {
                return "must be valid Unicode (a lone surrogate was found)";
            }
        }
        return null;
    }
}
