package org.eligo.console;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.auth.Caller;
import org.eligo.determinations.DeterminationDiff;
import org.eligo.determinations.DeterminationService;
import org.eligo.determinations.DeterminationView;
import org.eligo.facts.Fact;
import org.eligo.facts.Facts;
import org.eligo.ingest.MessageQueries;
import org.eligo.ingest.MessageView;
import org.eligo.rules.RulesetRegistry;
import org.eligo.support.EligoClock;
import org.eligo.support.Requests;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The caseworker's pages, built from the same services the API's resources call (so a page shows
 * exactly what the API answers), each read recorded against its beneficiary in the access log.
 */
@ApplicationScoped
class Pages {

    /** How much of a beneficiary's history one page shows: the newest, enough for years of monthly data. */
    static final int TIMELINE_MESSAGES = 200;
    static final int TIMELINE_DETERMINATIONS = 100;

    private final DeterminationService determinations;
    private final Facts facts;
    private final MessageQueries messages;
    private final RulesetRegistry rulesets;
    private final EligoClock clock;
    private final Caller caller;
    private final ObjectMapper json;

    Pages(DeterminationService determinations, Facts facts, MessageQueries messages, RulesetRegistry rulesets, EligoClock clock,
          Caller caller, ObjectMapper json) {
        this.determinations = determinations;
        this.facts = facts;
        this.messages = messages;
        this.rulesets = rulesets;
        this.clock = clock;
        this.caller = caller;
        this.json = json;
    }

    Views.Beneficiary beneficiary(Views.Frame frame, String beneficiaryId, String asOfDate, String travelPeriod) {
        Requests.requireBeneficiaryId(beneficiaryId);
        caller.concerns(beneficiaryId);
        String current = clock.currentPeriod().toString();
        List<DeterminationView> history = determinations.history(beneficiaryId, null, Integer.toString(TIMELINE_DETERMINATIONS), null).items();
        DeterminationView status = history.stream().filter(d -> d.period().equals(current)).findFirst()
                .orElse(history.isEmpty() ? null : history.get(0));
        List<MessageView> received = messages.ofBeneficiary(beneficiaryId, Integer.toString(TIMELINE_MESSAGES), null).items();
        Map<String, MessageView> byId = new HashMap<>();
        received.forEach(message -> byId.put(message.id(), message));
        List<Fact> known = facts.forBeneficiary(beneficiaryId, null, true).facts();
        List<Views.FactRow> factRows = factRows(known, byId);

        record Dated(Instant at, Views.TimelineEntry entry) {
        }
        List<Dated> timeline = new ArrayList<>();
        for (MessageView message : received) {
            timeline.add(new Dated(message.receivedAt(), new Views.TimelineEntry(Words.time(message.receivedAt()), "Message received",
                    message.type() + " from " + message.source() + " (" + message.externalId() + ")",
                    message.status() + (message.lastError() == null ? "" : ": " + message.lastError()),
                    "/console/messages/" + message.id(), message.lastError() == null ? "none" : "error")));
        }
        for (Fact fact : known) {
            timeline.add(new Dated(fact.createdAt(), new Views.TimelineEntry(Words.time(fact.createdAt()), "Fact recorded", fact.type(),
                    Words.values(fact.data()), "#" + fact.id(), "none")));
            if (fact.revokedAt() != null) {
                timeline.add(new Dated(fact.revokedAt(), new Views.TimelineEntry(Words.time(fact.revokedAt()), "Fact revoked", fact.type(),
                        fact.revokedBy() == null ? "" : "replaced by " + fact.revokedBy(), "#" + fact.id(), "none")));
            }
        }
        for (DeterminationView determination : history) {
            timeline.add(new Dated(determination.evaluatedAt(), new Views.TimelineEntry(Words.time(determination.evaluatedAt()),
                    "Determination (" + determination.trigger() + ")", determination.period() + ": " + Words.badge(determination.result()),
                    Words.sentence(determination), "/console/determinations/" + determination.id(), Words.tone(determination.result()))));
        }
        timeline.sort(Comparator.comparing(Dated::at).reversed());

        Views.TimeTravel travel = null;
        String travelError = null;
        if (asOfDate != null && !asOfDate.isBlank()) {
            try {
                travel = travel(beneficiaryId, asOfDate, travelPeriod, byId);
            } catch (ProblemException e) {
                travelError = Words.problem(e);
            }
        }
        return new Views.Beneficiary(frame, beneficiaryId, current, status == null ? null : outcome(status),
                timeline.stream().map(Dated::entry).toList(), factRows,
                history.stream().map(d -> new Views.DeterminationRow(d.id(), d.period(), d.result(), Words.badge(d.result()), Words.tone(d.result()),
                        Words.time(d.evaluatedAt()), d.trigger(), d.ruleset().id() + " " + d.ruleset().version())).toList(),
                asOfDate == null ? clock.today().toString() : asOfDate, travelPeriod == null ? current : travelPeriod, travel, travelError);
    }

