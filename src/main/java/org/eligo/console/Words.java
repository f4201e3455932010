package org.eligo.console;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

import org.eligo.determinations.DeterminationView;

import com.fasterxml.jackson.databind.JsonNode;

/** What the console says in words: results, reasons, times and fact values, as a caseworker reads them. */
final class Words {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private Words() {
    }

    /** A result as a phrase: "Meets the requirement", ... */
    static String outcome(String result) {
        if (result == null) {
            return "No determination";
        }
        switch (result) {
            case "PASSED":
                return "Meets the requirement";
            case "NOT_PASSED":
                return "Does not meet the requirement";
            case "NO_DATA":
                return "Not enough information to decide";
            case "SKIPPED":
                return "Not required";
            case "ERROR":
                return "Could not be decided (an error in the rules or data)";
            default:
                return result;
        }
    }

    /** The CSS tone of a result, so colour is never the only sign (the words come with it). */
    static String tone(String result) {
        return result == null ? "none" : result.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** A result's badge text: "Passed", "Not passed", "No data", ... */
    static String badge(String result) {
        if (result == null) {
            return "None";
        }
        String lower = result.toLowerCase(Locale.ROOT).replace('_', ' ');
        return Character.toUpperCase(lower.charAt(0)) + lower.substring(1);
    }

    /**
     * The status of a determination in one sentence: "Meets the requirement for 2027-06: pregnant or
     * entitled to postpartum coverage". The reason is the first check that decided it: for a PASSED
     * result, the first passed check's passing subcheck (its {@code reason}); otherwise the first check
     * with the overall result.
     */
    static String sentence(DeterminationView determination) {
        String because = null;
        for (DeterminationView.CheckOutcome check : determination.checks()) {
            if (!check.result().equals(determination.result())) {
                continue;
            }
            if (check.reason() != null) {
                because = check.subchecks().stream().filter(s -> s.id().equals(check.reason())).map(DeterminationView.SubcheckOutcome::title)
                        .findFirst().orElse(check.title());
            } else if (!"PASSED".equals(check.result())) {
                because = check.subchecks().stream().filter(s -> s.result().equals(check.result()) && s.detail() != null)
                        .map(DeterminationView.SubcheckOutcome::detail).findFirst().orElse(check.title());
            }
            if (because != null) {
                break;
            }
        }
        return outcome(determination.result()) + " for " + determination.period() + (because == null ? "" : ": " + lowerFirst(because));
    }

    /** Why a check came out as it did, in words: its passing subcheck for a pass, else its result. */
    static String reason(DeterminationView.CheckOutcome check) {
        if (check.reason() != null) {
            return check.subchecks().stream().filter(s -> s.id().equals(check.reason())).map(s -> "Passed because: " + lowerFirst(s.title()))
                    .findFirst().orElse("Passed");
        }
        switch (check.result()) {
            case "NOT_PASSED":
                return "Not passed: no subcheck passed";
            case "NO_DATA":
                return "No data: something this check needs is not on record";
            case "SKIPPED":
                return "Skipped: not needed for this determination";
            case "ERROR":
                return "Error: this check could not be evaluated";
            default:
                return badge(check.result());
        }
    }

    static String time(Instant instant) {
        return instant == null ? "" : TIME.format(instant);
    }

    /** A fact's or message's data as "field: value" pairs, the fields that have a value. */
    static String values(JsonNode data) {
        if (data == null || !data.isObject()) {
            return "";
        }
        StringBuilder text = new StringBuilder();
        for (Iterator<Map.Entry<String, JsonNode>> fields = data.fields(); fields.hasNext(); ) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (field.getValue().isNull()) {
                continue;
            }
            if (text.length() > 0) {
                text.append("; ");
            }
            text.append(field.getKey().replace('_', ' ')).append(": ")
                    .append(field.getValue().isValueNode() ? field.getValue().asText() : field.getValue().toString());
        }
        return text.toString();
    }

    /** A parameter's value: a number as written, a range as "min 19, max 64". */
    static String value(JsonNode value) {
        if (value.isNumber()) {
            return value.decimalValue().stripTrailingZeros().toPlainString();
        }
        if (value.isObject()) {
            return values(value).replace(";", ",");
        }
        return value.isValueNode() ? value.asText() : value.toString();
    }

    /** What a refused request said, naming its fields. */
    static String problem(org.eligo.support.problem.ProblemException e) {
        return e.problem().errors().isEmpty() ? e.problem().detail()
                : String.join(" ", e.problem().errors().stream().map(Words::field).toList());
    }

    /** A field error as a person reads it: "scope: must be changed, all or beneficiaries". */
    static String field(org.eligo.support.problem.FieldError error) {
        String name = error.parameter() != null ? error.parameter() : error.pointer() != null ? error.pointer().replaceFirst("^/", "") : null;
        return (name == null || name.isEmpty() ? "" : name + ": ") + error.message();
    }

    private static String lowerFirst(String text) {
        if (text.length() > 1 && Character.isUpperCase(text.charAt(0)) && !Character.isUpperCase(text.charAt(1))) {
            return Character.toLowerCase(text.charAt(0)) + text.substring(1);
        }
        return text;
    }
}
