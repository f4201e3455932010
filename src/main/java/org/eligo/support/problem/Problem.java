package org.eligo.support.problem;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * An RFC 9457 problem document: what every 4xx (and, as a bug, 5xx) answer carries. {@code errors}
 * is always there, empty when no field of the request is to blame, so clients read one shape.
 */
@Schema(name = "Problem", description = "RFC 9457 problem details, served as application/problem+json.",
        requiredProperties = {"type", "title", "status", "errors"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, List<FieldError> errors) {

    public static final String MEDIA_TYPE = "application/problem+json";

    public Problem {
        errors = errors == null ? List.of() : List.copyOf(errors);
    }
}
