package org.eligo.reruns;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.determinations.DeterminationService;
import org.eligo.support.Ids;
import org.eligo.support.Requests;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;
import org.eligo.work.WorkSignal;

/** Creates reruns, reports their progress, cancels and retries them, and lists what changed; each public method is one transaction. */
@ApplicationScoped
public class RerunService {

    /** A page of changes. */
    public record ChangePage(List<RerunView.Change> items, String nextCursor) {
    }

    /** The longest reason a rerun may give. */
    static final int MAX_REASON = 2000;

    private final Reruns reruns;
    private final Ids ids;
    private final WorkSignal signal;
    private final org.eligo.rules.RulesetRegistry rulesets;
    private final RerunsConfig config;

    public RerunService(Reruns reruns, Ids ids, WorkSignal signal, org.eligo.rules.RulesetRegistry rulesets, RerunsConfig config) {
        this.reruns = reruns;
        this.ids = ids;
        this.signal = signal;
        this.rulesets = rulesets;
        this.config = config;
    }

    /** A checked rerun request: what {@link #create(Request, String)} stores. */
    public record Request(RerunScope scope, List<String> beneficiaries, String period, String rulesetId, String reason) {
    }

    /**
     * Checks a rerun request, the API's JSON body or the console's form as the same fields (scope,
     * beneficiary_ids, period, ruleset, reason), adding to {@code errors} (which may hold the body's
     * own problems already); a 400 naming every wrong field.
     */
    public Request check(JsonNode request, List<FieldError> errors) {
        String scopeText = text(request, "scope", errors, true);
        RerunScope scope = RerunScope.of(scopeText);
        if (scopeText != null && scope == null) {
            errors.add(FieldError.at("/scope", "must be changed, all or beneficiaries"));
        }
        String period = text(request, "period", errors, true);
        if (period != null && !Requests.PERIOD.matcher(period).matches()) {
            errors.add(FieldError.at("/period", Requests.PERIOD_RULE));
        }
        org.eligo.rules.Ruleset ruleset = rulesets.resolve(text(request, "ruleset", errors, false), "/ruleset", errors);
        String reason = text(request, "reason", errors, false);
        if (reason != null && reason.length() > MAX_REASON) {
            errors.add(FieldError.at("/reason", "at most " + MAX_REASON + " characters"));
        }
        List<String> beneficiaries = new ArrayList<>();
        JsonNode listed = request.get("beneficiary_ids");
        if (scope == RerunScope.BENEFICIARIES) {
            if (listed == null || !listed.isArray() || listed.isEmpty()) {
                errors.add(FieldError.at("/beneficiary_ids", "a non-empty array of beneficiary ids is required with scope beneficiaries"));
            } else if (listed.size() > config.maxBeneficiaries()) {
                errors.add(FieldError.at("/beneficiary_ids", "at most " + config.maxBeneficiaries()));
            } else {
                for (int i = 0; i < listed.size(); i++) {
                    JsonNode id = listed.get(i);
                    if (!id.isTextual() || !Requests.BENEFICIARY_ID.matcher(id.textValue()).matches()) {
                        errors.add(FieldError.at("/beneficiary_ids/" + i, Requests.BENEFICIARY_ID_RULE));
                    } else {
                        beneficiaries.add(id.textValue());
                    }
                }
            }
        } else if (listed != null && !listed.isNull()) {
            errors.add(FieldError.at("/beneficiary_ids", "only with scope beneficiaries"));
        }
        if (!errors.isEmpty()) {
            throw ProblemException.badRequest("The rerun request is invalid; see errors.", errors);
        }
        return new Request(scope, List.copyOf(beneficiaries), period, ruleset.id(), reason == null ? null : reason.replace('\u0000', ' '));
    }

    /** Stores a checked request. */
    public RerunView.Accepted create(Request request, String requestedBy) {
        return create(request.scope(), request.beneficiaries(), request.period(), request.rulesetId(), request.reason(), requestedBy);
    }

    private static String text(JsonNode request, String field, List<FieldError> errors, boolean required) {
        JsonNode node = request.get(field);
        if (node == null || node.isNull()) {
            if (required) {
                errors.add(FieldError.at("/" + field, "is required"));
            }
            return null;
        }
        if (!node.isTextual()) {
            errors.add(FieldError.at("/" + field, "must be a string"));
            return null;
        }
        return node.textValue();
    }

