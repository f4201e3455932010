package org.eligo.operations;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;

/**
 * {@code /} leads a person to the console (sign-in first, when they have no session). The API's
 * reference, Swagger UI, stays at {@code /q/swagger-ui/}.
 */
@ApplicationScoped
public class Landing {

    static final String TARGET = "/console/";

    void install(@Observes Router router) {
        router.route("/").method(HttpMethod.GET).method(HttpMethod.HEAD)
                .handler(context -> context.response().setStatusCode(303).putHeader(HttpHeaders.LOCATION, TARGET).end());
    }
}