    /** The evaluation on the facts active at the end of {@code date} (UTC), for {@code period} (default: the date's month). */
    private Views.TimeTravel travel(String beneficiaryId, String date, String period, Map<String, MessageView> messagesById) {
        LocalDate day;
        Instant endOfDay;
        try {
            day = LocalDate.parse(date);
            endOfDay = day.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().minusMillis(1);
        } catch (java.time.DateTimeException e) {
            throw ProblemException.badParameter("as_of", "must be a date YYYY-MM-DD");
        }
        // Today (or a later day) is evaluated on what is known now: its end has not come yet.
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Instant asOf = endOfDay.isAfter(now) && !day.isAfter(LocalDate.now(ZoneOffset.UTC)) ? now : endOfDay;
        String month = period == null || period.isBlank() ? YearMonth.from(day).toString() : period;
        ObjectNode request = json.createObjectNode().put("period", month).put("as_of", asOf.toString());
        List<FieldError> errors = new ArrayList<>();
        DeterminationView evaluation = determinations.evaluate(beneficiaryId, request, errors);
        List<Fact> then = facts.forBeneficiary(beneficiaryId, asOf, false).facts();
        return new Views.TimeTravel(date, month, outcome(evaluation), checkRows(evaluation), factRows(then, messagesById));
    }

    Views.Determination determination(Views.Frame frame, String id) {
        DeterminationView determination = determinations.get(id, true);
        caller.concerns(determination.beneficiaryId());
        Map<String, MessageView> byId = new HashMap<>();
        List<Views.FactRow> read = factRows(determination.facts() == null ? List.of() : determination.facts(), byId);
        Views.RulesetInfo ruleset = rulesetInfo(determination);
        return new Views.Determination(frame, determination.id(), determination.beneficiaryId(), determination.period(), outcome(determination),
                Words.time(determination.evaluatedAt()), Words.time(determination.factsAsOf()), determination.trigger(), determination.rerunId(),
                ruleset, checkRows(determination), read, difference(determination));
    }

    Views.Message message(Views.Frame frame, String id) {
        MessageView message = messages.get(id);
        caller.concerns(message.beneficiaryId());
        String data;
        try {
            data = json.writerWithDefaultPrettyPrinter().writeValueAsString(message.data());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            data = String.valueOf(message.data());
        }
        return new Views.Message(frame, message.id(), message.beneficiaryId(), message.source(), message.externalId(), message.type(),
                Words.time(message.occurredAt()), Words.time(message.receivedAt()), String.valueOf(message.status()), message.attempts(),
                message.lastError(), data, message.factIds() == null ? List.of() : message.factIds());
    }

    private static Views.Outcome outcome(DeterminationView determination) {
        return new Views.Outcome(determination.result(), Words.badge(determination.result()), Words.tone(determination.result()),
                Words.sentence(determination), determination.id(), determination.period());
    }

    private static List<Views.CheckRow> checkRows(DeterminationView determination) {
        return determination.checks().stream().map(check -> new Views.CheckRow(check.id(), check.title(), check.result(),
                Words.badge(check.result()), Words.tone(check.result()), Words.reason(check),
                check.subchecks().stream().map(subcheck -> new Views.SubcheckRow(subcheck.id(), subcheck.title(), subcheck.result(),
                        Words.badge(subcheck.result()), Words.tone(subcheck.result()), subcheck.detail(),
                        subcheck.factIds() == null ? List.of() : subcheck.factIds())).toList())).toList();
    }

    /**
     * Facts with where each came from: its message's source, external id and receipt time. The
     * messages not in {@code messagesById} already are read in one statement (a message purged by
     * retention is missing: its fact is still shown, without it).
     */
    private List<Views.FactRow> factRows(List<Fact> shown, Map<String, MessageView> messagesById) {
        Set<String> missing = new LinkedHashSet<>();
        shown.stream().map(Fact::messageId).filter(id -> id != null && !messagesById.containsKey(id)).forEach(missing::add);
        messagesById.putAll(messages.sources(missing));
        List<Views.FactRow> rows = new ArrayList<>();
        for (Fact fact : shown) {
            MessageView message = fact.messageId() == null ? null : messagesById.get(fact.messageId());
            rows.add(new Views.FactRow(fact.id(), fact.type(), Words.values(fact.data()), fact.revokedAt() == null,
                    Words.time(fact.createdAt()), Words.time(fact.revokedAt()), message == null ? "" : message.source(),
                    message == null ? "" : message.externalId(), message == null ? "" : Words.time(message.receivedAt()), fact.messageId()));
        }
        return rows;
    }

