package org.eligo.imports;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * A bulk import: one row of {@code import} (V10__imports.sql), owned by {@link Imports} with its
 * staged lines and rejected lines. Read as an entity; its counts move set-wise as chunks are stored.
 */
@Entity
@Table(name = "import")
public class Import {

    @Id
    public String id;

    @Column(name = "submitted_by")
    public String submittedBy;

    @Column(name = "received_at", insertable = false, updatable = false)
    public Instant receivedAt;

    public long lines;

    @Column(name = "last_line_no")
    public long lastLineNo;

    @Enumerated(EnumType.STRING)
    public ImportStatus status;

    @Column(name = "stored_through")
    public long storedThrough;

    @Column(name = "new_lines")
    public long newLines;

    @Column(name = "duplicate_lines")
    public long duplicateLines;

    @Column(name = "conflicting_lines")
    public long conflictingLines;

    @Column(name = "invalid_lines")
    public long invalidLines;

    public int attempts;

    @Column(name = "last_error")
    public String lastError;

    @Column(name = "finished_at")
    public Instant finishedAt;
}
