package org.eligo.support.problem;

import com.fasterxml.jackson.annotation.JsonInclude;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * One thing wrong with a request: {@code pointer} is a JSON Pointer into the request body;
 * {@code parameter} names a path or query parameter instead.
 */
@Schema(name = "FieldError")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FieldError(String pointer, String parameter, String message) {

    public static FieldError at(String pointer, String message) {
        return new FieldError(pointer, null, message);
    }

    public static FieldError parameter(String name, String message) {
        return new FieldError(null, name, message);
    }
}