    /** Stores the run and queues its beneficiaries. */
    @Transactional
    public RerunView.Accepted create(RerunScope scope, List<String> beneficiaries, String period, String rulesetId, String reason, String requestedBy) {
        RerunView.Accepted accepted = reruns.create(ids.next(Ids.RERUN), scope, beneficiaries, period, rulesetId, reason, requestedBy);
        signal.wakeAfterCommit();
        return accepted;
    }

    @Transactional
    public RerunView get(String id) {
        if (!Ids.isWellFormed(id, Ids.RERUN)) {
            throw ProblemException.notFound("No rerun with id " + id);
        }
        Reruns.State run = reruns.state(id).orElseThrow(() -> ProblemException.notFound("No rerun with id " + id));
        Progress progress = progress(run.status(), run.total(), run.done() + run.failed(), run.startedAt(), run.finishedAt(), run.now());
        return new RerunView(run.id(), run.status(), run.scope().value(), run.period(), run.rulesetId(), run.reason(), run.requestedBy(),
                run.total(), run.done(), run.failed(), run.changed(), run.createdAt(), run.startedAt(), run.finishedAt(),
                progress.ratePerS(), progress.etaS());
    }

    /** The latest runs, newest first, with their progress. */
    @Transactional
    public List<RerunView> recent(int limit) {
        return reruns.recentIds(limit).stream().map(this::get).toList();
    }

    /** A run's speed and what is left of it, each null where nothing true can be said. */
    record Progress(Double ratePerS, Long etaS) {
    }

    /**
     * Rate: determinations (done or failed) per second from start to finish, or to now while it runs;
     * null before it starts and for a run that finished having done nothing (there was no work to
     * time). Time to go: 0 once done; null while queued, while running with nothing done yet (no rate
     * to go by) and for a cancelled or failed run (it will not finish).
     */
    static Progress progress(RerunStatus status, long total, long processed, Instant started, Instant finished, Instant now) {
        if (started == null) {
            return new Progress(null, null);
        }
        double seconds = Math.max(0.001, Duration.between(started, finished != null ? finished : now).toMillis() / 1000.0);
        Double rate = finished != null && processed == 0 ? null : Math.round(processed / seconds * 10.0) / 10.0;
        Long eta;
        if (status == RerunStatus.DONE || (finished == null && processed >= total)) {
            eta = 0L;
        } else if (finished != null || rate == null || rate == 0) {
            eta = null;
        } else {
            eta = (long) Math.ceil((total - processed) / rate);
        }
        return new Progress(rate, eta);
    }

    @Transactional
    public RerunView cancel(String id) {
        get(id);
        reruns.cancel(id);
        return get(id);
    }

    /** Puts a run's FAILED items back in its queue (after the cause of their failure is fixed); 409 when it has none or was cancelled. */
    @Transactional
    public RerunView retry(String id) {
        get(id);
        if (reruns.retryFailed(id) == 0) {
            throw ProblemException.conflict("Rerun " + id + " has no failed items to retry (a cancelled run is not retried: start a new one).", null);
        }
        signal.wakeAfterCommit();
        return get(id);
    }

    @Transactional
    public ChangePage changes(String id, String limitText, String cursor) {
        return changes(id, null, limitText, cursor);
    }

    /** The changes to one result (null: any), paged as {@link #changes(String, String, String)}. */
    @Transactional
    public ChangePage changes(String id, String result, String limitText, String cursor) {
        // Only that the run exists: its tallies (get) count all its items, once per page otherwise.
        if (!Ids.isWellFormed(id, Ids.RERUN) || reruns.findByIdOptional(id).isEmpty()) {
            throw ProblemException.notFound("No rerun with id " + id);
        }
        int limit = DeterminationService.limit(limitText);
        String after = cursor == null || cursor.isEmpty() ? null : Requests.decodeCursor(cursor, Requests.BENEFICIARY_ID);
        List<RerunView.Change> rows = reruns.changes(id, after, result, limit + 1);
        if (rows.size() <= limit) {
            return new ChangePage(rows, null);
        }
        List<RerunView.Change> items = List.copyOf(rows.subList(0, limit));
        return new ChangePage(items, Requests.encodeCursor(items.get(items.size() - 1).beneficiaryId()));
    }
}