    /** The ruleset version the determination names, with each parameter's value in force on its period's first day. */
    private Views.RulesetInfo rulesetInfo(DeterminationView determination) {
        DeterminationView.RulesetRef ref = determination.ruleset();
        RulesetRegistry.Recorded recorded = rulesets.recorded(ref.id(), ref.sha256()).orElse(null);
        if (recorded == null) {
            return new Views.RulesetInfo(ref.id(), ref.version(), ref.sha256(), "", List.of());
        }
        LocalDate day = YearMonth.parse(determination.period()).atDay(1);
        JsonNode parameters = recorded.definition().path("parameters");
        Map<String, JsonNode> resolved = new HashMap<>();
        List<String> names = new ArrayList<>();
        parameters.fieldNames().forEachRemaining(names::add);
        java.util.Collections.sort(names);
        List<Views.ParameterRow> rows = new ArrayList<>();
        for (String name : names) {
            JsonNode parameter = parameters.path(name);
            JsonNode value = inForce(parameters, name, day, resolved, new LinkedHashSet<>());
            rows.add(new Views.ParameterRow(name, value == null ? "(none on " + day + ")" : Words.value(value), parameter.path("unit").asText(""),
                    parameter.path("reference").asText(""), parameter.path("description").asText("")));
        }
        return new Views.RulesetInfo(ref.id(), ref.version(), ref.sha256(), recorded.title(), rows);
    }

    /**
     * A parameter's value on {@code day}: the latest dated value on or before it ({@code always}
     * counts for every day), or a product or sum of other parameters (a part may be a number, or a
     * field of another parameter as {@code name.field}), as rules/README.md defines them. Null when
     * it has none that day.
     */
    private static JsonNode inForce(JsonNode parameters, String name, LocalDate day, Map<String, JsonNode> resolved, Set<String> seen) {
        if (resolved.containsKey(name)) {
            return resolved.get(name);
        }
        JsonNode parameter = parameters.path(name);
        if (!seen.add(name)) {
            return null;
        }
        JsonNode value = null;
        if (parameter.has("product") || parameter.has("sum")) {
            boolean product = parameter.has("product");
            BigDecimal total = product ? BigDecimal.ONE : BigDecimal.ZERO;
            for (JsonNode part : parameter.path(product ? "product" : "sum")) {
                JsonNode operand = part;
                if (part.isTextual()) {
                    String[] path = part.asText().split("\\.", 2);
                    operand = inForce(parameters, path[0], day, resolved, seen);
                    if (operand != null && path.length > 1) {
                        operand = operand.path(path[1]);
                    }
                }
                if (operand == null || !operand.isNumber()) {
                    total = null;
                    break;
                }
                total = product ? total.multiply(operand.decimalValue()) : total.add(operand.decimalValue());
            }
            value = total == null ? null : com.fasterxml.jackson.databind.node.DecimalNode.valueOf(total.stripTrailingZeros());
        } else {
            String best = null;
            for (Iterator<Map.Entry<String, JsonNode>> dated = parameter.path("values").fields(); dated.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = dated.next();
                String from = entry.getKey().equals("always") ? "0000-01-01" : entry.getKey();
                if (from.compareTo(day.toString()) <= 0 && (best == null || from.compareTo(best) > 0)) {
                    best = from;
                    value = entry.getValue();
                }
            }
        }
        resolved.put(name, value);
        return value;
    }

    /** How this determination differs from the one before it for the same month and ruleset; null when it is the first. */
    private Views.Difference difference(DeterminationView determination) {
        // The month's determinations older than this one, newest first, a page at a time until one of the same ruleset.
        DeterminationView previous = null;
        String cursor = Requests.encodeCursor(determination.id());
        while (previous == null && cursor != null) {
            DeterminationService.Page older = determinations.history(determination.beneficiaryId(), determination.period(),
                    Integer.toString(TIMELINE_DETERMINATIONS), cursor);
            previous = older.items().stream().filter(candidate -> candidate.ruleset().id().equals(determination.ruleset().id())).findFirst().orElse(null);
            cursor = older.nextCursor();
        }
        if (previous == null) {
            return null;
        }
        DeterminationDiff diff = determinations.diff(previous.id(), determination.id());
        Map<String, String> checkTitles = new HashMap<>();
        Map<String, String> subcheckTitles = new HashMap<>();
        for (DeterminationView view : List.of(previous, determination)) {
            view.checks().forEach(check -> {
                checkTitles.put(check.id(), check.title());
                check.subchecks().forEach(subcheck -> subcheckTitles.put(check.id() + "/" + subcheck.id(), subcheck.title()));
            });
        }
        List<Views.Change> changes = diff.subchecks().stream().map(change -> new Views.Change(
                checkTitles.getOrDefault(change.checkId(), change.checkId()),
                subcheckTitles.getOrDefault(change.checkId() + "/" + change.subcheckId(), change.subcheckId()),
                Words.badge(change.a()), Words.badge(change.b()), change.detailA(), change.detailB())).toList();
        return new Views.Difference(previous.id(), Words.badge(previous.result()), Words.tone(previous.result()), Words.time(previous.evaluatedAt()),
                !diff.result().a().equals(diff.result().b()), !diff.ruleset().a().sha256().equals(diff.ruleset().b().sha256()), changes,
                diff.facts().onlyInA(), diff.facts().onlyInB());
    }
}
