package org.eligo.determinations;

import java.time.Instant;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.facts.Fact;
import org.eligo.facts.Facts;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetLoader;
import org.eligo.rules.RulesetRegistry;
import org.eligo.rules.WhatIf;
import org.eligo.support.Db;
import org.eligo.support.Ids;
import org.eligo.support.Requests;
import org.eligo.support.Timestamps;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;
import org.eligo.work.WorkSignal;

/**
 * Determinations on request, evaluations (time travel and what-if, not stored), and reads; each
 * public method is one transaction.
 *
 * <p>A requested determination takes the beneficiary's lock, reads the clock, and evaluates the
 * facts active at that instant: no fact of the beneficiary is being written meanwhile, so
 * {@code facts_as_of} names exactly the facts that were used.
 */
@ApplicationScoped
public class DeterminationService {

    public static final int DEFAULT_LIMIT = 50;
    public static final int MAX_LIMIT = 500;

    /** A page of a history. */
    public record Page(List<DeterminationView> items, String nextCursor) {
    }

    private final Db db;
    private final RulesetRegistry rulesets;
    private final Facts facts;
    private final DeterminationMaker maker;
    private final Determinations determinations;
    private final DeterminationQueue queue;
    private final WorkSignal signal;

    public DeterminationService(Db db, RulesetRegistry rulesets, Facts facts, DeterminationMaker maker, Determinations determinations,
                                DeterminationQueue queue, WorkSignal signal) {
        this.queue = queue;
        this.signal = signal;
        this.db = db;
        this.rulesets = rulesets;
        this.facts = facts;
        this.maker = maker;
        this.determinations = determinations;
    }

    /**
     * How long a request or an evaluation waits for its beneficiary's lock, as ingest does: a
     * beneficiary held longer (a replay, a rerun chunk) answers 503 with Retry-After.
     */
    static final java.time.Duration REQUEST_LOCK_WAIT = java.time.Duration.ofSeconds(2);

    /** Makes and stores a determination ({@code trigger: request}). Body: {"period", "ruleset"}. */
    @Transactional
    public DeterminationView request(String beneficiaryId, JsonNode body, List<FieldError> errors) {
        Requests.requireBeneficiaryId(beneficiaryId);
        YearMonth period = period(body, errors);
        Ruleset ruleset = ruleset(body, errors);
        fail(errors);
        DeterminationView made = db.inCurrent(connection -> {
            Instant asOf = facts.lockWaitingAtMost(List.of(beneficiaryId), REQUEST_LOCK_WAIT);
            List<Fact> active = facts.activeFor(List.of(beneficiaryId), asOf).getOrDefault(beneficiaryId, List.of());
            return maker.make(ruleset, beneficiaryId, period, active, asOf, asOf, DeterminationTrigger.REQUEST, null, true);
        });
        determinations.insert(List.of(made));
        return made;
    }

    /**
     * Redrives the queued automatic determinations at their dead end (all, or one beneficiary's,
     * or one ruleset's): due again at once with fresh attempts. Returns how many.
     */
    @Transactional
    public int redrive(String beneficiaryId, String rulesetId) {
        if (beneficiaryId != null) {
            Requests.requireBeneficiaryId(beneficiaryId);
        }
        if (rulesetId != null && !RulesetLoader.ID.matcher(rulesetId).matches()) {
            throw ProblemException.badParameter("ruleset", "must be a ruleset id: 1 to 64 of a-z, 0-9 and '-'");
        }
        int redriven = queue.redrive(beneficiaryId, rulesetId);
        if (redriven > 0) {
            signal.wakeAfterCommit();
        }
        return redriven;
    }

