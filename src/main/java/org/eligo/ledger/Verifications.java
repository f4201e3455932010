package org.eligo.ledger;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;

import org.eclipse.microprofile.context.ManagedExecutor;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eligo.support.Db;
import org.eligo.support.Ids;
import org.eligo.support.problem.ProblemException;
import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.scheduler.Scheduled;

/**
 * Verification runs, the owner of {@code ledger_verification}.
 *
 * <ul>
 * <li><b>Incremental, scheduled</b> (every {@code eligo.ledger.verify-interval}, one instance at a
 *     time: advisory lock 17777): what was sealed since the block the last sound run verified,
 *     provided that block still has the digest it had then. The first run, or one after a failure,
 *     starts from the first block. Its answer is logged; a failure is logged as an error.</li>
 * <li><b>Full, as a background job</b> ({@code POST /v1/integrity/verifications}): the same check as
 *     {@code GET /v1/integrity/verify}, on a worker thread, with its progress kept here.</li>
 * </ul>
 */
@ApplicationScoped
public class Verifications {

    private static final Logger LOG = Logger.getLogger(Verifications.class);

    /** A run whose heartbeat is older than this was abandoned (its instance stopped). */
    static final Duration ABANDONED_AFTER = Duration.ofMinutes(2);

    static final String TRY_LOCK = "SELECT pg_try_advisory_xact_lock(17777, 0)";

    static final String INSERT = "INSERT INTO ledger_verification (id, kind, status, requested_by, records_total) VALUES (?, ?, 'RUNNING', ?, ?)";

    static final String PROGRESS = "UPDATE ledger_verification SET records_done = ?, heartbeat_at = clock_timestamp() WHERE id = ?";

    static final String FINISH = """
            UPDATE ledger_verification SET status = ?, finished_at = clock_timestamp(), heartbeat_at = clock_timestamp(), ok = ?,
                   through_block = ?, through_digest = ?, result = ?::jsonb, error = ?, records_done = coalesce(?, records_done)
             WHERE id = ?
            """;

    static final String BY_ID = """
            SELECT id, kind, status, requested_by, started_at, heartbeat_at, finished_at, records_done, records_total, through_block,
                   ok, result::text, error, heartbeat_at < clock_timestamp() - ? * interval '1 second'
              FROM ledger_verification WHERE id = ?
            """;

    /** The most recent run's id, of either kind. */
    static final String LATEST = "SELECT id FROM ledger_verification ORDER BY started_at DESC LIMIT 1";

    /** Where the next incremental run starts: the latest sound run's last block (of either kind). */
    static final String LAST_SOUND = """
            SELECT through_block, through_digest FROM ledger_verification
             WHERE status = 'DONE' AND ok AND through_block IS NOT NULL ORDER BY finished_at DESC LIMIT 1
            """;

    /** How many records a full run reads, for its progress: the planner's estimates (a count would read them all once more). */
    static final String ESTIMATED_RECORDS = """
            SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_class c
             WHERE c.relname IN ('message', 'fact', 'determination') AND c.relnamespace = current_schema()::regnamespace
            """;

    /** A run as the API shows it. */
    @Schema(name = "Verification")
    public record Run(String id, @Schema(enumeration = {"full", "incremental"}) String kind,
                      @Schema(enumeration = {"RUNNING", "DONE", "FAILED", "ABANDONED"}) String status, String requestedBy,
                      Instant startedAt, Instant finishedAt, Progress progress, Long throughBlock,
                      @Schema(description = "The answer, as GET /v1/integrity/verify gives it, once DONE") Integrity result,
                      @Schema(description = "Why the run could not finish (FAILED)") String error) {
    }

    /** Records read so far, of about how many. */
    public record Progress(long done, Long total) {
    }

    /**
     * What a refused verification is told to wait: a full run takes minutes, so asking again within
     * a second or two would only be refused again.
     */
    static final Duration BUSY_RETRY_AFTER = Duration.ofSeconds(30);

    private final Db db;
    private final LedgerVerifier verifier;
    /** Full verifications running on this instance, bounded by eligo.ledger.max-concurrent-verifications. */
    private final java.util.concurrent.Semaphore running;
    private final int maxRunning;
    private final Ids ids;
    private final ManagedExecutor executor;
    private final ObjectMapper json;

