package org.eligo.console;

import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import org.eligo.testing.Api;
import org.eligo.testing.Axe;
import org.eligo.testing.Browser;
import org.eligo.testing.Sql;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import com.github.tomakehurst.wiremock.WireMockServer;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.oidc.server.OidcWireMock;
import io.smallrye.jwt.build.Jwt;

/**
 * Signing in to the console with an OpenID Connect provider, in Chromium: the console sends the
 * person to the provider, its login page sends them back with a code, quarkus-oidc exchanges it for
 * an ID token (checked against the provider's keys), and the console session takes the subject,
 * roles ({@code groups}) and sources from its claims, as the API takes them from a bearer token.
 */
@QuarkusTest
@TestProfile(ConsoleOidcProfile.class)
class ConsoleOidcTest {

    @OidcWireMock
    WireMockServer provider;

    @TestHTTPResource("/")
    URL root;

    /** The provider's answer to the code: an ID token for a caseworker, signed with its key. */
    private void providerSignsInACaseworker(String name) {
        long now = System.currentTimeMillis() / 1000;
        String idToken = Jwt.claims().issuer("https://server.example.com").audience(ConsoleOidcProfile.CLIENT).subject("u-123")
                .preferredUserName(name).groups(Set.of("caseworker")).issuedAt(now).expiresAt(now + 300)
                .jws().keyId("1").sign("privateKey.jwk");
        provider.stubFor(post("/auth/realms/quarkus/token").atPriority(1).withRequestBody(containing("authorization_code"))
                .willReturn(okJson("{\"access_token\": \"" + idToken + "\", \"id_token\": \"" + idToken
                        + "\", \"token_type\": \"Bearer\", \"expires_in\": 300}")));
    }

    @Test
    void aCaseworkerSignsInWithTheIdentityProviderAndTheirPageViewsAreRecordedUnderTheirName() {
        providerSignsInACaseworker("Olive Officer");
        given().redirects().follow(false).get("/console/sign-in").then().statusCode(200)
                .body(org.hamcrest.Matchers.containsString("id=\"oidc-sign-in\""))
                .body(org.hamcrest.Matchers.not(org.hamcrest.Matchers.containsString("Development sign-in")));

        String beneficiary = Api.unique("B");
        ChromeDriver browser = Browser.start();
        try {
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            browser.get(root + "console/beneficiaries/" + beneficiary);
            wait.until(ExpectedConditions.elementToBeClickable(By.id("oidc-sign-in")));
            List<String> violations = Axe.seriousViolations(browser);
            assertTrue(violations.isEmpty(), String.join("\n", violations));
            browser.findElement(By.id("oidc-sign-in")).click();
            // The provider's login page (on its own port), then back.
            wait.until(ExpectedConditions.elementToBeClickable(By.id("login"))).click();
            wait.until(ExpectedConditions.urlContains("/console/beneficiaries/" + beneficiary));
            assertTrue(browser.getPageSource().contains("Signed in as <strong>Olive Officer</strong>"), browser.getPageSource());
            assertTrue(browser.manage().getCookieNamed("eligo_session").isHttpOnly());
            assertTrue(!browser.getCurrentUrl().contains("code=") && !browser.getCurrentUrl().contains("token"), browser.getCurrentUrl());
        } finally {
            browser.quit();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> Sql.count(
                "SELECT count(*) FROM access_log WHERE subject = 'Olive Officer' AND roles = ARRAY['caseworker'] AND path = ? AND status = 200",
                "/console/beneficiaries/" + beneficiary) == 1);
    }

    @Test
    void withoutAnIdentityProviderSessionTheSignInPathSendsThePersonToTheProvider() {
        given().redirects().follow(false).get("/console/oidc").then().statusCode(302)
                .header("Location", org.hamcrest.Matchers.containsString("/auth/realms/quarkus"));
    }
}
