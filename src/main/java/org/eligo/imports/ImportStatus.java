package org.eligo.imports;

/** Where an import is: its lines being stored, all settled, or given up after a chunk failed as a whole too often. */
public enum ImportStatus {
    STORING, DONE, FAILED
}
