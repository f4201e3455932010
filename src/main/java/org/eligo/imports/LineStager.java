package org.eligo.imports;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;

import org.postgresql.copy.CopyIn;

/**
 * Splits a newline-delimited file into lines and writes them to COPY in its text format, one row
 * per non-blank line: the import's id, the line's number in the file (from 1), and the line, or
 * {@code \N} and the reason it cannot be kept as text (not UTF-8, a NUL byte, longer than the
 * limit; the import then rejects that line). Parsing waits for the storing step.
 *
 * <p>Memory is constant: the input is read through a 64 KiB buffer, a line is held only up to
 * {@code maxLineBytes} (the rest of a longer line is skipped as it streams by), and COPY's rows go
 * out through another 64 KiB buffer. A line may end in LF or CRLF; a last line needs no newline.
 */
public final class LineStager {

    /** The whole file went past {@code eligo.imports.max-bytes}. */
    public static final class TooLarge extends RuntimeException {
        TooLarge(long limit) {
            super("The file is larger than " + limit + " bytes (after gzip is undone), the limit of eligo.imports.max-bytes.");
        }
    }

    private static final int BUFFER = 64 * 1024;

    private final byte[] importId;
    private final InputStream in;
    private final int maxLineBytes;
    private final long maxBytes;
    private byte[] line;
    private int lineLength;
    private boolean lineTooLong;
    private final byte[] out = new byte[BUFFER];
    private int outLength;
    private CopyIn copy;
    private long lines;
    private long lastLineNo;
    private long lineNo;
    private long bytesRead;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private final CharBuffer decoded = CharBuffer.allocate(8192);

    public LineStager(String importId, InputStream in, int maxLineBytes, long maxBytes) {
        this.importId = importId.getBytes(StandardCharsets.US_ASCII);
        this.in = in;
        this.maxLineBytes = maxLineBytes;
        this.maxBytes = maxBytes;
        this.line = new byte[Math.min(maxLineBytes, BUFFER)];
    }

    /** Non-blank lines written. */
    public long lines() {
        return lines;
    }

    /** The file's line number of the last non-blank line (0: none). */
    public long lastLineNo() {
        return lastLineNo;
    }

    /** Reads the whole input, writing its lines to {@code copy}; IOExceptions are the input's (the client's). */
    void writeTo(CopyIn copy) throws SQLException {
        this.copy = copy;
        byte[] buffer = new byte[BUFFER];
        try {
            int n;
            while ((n = in.read(buffer)) > 0) {
                bytesRead += n;
                if (bytesRead > maxBytes) {
                    throw new TooLarge(maxBytes);
                }
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        append(buffer, start, i - start);
                        endLine();
                        start = i + 1;
                    }
                }
                append(buffer, start, n - start);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (lineLength > 0 || lineTooLong) {
            endLine();
        }
        flush();
    }

    private void append(byte[] bytes, int from, int length) {
        if (lineTooLong || length == 0) {
            return;
        }
        if ((long) lineLength + length > maxLineBytes) {
            lineTooLong = true;
            return;
        }
        if (lineLength + length > line.length) {
            growLine(lineLength + length);
        }
        System.arraycopy(bytes, from, line, lineLength, length);
        lineLength += length;
    }

    private void growLine(int needed) {
        // Up to maxLineBytes only; kept at its size for the lines after.
        line = java.util.Arrays.copyOf(line, (int) Math.min(maxLineBytes, Math.max(needed, (long) line.length * 2)));
    }

    private void endLine() throws SQLException {
        lineNo++;
        byte[] bytes = line;
        int length = lineLength;
        if (length > 0 && bytes[length - 1] == '\r') {
            length--;
        }
        String problem = null;
        if (lineTooLong) {
            problem = "the line is longer than " + maxLineBytes + " bytes (eligo.imports.max-line-bytes)";
        } else if (isBlank(bytes, length)) {
            reset();
            return;
        } else {
            problem = textProblem(bytes, length);
        }
        lines++;
        lastLineNo = lineNo;
        write(importId, 0, importId.length);
        writeByte((byte) '\t');
        byte[] number = Long.toString(lineNo).getBytes(StandardCharsets.US_ASCII);
        write(number, 0, number.length);
        writeByte((byte) '\t');
        if (problem == null) {
            writeEscaped(bytes, length);
            write(NULL_FIELD, 0, NULL_FIELD.length);
        } else {
            write(NULL_VALUE, 0, NULL_VALUE.length);
            writeByte((byte) '\t');
            byte[] text = problem.getBytes(StandardCharsets.UTF_8);
            writeEscaped(text, text.length);
        }
        writeByte((byte) '\n');
        reset();
    }

    private static final byte[] NULL_VALUE = {'\\', 'N'};
    private static final byte[] NULL_FIELD = {'\t', '\\', 'N'};

    private void reset() {
        lineLength = 0;
        lineTooLong = false;
    }

    private static boolean isBlank(byte[] bytes, int length) {
        for (int i = 0; i < length; i++) {
            byte b = bytes[i];
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    /** Why the line cannot be stored as PostgreSQL text, or null. */
    private String textProblem(byte[] bytes, int length) {
        boolean ascii = true;
        for (int i = 0; i < length; i++) {
            byte b = bytes[i];
            if (b == 0) {
                return "the line holds a NUL byte (0x00)";
            }
            if (b < 0) {
                ascii = false;
            }
        }
        if (ascii) {
            return null;
        }
        // Strict UTF-8, as JSON bodies elsewhere (JsonBodies.requireUtf8): overlong forms, surrogates, stray bytes refused.
        decoder.reset();
        ByteBuffer input = ByteBuffer.wrap(bytes, 0, length);
        while (true) {
            decoded.clear();
            CoderResult result = decoder.decode(input, decoded, true);
            if (result.isError()) {
                return "the line is not valid UTF-8 (at byte " + (input.position() + 1) + ")";
            }
            if (!result.isOverflow()) {
                return null;
            }
        }
    }

    /** COPY text format: backslash, tab, CR and LF escaped (a line holds no LF, but its problem text might). */
    private void writeEscaped(byte[] bytes, int length) throws SQLException {
        int start = 0;
        for (int i = 0; i < length; i++) {
            byte b = bytes[i];
            byte escape = switch (b) {
                case '\\' -> '\\';
                case '\t' -> 't';
                case '\r' -> 'r';
                case '\n' -> 'n';
                default -> 0;
            };
            if (escape != 0) {
                write(bytes, start, i - start);
                writeByte((byte) '\\');
                writeByte(escape);
                start = i + 1;
            }
        }
        write(bytes, start, length - start);
    }

    private void write(byte[] bytes, int from, int length) throws SQLException {
        while (length > 0) {
            if (outLength == out.length) {
                flush();
            }
            int n = Math.min(length, out.length - outLength);
            System.arraycopy(bytes, from, out, outLength, n);
            outLength += n;
            from += n;
            length -= n;
        }
    }

    private void writeByte(byte b) throws SQLException {
        if (outLength == out.length) {
            flush();
        }
        out[outLength++] = b;
    }

    private void flush() throws SQLException {
        if (outLength > 0) {
            copy.writeToCopy(out, 0, outLength);
            outLength = 0;
        }
    }
}
