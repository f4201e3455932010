package org.eligo.console;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eligo.testing.Api;
import org.eligo.testing.Sql;
import org.eligo.testing.Tokens;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;

/**
 * The console over HTTP, with authentication on: sign-in and its CSRF token, the session cookie,
 * pages behind it, each page view in the access log, forms refused without their token or from
 * another site. (ConsoleBrowserTest goes through the same pages in Chromium.)
 */
@QuarkusTest
@TestProfile(ConsoleProfile.class)
class ConsoleTest {

    @jakarta.inject.Inject
    org.eligo.ledger.Sealer sealer;

    private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");

    /** Signs in with the development sign-in as {@code role}; returns the session cookie's value. */
    static String signIn(String role, String name) {
        Response form = given().redirects().follow(false).get("/console/sign-in");
        form.then().statusCode(200).contentType(containsString("text/html"));
        Matcher token = CSRF.matcher(form.asString());
        assertTrue(token.find(), "the sign-in form carries a CSRF token");
        Response signedIn = given().redirects().follow(false).cookie("eligo_sign_in", form.getCookie("eligo_sign_in"))
                .contentType(ContentType.URLENC).formParam("csrf", token.group(1)).formParam("role", role).formParam("name", name)
                .post("/console/sign-in");
        signedIn.then().statusCode(303).header("Location", "/console/");
        String session = signedIn.getCookie("eligo_session");
        assertNotNull(session, "signing in sets the session cookie");
        return session;
    }

    @Test
    void theRootLeadsToTheConsoleAndAPageWithoutASessionToSignIn() {
        given().redirects().follow(false).get("/").then().statusCode(303).header("Location", "/console/");
        given().redirects().follow(false).get("/console/").then().statusCode(303).header("Location", "/console/sign-in");
        given().redirects().follow(false).get("/console/beneficiaries/B-1").then().statusCode(303)
                .header("Location", "/console/sign-in?next=%2Fconsole%2Fbeneficiaries%2FB-1");
        // A sign-in returns only to a console page, never elsewhere.
        Response form = given().redirects().follow(false).get("/console/sign-in?next=//evil.example/");
        assertTrue(form.asString().contains("name=\"next\" value=\"/console/\""), form.asString());
    }

    @Test
    void aRefusedBeneficiaryPageIsRecordedUnderTheBeneficiary() {
        String beneficiary = Api.unique("B");
        given().redirects().follow(false).get("/console/beneficiaries/" + beneficiary).then().statusCode(303);
        await().atMost(Duration.ofSeconds(10)).until(() -> Sql.count(
                "SELECT count(*) FROM access_log WHERE status = 303 AND path = ? AND beneficiary_ids = ARRAY[?::text]",
                "/console/beneficiaries/" + beneficiary, beneficiary) == 1);
    }

    @Test
    void timeTravelToTodayEvaluatesOnWhatIsKnownNow() {
        String session = signIn("caseworker", "Casey");
        String today = java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString();
        String page = given().cookie("eligo_session", session).queryParam("as_of", today).queryParam("period", "2027-07")
                .get("/console/beneficiaries/" + Api.unique("B")).then().statusCode(200).extract().asString();
        assertTrue(page.contains("On " + today + ": "), page);
        // A date no calendar reaches is a message on the page, not a failure.
        given().cookie("eligo_session", session).queryParam("as_of", "+999999999-12-31").get("/console/beneficiaries/B-1").then().statusCode(200)
                .body(containsString("as_of: must be a date"));
    }

    @Test
    void theSessionCookieIsHttpOnlyAndSameSiteAndNoTokenIsEverInAUrl() {
        Response form = given().redirects().follow(false).get("/console/sign-in");
        Matcher token = CSRF.matcher(form.asString());
        assertTrue(token.find());
        Response signedIn = given().redirects().follow(false).cookie("eligo_sign_in", form.getCookie("eligo_sign_in"))
                .contentType(ContentType.URLENC).formParam("csrf", token.group(1)).formParam("role", "caseworker")
                .formParam("next", "/console/beneficiaries/B-42").post("/console/sign-in");
        signedIn.then().statusCode(303).header("Location", "/console/beneficiaries/B-42");
        String setCookie = signedIn.getHeaders().getValues("Set-Cookie").stream().filter(c -> c.startsWith("eligo_session=")).findFirst().orElseThrow();
        assertTrue(setCookie.toLowerCase(java.util.Locale.ROOT).contains("; httponly"), setCookie);
        assertTrue(setCookie.contains("SameSite=Lax"), setCookie);
        assertTrue(setCookie.contains("Path=/console"), setCookie);
        given().redirects().follow(false).cookie("eligo_session", signedIn.getCookie("eligo_session")).get("/console/").then().statusCode(200)
                .header("Cache-Control", "no-store").header("Content-Security-Policy", containsString("default-src 'self'"))
                .body(containsString("Signed in as <strong>dev-caseworker</strong>"));
    }

