package org.eligo.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;

import org.eligo.support.NativeReflection;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;
import org.junit.jupiter.api.Test;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Keeps the service ready for a native image, which cannot be built where these tests run (no
 * GraalVM): what a native build needs registered is registered, and nothing that must be created
 * at run time is created in a static initialiser (a native image runs those at build time and would
 * freeze, say, a random generator's seed into the executable).
 */
class NativeReadinessTest {

    private static final Pattern RANDOMNESS = Pattern.compile(
            "new\\s+(Secure)?Random\\s*\\(|SplittableRandom|ThreadLocalRandom|UlidFactory\\.|UlidCreator\\.|Ulid\\.fast|UUID\\.randomUUID|KeyGenerator\\.");
    private static final Pattern STATIC_FIELD = Pattern.compile("\\bstatic\\b[^;{(]*=([^;]*);", Pattern.DOTALL);
    private static final Pattern STATIC_BLOCK = Pattern.compile("\\bstatic\\s*\\{");

    /** The gate reads every resource class's methods and annotations: each must be registered for a native image. */
    @Test
    void everyResourceClassIsRegisteredForTheGate() {
        Set<String> resources = new TreeSet<>();
        for (Class<?> type : ConfigProperties.eligoClasses()) {
            if (type.isAnnotationPresent(jakarta.ws.rs.Path.class)) {
                resources.add(type.getName());
            }
        }
        assertFalse(resources.isEmpty(), "no resource classes found");
        Set<String> registered = new TreeSet<>();
        Arrays.stream(org.eligo.auth.Endpoints.NativeResources.class.getAnnotation(RegisterForReflection.class).targets())
                .forEach(t -> registered.add(t.getName()));
        assertEquals(resources, registered, "resource classes vs. Endpoints.NativeResources");
    }

    /** Every type reachable from what a resource or exception mapper returns must be in {@link NativeReflection}, and only those. */
    @Test
    void everyTypeJacksonWritesIsRegisteredForReflection() {
        Set<String> written = new TreeSet<>();
        for (Class<?> type : ConfigProperties.eligoClasses()) {
            for (Method method : type.getDeclaredMethods()) {
                boolean endpoint = Stream.of(GET.class, POST.class, PUT.class, DELETE.class, PATCH.class).anyMatch(method::isAnnotationPresent);
                if (endpoint || method.isAnnotationPresent(ServerExceptionMapper.class)) {
                    reach(method.getGenericReturnType(), written, type.getName() + "." + method.getName());
                }
            }
        }
        assertFalse(written.isEmpty(), "no resource methods found");
        Set<String> registered = new TreeSet<>();
        Arrays.stream(NativeReflection.class.getAnnotation(RegisterForReflection.class).targets()).forEach(t -> registered.add(t.getName()));
        Set<String> missing = new TreeSet<>(written);
        missing.removeAll(registered);
        Set<String> extra = new TreeSet<>(registered);
        extra.removeAll(written);
        assertEquals(Set.of(), missing, "written as JSON but not registered for reflection in NativeReflection");
        assertEquals(Set.of(), extra, "registered in NativeReflection but no resource writes them any more");
    }

    private static void reach(Type type, Set<String> found, String from) {
        if (type instanceof ParameterizedType parameterized) {
            reach(parameterized.getRawType(), found, from);
            for (Type argument : parameterized.getActualTypeArguments()) {
                reach(argument, found, from);
            }
        } else if (type instanceof GenericArrayType array) {
            reach(array.getGenericComponentType(), found, from);
        } else if (type instanceof WildcardType wildcard) {
            for (Type bound : wildcard.getUpperBounds()) {
                reach(bound, found, from);
            }
        } else if (type instanceof Class<?> raw) {
            if (raw.isArray()) {
                reach(raw.getComponentType(), found, from);
                return;
            }
            if (raw.getName().equals("jakarta.ws.rs.core.Response")) {
                throw new AssertionError(from + " returns a raw Response: return RestResponse<T>, so the type written is known");
            }
            if (!raw.getName().startsWith("org.eligo.") || !found.add(raw.getName())) {
                return;
            }
            if (raw.isRecord()) {
                for (RecordComponent component : raw.getRecordComponents()) {
                    reach(component.getGenericType(), found, raw.getName());
                }
            } else if (!raw.isEnum()) {
                for (Method getter : raw.getMethods()) {
                    if (getter.getDeclaringClass() != Object.class && getter.getParameterCount() == 0 && !Modifier.isStatic(getter.getModifiers())
                            && (getter.getName().startsWith("get") || getter.getName().startsWith("is"))) {
                        reach(getter.getGenericReturnType(), found, raw.getName());
                    }
                }
            }
        }
    }

    @Test
    void noStaticFieldHoldsARandomGeneratorOrIdFactory() {
        List<String> problems = new ArrayList<>();
        for (Class<?> type : ConfigProperties.eligoClasses()) {
            for (Field field : type.getDeclaredFields()) {
                if (Modifier.isStatic(field.getModifiers()) && (Random.class.isAssignableFrom(field.getType())
                        || SecureRandom.class.isAssignableFrom(field.getType()) || field.getType().getName().startsWith("com.github.f4b6a3.ulid."))) {
                    problems.add(type.getName() + "." + field.getName() + " (" + field.getType().getSimpleName() + ")");
                }
            }
        }
        assertEquals(List.of(), problems, "static random generators or ULID factories: create them in a bean, at run time");
    }

    @Test
    void noStaticInitialiserUsesRandomness() throws IOException {
        List<String> problems = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                String source = Files.readString(file).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
                Matcher field = STATIC_FIELD.matcher(source);
                while (field.find()) {
                    if (RANDOMNESS.matcher(field.group(1)).find()) {
                        problems.add(file + ": a static field is initialised with " + field.group(1).trim());
                    }
                }
                Matcher block = STATIC_BLOCK.matcher(source);
                while (block.find()) {
                    String body = source.substring(block.end(), closingBrace(source, block.end()));
                    if (RANDOMNESS.matcher(body).find()) {
                        problems.add(file + ": a static block uses randomness");
                    }
                }
            }
        }
        assertEquals(List.of(), problems);
    }

    private static int closingBrace(String source, int from) {
        int depth = 1;
        for (int i = from; i < source.length(); i++) {
            char c = source.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return i;
            }
        }
        return source.length();
    }

    /** The native image carries only the classpath resources it is told about: every migration must be among them. */
    @Test
    void everyClasspathResourceTheServiceReadsIsListedForTheNativeImage() throws IOException {
        Properties properties = new Properties();
        try (var reader = Files.newBufferedReader(ConfigProperties.APPLICATION_PROPERTIES)) {
            properties.load(reader);
        }
        String includes = Optional.ofNullable(properties.getProperty("quarkus.native.resources.includes")).orElse("");
        List<PathMatcher> globs = Arrays.stream(includes.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .map(glob -> FileSystems.getDefault().getPathMatcher("glob:" + glob)).toList();
        Path resources = Path.of("src/main/resources");
        List<String> unlisted = new ArrayList<>();
        try (Stream<Path> files = Files.walk(resources.resolve("db/migration"))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Path relative = resources.relativize(file);
                if (globs.stream().noneMatch(g -> g.matches(relative))) {
                    unlisted.add(relative.toString());
                }
            }
        }
        assertEquals(List.of(), unlisted, "classpath resources missing from quarkus.native.resources.includes");
        // Rulesets are files, not resources: every image copies rules/ (ManifestsTest.dockerfilesSetOnlyRealProperties).
        assertTrue(Files.isDirectory(Path.of("rules")));
    }
}
