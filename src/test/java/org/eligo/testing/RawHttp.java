package org.eligo.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Reading HTTP/1.1 answers off a raw socket, for tests that must control the bytes sent. */
public final class RawHttp {

    private RawHttp() {
    }

    /** The header lines up to the blank line that ends them, names lower-cased. */
    public static java.util.Map<String, String> headers(InputStream in) throws IOException {
        java.util.Map<String, String> headers = new java.util.TreeMap<>();
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            int colon = header.indexOf(':');
            headers.put(header.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), header.substring(colon + 1).trim());
        }
        return headers;
    }

    /** One line of an answer's head, without its CRLF; throws if the connection closes first. */
    public static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b == -1) {
                throw new IOException("the connection closed mid-answer after: " + line.toString(StandardCharsets.US_ASCII));
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }
}
