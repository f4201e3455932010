package org.eligo.rules;

import java.nio.file.Path;

/** A rule file that cannot be loaded: names the file, the line (1-based, 0 if unknown) and what is wrong. */
public class RuleFileException extends RuntimeException {

    private final transient Path file;
    private final int line;

    public RuleFileException(Path file, int line, String problem) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem);
        this.file = file;
        this.line = line;
    }

    public Path file() {
        return file;
    }

    public int line() {
        return line;
    }
}
