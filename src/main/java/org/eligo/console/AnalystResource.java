package org.eligo.console;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eligo.auth.Allowed;
import org.eligo.auth.Caller;
import org.eligo.auth.ConsoleSessions;
import org.eligo.auth.Role;
import org.eligo.ingest.MessageService;
import org.eligo.reruns.RerunService;
import org.eligo.reruns.RerunView;
import org.eligo.support.problem.FieldError;
import org.eligo.support.problem.ProblemException;
import org.jboss.resteasy.reactive.RestResponse;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;

/**
 * The analyst's pages and forms: the population of a ruleset and month (with its CSV), reruns
 * (start, watch, cancel, their changes and CSV), and operations (with a failed message's retry).
 * Every form carries the session's CSRF token; a form without it is refused (403).
 */
@Path("/console")
@Produces(ConsoleResource.HTML)
@Allowed(Role.ANALYST)
public class AnalystResource {

    @CheckedTemplate(basePath = "console")
    static class Templates {
        static native TemplateInstance population(Views.Population page);

        static native TemplateInstance rerun(Views.Rerun page);

        static native TemplateInstance rerunProgress(Views.RerunProgress progress);

        static native TemplateInstance operations(Views.Operations page);
    }

    private static final String CSV = "text/csv; charset=utf-8";

    private final AnalystPages pages;
    private final RerunService reruns;
    private final MessageService messages;
    private final Caller caller;
    private final CurrentVertxRequest request;
    private final ObjectMapper json;

    public AnalystResource(AnalystPages pages, RerunService reruns, MessageService messages, Caller caller, CurrentVertxRequest request,
                           ObjectMapper json) {
        this.pages = pages;
        this.reruns = reruns;
        this.messages = messages;
        this.caller = caller;
        this.request = request;
        this.json = json;
    }

    @GET
    @Path("/population")
    public String population(@QueryParam("ruleset") String ruleset, @QueryParam("period") String period, @QueryParam("rerun") String rerun,
                             @QueryParam("fresh") boolean fresh) {
        return Templates.population(pages.population(Frames.of(request, "Population"), ruleset, period, rerun, fresh)).render();
    }

    @GET
    @Path("/population.csv")
    @Produces(CSV)
    public RestResponse<String> populationCsv(@QueryParam("ruleset") String ruleset, @QueryParam("period") String period,
                                              @QueryParam("rerun") String rerun) {
        return RestResponse.ResponseBuilder.ok(pages.populationCsv(ruleset, period, rerun), CSV)
                .header("Content-Disposition", "attachment; filename=\"outcomes.csv\"").build();
    }

    /** Starts a rerun from the population page's form; answers with its page. */
    @POST
    @Path("/reruns")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public RestResponse<String> startRerun(@FormParam("csrf") String csrf, @FormParam("scope") String scope, @FormParam("period") String period,
                                           @FormParam("ruleset") String ruleset, @FormParam("reason") String reason) {
        requireToken(csrf);
        ObjectNode fields = json.createObjectNode().put("scope", scope).put("period", period).put("ruleset", ruleset);
        if (reason != null && !reason.isBlank()) {
            fields.put("reason", reason);
        }
        List<FieldError> errors = new ArrayList<>();
        RerunView.Accepted accepted = reruns.create(reruns.check(fields, errors), caller.subject());
        return RestResponse.seeOther(URI.create("/console/reruns/" + accepted.id()));
    }

    @GET
    @Path("/reruns/{id}")
    public String rerun(@PathParam("id") String id, @QueryParam("result") String result, @QueryParam("cursor") String cursor) {
        return Templates.rerun(pages.rerun(Frames.of(request, "Rerun " + id), id, result, cursor)).render();
    }

    /** The rerun page's progress block alone, which its script fetches while the rerun runs (it names no beneficiary). */
    @GET
    @Path("/reruns/{id}/progress")
    public String rerunProgress(@PathParam("id") String id) {
        return Templates.rerunProgress(pages.rerunProgress(id)).render();
    }

    @POST
    @Path("/reruns/{id}/cancel")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public RestResponse<String> cancelRerun(@PathParam("id") String id, @FormParam("csrf") String csrf) {
        requireToken(csrf);
        reruns.cancel(id);
        return RestResponse.seeOther(URI.create("/console/reruns/" + id));
    }

    @GET
    @Path("/reruns/{id}/changes.csv")
    @Produces(CSV)
    public RestResponse<String> changesCsv(@PathParam("id") String id, @QueryParam("result") String result) {
        return RestResponse.ResponseBuilder.ok(pages.changesCsv(id, result), CSV)
                .header("Content-Disposition", "attachment; filename=\"rerun-" + id + "-changes.csv\"").build();
    }

    @GET
    @Path("/operations")
    public String operations(@QueryParam("failed_cursor") String failedCursor, @QueryParam("retried") String retried) {
        String notice = retried == null ? null : "Message " + retried + " is queued again.";
        return Templates.operations(pages.operations(Frames.of(request, "Operations"), failedCursor, notice)).render();
    }

    /** Retries a failed message (after the cause of its failure is fixed), as POST /v1/messages/{id}/retry does. */
    @POST
    @Path("/messages/{id}/retry")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    public RestResponse<String> retryMessage(@PathParam("id") String id, @FormParam("csrf") String csrf) {
        requireToken(csrf);
        caller.concerns(messages.retry(id).beneficiaryId());
        return RestResponse.seeOther(URI.create("/console/operations?retried=" + id));
    }

    private void requireToken(String csrf) {
        if (!ConsoleSessions.csrfMatches(ConsoleSessions.of(request.getCurrent()), csrf)) {
            throw ProblemException.forbidden("This form had expired or did not come from this console; reload the page and try again.");
        }
    }
}