    @Test
    void theSignInFormIsRefusedWithoutItsToken() {
        Response form = given().redirects().follow(false).get("/console/sign-in");
        Response refused = given().redirects().follow(false).cookie("eligo_sign_in", form.getCookie("eligo_sign_in"))
                .contentType(ContentType.URLENC).formParam("csrf", "forged").formParam("role", "analyst").post("/console/sign-in");
        refused.then().statusCode(403).body(containsString("expired"));
        assertNull(refused.getCookie("eligo_session"), "no session without the form's token");
        // No role a console knows: the form again.
        Matcher token = CSRF.matcher(form.asString());
        assertTrue(token.find());
        given().redirects().follow(false).cookie("eligo_sign_in", form.getCookie("eligo_sign_in")).contentType(ContentType.URLENC)
                .formParam("csrf", token.group(1)).formParam("role", "root").post("/console/sign-in").then().statusCode(400)
                .header("Set-Cookie", not(containsString("eligo_session=")));
    }

    @Test
    void aFormFromAnotherSiteOrWithoutTheSessionsTokenIsRefused() {
        String session = signIn("analyst", "Ana Lyst");
        given().redirects().follow(false).cookie("eligo_session", session).header("Origin", "http://evil.example")
                .contentType(ContentType.URLENC).formParam("csrf", "x").post("/console/sign-out").then().statusCode(403);
        Response withoutToken = given().redirects().follow(false).cookie("eligo_session", session).contentType(ContentType.URLENC)
                .formParam("csrf", "not-the-sessions").post("/console/sign-out");
        withoutToken.then().statusCode(403);
        assertNull(withoutToken.getCookie("eligo_session"), "still signed in");
        String page = given().cookie("eligo_session", session).get("/console/").asString();
        Matcher token = CSRF.matcher(page);
        assertTrue(token.find());
        Response out = given().redirects().follow(false).cookie("eligo_session", session).contentType(ContentType.URLENC)
                .formParam("csrf", token.group(1)).post("/console/sign-out");
        out.then().statusCode(303).header("Location", "/console/sign-in");
        assertEquals("", out.getCookie("eligo_session"), "the cookie is cleared");
    }

