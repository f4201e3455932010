package org.eligo.reports.rest;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.eligo.auth.Allowed;
import org.eligo.auth.Role;
import org.eligo.reports.ReportViews;
import org.eligo.reports.Reports;
import org.eligo.support.problem.Problem;

/**
 * Population reports (contract, "Reports"), as JSON or, with {@code Accept: text/csv}, as CSV: one
 * method per media type, which JAX-RS picks from the Accept header.
 */
@Path("/v1/reports")
@Tag(name = "Reports")
@Allowed(Role.ANALYST)
public class ReportResource {

    static final String CSV = "text/csv";

    private final Reports reports;

    public ReportResource(Reports reports) {
        this.reports = reports;
    }

    @GET
    @Path("/outcomes")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "How a population fares: results, each check's and subcheck's results, and why checks passed (also text/csv)")
    @APIResponse(responseCode = "200", description = "The report; as text/csv, one row per cell: section,check,subcheck,result,count",
            content = {@Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ReportViews.Outcomes.class)),
                       @Content(mediaType = CSV)})
    @APIResponse(responseCode = "400", description = "A parameter is missing or invalid, or the rerun is of another ruleset or period",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public ReportViews.Outcomes outcomes(
            @Parameter(description = "the ruleset's id; may be left out when one ruleset is loaded") @QueryParam("ruleset") String ruleset,
            @Parameter(description = "the month, YYYY-MM", required = true) @QueryParam("period") String period,
            @Parameter(description = "count this rerun's determinations; without it, each beneficiary's latest determination for the period")
            @QueryParam("rerun_id") String rerunId) {
        return reports.outcomes(ruleset, period, rerunId);
    }

    @GET
    @Path("/outcomes")
    @Produces(CSV)
    @Operation(hidden = true)
    public String outcomesCsv(@QueryParam("ruleset") String ruleset, @QueryParam("period") String period, @QueryParam("rerun_id") String rerunId) {
        return reports.outcomes(ruleset, period, rerunId).csv();
    }

    @GET
    @Path("/transitions")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "How results moved: beneficiaries per (previous result, new result) pair (also text/csv)")
    @APIResponse(responseCode = "200", description = "The report; as text/csv, one row per pair: from,to,count (an empty cell: no determination)",
            content = {@Content(mediaType = MediaType.APPLICATION_JSON, schema = @Schema(implementation = ReportViews.Transitions.class)),
                       @Content(mediaType = CSV)})
    @APIResponse(responseCode = "400", description = "A parameter is missing or invalid, or a rerun is of another ruleset or period",
            content = @Content(mediaType = Problem.MEDIA_TYPE, schema = @Schema(implementation = Problem.class)))
    public ReportViews.Transitions transitions(
            @Parameter(description = "the ruleset's id; may be left out when one ruleset is loaded") @QueryParam("ruleset") String ruleset,
            @Parameter(description = "the month, YYYY-MM", required = true) @QueryParam("period") String period,
            @Parameter(description = "the \"from\" side: this rerun's determinations; without it, the determination before each one on the"
                    + " \"to\" side (the one it replaced as the latest, or the latest before the rerun)") @QueryParam("from_rerun") String fromRerun,
            @Parameter(description = "the \"to\" side: this rerun's determinations; without it, each beneficiary's latest determination for"
                    + " the period") @QueryParam("to_rerun") String toRerun) {
        return reports.transitions(ruleset, period, fromRerun, toRerun);
    }

    @GET
    @Path("/transitions")
    @Produces(CSV)
    @Operation(hidden = true)
    public String transitionsCsv(@QueryParam("ruleset") String ruleset, @QueryParam("period") String period,
                                 @QueryParam("from_rerun") String fromRerun, @QueryParam("to_rerun") String toRerun) {
        return reports.transitions(ruleset, period, fromRerun, toRerun).csv();
    }
}