    /**
     * Evaluates without storing, on the facts active at {@code as_of} (default now), with the ruleset's
     * parameters or, for a what-if, some of them taking other values. Body: {"period", "ruleset", "as_of", "parameters"}.
     */
    @Transactional
    public DeterminationView evaluate(String beneficiaryId, JsonNode body, List<FieldError> errors) {
        Requests.requireBeneficiaryId(beneficiaryId);
        YearMonth period = period(body, errors);
        Ruleset ruleset = ruleset(body, errors);
        Instant requestedAsOf = null;
        JsonNode asOf = body.get("as_of");
        if (asOf != null && !asOf.isNull()) {
            try {
                requestedAsOf = Timestamps.parse(asOf.isTextual() ? asOf.textValue() : "");
            } catch (DateTimeParseException e) {
                errors.add(FieldError.at("/as_of", "must be an RFC 3339 timestamp, e.g. 2027-05-02T10:00:00Z"));
            }
        }
        JsonNode whatIf = body.get("parameters");
        boolean asked = whatIf != null && !whatIf.isNull();
        Map<String, java.math.BigDecimal> values = asked && ruleset != null ? WhatIf.read(ruleset, whatIf, errors) : Map.of();
        fail(errors);
        Instant explicit = requestedAsOf;
        return db.inCurrent(connection -> {
            // The lock, even for an explicit as_of: with no fact of the beneficiary being written, the
            // facts active at any instant up to now are all committed, so the answer cannot change later.
            Instant now = facts.lockWaitingAtMost(List.of(beneficiaryId), REQUEST_LOCK_WAIT);
            if (explicit != null && explicit.isAfter(now)) {
                // Facts for a future instant are not known yet: the same request would answer differently later.
                throw ProblemException.badRequest("as_of is in the future.", List.of(FieldError.at("/as_of", "must not be later than now (" + Timestamps.format(now) + ")")));
            }
            Instant at = explicit == null ? now : explicit;
            // Time travel uses the rules in force at that instant, not today's (the response names the version).
            Ruleset used = explicit == null ? ruleset : rulesets.inForceAt(connection, ruleset.id(), at);
            List<Fact> active = facts.activeFor(List.of(beneficiaryId), at).getOrDefault(beneficiaryId, List.of());
            if (!asked) {
                return maker.make(used, beneficiaryId, period, active, at, now, DeterminationTrigger.REQUEST, null, false);
            }
            // The version in force at as_of may be an older one, with other parameters: read them again against it.
            List<FieldError> mistakes = new ArrayList<>();
            Map<String, java.math.BigDecimal> usedValues = used == ruleset ? values : WhatIf.read(used, whatIf, mistakes);
            if (!mistakes.isEmpty()) {
                throw ProblemException.badRequest("The what-if parameters do not fit the ruleset version in force at as_of ("
                        + used.version() + ").", mistakes);
            }
            DeterminationView made = maker.make(used.withValues(usedValues), beneficiaryId, period, active, at, now,
                    DeterminationTrigger.REQUEST, null, false);
            return made.withRuleset(new DeterminationView.RulesetRef(used.id(), used.version(), used.sha256(), WhatIf.echo(used, usedValues)));
        });
    }

    @Transactional
    public DeterminationView get(String id, boolean expandFacts) {
        if (!Ids.isWellFormed(id, Ids.DETERMINATION)) {
            throw ProblemException.notFound("No determination with id " + id);
        }
        DeterminationView determination = determinations.byId(id).orElseThrow(() -> ProblemException.notFound("No determination with id " + id));
        if (!expandFacts) {
            return determination;
        }
        return db.inCurrent(connection -> {
            Set<String> factIds = new LinkedHashSet<>();
            determination.checks().forEach(check -> check.subchecks().forEach(subcheck -> factIds.addAll(subcheck.factIds())));
            Map<String, Fact> byId = new java.util.HashMap<>();
            facts.byIds(factIds).forEach(fact -> byId.put(fact.id(), fact));
            List<Fact> ordered = new ArrayList<>();
            factIds.forEach(factId -> {
                if (byId.containsKey(factId)) {
                    ordered.add(byId.get(factId));
                }
            });
            return determination.withFacts(ordered);
        });
    }

    /** A beneficiary's determinations, newest first, optionally for one period. */
    @Transactional
    public Page history(String beneficiaryId, String period, String limitText, String cursor) {
        Requests.requireBeneficiaryId(beneficiaryId);
        if (period != null && !Requests.PERIOD.matcher(period).matches()) {
            throw ProblemException.badParameter("period", "must be a month YYYY-MM");
        }
        int limit = limit(limitText);
        String after = cursor == null || cursor.isEmpty() ? null : Requests.decodeIdCursor(cursor, Ids.DETERMINATION);
        List<DeterminationView> rows = determinations.history(beneficiaryId, period, after, limit + 1);
        if (rows.size() <= limit) {
            return new Page(rows, null);
        }
        List<DeterminationView> items = rows.subList(0, limit);
        return new Page(List.copyOf(items), Requests.encodeCursor(items.get(items.size() - 1).id()));
    }