    @Test
    void aTamperedOrForeignCookieIsNoSession() {
        String session = signIn("caseworker", "Case Worker");
        String[] parts = session.split("\\.");
        String forged = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                new String(java.util.Base64.getUrlDecoder().decode(parts[0])).replace("caseworker", "analyst").getBytes()) + "." + parts[1];
        given().redirects().follow(false).cookie("eligo_session", forged).get("/console/").then().statusCode(303)
                .header("Location", startsWith("/console/sign-in"));
        given().redirects().follow(false).cookie("eligo_session", "garbage").get("/console/").then().statusCode(303);
    }

    @Test
    void aBeneficiaryPageShowsTheStatusInWordsAndIsInTheAccessLog() {
        String source = Api.unique("console"), beneficiary = Api.unique("B");
        String agency = Tokens.agency(source);
        String birth = given().auth().oauth2(agency).contentType(ContentType.JSON)
                .body(Api.birthdate(source, "b-1", beneficiary, "1990-01-01")).post("/v1/messages").then().statusCode(202).extract().path("id");
        String income = given().auth().oauth2(agency).contentType(ContentType.JSON)
                .body(Api.income(source, "i-6", beneficiary, 2027, 6, 60_000, 85)).post("/v1/messages").then().statusCode(202).extract().path("id");
        Api.awaitStatus(birth, "PROCESSED", agency);
        Api.awaitStatus(income, "PROCESSED", agency);
        String first = given().auth().oauth2(Tokens.caseworker()).contentType(ContentType.JSON).body(Map.of("period", "2027-07"))
                .post("/v1/beneficiaries/" + beneficiary + "/determinations").then().statusCode(201).extract().path("id");
        String determination = given().auth().oauth2(Tokens.caseworker()).contentType(ContentType.JSON).body(Map.of("period", "2027-07"))
                .post("/v1/beneficiaries/" + beneficiary + "/determinations").then().statusCode(201).extract().path("id");

        String session = signIn("caseworker", "Casey Worker");
        assertTrue(given().cookie("eligo_session", session).get("/console/determinations/" + first).asString()
                .contains("Difference from the previous determination"));
        String page = given().cookie("eligo_session", session).get("/console/beneficiaries/" + beneficiary).then().statusCode(200)
                .contentType(containsString("text/html")).extract().asString();
        assertTrue(page.contains("Meets the requirement for 2027-07"), "the status names the current month: " + page);
        assertTrue(page.contains("/console/determinations/" + determination), "links the determination");
        assertTrue(page.contains("/console/messages/" + income), "links the message a fact came from");
        assertTrue(page.contains("i-6"), "shows a fact's external id");

        await().atMost(Duration.ofSeconds(10)).until(() -> Sql.count(
                "SELECT count(*) FROM access_log WHERE subject = 'Casey Worker' AND path = ? AND status = 200 AND beneficiary_ids = ARRAY[?::text]",
                "/console/beneficiaries/" + beneficiary, beneficiary) == 1);

        String detail = given().cookie("eligo_session", session).get("/console/determinations/" + determination).then().statusCode(200)
                .extract().asString();
        assertTrue(detail.contains("Parameters in force on 2027-07-01"), "the parameters of the month");
        assertTrue(detail.contains("42 CFR 435.552(a)"), "with their citations");
        // The one requested before (or an automatic one made since) came first: this one is compared with it.
        assertTrue(detail.contains("The previous determination for 2027-07"), detail);
        assertTrue(detail.contains("The result is the same."), detail);
        await().atMost(Duration.ofSeconds(10)).until(() -> Sql.count(
                "SELECT count(*) FROM access_log WHERE subject = 'Casey Worker' AND path = ? AND beneficiary_ids = ARRAY[?::text]",
                "/console/determinations/" + determination, beneficiary) == 1);

        // Not sealed yet: a page that says so; once sealed, the file.
        given().cookie("eligo_session", session).get("/console/determinations/" + determination + "/receipt").then().statusCode(409)
                .contentType(containsString("text/html"));
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            sealer.seal();
            return given().cookie("eligo_session", session).get("/console/determinations/" + determination + "/receipt").statusCode() == 200;
        });
        Response receipt = given().cookie("eligo_session", session).get("/console/determinations/" + determination + "/receipt");
        receipt.then().statusCode(200).contentType(ContentType.JSON).header("Content-Disposition", containsString("attachment"));

        // Time travel: yesterday (the database's clock: facts are stamped with it) nothing about June was known.
        String yesterday = java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(1).toString();
        String then = given().cookie("eligo_session", session).queryParam("as_of", yesterday).queryParam("period", "2027-07")
                .get("/console/beneficiaries/" + beneficiary).then().statusCode(200).extract().asString();
        assertTrue(then.contains("On " + yesterday + ": Not enough information to decide"), then);
        assertTrue(then.contains("Facts known on " + yesterday + " (0)"), then);
        // A date the service cannot evaluate on is said on the page, naming what is wrong.
        String future = given().cookie("eligo_session", session).queryParam("as_of", "2199-01-01")
                .get("/console/beneficiaries/" + beneficiary).then().statusCode(200).extract().asString();
        assertTrue(future.contains("role=\"alert\">as_of: must not be later than now"), future);
    }

    @Test
    void analystPagesAreAnalystsAndTheirFormsNeedTheSessionsToken() {
        String caseworker = signIn("caseworker", "Casey");
        given().cookie("eligo_session", caseworker).get("/console/population").then().statusCode(403).contentType(containsString("text/html"))
                .body(containsString("it needs analyst"));
        given().cookie("eligo_session", caseworker).get("/console/operations").then().statusCode(403);

        String analyst = signIn("analyst", "Ana");
        String page = given().cookie("eligo_session", analyst).queryParam("period", "2027-07").get("/console/population").then().statusCode(200)
                .extract().asString();
        assertTrue(page.contains("Outcomes for 2027-07"), page);
        assertTrue(page.contains("Counted at ") && page.contains("fresh=true\">count again</a>"), page);
        given().cookie("eligo_session", analyst).queryParam("period", "2027-07").get("/console/population.csv").then().statusCode(200)
                .contentType(containsString("text/csv")).header("Content-Disposition", containsString("outcomes.csv"))
                .body(startsWith("section,check,subcheck,result,count"));
        given().cookie("eligo_session", analyst).queryParam("period", "27-7").get("/console/population").then().statusCode(200)
                .body(containsString("role=\"alert\">period"));

        given().redirects().follow(false).cookie("eligo_session", analyst).contentType(ContentType.URLENC).formParam("csrf", "forged")
                .formParam("scope", "all").formParam("period", "2027-07").post("/console/reruns").then().statusCode(403)
                .contentType(containsString("text/html"));
        Matcher token = CSRF.matcher(page);
        assertTrue(token.find());
        Response started = given().redirects().follow(false).cookie("eligo_session", analyst).contentType(ContentType.URLENC)
                .formParam("csrf", token.group(1)).formParam("scope", "all").formParam("period", "2027-07").formParam("reason", "test")
                .post("/console/reruns");
        started.then().statusCode(303).header("Location", containsString("/console/reruns/run_"));
        String rerun = started.header("Location").replaceAll(".*/console/reruns/", "");
        given().cookie("eligo_session", analyst).get("/console/reruns/" + rerun).then().statusCode(200).body(containsString("data-watch=\"active\""));
        // What the page's script polls: the progress alone, naming no beneficiary (so polling adds none to the access log).
        given().cookie("eligo_session", analyst).get("/console/reruns/" + rerun + "/progress").then().statusCode(200)
                .body(containsString("data-watch=\"active\"")).body(not(containsString("/console/beneficiaries/")));
        given().cookie("eligo_session", analyst).get("/console/reruns/" + rerun + "/changes.csv?result=MAYBE").then().statusCode(400)
                .body(containsString("result: must be one of"));
        given().redirects().follow(false).cookie("eligo_session", analyst).contentType(ContentType.URLENC).formParam("csrf", token.group(1))
                .post("/console/reruns/" + rerun + "/cancel").then().statusCode(303);
        given().cookie("eligo_session", analyst).get("/console/reruns/" + rerun).then().statusCode(200).body(containsString("data-watch=\"over\""));
        given().cookie("eligo_session", analyst).get("/console/reruns/" + rerun + "/changes.csv").then().statusCode(200)
                .body(startsWith("beneficiary_id,previous_result"));
        // A bad form answers a page naming the field.
        given().redirects().follow(false).cookie("eligo_session", analyst).contentType(ContentType.URLENC).formParam("csrf", token.group(1))
                .formParam("scope", "everyone").formParam("period", "2027-07").post("/console/reruns").then().statusCode(400)
                .contentType(containsString("text/html")).body(containsString("scope: must be changed, all or beneficiaries"));
        given().cookie("eligo_session", analyst).get("/console/operations").then().statusCode(200).body(containsString("Last sealed block"));
    }

    @Test
    void unknownThingsAnswerAPageWithTheirStatus() {
        String session = signIn("caseworker", "Casey");
        given().cookie("eligo_session", session).get("/console/determinations/det_01ARZ3NDEKTSV4RRFFQ69G5FAV").then().statusCode(404)
                .contentType(containsString("text/html")).body(containsString("No determination with id"));
        given().cookie("eligo_session", session).get("/console/beneficiaries/" + "x".repeat(200)).then().statusCode(400)
                .contentType(containsString("text/html")).body(containsString("beneficiary_id"));
        given().redirects().follow(false).cookie("eligo_session", session).get("/console/?beneficiary_id=B-7").then().statusCode(303)
                .header("Location", org.hamcrest.Matchers.endsWith("/console/beneficiaries/B-7"));
    }
}
