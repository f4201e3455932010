package org.eligo.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.openqa.selenium.JavascriptExecutor;

/**
 * The axe-core accessibility checker (the WebJar on the test classpath) run in a page: the
 * violations whose impact is serious or critical, each as "rule: help (n nodes: selectors)".
 * Section 508 refers to WCAG 2.0 AA; the rules run are axe's WCAG 2 A and AA tags.
 */
public final class Axe {

    private static final String SCRIPT = "META-INF/resources/webjars/axe-core/4.6.3/axe.min.js";
    private static String source;

    private Axe() {
    }

    @SuppressWarnings("unchecked")
    public static List<String> seriousViolations(JavascriptExecutor browser) {
        browser.executeScript(script());
        Object result = browser.executeAsyncScript("const done = arguments[arguments.length - 1];"
                + "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
                + ".then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')"
                + ".map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ' nodes: ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ') + ')')))"
                + ".catch(e => done(['axe failed: ' + e]));");
        return (List<String>) result;
    }

    private static synchronized String script() {
        if (source == null) {
            try (InputStream in = Axe.class.getClassLoader().getResourceAsStream(SCRIPT)) {
                if (in == null) {
                    throw new IllegalStateException("axe-core is not on the test classpath: " + SCRIPT);
                }
                source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return source;
    }
}
