package org.eligo.console;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eligo.auth.Allowed;
import org.eligo.auth.Caller;
import org.eligo.determinations.DeterminationService;
import org.eligo.auth.Role;
import org.eligo.ledger.Receipts;
import org.eligo.support.Requests;

import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import org.jboss.resteasy.reactive.RestResponse;
import io.quarkus.vertx.http.runtime.CurrentVertxRequest;

/**
 * The caseworker's pages: find a beneficiary, their page (status, timeline, facts, time travel), a
 * determination (checks in words, the facts read, the ruleset's parameters, the difference from the
 * previous one, the receipt) and a message. Thin: {@link Pages} works out what they show.
 */
@Path("/console")
@Produces(ConsoleResource.HTML)
public class ConsoleResource {

    static final String HTML = "text/html; charset=utf-8";

    @CheckedTemplate(basePath = "console")
    static class Templates {
        static native TemplateInstance home(Views.Home page);

        static native TemplateInstance beneficiary(Views.Beneficiary page);

        static native TemplateInstance determination(Views.Determination page);

        static native TemplateInstance message(Views.Message page);
    }

    private final Pages pages;
    private final Receipts receipts;
    private final DeterminationService determinations;
    private final Caller caller;
    private final CurrentVertxRequest request;

    public ConsoleResource(Pages pages, Receipts receipts, DeterminationService determinations, Caller caller, CurrentVertxRequest request) {
        this.pages = pages;
        this.receipts = receipts;
        this.determinations = determinations;
        this.caller = caller;
        this.request = request;
    }

    @GET
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public RestResponse<String> home(@QueryParam("beneficiary_id") String wanted) {
        if (wanted != null && !wanted.isBlank()) {
            String id = wanted.trim();
            try {
                Requests.requireBeneficiaryId(id);
                return RestResponse.seeOther(URI.create("/console/beneficiaries/" + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20")));
            } catch (org.eligo.support.problem.ProblemException e) {
                return RestResponse.status(RestResponse.Status.BAD_REQUEST, Templates.home(new Views.Home(frame("Find a beneficiary"), id,
                        "That is not a beneficiary id: " + e.problem().errors().get(0).message())).render());
            }
        }
        return RestResponse.ok(Templates.home(new Views.Home(frame("Find a beneficiary"), "", null)).render());
    }

    @GET
    @Path("/beneficiaries/{beneficiary_id}")
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public String beneficiary(@PathParam("beneficiary_id") String beneficiaryId, @QueryParam("as_of") String asOf,
                              @QueryParam("period") String period) {
        return Templates.beneficiary(pages.beneficiary(frame("Beneficiary " + beneficiaryId), beneficiaryId, asOf, period)).render();
    }

    @GET
    @Path("/determinations/{id}")
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public String determination(@PathParam("id") String id) {
        return Templates.determination(pages.determination(frame("Determination " + id), id)).render();
    }

    /** The determination's receipt as a file, for the case file: what {@code GET /v1/determinations/{id}/receipt} answers. */
    @GET
    @Path("/determinations/{id}/receipt")
    @Produces(MediaType.APPLICATION_JSON)
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public RestResponse<Receipts.Receipt> receipt(@PathParam("id") String id) {
        caller.concerns(determinations.get(id, false).beneficiaryId());
        Receipts.Receipt receipt = receipts.forDetermination(id);
        return RestResponse.ResponseBuilder.ok(receipt).header("Content-Disposition", "attachment; filename=\"receipt-" + id + ".json\"").build();
    }

    @GET
    @Path("/messages/{id}")
    @Allowed({Role.CASEWORKER, Role.ANALYST})
    public String message(@PathParam("id") String id) {
        return Templates.message(pages.message(frame("Message " + id), id)).render();
    }

    private Views.Frame frame(String title) {
        return Frames.of(request, title);
    }
}
