package org.eligo.console;

import java.util.List;

import io.quarkus.qute.TemplateData;

/**
 * What each console page shows, worked out in Java (and tested there) so that the templates only
 * lay it out. Text is already in words; {@code tone} is a result's CSS class, always beside its words.
 */
final class Views {

    private Views() {
    }

    /** Every page's frame: who is signed in, what they may open, the token their forms carry. */
    @TemplateData
    record Frame(String subject, String csrf, boolean caseworker, boolean analyst, String title) {
    }

    /** A result shown as a badge with its words. */
    @TemplateData
    record Outcome(String result, String badge, String tone, String sentence, String determinationId, String period) {
    }

    @TemplateData
    record Home(Frame frame, String query, String error) {
    }

    @TemplateData
    record TimelineEntry(String at, String kind, String title, String detail, String href, String tone) {
    }

    @TemplateData
    record FactRow(String id, String type, String values, boolean active, String createdAt, String revokedAt, String source,
                   String externalId, String receivedAt, String messageId) {
    }

    @TemplateData
    record DeterminationRow(String id, String period, String result, String badge, String tone, String evaluatedAt, String trigger,
                            String ruleset) {
    }

    /** "What did we know, and what would we have decided, on date X": an evaluation on the facts of that day. */
    @TemplateData
    record TimeTravel(String asOf, String period, Outcome outcome, List<CheckRow> checks, List<FactRow> facts) {
    }

    @TemplateData
    record Beneficiary(Frame frame, String beneficiaryId, String currentPeriod, Outcome status, List<TimelineEntry> timeline,
                       List<FactRow> facts, List<DeterminationRow> determinations, String travelAsOf, String travelPeriod,
                       TimeTravel travel, String travelError) {
    }

    @TemplateData
    record SubcheckRow(String id, String title, String result, String badge, String tone, String detail, List<String> factIds) {
    }

    @TemplateData
    record CheckRow(String id, String title, String result, String badge, String tone, String reason, List<SubcheckRow> subchecks) {
    }

    @TemplateData
    record ParameterRow(String name, String value, String unit, String reference, String description) {
    }

    @TemplateData
    record RulesetInfo(String id, String version, String sha256, String title, List<ParameterRow> parameters) {
    }

    @TemplateData
    record Change(String check, String subcheck, String before, String after, String detailBefore, String detailAfter) {
    }

    @TemplateData
    record Difference(String previousId, String previousBadge, String previousTone, String previousAt, boolean resultChanged,
                      boolean rulesetChanged, List<Change> changes, List<String> factsOnlyBefore, List<String> factsOnlyNow) {
    }

    @TemplateData
    record Determination(Frame frame, String id, String beneficiaryId, String period, Outcome outcome, String evaluatedAt,
                         String factsAsOf, String trigger, String rerunId, RulesetInfo ruleset, List<CheckRow> checks,
                         List<FactRow> facts, Difference difference) {
    }

    @TemplateData
    record Message(Frame frame, String id, String beneficiaryId, String source, String externalId, String type, String occurredAt,
                   String receivedAt, String status, int attempts, String lastError, String data, List<String> factIds) {
    }

    /** One result's count, with its share, the length of its bar (px, of {@link AnalystPages#BAR}) and where its row and count are drawn. */
    @TemplateData
    record ResultCount(String result, String badge, String tone, long count, String percent, int bar, int y, int countX) {
    }

    @TemplateData
    record SubcheckBreakdown(String id, String title, List<ResultCount> results) {
    }

    @TemplateData
    record CheckBreakdown(String id, String title, List<ResultCount> results, List<SubcheckBreakdown> subchecks) {
    }

    @TemplateData
    record ReasonRow(String check, String reason, long count) {
    }

    @TemplateData
    record RerunRow(String id, String status, String scope, String period, String ruleset, String createdAt, String requestedBy,
                    int total, long done, long failed, long changed) {
    }

    @TemplateData
    record Population(Frame frame, List<String> rulesets, String ruleset, String period, String rerunId, boolean counted,
                      long beneficiaries, List<ResultCount> results, List<CheckBreakdown> checks, List<ReasonRow> reasons,
                      String csv, String countedAt, String countAgain, List<RerunRow> reruns, String error) {
    }

    @TemplateData
    record ChangeRow(String beneficiaryId, String previousDeterminationId, String previousBadge, String previousTone,
                     String determinationId, String badge, String tone) {
    }

    /** A rerun's progress alone (no beneficiary in it): what the rerun page's script refreshes. */
    @TemplateData
    record RerunProgress(RerunRow run, String reason, boolean active, int percent, String rate, String eta, String source) {
    }

    @TemplateData
    record Rerun(Frame frame, RerunRow run, RerunProgress progress, String filter, List<String> filters, List<ChangeRow> changes, String next,
                 String csv) {
    }

    @TemplateData
    record FailedMessage(String id, String beneficiaryId, String source, String externalId, String type, String receivedAt,
                         int attempts, String error) {
    }

    @TemplateData
    record ImportRow(String id, String status, String submittedBy, String receivedAt, long lines, long linesDone, String percent,
                     long invalidLines, String lastError) {
    }

    @TemplateData
    record Operations(Frame frame, long received, long processed, long failed, long backlog, String oldestWaiting,
                      long determinationsPending, long determinationsFailed, long leftForOthers, List<FailedMessage> failedMessages,
                      String failedNext, List<ImportRow> imports, String blockId, String blockSealedAt, String blockDigest,
                      String blockEntries, String verification, String verificationTone, String notice) {
    }
}
