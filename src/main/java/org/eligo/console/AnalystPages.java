package org.eligo.console;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;

import org.eligo.auth.Caller;
import org.eligo.imports.ImportService;
import org.eligo.imports.ImportView;
import org.eligo.ingest.MessageQueries;
import org.eligo.ingest.MessageView;
import org.eligo.ledger.Sealer;
import org.eligo.ledger.Verifications;
import org.eligo.reports.ReportViews;
import org.eligo.reports.Reports;
import org.eligo.reruns.RerunService;
import org.eligo.reruns.RerunStatus;
import org.eligo.reruns.RerunView;
import org.eligo.rules.Ruleset;
import org.eligo.rules.RulesetRegistry;
import org.eligo.stats.Statistics;
import org.eligo.stats.StatsResource;
import org.eligo.support.EligoClock;
import org.eligo.support.problem.ProblemException;

/**
 * The analyst's pages: a population's outcomes (the reports API's counts, as bars and tables),
 * reruns (start, watch, cancel, their changes) and the service's operations (backlog, failed
 * messages, imports, the ledger's head, the last verification). The same services as the API.
 */
@ApplicationScoped
class AnalystPages {

    /** The longest bar, in px (a whole population). */
    static final int BAR = 240;
    /** The height of one bar's row, px. */
    static final int ROW = 22;
    /** The results, in the order the pages show them. */
    static final List<String> RESULTS = java.util.Arrays.stream(org.eligo.rules.Result.values()).map(Enum::name).toList();
    /** Changes one page of a rerun shows. */
    static final int CHANGES = 100;
    /** Changes one CSV file holds at most (and one access-log row names). */
    static final int MAX_EXPORT = 100_000;
    /**
     * How long a population's counts are shown again without counting anew: counting a month of a
     * large state is a scan of its latest determinations (hundreds of ms with a million stored),
     * and an analyst moving between the population, a rerun and back should not wait each time.
     * The page says when it counted, and "count again" counts at once.
     */
    static final Duration COUNTS_KEPT = Duration.ofSeconds(30);
    /** Populations whose counts are kept at most (a few analysts' recent views). */
    static final int COUNTS_KEPT_MAX = 64;

    private record Counted(ReportViews.Outcomes report, Instant at) {
    }

    private final java.util.concurrent.ConcurrentHashMap<String, Counted> counted = new java.util.concurrent.ConcurrentHashMap<>();

    private final Reports reports;
    private final RulesetRegistry rulesets;
    private final RerunService reruns;
    private final Statistics statistics;
    private final MessageQueries messages;
    private final ImportService imports;
    private final Sealer sealer;
    private final Verifications verifications;
    private final EligoClock clock;
    private final Caller caller;

    AnalystPages(Reports reports, RulesetRegistry rulesets, RerunService reruns, Statistics statistics, MessageQueries messages,
                 ImportService imports, Sealer sealer, Verifications verifications, EligoClock clock, Caller caller) {
        this.reports = reports;
        this.rulesets = rulesets;
        this.reruns = reruns;
        this.statistics = statistics;
        this.messages = messages;
        this.imports = imports;
        this.sealer = sealer;
        this.verifications = verifications;
        this.clock = clock;
        this.caller = caller;
    }

