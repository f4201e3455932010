package org.eligo.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

/**
 * The configuration properties the service reads, and the environment variable each answers to
 * (SmallRye Config: upper case, every other character an underscore), gathered from where they are
 * defined rather than from a list kept by hand:
 * <ul>
 * <li>Quarkus and its extensions: the configuration model every extension jar carries
 * ({@code META-INF/quarkus-config-doc/quarkus-config-model.json}), with its phase: a property fixed
 * at build time does nothing when set in a pod;</li>
 * <li>Eligo: the {@code @ConfigMapping} interfaces and {@code @ConfigProperty} injection points under
 * {@code org.eligo}, and the keys of {@code application.properties};</li>
 * <li>{@link #PENDING}, a short explicit list.</li>
 * </ul>
 * Named entries of maps (the {@code migrations} datasource, log categories) are known by the names
 * {@code application.properties} gives them.
 */
final class ConfigProperties {

    /**
     * Properties real code reads that the scan cannot see: the MicroProfile JWT settings are read
     * by smallrye-jwt itself, outside Quarkus's configuration model. Keep this list to what cannot
     * be found another way (a {@code @ConfigMapping}, a {@code @ConfigProperty},
     * application.properties or an extension's model).
     */
    static final Set<String> PENDING = Set.of("mp.jwt.verify.publickey.location", "mp.jwt.verify.issuer");

    static final Path APPLICATION_PROPERTIES = Path.of("src/main/resources/application.properties");
    private static final String MODEL = "META-INF/quarkus-config-doc/quarkus-config-model.json";
    private static final Pattern QUOTED = Pattern.compile("\"[^\"]*\"");

    /** A known property: its name, when it can be set ("RUN_TIME", "BUILD_AND_RUN_TIME_FIXED", ...) and where it was found. */
    record Known(String property, String phase, String source) {
    }

    private final Map<String, Known> byEnvironmentVariable = new TreeMap<>();
    private final Map<String, String> applicationProperties = new LinkedHashMap<>();
    private final Map<String, String> defaults = new LinkedHashMap<>();

    ConfigProperties() {
        loadApplicationProperties();
        loadQuarkusModels();
        loadEligoClasses();
        for (String key : applicationProperties.keySet()) {
            add(withoutProfile(key), "RUN_TIME", "application.properties", false);
        }
        PENDING.forEach(p -> add(p, "RUN_TIME", "ConfigProperties.PENDING", false));
    }

    /** The environment variable SmallRye Config maps to a property name. */
    static String environmentVariable(String property) {
        StringBuilder name = new StringBuilder();
        for (char c : property.toCharArray()) {
            name.append(Character.isLetterOrDigit(c) ? Character.toUpperCase(c) : '_');
        }
        return name.toString();
    }

    Optional<Known> forEnvironmentVariable(String name) {
        return Optional.ofNullable(byEnvironmentVariable.get(name));
    }

    boolean isKnownProperty(String property) {
        return byEnvironmentVariable.containsKey(environmentVariable(property));
    }

    /**
     * The value a pod gets for a property: its environment variable, else application.properties (the
     * prod profile first), else the default a {@code @ConfigMapping} declares; null when none.
     */
    String effective(String property, Map<String, String> environment) {
        String fromEnvironment = environment.get(environmentVariable(property));
        if (fromEnvironment != null) {
            return fromEnvironment;
        }
        String fromFile = applicationProperties.getOrDefault("%prod." + property, applicationProperties.get(property));
        return fromFile != null ? fromFile : defaults.get(property);
    }

    /** A duration as Quarkus reads one: ISO-8601 (PT20S), or a number with ms, s, m, h or d (no unit: seconds). */
    static Duration duration(String value) {
        if (value == null || value.isBlank()) {
            return Duration.ZERO;
        }
        String text = value.trim();
        if (text.startsWith("P") || text.startsWith("p")) {
            return Duration.parse(text.toUpperCase(Locale.ROOT));
        }
        Matcher m = Pattern.compile("(\\d+)(ms|s|m|h|d)?").matcher(text);
        if (!m.matches()) {
            throw new AssertionError("not a duration: " + value);
        }
        long amount = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }

    private void add(String property, String phase, String source, boolean replace) {
        String variable = environmentVariable(property);
        if (replace || !byEnvironmentVariable.containsKey(variable)) {
            byEnvironmentVariable.put(variable, new Known(property, phase, source));
        }
    }

    private static String withoutProfile(String key) {
        return key.startsWith("%") ? key.substring(key.indexOf('.') + 1) : key;
    }

    private void loadApplicationProperties() {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(APPLICATION_PROPERTIES)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        new TreeMap<>(properties).forEach((k, v) -> applicationProperties.put((String) k, (String) v));
    }