    public Verifications(Db db, LedgerVerifier verifier, Ids ids, ManagedExecutor executor, ObjectMapper json, LedgerConfig config) {
        this.maxRunning = Math.max(1, config.maxConcurrentVerifications());
        this.running = new java.util.concurrent.Semaphore(maxRunning);
        this.db = db;
        this.verifier = verifier;
        this.ids = ids;
        this.executor = executor;
        this.json = json;
    }

    // ------------------------------------------------------------------------------ full runs

    /**
     * The whole check now, on the caller's thread ({@code GET /v1/integrity/verify}), unless this
     * instance already runs as many full verifications as it may: then 503 with Retry-After.
     */
    public Integrity verifyNow() {
        admit();
        try {
            return verifier.verify();
        } finally {
            running.release();
        }
    }

    /** Starts a full verification in the background, or answers 503 as {@link #verifyNow} does; returns it as it starts. */
    public Run startFull(String requestedBy) {
        admit();
        boolean started = false;
        try {
            String id = ids.next(Ids.VERIFICATION);
            create(id, "full", requestedBy, estimatedRecords());
            // The run lets go of its place when it ends (runFull).
            executor.runAsync(() -> runFull(id));
            started = true;
            return get(id);
        } finally {
            if (!started) {
                running.release();
            }
        }
    }

    /**
     * A place among the full verifications running here. 503 rather than 429 when there is none:
     * the limit is this instance's capacity, not the caller's rate (any caller would be refused
     * alike, and another instance may have room), as with eligo.imports.max-concurrent-uploads.
     */
    private void admit() {
        if (!running.tryAcquire()) {
            throw ProblemException.unavailable("This instance is running as many full verifications as it takes at once (" + maxRunning
                    + ", eligo.ledger.max-concurrent-verifications); retry later, or follow the running one.", BUSY_RETRY_AFTER);
        }
    }

    /** A full run, on a worker thread; it holds a place taken by {@link #startFull} and gives it back when it ends. */
    void runFull(String id) {
        try {
            runFullHoldingPlace(id);
        } finally {
            running.release();
        }
    }

    private void runFullHoldingPlace(String id) {
        try {
            LedgerVerifier.Run run = verifyAll(id);
            finish(id, run, null);
            LOG.infof("Full ledger verification %s: ok %s, head %s%s", id, run.integrity().ok(), run.integrity().head(),
                    run.integrity().ok() ? "" : ", first bad " + run.integrity().firstBad() + ": " + run.integrity().problem());
        } catch (RuntimeException e) {
            LOG.errorf(e, "Full ledger verification %s could not finish", id);
            finish(id, null, e.toString());
        }
    }

    /** The whole check, in one snapshot that may read for hours (6 h time-out), reporting its progress as it goes. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    @io.quarkus.narayana.jta.runtime.TransactionConfiguration(timeout = 6 * 60 * 60)
    LedgerVerifier.Run verifyAll(String id) {
        return verifier.verifyAll(done -> progress(id, done));
    }

    // ------------------------------------------------------------------------------ incremental runs

    @Scheduled(every = "${eligo.ledger.verify-interval:5m}", delayed = "30s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void scheduled() {
        try {
            incremental().ifPresent(run -> {
                if (run.result() != null && !run.result().ok()) {
                    LOG.errorf("Ledger verification %s FOUND %s %s: %s", run.id(), run.result().firstBad().table(), run.result().firstBad().id(),
                            run.result().problem());
                }
            });
        } catch (RuntimeException e) {
            LOG.warnf("The incremental ledger verification failed (%s); the next one tries again", e.getMessage());
        }
    }

    /** One incremental run, unless another instance is running one; returns it once done. */
    public Optional<Run> incremental() {
        String id = ids.next(Ids.VERIFICATION);
        LedgerVerifier.Run run = verifyIncrementally(id);
        if (run == null) {
            return Optional.empty();
        }
        finish(id, run, null);
        LOG.infof("Ledger verification %s (since the last verified block): ok %s, %d blocks, %d entries, head %s", id, run.integrity().ok(),
                run.integrity().checked().blocks(), run.integrity().checked().entries(), run.integrity().head());
        return Optional.of(get(id));
    }