    Views.Population population(Views.Frame frame, String rulesetId, String period, String rerunId, boolean fresh) {
        List<String> loaded = rulesets.all().stream().map(Ruleset::id).sorted().toList();
        String ruleset = rulesetId == null || rulesetId.isBlank() ? (loaded.isEmpty() ? "" : loaded.get(0)) : rulesetId;
        String month = period == null || period.isBlank() ? clock.currentPeriod().toString() : period;
        String rerun = rerunId == null || rerunId.isBlank() ? null : rerunId.trim();
        List<Views.RerunRow> recent = reruns.recent(10).stream().map(AnalystPages::row).toList();
        Counted count;
        try {
            count = count(ruleset, month, rerun, fresh);
        } catch (ProblemException e) {
            return new Views.Population(frame, loaded, ruleset, month, rerun == null ? "" : rerun, false, 0, List.of(), List.of(), List.of(), "",
                    "", "", recent, Words.problem(e));
        }
        ReportViews.Outcomes report = count.report();
        Map<String, String> titles = titles(ruleset);
        long total = report.beneficiaries();
        List<Views.CheckBreakdown> checks = report.checks().stream().map(check -> new Views.CheckBreakdown(check.id(),
                titles.getOrDefault(check.id(), check.id()), counts(check.results(), total),
                check.subchecks().stream().map(subcheck -> new Views.SubcheckBreakdown(subcheck.id(),
                        titles.getOrDefault(check.id() + "/" + subcheck.id(), subcheck.id()), counts(subcheck.results(), total))).toList())).toList();
        List<Views.ReasonRow> reasons = report.reasons().stream().map(reason -> new Views.ReasonRow(titles.getOrDefault(reason.check(), reason.check()),
                titles.getOrDefault(reason.check() + "/" + reason.reason(), reason.reason()), reason.count())).toList();
        String query = "ruleset=" + encode(ruleset) + "&period=" + encode(month) + (rerun == null ? "" : "&rerun=" + encode(rerun));
        return new Views.Population(frame, loaded, ruleset, month, rerun == null ? "" : rerun, true, total, counts(report.results(), total), checks,
                reasons, "/console/population.csv?" + query, Words.time(count.at()), "/console/population?" + query + "&fresh=true", recent, null);
    }

    /** The population's counts: kept ones up to {@link #COUNTS_KEPT} old, unless {@code fresh}; else counted now. */
    private Counted count(String ruleset, String month, String rerun, boolean fresh) {
        String key = ruleset + "\n" + month + "\n" + rerun;
        Counted kept = counted.get(key);
        Instant now = Instant.now();
        if (!fresh && kept != null && kept.at().plus(COUNTS_KEPT).isAfter(now)) {
            return kept;
        }
        Counted made = new Counted(reports.outcomes(ruleset, month, rerun), now);
        if (counted.size() >= COUNTS_KEPT_MAX) {
            counted.clear();
        }
        counted.put(key, made);
        return made;
    }

    String populationCsv(String rulesetId, String period, String rerunId) {
        return reports.outcomes(blankToNull(rulesetId), blankToNull(period), blankToNull(rerunId)).csv();
    }

    Views.Rerun rerun(Views.Frame frame, String id, String filter, String cursor) {
        RerunView run = reruns.get(id);
        String wanted = result(filter);
        RerunService.ChangePage page = reruns.changes(id, blankToNull(wanted), Integer.toString(CHANGES), blankToNull(cursor));
        List<Views.ChangeRow> changes = page.items().stream()
                .map(change -> new Views.ChangeRow(change.beneficiaryId(), change.previousDeterminationId(), Words.badge(change.previousResult()),
                        Words.tone(change.previousResult()), change.determinationId(), Words.badge(change.result()), Words.tone(change.result())))
                .toList();
        caller.concerns(changes.stream().map(Views.ChangeRow::beneficiaryId).toList());
        String next = page.nextCursor() == null ? null
                : "/console/reruns/" + id + "?cursor=" + encode(page.nextCursor()) + (wanted.isEmpty() ? "" : "&result=" + wanted);
        return new Views.Rerun(frame, row(run), progress(run), wanted, RESULTS, changes, next,
                "/console/reruns/" + id + "/changes.csv" + (wanted.isEmpty() ? "" : "?result=" + wanted));
    }

    /** A rerun's progress: status, done of total, rate and time to go. */
    Views.RerunProgress rerunProgress(String id) {
        return progress(reruns.get(id));
    }

