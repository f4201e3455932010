package org.eligo.support.yaml;

import java.nio.file.Path;

/** A rule or fact-type file that cannot be loaded: names the file, the line (1-based, 0 if unknown) and what is wrong. */
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
