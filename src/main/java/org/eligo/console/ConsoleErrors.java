package org.eligo.console;

import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.core.MediaType;

import org.eligo.support.problem.Problem;
import org.jboss.resteasy.reactive.server.ServerResponseFilter;

import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;

/**
 * A console page that fails answers a page, not problem+json: the same status and words (a 404 for
 * an unknown determination, a 403 for a caseworker on an analyst's page, a 400 naming the field).
 */
public class ConsoleErrors {

    @CheckedTemplate(basePath = "console")
    static class Templates {
        static native TemplateInstance error(Views.Frame frame, int status, String title, String detail, java.util.List<String> errors);
    }

    private final CurrentVertxRequest request;

    public ConsoleErrors(CurrentVertxRequest request) {
        this.request = request;
    }

    @ServerResponseFilter
    public void render(ContainerRequestContext requestContext, ContainerResponseContext response) {
        if (!(response.getEntity() instanceof Problem problem) || !requestContext.getUriInfo().getPath().startsWith("/console")) {
            return;
        }
        String html = Templates.error(Frames.of(request, problem.title()), problem.status(), problem.title(),
                problem.detail() == null ? "" : problem.detail(),
                problem.errors().stream().map(Words::field).toList())
                .render();
        response.setEntity(html, new java.lang.annotation.Annotation[0], MediaType.valueOf("text/html; charset=utf-8"));
    }
}
