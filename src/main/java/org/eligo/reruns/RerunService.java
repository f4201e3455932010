package org.eligo.reruns;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eligo.determinations.DeterminationService;
import org.eligo.support.Ids;
import org.eligo.support.Requests;
import org.eligo.support.problem.ProblemException;
import org.eligo.work.WorkSignal;

/** Creates reruns, reports their progress, cancels and retries them, and lists what changed; each public method is one transaction. */
@ApplicationScoped
public class RerunService {

    /** A page of changes. */
    public record ChangePage(List<RerunView.Change> items, String nextCursor) {
    }

    private final Reruns reruns;
    private final Ids ids;
    private final WorkSignal signal;

    public RerunService(Reruns reruns, Ids ids, WorkSignal signal) {
        this.reruns = reruns;
        this.ids = ids;
        this.signal = signal;
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
        get(id);
        int limit = DeterminationService.limit(limitText);
        String after = cursor == null || cursor.isEmpty() ? null : Requests.decodeCursor(cursor, Requests.BENEFICIARY_ID);
        List<RerunView.Change> rows = reruns.changes(id, after, limit + 1);
        if (rows.size() <= limit) {
            return new ChangePage(rows, null);
        }
        List<RerunView.Change> items = List.copyOf(rows.subList(0, limit));
        return new ChangePage(items, Requests.encodeCursor(items.get(items.size() - 1).beneficiaryId()));
    }
}
