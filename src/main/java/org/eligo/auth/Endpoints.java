package org.eligo.auth;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.spi.Bean;
import jakarta.enterprise.inject.spi.BeanManager;
import jakarta.ws.rs.HttpMethod;
import jakarta.ws.rs.Path;

import org.jboss.logging.Logger;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Every {@code /v1} endpoint as method + path template and the roles its {@link Allowed} names,
 * read once at start from the resource classes themselves, so that {@link Gate} can refuse a
 * request (401, 403, 404, 405) before any of its body is read, without the REST layer. The REST
 * layer still checks {@link Allowed} against the method it actually dispatched to
 * ({@link AccessFilters}), so a template read differently here can refuse wrongly but never admit
 * wrongly.
 */
@ApplicationScoped
public class Endpoints {

    private static final Logger LOG = Logger.getLogger(Endpoints.class);
    private static final Pattern PARAMETER = Pattern.compile("\\{[^}]*}");

    /** One resource method: {@code allowed} is empty when it declares no {@link Allowed} (closed to everyone). */
    public record Endpoint(String method, String template, Set<Role> allowed, Pattern path, List<String> parameters) {

        /** The value (still percent-encoded) of path parameter {@code name} in {@code path}, or null. */
        String parameter(String path, String name) {
            int index = parameters.indexOf(name);
            Matcher matcher = this.path.matcher(path);
            return index < 0 || !matcher.matches() ? null : matcher.group(index + 1);
        }

        boolean allows(Set<Role> roles) {
            return allowed.stream().anyMatch(roles::contains);
        }

        String describeAllowed() {
            return describe(allowed);
        }
    }

    /**
     * The roles a resource method's {@link Allowed} names (on the method, else on its class); empty
     * when it has none, which closes it to everyone. Read here for the gate and by
     * {@link AccessFilters} for the method dispatched to, so both read it the same way.
     */
    static Set<Role> allowedRoles(Method method, Class<?> type) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        if (method == null) {
            return roles;
        }
        Allowed allowed = method.getAnnotation(Allowed.class) != null ? method.getAnnotation(Allowed.class) : type.getAnnotation(Allowed.class);
        if (allowed != null) {
            roles.addAll(List.of(allowed.value()));
        }
        return roles;
    }

    /** Roles as a 403 names them: "caseworker or analyst"; none as "a role no one has". */
    static String describe(Set<Role> roles) {
        return roles.isEmpty() ? "a role no one has" : String.join(" or ", roles.stream().map(Role::claim).toList());
    }

    /** What a request's method and path find: the endpoint, or the methods its path allows (none: unknown path). */
    public record Match(Endpoint endpoint, Set<String> methods) {

        static final Match NONE = new Match(null, Set.of());
    }

    private final List<Endpoint> endpoints;

    public Endpoints(BeanManager beans) {
        List<Endpoint> found = new ArrayList<>();
        for (Bean<?> bean : beans.getBeans(Object.class, Any.Literal.INSTANCE)) {
            Class<?> type = bean.getBeanClass();
            Path root = type.getAnnotation(Path.class);
            if (root != null) {
                read(type, root.value(), found);
            }
        }
        found.sort(Comparator.comparing(Endpoint::template).thenComparing(Endpoint::method));
        this.endpoints = List.copyOf(found);
        LOG.debugf("%d endpoints: %s", endpoints.size(), endpoints.stream().map(e -> e.method() + " " + e.template()).toList());
    }

    private static void read(Class<?> type, String root, List<Endpoint> found) {
        for (Method method : type.getMethods()) {
            String httpMethod = httpMethod(method);
            if (httpMethod == null || Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            Path sub = method.getAnnotation(Path.class);
            String template = join(root, sub == null ? "" : sub.value());
            if (!template.startsWith("/v1/")) {
                continue;
            }
            Set<Role> roles = allowedRoles(method, type);
            List<String> parameters = new ArrayList<>();
            Matcher names = PARAMETER.matcher(template);
            while (names.find()) {
                parameters.add(names.group().replaceAll("[{}\\s]|:.*", ""));
            }
            found.add(new Endpoint(httpMethod, template, roles, pattern(template), List.copyOf(parameters)));
        }
    }

    private static String httpMethod(Method method) {
        for (var annotation : method.getAnnotations()) {
            HttpMethod http = annotation.annotationType().getAnnotation(HttpMethod.class);
            if (http != null) {
                return http.value();
            }
        }
        return null;
    }

    private static String join(String root, String sub) {
        String path = "/" + root.replaceAll("^/+|/+$", "") + (sub.isEmpty() ? "" : "/" + sub.replaceAll("^/+|/+$", ""));
        return path.replaceAll("/+", "/");
    }

    /** A template as a pattern over the request path: each parameter one non-empty segment; a trailing slash is allowed. */
    private static Pattern pattern(String template) {
        StringBuilder regex = new StringBuilder();
        Matcher parameters = PARAMETER.matcher(template);
        int at = 0;
        while (parameters.find()) {
            regex.append(Pattern.quote(template.substring(at, parameters.start()))).append("([^/]+)");
            at = parameters.end();
        }
        regex.append(Pattern.quote(template.substring(at))).append("/?");
        return Pattern.compile(regex.toString());
    }

    /** The endpoint {@code method} and {@code path} (normalized, still percent-encoded) ask for. HEAD asks for GET's. */
    public Match match(String method, String path) {
        String wanted = "HEAD".equals(method) ? "GET" : method;
        Set<String> methods = new TreeSet<>();
        Endpoint exact = null;
        for (Endpoint endpoint : endpoints) {
            if (endpoint.path().matcher(path).matches()) {
                methods.add(endpoint.method());
                // A literal segment beats a parameter (JAX-RS): prefer the template with the fewest parameters.
                if (endpoint.method().equals(wanted) && (exact == null || parameters(endpoint) < parameters(exact))) {
                    exact = endpoint;
                }
            }
        }
        return new Match(exact, methods);
    }

    private static long parameters(Endpoint endpoint) {
        return endpoint.template().chars().filter(c -> c == '{').count();
    }

    /**
     * The resource classes, whose methods and annotations are read above: registered so that a
     * native image keeps them readable. {@code NativeReadinessTest} fails when a resource class is
     * missing here.
     */
    @RegisterForReflection(methods = true, fields = false, targets = {
            org.eligo.ledger.rest.IntegrityResource.class, org.eligo.auth.rest.AccessLogResource.class,
            org.eligo.determinations.rest.DeterminationResource.class, org.eligo.facts.rest.FactResource.class,
            org.eligo.facts.rest.FactTypeResource.class,
            org.eligo.imports.rest.ImportResource.class, org.eligo.imports.rest.ImportReportResource.class,
            org.eligo.ingest.rest.MessageResource.class, org.eligo.ingest.rest.FailedMessagesResource.class, org.eligo.ingest.rest.BeneficiaryMessageResource.class, org.eligo.ledger.rest.PublicKeyResource.class, org.eligo.ledger.rest.ReceiptResource.class,
            org.eligo.ledger.rest.VerificationResource.class, org.eligo.replays.rest.ReplayResource.class,
            org.eligo.reruns.rest.RerunResource.class, org.eligo.rules.rest.RulesetResource.class,
            org.eligo.stats.StatsResource.class, org.eligo.reports.rest.ReportResource.class, org.eligo.console.ConsoleResource.class, org.eligo.console.AnalystResource.class,
    })
    public static final class NativeResources {

        private NativeResources() {
        }
    }

    /** All endpoints, as "METHOD template". */
    public List<String> describe() {
        return endpoints.stream().map(e -> e.method() + " " + e.template()).toList();
    }
}
