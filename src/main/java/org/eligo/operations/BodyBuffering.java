package org.eligo.operations;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Request bodies are received in full by the I/O threads before an endpoint gets a worker thread:
 * the blocking endpoints would otherwise read their body on the worker, and clients that send a body
 * slowly (or never finish it) could hold every worker (SlowClientTest). Bodies are bounded by
 * {@code quarkus.http.limits.max-body-size}; the endpoints read whole bodies anyway, so this costs
 * no extra memory.
 */
@ApplicationScoped
public class BodyBuffering {

    void install(@Observes Router router) {
        BodyHandler bodies = BodyHandler.create(false);
        router.route("/v1/*").order(-1000).handler(context -> {
            // An empty body is left to the endpoint: there is nothing to wait for, and an empty
            // buffered body would leave it waiting for a body that never comes.
            String length = context.request().getHeader("Content-Length");
            boolean chunked = "chunked".equalsIgnoreCase(context.request().getHeader("Transfer-Encoding"));
            // HTTP/2 is off (quarkus.http.http2=false); were it on, a buffered HTTP/2 body would make
            // the REST layer fail ("request has already been read"), so those pass through.
            boolean http1 = context.request().version() != io.vertx.core.http.HttpVersion.HTTP_2;
            if (http1 && (chunked || (length != null && !length.trim().equals("0")))) {
                bodies.handle(context);
            } else {
                context.next();
            }
        });
    }
}
