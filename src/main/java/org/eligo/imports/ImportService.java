package org.eligo.imports;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eligo.ingest.Backlog;
import org.eligo.support.Ids;
import org.eligo.support.Requests;
import org.eligo.support.TraceContext;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;
import org.eligo.work.WorkSignal;

import io.quarkus.narayana.jta.QuarkusTransaction;

/**
 * Receives bulk imports: the file's lines go to the database with COPY as they arrive (gzip undone
 * on the way), and the caller hears 202 once every line is committed. Storing them as messages is
 * the work engine's ({@link ImportWork}).
 */
@ApplicationScoped
public class ImportService {

    private static final Pattern LINE_CURSOR = Pattern.compile("[0-9]{1,18}");

    private final Imports imports;
    private final Ids ids;
    private final ImportsConfig config;
    private final Backlog backlog;
    private final WorkSignal signal;

    private final java.util.concurrent.Semaphore uploads;
    private final java.time.Duration retryAfter;

    public ImportService(Imports imports, Ids ids, ImportsConfig config, Backlog backlog, WorkSignal signal, org.eligo.ingest.IngestConfig ingest) {
        this.uploads = new java.util.concurrent.Semaphore(config.maxConcurrentUploads());
        this.retryAfter = ingest.retryAfter();
        this.imports = imports;
        this.ids = ids;
        this.config = config;
        this.backlog = backlog;
        this.signal = signal;
    }

    /**
     * Stages the file {@code body} (gzip when {@code contentEncoding} says so or its first bytes are
     * gzip's magic number) as a new import sent by {@code subject} for {@code sources} (null: any).
     */
    public ImportView.Accepted receive(InputStream body, String contentEncoding, String subject, Set<String> sources, String traceparent) {
        if (!uploads.tryAcquire()) {
            throw ProblemException.unavailable("This instance is receiving as many imports as it takes at once ("
                    + config.maxConcurrentUploads() + ", eligo.imports.max-concurrent-uploads); retry later.", retryAfter);
        }
        try {
            return stage(body, contentEncoding, subject, sources, traceparent);
        } finally {
            uploads.release();
        }
    }

    private ImportView.Accepted stage(InputStream body, String contentEncoding, String subject, Set<String> sources, String traceparent) {
        String id = ids.next(Ids.IMPORT);
        String trace = TraceContext.traceparent(traceparent);
        InputStream file = open(body, contentEncoding);
        LineStager stager = new LineStager(id, file, config.maxLineBytes(), config.maxBytes());
        try {
            QuarkusTransaction.requiringNew().timeout((int) Math.min(Integer.MAX_VALUE, config.uploadTimeout().toSeconds()))
                    .run(() -> imports.stage(id, subject, sources, trace, stager));
        } catch (RuntimeException e) {
            // The stager's own failures (the file too large, the upload unreadable: a broken connection, bad gzip)
            // are the client's; anything else (the database) is thrown on as it is. Either way the transaction
            // rolled back, and nothing of the file is kept.
            LineStager.TooLarge tooLarge = findCause(e, LineStager.TooLarge.class);
            if (tooLarge != null) {
                throw ProblemException.tooLarge(tooLarge.getMessage() + " Nothing was stored.", null);
            }
            UncheckedIOException unreadable = findCause(e, UncheckedIOException.class);
            if (unreadable != null) {
                throw unreadable(unreadable.getCause());
            }
            throw e;
        }
        signal.wake();
        return new ImportView.Accepted(id, ImportStatus.STORING, stager.lines());
    }

    private static ProblemException unreadable(IOException e) {
        String what = e instanceof ZipException ? "is not valid gzip" : "could not be read";
        return ProblemException.badRequest("The file " + what + " (" + e.getMessage() + "); nothing was stored.", List.of(FieldError.at("", what)));
    }

    private static <T extends Throwable> T findCause(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static InputStream open(InputStream body, String contentEncoding) {
        BufferedInputStream in = new BufferedInputStream(body, 64 * 1024);
        try {
            boolean gzip = contentEncoding != null && contentEncoding.trim().equalsIgnoreCase("gzip");
            if (!gzip) {
                // A JSON line cannot begin with 0x1f: a file sent without Content-Encoding is still recognised.
                in.mark(2);
                gzip = in.read() == 0x1f && in.read() == 0x8b;
                in.reset();
            }
            return gzip ? new GZIPInputStream(in, 64 * 1024) : in;
        } catch (IOException e) {
            throw unreadable(e);
        }
    }

    /**
     * The imports, newest first: of one status if {@code statusText} names one, and only those
     * {@code sender} sent unless it is null (an analyst, or authentication off).
     */
    public ImportView.Page list(String statusText, String sender, int limit, String cursor) {
        ImportStatus status = null;
        if (statusText != null && !statusText.isEmpty()) {
            try {
                status = ImportStatus.valueOf(statusText);
            } catch (IllegalArgumentException e) {
                throw ProblemException.badParameter("status", "must be STORING, DONE or FAILED");
            }
        }
        String before = cursor == null || cursor.isEmpty() ? null : Requests.decodeIdCursor(cursor, Ids.IMPORT);
        List<Import> rows = imports.page(status, sender, before, limit + 1);
        List<Import> shown = rows.size() > limit ? rows.subList(0, limit) : rows;
        boolean full = backlog.room() <= 0;
        return new ImportView.Page(shown.stream().map(row -> summary(row, full)).toList(),
                rows.size() > limit ? Requests.encodeCursor(shown.get(shown.size() - 1).id) : null);
    }

    /** An import's progress and counts; {@code backlogFull}: no room left under the backlog limit, so a storing import waits. */
    private static ImportView.Summary summary(Import row, boolean backlogFull) {
        return new ImportView.Summary(row.id, row.status, row.status == ImportStatus.STORING && backlogFull, row.submittedBy, row.receivedAt,
                row.finishedAt, row.lines, row.newLines + row.duplicateLines + row.conflictingLines + row.invalidLines, row.newLines,
                row.duplicateLines, row.conflictingLines, row.invalidLines, row.lastError);
    }

    /**
     * An import with a page of its rejected lines after {@code cursor}, once {@code mayRead} has
     * accepted its sender's subject (it throws when the caller may not read it): one read of the row.
     */
    @Transactional
    public ImportView view(String id, int limit, String cursor, java.util.function.Consumer<String> mayRead) {
        Import row = Ids.isWellFormed(id, Ids.IMPORT) ? imports.findById(id) : null;
        if (row == null) {
            throw ProblemException.notFound("No import " + id + ".");
        }
        mayRead.accept(row.submittedBy);
        long after = cursor == null || cursor.isEmpty() ? 0 : Long.parseLong(Requests.decodeCursor(cursor, LINE_CURSOR));
        List<Imports.Rejection> page = imports.rejections(id, after, limit + 1);
        String next = null;
        if (page.size() > limit) {
            page = page.subList(0, limit);
            next = Requests.encodeCursor(Long.toString(page.get(page.size() - 1).lineNo()));
        }
        ImportView.Summary summary = summary(row, backlog.room() <= 0);
        return new ImportView(summary.id(), summary.status(), summary.paused(), summary.submittedBy(), summary.receivedAt(), summary.finishedAt(),
                summary.lines(), summary.linesDone(), summary.newLines(), summary.duplicateLines(), summary.conflictingLines(),
                summary.invalidLines(), summary.lastError(),
                page.stream().map(r -> new ImportView.RejectedLine(r.lineNo(), r.kind(),
                        r.errors().stream().map(e -> new ImportView.LineError(e.pointer(), e.message())).toList())).toList(), next);
    }
}
