package org.eligo.operations;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;

/**
 * {@code /} leads a person somewhere useful: to Swagger UI, where every endpoint can be read and
 * tried with a token. (The caseworkers' console will take this place when it exists.)
 */
@ApplicationScoped
public class Landing {

    static final String TARGET = "/q/swagger-ui/";

    void install(@Observes Router router) {
        router.route("/").method(HttpMethod.GET).method(HttpMethod.HEAD)
                .handler(context -> context.response().setStatusCode(303).putHeader(HttpHeaders.LOCATION, TARGET).end());
    }
}