    private static Views.RerunProgress progress(RerunView run) {
        boolean active = run.status() == RerunStatus.QUEUED || run.status() == RerunStatus.RUNNING;
        int percent = run.total() == 0 ? (active ? 0 : 100) : (int) Math.min(100, (run.done() + run.failed()) * 100 / run.total());
        return new Views.RerunProgress(row(run), run.reason() == null ? "" : run.reason(), active, percent,
                run.ratePerS() == null ? "" : String.format(Locale.ROOT, "%.1f determinations a second", run.ratePerS()),
                run.etaS() == null ? "" : duration(Duration.ofSeconds(run.etaS())), "/console/reruns/" + run.id() + "/progress");
    }

    /** The result a rerun's changes are filtered by: "" for any; a 400 naming {@code result} for anything else. */
    private static String result(String filter) {
        String wanted = filter == null || filter.isBlank() ? "" : filter;
        if (!wanted.isEmpty() && !RESULTS.contains(wanted)) {
            throw ProblemException.badParameter("result", "must be one of " + String.join(", ", RESULTS));
        }
        return wanted;
    }

    /**
     * Every change of a rerun (to one result, if asked), as CSV: what the changes pages list, all of
     * them, recorded in the access log as one read of those beneficiaries. At most
     * {@link #MAX_EXPORT} changes: more is a 409 that says to filter by result or page the API.
     */
    String changesCsv(String id, String filter) {
        RerunView run = reruns.get(id);
        String wanted = result(filter);
        if (run.changedResults() > MAX_EXPORT && wanted.isEmpty()) {
            throw ProblemException.conflict("Rerun " + id + " changed " + run.changedResults() + " results, more than one file holds (" + MAX_EXPORT
                    + "): download the changes to one result at a time, or page GET /v1/reruns/" + id + "/changes.", null);
        }
        StringBuilder out = new StringBuilder("beneficiary_id,previous_result,previous_determination_id,result,determination_id\r\n");
        String cursor = null;
        List<String> beneficiaries = new ArrayList<>();
        do {
            RerunService.ChangePage page = reruns.changes(id, blankToNull(wanted), "500", cursor);
            for (RerunView.Change change : page.items()) {
                out.append(csv(change.beneficiaryId())).append(',').append(csv(change.previousResult())).append(',')
                        .append(csv(change.previousDeterminationId())).append(',').append(csv(change.result())).append(',')
                        .append(csv(change.determinationId())).append("\r\n");
                beneficiaries.add(change.beneficiaryId());
            }
            if (beneficiaries.size() > MAX_EXPORT) {
                throw ProblemException.conflict("More than " + MAX_EXPORT + " changes to " + wanted + ": page GET /v1/reruns/" + id + "/changes.", null);
            }
            cursor = page.nextCursor();
        } while (cursor != null);
        caller.concerns(beneficiaries);
        return out.toString();
    }