    /** Every property in the extension models; map placeholders filled with the names application.properties uses. */
    private void loadQuarkusModels() {
        ObjectMapper json = new ObjectMapper();
        List<String[]> patterns = new ArrayList<>();
        try {
            Enumeration<URL> models = getClass().getClassLoader().getResources(MODEL);
            for (URL url : Collections.list(models)) {
                try (InputStream in = url.openStream()) {
                    collect(json.readTree(in), url.toString(), patterns);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (byEnvironmentVariable.size() < 100) {
            throw new AssertionError("found only " + byEnvironmentVariable.size() + " Quarkus properties: are the extension jars on the class path?");
        }
        List<String> keys = applicationProperties.keySet().stream().map(ConfigProperties::withoutProfile).toList();
        for (String[] pattern : patterns) {
            for (String key : keys) {
                String bound = bind(pattern[0], key);
                if (bound != null) {
                    // Every property under the same map entry is known too (quarkus.datasource.migrations.*).
                    String prefixPattern = pattern[0].substring(0, placeholderEnd(pattern[0]));
                    String prefixKey = bound;
                    for (String[] other : patterns) {
                        if (other[0].startsWith(prefixPattern)) {
                            add(prefixKey + other[0].substring(prefixPattern.length()), other[1], other[2], false);
                        }
                    }
                }
            }
        }
    }

    private void collect(JsonNode node, String source, List<String[]> patterns) {
        if (node.isObject()) {
            JsonNode path = node.get("path");
            if (node.path("@class").asText().endsWith(".ConfigProperty") && path != null && path.isObject()) {
                String phase = node.path("phase").asText();
                List<String> names = new ArrayList<>();
                names.add(path.path("property").asText());
                node.path("additionalPaths").forEach(p -> names.add(p.path("property").asText()));
                for (String name : names) {
                    if (QUOTED.matcher(name).find()) {
                        patterns.add(new String[] {name, phase, source});
                    } else {
                        add(name, phase, source, false);
                    }
                }
            }
            node.elements().forEachRemaining(child -> collect(child, source, patterns));
        } else if (node.isArray()) {
            node.elements().forEachRemaining(child -> collect(child, source, patterns));
        }
    }

    /** Where the first placeholder of a model property ends. */
    private static int placeholderEnd(String pattern) {
        Matcher m = QUOTED.matcher(pattern);
        m.find();
        return m.end();
    }

    /**
     * If {@code key} is {@code pattern} with its first placeholder filled, the key up to the end of that
     * filled placeholder (e.g. {@code quarkus.datasource.migrations}); else null.
     */
    private static String bind(String pattern, String key) {
        Matcher m = QUOTED.matcher(pattern);
        m.find();
        String before = pattern.substring(0, m.start());
        String after = pattern.substring(m.end());
        if (QUOTED.matcher(after).find() || !key.startsWith(before) || !key.endsWith(after) || key.length() <= before.length() + after.length()) {
            return null;
        }
        String name = key.substring(before.length(), key.length() - after.length());
        boolean oneSegment = name.startsWith("\"") ? name.endsWith("\"") && name.indexOf('"', 1) == name.length() - 1 : !name.contains(".");
        return oneSegment ? before + name : null;
    }

    /** The {@code @ConfigMapping} interfaces and {@code @ConfigProperty} injection points of the service. */
    private void loadEligoClasses() {
        for (Class<?> type : eligoClasses()) {
            ConfigMapping mapping = type.getAnnotation(ConfigMapping.class);
            if (mapping != null) {
                for (Method method : type.getDeclaredMethods()) {
                    if (Modifier.isStatic(method.getModifiers()) || method.isDefault() || method.getParameterCount() > 0) {
                        continue;
                    }
                    WithName withName = method.getAnnotation(WithName.class);
                    String property = mapping.prefix() + "." + (withName != null ? withName.value() : kebab(method.getName()));
                    add(property, "RUN_TIME", type.getName(), true);
                    WithDefault withDefault = method.getAnnotation(WithDefault.class);
                    if (withDefault != null) {
                        defaults.put(property, withDefault.value());
                    }
                }
            }
            for (Field field : type.getDeclaredFields()) {
                injected(field.getAnnotation(ConfigProperty.class), type);
            }
            for (var constructor : type.getDeclaredConstructors()) {
                for (Parameter parameter : constructor.getParameters()) {
                    injected(parameter.getAnnotation(ConfigProperty.class), type);
                }
            }
        }
    }

    private void injected(ConfigProperty annotation, Class<?> type) {
        if (annotation != null) {
            add(annotation.name(), "RUN_TIME", type.getName(), false);
        }
    }

    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }

    /** Every main class under org.eligo (from target/classes), loaded without initialising it. */
    static List<Class<?>> eligoClasses() {
        URL root = ConfigProperties.class.getClassLoader().getResource("org/eligo/support/Db.class");
        if (root == null || !root.getProtocol().equals("file")) {
            throw new AssertionError("the service's classes are not a directory on the class path: " + root);
        }
        Path classes;
        try {
            classes = Path.of(root.toURI()).getParent().getParent().getParent().getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        List<Class<?>> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(classes.resolve("org/eligo"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).sorted().toList()) {
                String name = classes.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
                found.add(Class.forName(name, false, ConfigProperties.class.getClassLoader()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
        return found;
    }
}