    /** What differs between two determinations: the result, the ruleset, each subcheck whose result changed, the facts read. */
    @Transactional
    public DeterminationDiff diff(String a, String b) {
        DeterminationView first = get(a, false);
        DeterminationView second = get(b, false);
        Map<String, DeterminationView.SubcheckOutcome> inFirst = subchecks(first);
        Map<String, DeterminationView.SubcheckOutcome> inSecond = subchecks(second);
        Set<String> keys = new LinkedHashSet<>(inFirst.keySet());
        keys.addAll(inSecond.keySet());
        List<DeterminationDiff.SubcheckChange> changed = new ArrayList<>();
        for (String key : keys) {
            DeterminationView.SubcheckOutcome x = inFirst.get(key);
            DeterminationView.SubcheckOutcome y = inSecond.get(key);
            String resultX = x == null ? null : x.result();
            String resultY = y == null ? null : y.result();
            if (!java.util.Objects.equals(resultX, resultY)) {
                String[] ids = key.split("/", 2);
                changed.add(new DeterminationDiff.SubcheckChange(ids[0], ids[1], resultX, resultY,
                        x == null ? null : x.detail(), y == null ? null : y.detail()));
            }
        }
        Set<String> factsX = factIds(first);
        Set<String> factsY = factIds(second);
        List<String> onlyX = factsX.stream().filter(f -> !factsY.contains(f)).toList();
        List<String> onlyY = factsY.stream().filter(f -> !factsX.contains(f)).toList();
        return new DeterminationDiff(a, b, new DeterminationDiff.Pair<>(first.beneficiaryId(), second.beneficiaryId()),
                new DeterminationDiff.Pair<>(first.result(), second.result()),
                new DeterminationDiff.Pair<>(first.ruleset(), second.ruleset()),
                new DeterminationDiff.Pair<>(first.factsAsOf(), second.factsAsOf()), changed, new DeterminationDiff.FactChanges(onlyX, onlyY));
    }

    private static Map<String, DeterminationView.SubcheckOutcome> subchecks(DeterminationView determination) {
        Map<String, DeterminationView.SubcheckOutcome> byKey = new java.util.LinkedHashMap<>();
        determination.checks().forEach(check -> check.subchecks().forEach(subcheck -> byKey.put(check.id() + "/" + subcheck.id(), subcheck)));
        return byKey;
    }

    private static Set<String> factIds(DeterminationView determination) {
        Set<String> ids = new LinkedHashSet<>();
        determination.checks().forEach(check -> check.subchecks().forEach(subcheck -> ids.addAll(subcheck.factIds())));
        return ids;
    }

    /** A page size of the API's usual bounds (1 to {@value #MAX_LIMIT}, default {@value #DEFAULT_LIMIT}). */
    public static int limit(String text) {
        return Requests.limit(text, DEFAULT_LIMIT, MAX_LIMIT);
    }


    private static YearMonth period(JsonNode body, List<FieldError> errors) {
        JsonNode period = body.get("period");
        if (period == null || period.isNull()) {
            errors.add(FieldError.at("/period", "is required"));
            return null;
        }
        if (!period.isTextual() || !Requests.PERIOD.matcher(period.textValue()).matches()) {
            errors.add(FieldError.at("/period", Requests.PERIOD_RULE));
            return null;
        }
        return YearMonth.parse(period.textValue());
    }

    private Ruleset ruleset(JsonNode body, List<FieldError> errors) {
        JsonNode id = body.get("ruleset");
        if (id != null && !id.isNull() && !id.isTextual()) {
            errors.add(FieldError.at("/ruleset", "must be a string"));
            return null;
        }
        return rulesets.resolve(id == null || id.isNull() ? null : id.textValue(), "/ruleset", errors);
    }

    private static void fail(List<FieldError> errors) {
        if (!errors.isEmpty()) {
            throw ProblemException.badRequest("The request is invalid; see errors.", errors);
        }
    }
}
