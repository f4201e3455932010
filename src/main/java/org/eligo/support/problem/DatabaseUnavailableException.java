package org.eligo.support.problem;

/** The database could not be reached; answered as 503 so clients retry. */
public class DatabaseUnavailableException extends RuntimeException {

    public DatabaseUnavailableException(Throwable cause) {
        super(cause.getMessage(), cause);
    }
}