    Views.Operations operations(Views.Frame frame, String failedCursor, String notice) {
        StatsResource.Stats stats = statistics.take();
        MessageQueries.Page failed = messages.withStatus(org.eligo.ingest.MessageStatus.FAILED.name(), null, "50", blankToNull(failedCursor));
        caller.concerns(failed.items().stream().map(MessageView::beneficiaryId).toList());
        List<Views.FailedMessage> failedRows = failed.items().stream().map(message -> new Views.FailedMessage(message.id(), message.beneficiaryId(),
                message.source(), message.externalId(), message.type(), Words.time(message.receivedAt()), message.attempts(),
                message.lastError() == null ? "" : message.lastError())).toList();
        ImportView.Page storing = imports.list(org.eligo.imports.ImportStatus.STORING.name(), null, 20, null);
        List<Views.ImportRow> importRows = storing.items().stream().map(summary -> new Views.ImportRow(summary.id(), String.valueOf(summary.status())
                + (summary.paused() ? " (paused: backlog full)" : ""), summary.submittedBy(), Words.time(summary.receivedAt()), summary.lines(),
                summary.linesDone(), summary.lines() == 0 ? "0" : Long.toString(summary.linesDone() * 100 / summary.lines()), summary.invalidLines(),
                summary.lastError() == null ? "" : summary.lastError())).toList();
        Sealer.StoredBlock block = sealer.lastBlock().orElse(null);
        Verifications.Run verification = verifications.latest().orElse(null);
        String verified;
        String tone;
        if (verification == null) {
            verified = "No verification has run yet.";
            tone = "none";
        } else {
            boolean ok = verification.result() != null && verification.result().ok();
            verified = verification.kind() + " verification " + verification.id() + ", " + verification.status() + " (started "
                    + Words.time(verification.startedAt()) + (verification.finishedAt() == null ? "" : ", finished " + Words.time(verification.finishedAt()))
                    + ")" + (verification.result() == null ? "" : ok ? ": the ledger verifies" : ": PROBLEMS FOUND")
                    + (verification.error() == null ? "" : ": " + verification.error());
            tone = verification.result() == null ? (verification.error() == null ? "none" : "error") : ok ? "passed" : "not-passed";
        }
        Instant oldest = stats.oldestBacklogReceivedAt();
        String waiting = oldest == null ? "nothing waiting"
                : "oldest waiting since " + Words.time(oldest) + " (" + duration(Duration.between(oldest, Instant.now())) + ")";
        return new Views.Operations(frame, stats.messages().received(), stats.messages().processed(), stats.messages().failed(), stats.messages().backlog(),
                waiting, stats.determinations().pending(), stats.determinations().failed(),
                stats.leftForOtherInstances().messages() + stats.leftForOtherInstances().determinations() + stats.leftForOtherInstances().reruns(),
                failedRows, failed.nextCursor() == null ? null : "/console/operations?failed_cursor=" + encode(failed.nextCursor()), importRows,
                block == null ? "" : Long.toString(block.block().id()), block == null ? "" : Words.time(block.block().sealedAt()),
                block == null ? "" : HexFormat.of().formatHex(block.digest()), block == null ? "" : Integer.toString(block.block().entries()),
                verified, tone, notice);
    }

    private static Views.RerunRow row(RerunView run) {
        return new Views.RerunRow(run.id(), String.valueOf(run.status()), run.scope(), run.period(), run.ruleset(), Words.time(run.createdAt()),
                run.requestedBy(), run.total(), run.done(), run.failed(), run.changedResults());
    }

    /** The five results' counts in their fixed order, each with its share of {@code total} and its bar. */
    private static List<Views.ResultCount> counts(Map<String, Long> results, long total) {
        List<Views.ResultCount> counts = new ArrayList<>();
        for (String result : RESULTS) {
            long count = results.getOrDefault(result, 0L);
            int bar = total == 0 ? 0 : (int) Math.round(count * (double) BAR / total);
            counts.add(new Views.ResultCount(result, Words.badge(result), Words.tone(result), count,
                    total == 0 ? "0%" : String.format(Locale.ROOT, "%.1f%%", count * 100.0 / total), bar, counts.size() * ROW, bar + 106));
        }
        return counts;
    }

    /** Check and subcheck titles of the loaded ruleset, by id and by "check/subcheck"; a review month's {month} left as it is. */
    private Map<String, String> titles(String rulesetId) {
        Map<String, String> titles = new HashMap<>();
        rulesets.find(rulesetId).ifPresent(ruleset -> ruleset.checks().forEach(check -> {
            titles.put(check.id(), check.title());
            check.subchecks().forEach(subcheck -> titles.put(check.id() + "/" + subcheck.id(), subcheck.title()));
        }));
        return titles;
    }

    static String duration(Duration duration) {
        long seconds = Math.max(0, duration.toSeconds());
        if (seconds < 120) {
            return seconds + " s";
        }
        if (seconds < 2 * 3600) {
            return seconds / 60 + " min";
        }
        return seconds / 3600 + " h " + seconds % 3600 / 60 + " min";
    }

    private static String csv(String value) {
        if (value == null) {
            return "";
        }
        return value.matches("[A-Za-z0-9_.:-]*") ? value : "\"" + value.replace("\"", "\"\"") + "\"";
    }

    private static String encode(String value) {
        return java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
