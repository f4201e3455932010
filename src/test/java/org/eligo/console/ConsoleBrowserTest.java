package org.eligo.console;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.eligo.testing.Api;
import org.eligo.testing.Axe;
import org.eligo.testing.Browser;
import org.eligo.testing.Tokens;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;

/**
 * A caseworker's path through the console in headless Chromium, with authentication on: sign in
 * (development sign-in), find a beneficiary, read their status, open a determination, follow a fact
 * to its message, download the receipt. Every page passes axe-core's WCAG 2 A/AA rules with no
 * serious or critical violation, and fits a 375 px wide screen; each page's screenshot is written to
 * {@code target/console-screenshots/} (the ones in {@code docs/console/} are copies).
 */
@QuarkusTest
@TestProfile(ConsoleProfile.class)
class ConsoleBrowserTest {

    static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

    @TestHTTPResource("/")
    URL root;

    @jakarta.inject.Inject
    org.eligo.ledger.Sealer sealer;

    private static ChromeDriver browser;
    private static Path downloads;

    @BeforeAll
    static void open() throws IOException {
        downloads = Files.createTempDirectory("console-downloads");
        browser = Browser.start(downloads);
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void close() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void aCaseworkerFindsABeneficiaryReadsADeterminationAndFollowsAFactToItsMessage() throws IOException {
        String source = Api.unique("county"), beneficiary = Api.unique("B");
        String agency = Tokens.agency(source);
        List<String> ids = new ArrayList<>();
        for (Map<String, Object> message : List.of(Api.birthdate(source, "person-1", beneficiary, "1990-04-02"),
                Api.income(source, "payroll-2027-05", beneficiary, 2027, 5, 48_000, 62),
                Api.income(source, "payroll-2027-06", beneficiary, 2027, 6, 61_250, 85))) {
            ids.add(given().auth().oauth2(agency).contentType(ContentType.JSON).body(message).post("/v1/messages").then().statusCode(202)
                    .extract().path("id"));
        }
        ids.forEach(id -> Api.awaitStatus(id, "PROCESSED", agency));
        String determination = given().auth().oauth2(Tokens.caseworker()).contentType(ContentType.JSON).body(Map.of("period", "2027-07"))
                .post("/v1/beneficiaries/" + beneficiary + "/determinations").then().statusCode(201).extract().path("id");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
            sealer.seal();
            return given().auth().oauth2(Tokens.caseworker()).get("/v1/determinations/" + determination + "/receipt").statusCode() == 200;
        });

        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        browser.manage().window().setSize(new Dimension(1280, 1000));
        browser.get(root.toString());
        wait.until(ExpectedConditions.urlContains("/console/sign-in"));
        check("sign-in");
        browser.findElement(By.cssSelector("input[name=role][value=caseworker]")).click();
        browser.findElement(By.id("name")).sendKeys("Casey Worker");
        browser.findElement(By.id("sign-in")).click();

        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("beneficiary_id")));
        check("home");
        browser.findElement(By.id("beneficiary_id")).sendKeys(beneficiary);
        browser.findElement(By.cssSelector("form.search button")).click();

        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("status")));
        String status = browser.findElement(By.id("status")).getText();
        assertTrue(status.contains("Meets the requirement") && status.contains("for 2027-07"), status);
        check("beneficiary");

        browser.findElement(By.cssSelector("a[href='/console/determinations/" + determination + "']")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("result")));
        assertTrue(browser.findElement(By.id("result")).getText().contains("Meets the requirement"));
        assertTrue(browser.getPageSource().contains("42 CFR 435.552(a)"), "the parameters' citations");
        check("determination");
        printable();

        browser.findElement(By.id("receipt")).click();
        Path receipt = downloads.resolve("receipt-" + determination + ".json");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(receipt) && Files.size(receipt) > 0);
        assertTrue(Files.readString(receipt).contains("\"block\""), "the receipt as the API gives it");

        String factMessage = browser.findElement(By.cssSelector("a.message-link")).getAttribute("href");
        browser.findElement(By.cssSelector("a.message-link")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("message-id")));
        assertEquals(factMessage.substring(factMessage.lastIndexOf('/') + 1), browser.findElement(By.id("message-id")).getText());
        assertTrue(browser.getPageSource().contains(source), "the message's source");
        check("message");
    }

    @Test
    void anAnalystReadsThePopulationStartsAndCancelsARerunAndRetriesAFailedMessage() throws IOException {
        String source = Api.unique("county"), beneficiary = Api.unique("B");
        String agency = Tokens.agency(source);
        String message = given().auth().oauth2(agency).contentType(ContentType.JSON).body(Api.income(source, "payroll-2027-07", beneficiary, 2027, 7, 61_250, 85))
                .post("/v1/messages").then().statusCode(202).extract().path("id");
        Api.awaitStatus(message, "PROCESSED", agency);
        given().auth().oauth2(Tokens.caseworker()).contentType(ContentType.JSON).body(Map.of("period", "2027-07"))
                .post("/v1/beneficiaries/" + beneficiary + "/determinations").then().statusCode(201);
        // A message the parser refuses (only possible behind the API's back): it ends FAILED.
        String poison = "msg_" + com.github.f4b6a3.ulid.UlidCreator.getMonotonicUlid();
        org.eligo.testing.Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES (?, ?, 'p', 'income.monthly', ?, ?::jsonb)",
                poison, source, beneficiary, "{\"year\": 2027, \"month\": \"April\", \"amount_cents\": 1}");
        org.eligo.testing.TestLedger.adoptMessages(poison);
        Api.awaitStatus(poison, "FAILED", agency);

        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        browser.manage().deleteAllCookies();
        browser.manage().window().setSize(new Dimension(1280, 1000));
        browser.get(root.toString() + "console/population");
        wait.until(ExpectedConditions.urlContains("/console/sign-in"));
        browser.findElement(By.cssSelector("input[name=role][value=analyst]")).click();
        browser.findElement(By.id("name")).sendKeys("Ana Lyst");
        browser.findElement(By.id("sign-in")).click();

        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("outcomes")));
        assertTrue(browser.getCurrentUrl().endsWith("/console/population"), "back where the analyst was going: " + browser.getCurrentUrl());
        String passed = browser.findElement(By.cssSelector("#outcomes tbody tr:first-child")).getText();
        assertTrue(passed.startsWith("Passed"), passed);
        check("population");
        browser.findElement(By.id("population-csv")).click();
        Path csv = downloads.resolve("outcomes.csv");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(csv) && Files.size(csv) > 0);
        assertTrue(Files.readString(csv).startsWith("section,check,subcheck,result,count"), "the report's CSV");

        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("scope"))).selectByValue("all");
        browser.findElement(By.id("reason")).sendKeys("browser test");
        browser.findElement(By.cssSelector("#start-rerun button")).click();
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("progress")));
        assertEquals("QUEUED", browser.findElement(By.id("rerun-status")).getText());
        check("rerun");
        browser.findElement(By.id("cancel")).click();
        wait.until(ExpectedConditions.textToBe(By.id("rerun-status"), "CANCELLED"));
        assertTrue(browser.findElements(By.id("cancel")).isEmpty(), "nothing left to cancel");

        browser.get(root.toString() + "console/operations");
        wait.until(ExpectedConditions.presenceOfElementLocated(By.id("failed")));
        assertTrue(browser.findElement(By.id("failed")).getText().contains("/data/month"), "the failed message with its error");
        check("operations");
        browser.findElement(By.cssSelector("button[aria-label='Retry message " + poison + "']")).click();
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector("[role=status]"), "Message " + poison + " is queued again."));
    }

    /** axe-core, the 375 px layout, and a screenshot of the page the browser is on. */
    private void check(String page) throws IOException {
        List<String> violations = Axe.seriousViolations(browser);
        assertTrue(violations.isEmpty(), page + ": " + String.join("\n", violations));
        Path shot = browser.getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(shot, SCREENSHOTS.resolve(page + ".png"), StandardCopyOption.REPLACE_EXISTING);
        Dimension wide = browser.manage().window().getSize();
        browser.manage().window().setSize(new Dimension(375, 812));
        try {
            long width = (Long) browser.executeScript("return document.documentElement.scrollWidth;");
            long viewport = (Long) browser.executeScript("return document.documentElement.clientWidth;");
            Object widest = browser.executeScript("return Array.from(document.querySelectorAll('body *'))"
                    + ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth)"
                    + ".slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ');");
            assertTrue(width <= viewport, page + " is " + width + " px wide in a " + viewport + " px window: " + widest);
            List<String> narrow = Axe.seriousViolations(browser);
            assertTrue(narrow.isEmpty(), page + " at 375 px: " + String.join("\n", narrow));
            Files.copy(browser.getScreenshotAs(OutputType.FILE).toPath(), SCREENSHOTS.resolve(page + "-375.png"), StandardCopyOption.REPLACE_EXISTING);
        } finally {
            browser.manage().window().setSize(wide);
        }
    }

    /** The print stylesheet: on paper, no navigation or forms, the decision and its checks. */
    private void printable() {
        browser.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("media", "print"));
        try {
            assertEquals("none", browser.executeScript("return getComputedStyle(document.querySelector('header.bar')).display;"));
            assertTrue(!browser.findElement(By.id("receipt")).isDisplayed(), "no download button on paper");
            assertTrue(browser.findElement(By.id("checks-heading")).isDisplayed());
        } finally {
            browser.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("media", ""));
        }
    }
}
