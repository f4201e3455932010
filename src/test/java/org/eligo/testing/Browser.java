package org.eligo.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * A real browser for page tests: Debian's headless Chromium, driven through its own chromedriver
 * (packages {@code chromium} and {@code chromium-driver}; .ci/run installs them). Nothing is
 * downloaded: the binaries are named, so Selenium Manager is never asked for a browser or driver.
 *
 * <p>Without them, browser tests are skipped on a developer's machine (so the README's test command
 * works on a fresh one) and fail in CI ({@code CI=true}), where a skipped page test would hide a
 * broken page.
 */
public final class Browser {

    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private Browser() {
    }

    public static ChromeDriver start() {
        return start(null);
    }

    /** A browser that saves downloads in {@code downloads} without asking (null: the default). */
    public static ChromeDriver start(Path downloads) {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!installed && "true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail("Browser tests need Debian's chromium and chromium-driver: apt-get install chromium chromium-driver");
        }
        Assumptions.assumeTrue(installed, "chromium and chromium-driver are not installed: browser test skipped");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // The flags a root, network-less machine needs: no sandbox as root, no GPU, and none of the
        // background connections the closed network would refuse.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000");
        if (downloads != null) {
            options.setExperimentalOption("prefs", java.util.Map.of("download.default_directory", downloads.toAbsolutePath().toString(),
                    "download.prompt_for_download", false));
        }
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        return driver;
    }
}
