package org.eligo.operations;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.eligo.auth.AuthEnabledProfile;
import org.eligo.testing.Browser;
import org.eligo.testing.Tokens;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;

/**
 * The browser path an integrator takes: Swagger UI ({@code /q/swagger-ui/}; {@code /} leads to the
 * console), "Authorize" takes a token, and "Try it out" then sends it, in a real browser, with
 * authentication on.
 */
@QuarkusTest
@TestProfile(AuthEnabledProfile.class)
class SwaggerUiTest {

    @TestHTTPResource("/")
    URL root;

    @Test
    void everyV1OperationRequiresTheBearerSchemeTheDocumentDeclares() {
        JsonPath document = given().queryParam("format", "json").get("/q/openapi").then().statusCode(200).extract().jsonPath();
        assertEquals("bearer", document.getString("components.securitySchemes.bearer.scheme"));
        Map<String, Map<String, Map<String, Object>>> paths = document.getMap("paths");
        int operations = 0;
        for (Map.Entry<String, Map<String, Map<String, Object>>> path : paths.entrySet()) {
            assertTrue(path.getKey().startsWith("/v1/"), "only the API is documented: " + path.getKey());
            for (Map.Entry<String, Map<String, Object>> operation : path.getValue().entrySet()) {
                assertEquals(List.of(Map.of("bearer", List.of())), operation.getValue().get("security"),
                        operation.getKey() + " " + path.getKey() + " must require the bearer token");
                operations++;
            }
        }
        assertTrue(operations > 20, "the whole API is documented: " + operations);
    }

    @Test
    void theRootLeadsToTheConsole() {
        given().redirects().follow(false).get("/").then().statusCode(303).header("Location", equalTo("/console/"));
    }

    @Test
    void tryItOutSendsTheTokenGivenToAuthorize() {
        ChromeDriver browser = Browser.start();
        try {
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            browser.get(root.toString() + "q/swagger-ui/");
            assertTrue(browser.getCurrentUrl().contains("/q/swagger-ui"), "landed on " + browser.getCurrentUrl());

            wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector("button.authorize"))).click();
            WebElement tokenField = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(".modal-ux input")));
            tokenField.sendKeys(Tokens.caseworker());
            browser.findElement(By.cssSelector(".modal-ux .auth-btn-wrapper button.authorize")).click();
            wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector(".modal-ux button.btn-done"))).click();

            WebElement operation = wait.until(ExpectedConditions.presenceOfElementLocated(
                    By.xpath("//div[contains(@class,'opblock-get')][.//*[@data-path='/v1/rulesets']]")));
            operation.findElement(By.cssSelector(".opblock-summary-control")).click();
            wait.until(driver -> !operation.findElements(By.cssSelector("button.try-out__btn")).isEmpty());
            operation.findElement(By.cssSelector("button.try-out__btn")).click();
            wait.until(ExpectedConditions.elementToBeClickable(operation.findElement(By.cssSelector("button.execute")))).click();

            WebElement status = wait.until(driver -> {
                List<WebElement> found = operation.findElements(By.cssSelector(".live-responses-table .response .response-col_status"));
                return found.isEmpty() || found.get(0).getText().isBlank() ? null : found.get(0);
            });
            String curl = operation.findElement(By.cssSelector(".curl-command")).getText();
            assertTrue(curl.contains("Authorization: Bearer "), "the request carried the token: " + curl);
            assertEquals("200", status.getText().trim(), "Try it out answered " + status.getText() + "; request: " + curl);
        } finally {
            quit(browser);
        }
    }

    private static void quit(WebDriver browser) {
        browser.quit();
    }
}