    /** The incremental check in one snapshot, holding the lock that keeps it to one instance; null when another holds it. */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    LedgerVerifier.Run verifyIncrementally(String id) {
        // One snapshot, taken at the lock's statement: where to start and what to check are read in it.
        db.readOnlySnapshot();
        boolean locked = db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(TRY_LOCK); ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        });
        if (!locked) {
            return null;
        }
        LedgerVerifier.Through from = lastSound();
        create(id, "incremental", null, null);
        return verifier.verifySince(from.block(), from.digest());
    }

    private LedgerVerifier.Through lastSound() {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(LAST_SOUND); ResultSet rs = statement.executeQuery()) {
                return rs.next() ? new LedgerVerifier.Through(rs.getLong(1), rs.getBytes(2)) : new LedgerVerifier.Through(0, null);
            }
        });
    }

    // ------------------------------------------------------------------------------ the table

    /** A run's row, in a transaction of its own (an incremental run's own transaction is a read-only snapshot). */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    void create(String id, String kind, String requestedBy, Long total) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(INSERT)) {
                statement.setString(1, id);
                statement.setString(2, kind);
                statement.setString(3, requestedBy);
                statement.setObject(4, total);
                statement.executeUpdate();
            }
            return null;
        });
    }

    @Transactional
    Long estimatedRecords() {
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(ESTIMATED_RECORDS); ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** A run's progress, in a transaction of its own (the run's own transaction is a read-only snapshot). */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    void progress(String id, long done) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(PROGRESS)) {
                statement.setLong(1, done);
                statement.setString(2, id);
                statement.executeUpdate();
            }
            return null;
        });
    }

    @Transactional(Transactional.TxType.REQUIRES_NEW)
    void finish(String id, LedgerVerifier.Run run, String error) {
        db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(FINISH)) {
                statement.setString(1, run == null ? "FAILED" : "DONE");
                statement.setObject(2, run == null ? null : run.integrity().ok());
                statement.setObject(3, run == null || run.through() == null || run.through().block() == 0 ? null : run.through().block());
                statement.setBytes(4, run == null || run.through() == null ? null : run.through().digest());
                statement.setString(5, run == null ? null : text(run.integrity()));
                statement.setString(6, error);
                Integrity.Checked checked = run == null ? null : run.integrity().checked();
                statement.setObject(7, checked == null ? null : checked.messages() + checked.facts() + checked.determinations());
                statement.setString(8, id);
                statement.executeUpdate();
            }
            return null;
        });
    }

    /** The most recent run, of either kind (the console's operations page). */
    @Transactional
    public Optional<Run> latest() {
        String id = db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(LATEST); ResultSet rs = statement.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        });
        return id == null ? Optional.empty() : Optional.of(get(id));
    }

    @Transactional
    public Run get(String id) {
        if (!Ids.isWellFormed(id, Ids.VERIFICATION)) {
            throw ProblemException.notFound("No verification with id " + id);
        }
        return db.inCurrent(connection -> {
            try (PreparedStatement statement = connection.prepareStatement(BY_ID)) {
                statement.setLong(1, ABANDONED_AFTER.toSeconds());
                statement.setString(2, id);
                try (ResultSet rs = statement.executeQuery()) {
                    if (!rs.next()) {
                        throw ProblemException.notFound("No verification with id " + id);
                    }
                    String status = rs.getString(3);
                    if ("RUNNING".equals(status) && rs.getBoolean(14)) {
                        status = "ABANDONED";
                    }
                    String result = rs.getString(12);
                    return new Run(rs.getString(1), rs.getString(2), status, rs.getString(4), org.eligo.support.Timestamps.read(rs, 5),
                            org.eligo.support.Timestamps.read(rs, 7), new Progress(rs.getLong(8), (Long) rs.getObject(9)),
                            (Long) rs.getObject(10), result == null ? null : json.readValue(result, Integrity.class), rs.getString(13));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException("a stored verification result is not JSON", e);
                }
            }
        });
    }

    private String text(Integrity integrity) {
        try {
            return json.writeValueAsString(integrity);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
