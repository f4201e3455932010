package org.eligo.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.Endpoint;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.Rule;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;

/**
 * Reads every manifest in {@code k8s/} as each overlay builds it (alone, and with each component it
 * does not use), parses every object with the fabric8 Kubernetes model (strictly: an unknown field,
 * a mistyped value or a field the model would drop fails), and checks what otherwise only a cluster
 * finds out: probe paths and ports, Service and selector wiring, that every environment variable
 * is a real configuration property, that images are the ones {@code src/main/docker} builds, the
 * security context, replicas against the autoscaler and disruption budget, a grace period longer
 * than the service's own shutdown, connections against the database, alerts on metrics that exist.
 * Plain JUnit: no Quarkus, no cluster, no kustomize binary ({@link Kustomize}).
 */
class ManifestsTest {

    static final Path K8S = Path.of("k8s");
    static final Path README = Path.of("README.md");
    private static final String HEALTH = "/q/health/";
    private static final String METRICS = "/q/metrics";
    private static final int SUPERUSER_RESERVED_CONNECTIONS = 3;
    /** Flyway retries its migration lock once a second, 50 times, before giving up a start. */
    private static final Duration FLYWAY_LOCK_WAIT = Duration.ofSeconds(50);

    private static final Map<String, Class<? extends HasMetadata>> TYPES = Map.ofEntries(
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("v1/Secret", Secret.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("v1/ServiceAccount", ServiceAccount.class),
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("apps/v1/StatefulSet", StatefulSet.class),
            Map.entry("batch/v1/Job", Job.class),
            Map.entry("autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class),
            Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
            Map.entry("networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class),
            Map.entry("monitoring.coreos.com/v1/ServiceMonitor", ServiceMonitor.class),
            Map.entry("monitoring.coreos.com/v1/PrometheusRule", PrometheusRule.class));

    /** The model, without its catch-all for unknown fields, and without turning numbers or booleans into strings. */
    static final ObjectMapper STRICT = strictMapper();
    private static final ObjectMapper PLAIN = new ObjectMapper();

    private static final ConfigProperties CONFIG = new ConfigProperties();
    private static final List<Dockerfiles.Image> IMAGES = Dockerfiles.all();
    private static List<Case> cases;

    /** One way of applying the manifests: an overlay, maybe with a component it does not include itself. */
    record Case(String name, Kustomize.Build build, List<HasMetadata> objects) {

        @Override
        public String toString() {
            return name;
        }

        <T extends HasMetadata> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        <T extends HasMetadata> Optional<T> named(Class<T> type, String name) {
            return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst();
        }

        List<Workload> workloads() {
            List<Workload> workloads = new ArrayList<>();
            all(Deployment.class).forEach(d -> workloads.add(new Workload(d, d.getSpec().getTemplate(), d.getSpec().getSelector())));
            all(StatefulSet.class).forEach(s -> workloads.add(new Workload(s, s.getSpec().getTemplate(), s.getSpec().getSelector())));
            all(Job.class).forEach(j -> workloads.add(new Workload(j, j.getSpec().getTemplate(), null)));
            return workloads;
        }
    }

    /** A Deployment, StatefulSet or Job, by its pod template. */
    record Workload(HasMetadata owner, PodTemplateSpec template, LabelSelector selector) {

        String describe() {
            return owner.getKind() + " " + owner.getMetadata().getName();
        }

        PodSpec pod() {
            return template.getSpec();
        }

        Map<String, String> labels() {
            return template.getMetadata() == null || template.getMetadata().getLabels() == null ? Map.of() : template.getMetadata().getLabels();
        }
    }

    static synchronized List<Case> cases() {
        if (cases == null) {
            List<Case> all = new ArrayList<>();
            for (Path overlay : folders(K8S.resolve("overlays"))) {
                Kustomize.Build plain = Kustomize.build(overlay, List.of());
                all.add(typed(overlay.getFileName().toString(), plain));
                for (Path component : folders(K8S.resolve("components"))) {
                    if (!plain.filesRead().contains(component.resolve("kustomization.yaml").toAbsolutePath().normalize())) {
                        all.add(typed(overlay.getFileName() + " + " + component.getFileName(), Kustomize.build(overlay, List.of(component))));
                    }
                }
            }
            cases = all;
        }
        return cases;
    }

    private static Case typed(String name, Kustomize.Build build) {
        List<HasMetadata> objects = new ArrayList<>();
        for (ObjectNode resource : build.resources()) {
            String key = resource.path("apiVersion").asText() + "/" + resource.path("kind").asText();
            Class<? extends HasMetadata> type = TYPES.get(key);
            String what = name + ": " + key + " " + resource.path("metadata").path("name").asText();
            if (type == null) {
                throw new AssertionError(what + ": a kind this test does not know; add it to TYPES");
            }
            HasMetadata object;
            try {
                object = STRICT.treeToValue(resource, type);
            } catch (IOException e) {
                throw new AssertionError(what + " is not valid: " + e.getMessage(), e);
            }
            assertSubset(resource, PLAIN.valueToTree(object), what);
            objects.add(object);
        }
        return new Case(name, build, objects);
    }

    // ---------------------------------------------------------------------------------------------
    // The model itself

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void objectsAreUniqueAndVolumesHaveOneSource(Case c) {
        List<String> problems = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (HasMetadata o : c.objects()) {
            if (!seen.add(o.getKind() + "/" + o.getMetadata().getName())) {
                problems.add(o.getKind() + " " + o.getMetadata().getName() + " is defined twice");
            }
            assertTrue(o.getMetadata().getName().matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?"), o.getMetadata().getName());
        }
        for (Workload w : c.workloads()) {
            for (Volume v : Optional.ofNullable(w.pod().getVolumes()).orElse(List.of())) {
                ObjectNode tree = PLAIN.valueToTree(v);
                tree.remove("name");
                if (tree.size() != 1) {
                    problems.add(w.describe() + ": volume " + v.getName() + " has " + tree.size() + " sources " + tree.properties());
                }
            }
            Set<String> volumes = new HashSet<>();
            Optional.ofNullable(w.pod().getVolumes()).orElse(List.of()).forEach(v -> volumes.add(v.getName()));
            if (w.owner() instanceof StatefulSet set && set.getSpec().getVolumeClaimTemplates() != null) {
                set.getSpec().getVolumeClaimTemplates().forEach(claim -> volumes.add(claim.getMetadata().getName()));
            }
            for (Container container : w.pod().getContainers()) {
                for (VolumeMount mount : Optional.ofNullable(container.getVolumeMounts()).orElse(List.of())) {
                    if (!volumes.contains(mount.getName())) {
                        problems.add(w.describe() + ": container " + container.getName() + " mounts volume " + mount.getName() + ", which the pod does not have");
                    }
                }
            }
        }
        assertNoProblems(c, problems);
    }

    @Test
    void theReaderRefusesWhatKubernetesRefuses() {
        ObjectNode deployment = (ObjectNode) cases().get(0).build().ofKind("Deployment").get(0).deepCopy();
        ObjectNode unknownField = deployment.deepCopy();
        ((ObjectNode) unknownField.get("spec")).put("replica", 2);
        ObjectNode stringForNumber = deployment.deepCopy();
        ((ObjectNode) stringForNumber.get("spec")).put("replicas", "2");
        ObjectNode numberForString = deployment.deepCopy();
        ((ObjectNode) numberForString.get("spec").get("template").get("metadata").get("annotations")).put("prometheus.io/port", 8080);
        for (ObjectNode wrong : List.of(unknownField, stringForNumber, numberForString)) {
            assertThrows(IOException.class, () -> STRICT.treeToValue(wrong, Deployment.class));
        }
    }

    @Test
    void everyManifestFileIsUsed() throws IOException {
        Set<Path> used = new HashSet<>();
        cases().forEach(c -> used.addAll(c.build().filesRead()));
        try (Stream<Path> files = Files.walk(K8S)) {
            List<Path> unused = files.filter(Files::isRegularFile)
                    .filter(f -> !f.getFileName().toString().equals("README.md"))
                    .filter(f -> !used.contains(f.toAbsolutePath().normalize())).toList();
            assertEquals(List.of(), unused, "files in k8s/ that no overlay or component uses");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Probes, ports, Services

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void probesAndServicesPointAtPortsThatExist(Case c) {
        List<String> problems = new ArrayList<>();
        for (Workload w : c.workloads()) {
            for (Container container : w.pod().getContainers()) {
                String where = w.describe() + ", container " + container.getName();
                Map<String, Probe> probes = new LinkedHashMap<>();
                probes.put("startup", container.getStartupProbe());
                probes.put("readiness", container.getReadinessProbe());
                probes.put("liveness", container.getLivenessProbe());
                for (Map.Entry<String, Probe> probe : probes.entrySet()) {
                    if (probe.getValue() != null && probe.getValue().getHttpGet() != null) {
                        IntOrString port = probe.getValue().getHttpGet().getPort();
                        if (containerPort(container, port).isEmpty()) {
                            problems.add(where + ": " + probe.getKey() + " probe on port " + text(port) + ", which the container does not declare");
                        }
                    }
                }
                if (isEligo(container) && w.owner() instanceof Deployment) {
                    expectProbe(problems, where, "liveness", container.getLivenessProbe(), HEALTH + "live");
                    expectProbe(problems, where, "readiness", container.getReadinessProbe(), HEALTH + "ready");
                    if (container.getStartupProbe() != null) {
                        expectProbe(problems, where, "startup", container.getStartupProbe(), HEALTH + "started");
                        Probe startup = container.getStartupProbe();
                        long budget = (long) startup.getPeriodSeconds() * startup.getFailureThreshold();
                        if (budget < FLYWAY_LOCK_WAIT.toSeconds() + 10) {
                            problems.add(where + ": the startup probe gives up after " + budget + " s, before Flyway's wait for another pod's migration lock ("
                                    + FLYWAY_LOCK_WAIT.toSeconds() + " s) and our own migrations");
                        }
                    }
                    Map<String, String> annotations = Optional.ofNullable(w.template().getMetadata().getAnnotations()).orElse(Map.of());
                    if ("true".equals(annotations.get("prometheus.io/scrape"))) {
                        String port = annotations.get("prometheus.io/port");
                        if (port == null || containerPort(container, new IntOrString(Integer.parseInt(port))).isEmpty()) {
                            problems.add(where + ": prometheus.io/port " + port + " is not a container port");
                        }
                        if (!METRICS.equals(annotations.get("prometheus.io/path"))) {
                            problems.add(where + ": prometheus.io/path must be " + METRICS);
                        }
                    }
                }
            }
        }
        for (Service service : c.all(Service.class)) {
            List<Workload> selected = selectedBy(c, service.getSpec().getSelector());
            if (selected.isEmpty()) {
                problems.add("Service " + service.getMetadata().getName() + " selects no pods");
            }
            if (selected.size() > 1) {
                problems.add("Service " + service.getMetadata().getName() + " selects the pods of several workloads: "
                        + selected.stream().map(Workload::describe).toList());
            }
            for (ServicePort port : service.getSpec().getPorts()) {
                IntOrString target = port.getTargetPort() != null ? port.getTargetPort() : new IntOrString(port.getPort());
                for (Workload w : selected) {
                    if (w.pod().getContainers().stream().allMatch(container -> containerPort(container, target).isEmpty())) {
                        problems.add("Service " + service.getMetadata().getName() + " port " + port.getName() + " targets " + text(target)
                                + ", which no container of " + w.describe() + " declares");
                    }
                }
            }
        }
        for (ServiceMonitor monitor : c.all(ServiceMonitor.class)) {
            List<Service> services = c.all(Service.class).stream()
                    .filter(s -> matches(monitor.getSpec().getSelector(), s.getMetadata().getLabels())).toList();
            if (services.size() != 1) {
                problems.add("ServiceMonitor " + monitor.getMetadata().getName() + " selects " + services.size() + " Services, not one");
            }
            for (Endpoint endpoint : monitor.getSpec().getEndpoints()) {
                for (Service service : services) {
                    if (service.getSpec().getPorts().stream().noneMatch(p -> Objects.equals(p.getName(), endpoint.getPort()))) {
                        problems.add("ServiceMonitor " + monitor.getMetadata().getName() + " scrapes port " + endpoint.getPort()
                                + ", which Service " + service.getMetadata().getName() + " does not name");
                    }
                }
                if (!METRICS.equals(endpoint.getPath())) {
                    problems.add("ServiceMonitor " + monitor.getMetadata().getName() + " scrapes " + endpoint.getPath() + ", not " + METRICS);
                }
            }
        }
        assertNoProblems(c, problems);
    }

    private static void expectProbe(List<String> problems, String where, String kind, Probe probe, String path) {
        if (probe == null || probe.getHttpGet() == null) {
            problems.add(where + ": no HTTP " + kind + " probe");
        } else if (!path.equals(probe.getHttpGet().getPath())) {
            problems.add(where + ": the " + kind + " probe asks " + probe.getHttpGet().getPath() + ", not " + path);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Labels and selectors

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void selectorsMatchTheirPods(Case c) {
        List<String> problems = new ArrayList<>();
        for (Workload w : c.workloads()) {
            if (w.selector() != null && !matches(w.selector(), w.labels())) {
                problems.add(w.describe() + ": its selector " + w.selector().getMatchLabels() + " does not match its pod labels " + w.labels());
            }
            for (Workload other : c.workloads()) {
                if (w.selector() != null && other.owner() != w.owner() && matches(w.selector(), other.labels())) {
                    problems.add(w.describe() + ": its selector also matches the pods of " + other.describe());
                }
            }
        }
        for (PodDisruptionBudget pdb : c.all(PodDisruptionBudget.class)) {
            if (selectedBy(c, pdb.getSpec().getSelector()).size() != 1) {
                problems.add("PodDisruptionBudget " + pdb.getMetadata().getName() + " must select the pods of exactly one workload");
            }
        }
        for (NetworkPolicy policy : c.all(NetworkPolicy.class)) {
            if (selectedBy(c, policy.getSpec().getPodSelector()).isEmpty()) {
                problems.add("NetworkPolicy " + policy.getMetadata().getName() + " selects no pods");
            }
        }
        for (HorizontalPodAutoscaler hpa : c.all(HorizontalPodAutoscaler.class)) {
            var target = hpa.getSpec().getScaleTargetRef();
            if (!"Deployment".equals(target.getKind()) || !"apps/v1".equals(target.getApiVersion())
                    || c.named(Deployment.class, target.getName()).isEmpty()) {
                problems.add("HorizontalPodAutoscaler " + hpa.getMetadata().getName() + " scales " + target.getKind() + " " + target.getName()
                        + ", which is not a Deployment here");
            }
        }
        for (Workload w : c.workloads()) {
            String account = w.pod().getServiceAccountName();
            if (account != null && c.named(ServiceAccount.class, account).isEmpty()) {
                problems.add(w.describe() + ": service account " + account + " is not defined");
            }
        }
        assertNoProblems(c, problems);
    }

    // ---------------------------------------------------------------------------------------------
    // Environment variables and images

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void environmentVariablesAreConfigurationProperties(Case c) {
        List<String> problems = new ArrayList<>();
        for (Workload w : c.workloads()) {
            for (Container container : w.pod().getContainers()) {
                Optional<Dockerfiles.Image> image = imageOf(container);
                if (image.isEmpty()) {
                    continue;
                }
                for (String name : environment(c, container, problems).keySet()) {
                    String problem = environmentProblem(name, image.get());
                    if (problem != null) {
                        problems.add(w.describe() + ", container " + container.getName() + ": " + problem);
                    }
                }
            }
        }
        assertNoProblems(c, problems);
    }

    @Test
    void dockerfilesSetOnlyRealProperties() {
        List<String> problems = new ArrayList<>();
        for (Dockerfiles.Image image : IMAGES) {
            for (String name : image.environment().keySet()) {
                if (name.matches("(QUARKUS|ELIGO|MP)_.*")) {
                    String problem = environmentProblem(name, image);
                    if (problem != null) {
                        problems.add(image.file() + ": " + problem);
                    }
                }
            }
            if (!image.copiesRules()) {
                problems.add(image.file() + ": does not copy rules/ to " + image.workdir() + "/rules, where eligo.rules.directory (rules) points");
            }
            if (image.user() == null || !image.user().matches("[1-9][0-9]*")) {
                problems.add(image.file() + ": USER must be a numeric, non-root uid (runAsNonRoot can only check a number), not " + image.user());
            }
        }
        assertEquals(List.of(), problems);
        assertEquals(Set.of("eligo-jvm", "eligo-native", "eligo-native-micro"),
                IMAGES.stream().map(Dockerfiles.Image::name).collect(java.util.stream.Collectors.toSet()));
    }

    /** Null when {@code name} is a property the service reads at run time or a variable the image's entrypoint reads. */
    private static String environmentProblem(String name, Dockerfiles.Image image) {
        if (image.entrypointVariables().contains(name)) {
            return null;
        }
        Optional<ConfigProperties.Known> known = CONFIG.forEnvironmentVariable(name);
        if (known.isEmpty()) {
            return name + " is no configuration property of the service (nor read by the entrypoint of " + image.file() + ")";
        }
        if (!known.get().phase().equals("RUN_TIME")) {
            return name + " sets " + known.get().property() + ", which is fixed when the application is built (" + known.get().phase() + "): it does nothing here";
        }
        return null;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void imagesAreTheOnesTheDockerfilesBuild(Case c) {
        List<String> problems = new ArrayList<>(c.build().unmatchedImages().stream().map(u -> u + " matches no container image").toList());
        boolean eligoFound = false;
        for (Workload w : c.workloads()) {
            for (Container container : w.pod().getContainers()) {
                Optional<Dockerfiles.Image> image = imageOf(container);
                if (image.isEmpty()) {
                    if (container.getImage().contains("eligo")) {
                        problems.add(w.describe() + ": image " + container.getImage() + " is none that src/main/docker builds " + imageNames());
                    }
                    continue;
                }
                eligoFound = true;
                Long user = effective(w.pod().getSecurityContext(), container.getSecurityContext());
                if (user != null && !String.valueOf(user).equals(image.get().user())) {
                    problems.add(w.describe() + ": runs as uid " + user + ", the image " + image.get().name() + " as " + image.get().user());
                }
                for (ContainerPort port : Optional.ofNullable(container.getPorts()).orElse(List.of())) {
                    if (!image.get().exposed().contains(port.getContainerPort())) {
                        problems.add(w.describe() + ": port " + port.getContainerPort() + " is not one " + image.get().file() + " exposes");
                    }
                }
            }
        }
        if (!eligoFound) {
            problems.add("no container runs an image of src/main/docker " + imageNames());
        }
        assertNoProblems(c, problems);
    }

    // ---------------------------------------------------------------------------------------------
    // Security and resources

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void podsRunAsNonRootOnReadOnlyRootFileSystemsWithResources(Case c) {
        List<String> problems = new ArrayList<>();
        for (Workload w : c.workloads()) {
            PodSecurityContext pod = w.pod().getSecurityContext();
            if (!Boolean.FALSE.equals(w.pod().getAutomountServiceAccountToken())) {
                problems.add(w.describe() + ": mounts a service account token it does not need");
            }
            for (Container container : w.pod().getContainers()) {
                String where = w.describe() + ", container " + container.getName();
                SecurityContext own = container.getSecurityContext();
                boolean nonRoot = own != null && own.getRunAsNonRoot() != null ? own.getRunAsNonRoot()
                        : pod != null && Boolean.TRUE.equals(pod.getRunAsNonRoot());
                if (!nonRoot) {
                    problems.add(where + ": runAsNonRoot is not true");
                }
                if (own == null || !Boolean.TRUE.equals(own.getReadOnlyRootFilesystem())) {
                    problems.add(where + ": readOnlyRootFilesystem is not true");
                }
                if (own == null || !Boolean.FALSE.equals(own.getAllowPrivilegeEscalation())) {
                    problems.add(where + ": allowPrivilegeEscalation is not false");
                }
                if (own == null || own.getCapabilities() == null || !own.getCapabilities().getDrop().contains("ALL")) {
                    problems.add(where + ": does not drop all capabilities");
                }
                boolean writableTmp = Optional.ofNullable(container.getVolumeMounts()).orElse(List.of()).stream()
                        .anyMatch(m -> m.getMountPath().equals("/tmp") && !Boolean.TRUE.equals(m.getReadOnly()) && isEmptyDir(w.pod(), m.getName()));
                if (!writableTmp) {
                    problems.add(where + ": no writable emptyDir on /tmp (the JVM and PostgreSQL write there; the root file system is read-only)");
                }
                var resources = container.getResources();
                for (String kind : List.of("cpu", "memory")) {
                    Quantity request = resources == null || resources.getRequests() == null ? null : resources.getRequests().get(kind);
                    Quantity limit = resources == null || resources.getLimits() == null ? null : resources.getLimits().get(kind);
                    if (request == null || limit == null) {
                        problems.add(where + ": no " + kind + " request and limit");
                    } else if (request.getNumericalAmount().compareTo(limit.getNumericalAmount()) > 0) {
                        problems.add(where + ": its " + kind + " request is above its limit");
                    }
                }
            }
        }
        assertNoProblems(c, problems);
    }

    // ---------------------------------------------------------------------------------------------
    // Replicas, autoscaling, disruptions, shutdown

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void replicasAutoscalerAndDisruptionBudgetAgree(Case c) {
        List<String> problems = new ArrayList<>();
        Deployment deployment = eligoDeployment(c);
        int replicas = Optional.ofNullable(deployment.getSpec().getReplicas()).orElse(1);
        if (replicas < 2) {
            problems.add("the Deployment runs " + replicas + " replica(s); at least 2");
        }
        HorizontalPodAutoscaler hpa = autoscalerOf(c, deployment);
        if (hpa == null) {
            problems.add("no HorizontalPodAutoscaler for the Deployment");
        } else {
            int min = Optional.ofNullable(hpa.getSpec().getMinReplicas()).orElse(1);
            int max = hpa.getSpec().getMaxReplicas();
            if (min < 2 || max < min) {
                problems.add("the autoscaler's range " + min + ".." + max + " must start at 2 or more");
            }
            if (replicas < min || replicas > max) {
                problems.add("the Deployment's " + replicas + " replicas are outside the autoscaler's range " + min + ".." + max);
            }
            for (PodDisruptionBudget pdb : c.all(PodDisruptionBudget.class)) {
                if (!matches(pdb.getSpec().getSelector(), deployment.getSpec().getTemplate().getMetadata().getLabels())) {
                    continue;
                }
                IntOrString maxUnavailable = pdb.getSpec().getMaxUnavailable();
                IntOrString minAvailable = pdb.getSpec().getMinAvailable();
                boolean allowsOne = maxUnavailable != null ? disruptions(maxUnavailable, min) >= 1
                        : minAvailable != null && min - disruptions(minAvailable, min) >= 1;
                if (!allowsOne) {
                    problems.add("PodDisruptionBudget " + pdb.getMetadata().getName() + " allows no disruption at " + min + " replicas: node drains would hang");
                }
            }
            if (c.all(PodDisruptionBudget.class).stream().noneMatch(p -> matches(p.getSpec().getSelector(), deployment.getSpec().getTemplate().getMetadata().getLabels()))) {
                problems.add("no PodDisruptionBudget covers the Deployment");
            }
        }
        var rolling = deployment.getSpec().getStrategy().getRollingUpdate();
        if (rolling == null || disruptions(rolling.getMaxUnavailable(), replicas) != 0) {
            problems.add("a rollout may take ready pods away before new ones are ready (maxUnavailable must be 0)");
        }
        assertNoProblems(c, problems);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theGracePeriodOutlastsTheServicesOwnShutdown(Case c) {
        Deployment deployment = eligoDeployment(c);
        Container container = eligoContainer(deployment);
        Map<String, String> environment = environment(c, container, new ArrayList<>());
        Duration delay = ConfigProperties.duration(CONFIG.effective("quarkus.shutdown.delay", environment));
        Duration requests = ConfigProperties.duration(CONFIG.effective("quarkus.shutdown.timeout", environment));
        Duration batches = ConfigProperties.duration(CONFIG.effective("eligo.queue.shutdown-grace", environment));
        long grace = Optional.ofNullable(deployment.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds()).orElse(30L);
        Duration shutdown = delay.plus(requests).plus(batches);
        assertTrue(requests.compareTo(Duration.ZERO) > 0, c + ": quarkus.shutdown.timeout is not set: HTTP requests in flight are cut at SIGTERM");
        assertTrue(delay.compareTo(Duration.ZERO) > 0, c + ": quarkus.shutdown.delay is not set: the pod stops serving before Services stop routing to it");
        assertTrue(grace >= shutdown.plusSeconds(5).toSeconds(), c + ": terminationGracePeriodSeconds " + grace + " does not cover the service's shutdown: delay "
                + delay + " + HTTP requests " + requests + " + worker batches " + batches + " (+ 5 s to close the pools)");
    }

    // ---------------------------------------------------------------------------------------------
    // The database, and the objects the pods refer to

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theDatabaseIsConfiguredAndEveryReferencedObjectExists(Case c) {
        List<String> problems = new ArrayList<>();
        for (Workload w : c.workloads()) {
            for (Container container : w.pod().getContainers()) {
                Map<String, String> environment = environment(c, container, problems);
                if (imageOf(container).isPresent()) {
                    if (!"false".equals(environment.get("ELIGO_EMBEDDED_POSTGRES_ENABLED"))) {
                        problems.add(w.describe() + ": ELIGO_EMBEDDED_POSTGRES_ENABLED is not false: without a URL the pod would start an embedded database");
                    }
                    if (!environment.getOrDefault("QUARKUS_DATASOURCE_JDBC_URL", "").startsWith("secret:")) {
                        problems.add(w.describe() + ": QUARKUS_DATASOURCE_JDBC_URL does not come from a Secret");
                    }
                }
            }
            for (Volume volume : Optional.ofNullable(w.pod().getVolumes()).orElse(List.of())) {
                if (volume.getConfigMap() != null) {
                    String name = volume.getConfigMap().getName();
                    Set<String> keys = new LinkedHashSet<>();
                    Optional.ofNullable(volume.getConfigMap().getItems()).orElse(List.of()).forEach(i -> keys.add(i.getKey()));
                    referenced(c, "ConfigMap", name, keys, Boolean.TRUE.equals(volume.getConfigMap().getOptional()), w.describe(), problems);
                }
                if (volume.getSecret() != null) {
                    referenced(c, "Secret", volume.getSecret().getSecretName(), Set.of(), Boolean.TRUE.equals(volume.getSecret().getOptional()), w.describe(), problems);
                }
            }
        }
        assertNoProblems(c, problems);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void connectionsFitAnInClusterDatabase(Case c) {
        Optional<StatefulSet> postgres = c.all(StatefulSet.class).stream()
                .filter(s -> s.getSpec().getTemplate().getSpec().getContainers().get(0).getImage().startsWith("postgres")).findFirst();
        if (postgres.isEmpty()) {
            return;
        }
        List<String> args = Optional.ofNullable(postgres.get().getSpec().getTemplate().getSpec().getContainers().get(0).getArgs()).orElse(List.of());
        int maxConnections = 100;
        for (int i = 0; i + 1 < args.size(); i++) {
            if (args.get(i).equals("-c") && args.get(i + 1).startsWith("max_connections=")) {
                maxConnections = Integer.parseInt(args.get(i + 1).substring("max_connections=".length()));
            }
        }
        Deployment deployment = eligoDeployment(c);
        Map<String, String> environment = environment(c, eligoContainer(deployment), new ArrayList<>());
        int pool = Integer.parseInt(CONFIG.effective("quarkus.datasource.jdbc.max-size", environment));
        int migrations = Integer.parseInt(CONFIG.effective("quarkus.datasource.migrations.jdbc.max-size", environment));
        int perPod = pool + migrations + 1; // + the LISTEN connection
        HorizontalPodAutoscaler hpa = autoscalerOf(c, deployment);
        int pods = (hpa == null ? deployment.getSpec().getReplicas() : hpa.getSpec().getMaxReplicas())
                + disruptions(deployment.getSpec().getStrategy().getRollingUpdate().getMaxSurge(), deployment.getSpec().getReplicas());
        assertTrue(pods * perPod <= maxConnections - SUPERUSER_RESERVED_CONNECTIONS, c + ": up to " + pods + " pods × " + perPod
                + " connections do not fit PostgreSQL's max_connections " + maxConnections);
    }

    // ---------------------------------------------------------------------------------------------
    // Network and monitoring

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theNetworkPolicyLetsClientsInAndTheDatabaseOut(Case c) {
        Deployment deployment = eligoDeployment(c);
        Map<String, String> labels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        Container container = eligoContainer(deployment);
        List<NetworkPolicy> policies = c.all(NetworkPolicy.class).stream().filter(p -> matches(p.getSpec().getPodSelector(), labels)).toList();
        assertFalse(policies.isEmpty(), c + ": no NetworkPolicy for the service's pods");
        for (NetworkPolicy policy : policies) {
            for (ContainerPort port : container.getPorts()) {
                boolean in = policy.getSpec().getIngress().stream().anyMatch(rule -> allows(rule.getPorts(), port.getContainerPort(), port.getName(), "TCP"));
                assertTrue(in, c + ": NetworkPolicy " + policy.getMetadata().getName() + " keeps out port " + port.getContainerPort());
            }
            if (policy.getSpec().getPolicyTypes().contains("Egress")) {
                List<List<NetworkPolicyPort>> egress = policy.getSpec().getEgress().stream().map(r -> r.getPorts()).toList();
                for (String protocol : List.of("UDP", "TCP")) {
                    assertTrue(egress.stream().anyMatch(ports -> allows(ports, 53, null, protocol)), c + ": no DNS (53/" + protocol + ") out");
                }
                assertTrue(egress.stream().anyMatch(ports -> allows(ports, 5432, null, "TCP")), c + ": PostgreSQL (5432) is not let out");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void alertsUseMetricsTheServiceRegisters(Case c) throws IOException {
        Set<String> registered = registeredMetrics();
        List<String> problems = new ArrayList<>();
        for (PrometheusRule rule : c.all(PrometheusRule.class)) {
            for (var group : rule.getSpec().getGroups()) {
                for (Rule r : group.getRules()) {
                    Matcher m = Pattern.compile("\\beligo_[a-z0-9_]+").matcher(text(r.getExpr()));
                    while (m.find()) {
                        String metric = m.group().replaceAll("_(bucket|count|sum|max|total)$", "");
                        if (!registered.contains(metric)) {
                            problems.add("alert " + r.getAlert() + " uses " + m.group() + ", which the service does not register " + registered);
                        }
                    }
                }
            }
        }
        assertNoProblems(c, problems);
    }

    /** Prometheus names of the meters registered in the main sources (a timer's gets _seconds). */
    static Set<String> registeredMetrics() throws IOException {
        Set<String> names = new TreeSet<>();
        Pattern meter = Pattern.compile("(Gauge\\.builder|Timer\\.builder|Counter\\.builder|\\.counter|\\.timer|\\.gauge)\\(\\s*\"([a-z0-9.]+)\"");
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Matcher m = meter.matcher(Files.readString(file));
                while (m.find()) {
                    String name = m.group(2).replace('.', '_');
                    names.add(m.group(1).toLowerCase().contains("timer") ? name + "_seconds" : name);
                }
            }
        }
        return names;
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers

    private static List<Path> folders(Path parent) {
        try (Stream<Path> entries = Files.list(parent)) {
            return entries.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectMapper strictMapper() {
        JsonMapper mapper = JsonMapper.builder()
                .annotationIntrospector(new JacksonAnnotationIntrospector() {
                    @Override
                    public Boolean hasAnySetter(Annotated a) {
                        return Boolean.FALSE;
                    }
                })
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        for (CoercionInputShape shape : List.of(CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean)) {
            mapper.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
        return mapper;
    }

    /** Everything the manifest says survives a round trip through the model: nothing was silently dropped. */
    private static void assertSubset(JsonNode given, JsonNode read, String where) {
        if (given.isObject()) {
            given.properties().forEach(field -> {
                JsonNode back = read.get(field.getKey());
                if (back == null) {
                    throw new AssertionError(where + ": field '" + field.getKey() + "' is not part of the Kubernetes model");
                }
                assertSubset(field.getValue(), back, where + "." + field.getKey());
            });
        } else if (given.isArray()) {
            if (!read.isArray() || read.size() != given.size()) {
                throw new AssertionError(where + ": list changed when read");
            }
            for (int i = 0; i < given.size(); i++) {
                assertSubset(given.get(i), read.get(i), where + "[" + i + "]");
            }
        } else if (!given.asText().equals(read.asText())) {
            throw new AssertionError(where + ": " + given + " was read as " + read);
        }
    }

    private static void assertNoProblems(Case c, List<String> problems) {
        if (!problems.isEmpty()) {
            fail(c + ":\n  " + String.join("\n  ", new LinkedHashSet<>(problems)));
        }
    }

    private static Optional<ContainerPort> containerPort(Container container, IntOrString port) {
        return Optional.ofNullable(container.getPorts()).orElse(List.of()).stream()
                .filter(p -> port.getStrVal() != null ? port.getStrVal().equals(p.getName()) : port.getIntVal().equals(p.getContainerPort()))
                .findFirst();
    }

    private static boolean allows(List<NetworkPolicyPort> ports, int number, String name, String protocol) {
        if (ports == null || ports.isEmpty()) {
            return true;
        }
        return ports.stream().anyMatch(p -> Objects.equals(Optional.ofNullable(p.getProtocol()).orElse("TCP"), protocol)
                && (p.getPort() == null || (p.getPort().getIntVal() != null ? p.getPort().getIntVal() == number : p.getPort().getStrVal().equals(name))));
    }

    private static boolean matches(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) {
            return false;
        }
        if (selector.getMatchExpressions() != null && !selector.getMatchExpressions().isEmpty()) {
            throw new AssertionError("matchExpressions are not evaluated by this test: use matchLabels");
        }
        Map<String, String> wanted = Optional.ofNullable(selector.getMatchLabels()).orElse(Map.of());
        return !wanted.isEmpty() && labels != null && labels.entrySet().containsAll(wanted.entrySet());
    }

    private static boolean matches(Map<String, String> selector, Map<String, String> labels) {
        return selector != null && !selector.isEmpty() && labels != null && labels.entrySet().containsAll(selector.entrySet());
    }

    private static List<Workload> selectedBy(Case c, LabelSelector selector) {
        return c.workloads().stream().filter(w -> matches(selector, w.labels())).toList();
    }

    private static List<Workload> selectedBy(Case c, Map<String, String> selector) {
        return c.workloads().stream().filter(w -> matches(selector, w.labels())).toList();
    }

    private static int disruptions(IntOrString value, int replicas) {
        if (value == null) {
            return 0;
        }
        if (value.getIntVal() != null) {
            return value.getIntVal();
        }
        int percent = Integer.parseInt(value.getStrVal().replace("%", ""));
        return (int) Math.floor(replicas * percent / 100.0);
    }

    private static String text(IntOrString value) {
        return value == null ? "null" : value.getIntVal() != null ? value.getIntVal().toString() : value.getStrVal();
    }

    private static boolean isEmptyDir(PodSpec pod, String volume) {
        return Optional.ofNullable(pod.getVolumes()).orElse(List.of()).stream().anyMatch(v -> v.getName().equals(volume) && v.getEmptyDir() != null);
    }

    private static Long effective(PodSecurityContext pod, SecurityContext container) {
        if (container != null && container.getRunAsUser() != null) {
            return container.getRunAsUser();
        }
        return pod == null ? null : pod.getRunAsUser();
    }

    private static Optional<Dockerfiles.Image> imageOf(Container container) {
        String name = Kustomize.imageName(container.getImage());
        String last = name.substring(name.lastIndexOf('/') + 1);
        return IMAGES.stream().filter(i -> i.name().equals(last)).findFirst();
    }

    private static boolean isEligo(Container container) {
        return imageOf(container).isPresent();
    }

    private static Set<String> imageNames() {
        return IMAGES.stream().map(Dockerfiles.Image::name).collect(java.util.stream.Collectors.toCollection(TreeSet::new));
    }

    private static Deployment eligoDeployment(Case c) {
        List<Deployment> deployments = c.all(Deployment.class).stream()
                .filter(d -> d.getSpec().getTemplate().getSpec().getContainers().stream().anyMatch(ManifestsTest::isEligo)).toList();
        assertEquals(1, deployments.size(), c + ": one Deployment runs the service");
        return deployments.get(0);
    }

    private static Container eligoContainer(Deployment deployment) {
        return deployment.getSpec().getTemplate().getSpec().getContainers().stream().filter(ManifestsTest::isEligo).findFirst().orElseThrow();
    }

    private static HorizontalPodAutoscaler autoscalerOf(Case c, Deployment deployment) {
        return c.all(HorizontalPodAutoscaler.class).stream()
                .filter(h -> h.getSpec().getScaleTargetRef().getName().equals(deployment.getMetadata().getName())).findFirst().orElse(null);
    }

    /**
     * A container's environment as the pod gets it: envFrom ConfigMaps first, then env (which wins).
     * Values from Secrets read {@code secret:<name>/<key>}. References to objects this build does not
     * make are checked against the README ({@link #referenced}).
     */
    private static Map<String, String> environment(Case c, Container container, List<String> problems) {
        Map<String, String> environment = new LinkedHashMap<>();
        for (EnvFromSource from : Optional.ofNullable(container.getEnvFrom()).orElse(List.of())) {
            if (from.getConfigMapRef() != null) {
                String name = from.getConfigMapRef().getName();
                Optional<ConfigMap> map = c.named(ConfigMap.class, name);
                if (map.isEmpty()) {
                    problems.add("container " + container.getName() + ": envFrom ConfigMap " + name + " is not part of this build");
                } else {
                    environment.putAll(map.get().getData());
                }
            } else {
                problems.add("container " + container.getName() + ": envFrom other than a ConfigMap is not checked by this test");
            }
        }
        for (EnvVar variable : Optional.ofNullable(container.getEnv()).orElse(List.of())) {
            String value = variable.getValue();
            if (variable.getValueFrom() != null && variable.getValueFrom().getSecretKeyRef() != null) {
                var ref = variable.getValueFrom().getSecretKeyRef();
                referenced(c, "Secret", ref.getName(), Set.of(ref.getKey()), Boolean.TRUE.equals(ref.getOptional()), "container " + container.getName(), problems);
                value = "secret:" + ref.getName() + "/" + ref.getKey();
            } else if (variable.getValueFrom() != null && variable.getValueFrom().getConfigMapKeyRef() != null) {
                var ref = variable.getValueFrom().getConfigMapKeyRef();
                referenced(c, "ConfigMap", ref.getName(), Set.of(ref.getKey()), Boolean.TRUE.equals(ref.getOptional()), "container " + container.getName(), problems);
                value = c.named(ConfigMap.class, ref.getName()).map(m -> m.getData().get(ref.getKey())).orElse("configmap:" + ref.getName() + "/" + ref.getKey());
            } else if (variable.getValueFrom() != null) {
                problems.add("container " + container.getName() + ": " + variable.getName() + " comes from a source this test does not check");
            }
            environment.put(variable.getName(), value);
        }
        return environment;
    }

    /**
     * A ConfigMap or Secret a pod refers to: made by this build and holding the keys, or created out of
     * band, in which case the README's "Deploying" must show the command that creates it with those keys.
     */
    private static void referenced(Case c, String kind, String name, Set<String> keys, boolean optional, String where, List<String> problems) {
        Optional<? extends HasMetadata> made = kind.equals("Secret") ? c.named(Secret.class, name) : c.named(ConfigMap.class, name);
        if (made.isPresent()) {
            Map<String, String> data = made.get() instanceof Secret s ? s.getData() : ((ConfigMap) made.get()).getData();
            for (String key : keys) {
                if (data == null || !data.containsKey(key)) {
                    problems.add(where + ": " + kind + " " + name + " has no key " + key);
                }
            }
            return;
        }
        if (optional) {
            return;
        }
        String command = readmeCommand(kind, name);
        if (command == null) {
            problems.add(where + ": " + kind + " " + name + " is neither in this build nor created in the README's \"Deploying\" (kubectl create "
                    + kind.toLowerCase() + (kind.equals("Secret") ? " generic " : " ") + name + " ...)");
            return;
        }
        for (String key : keys) {
            if (!command.matches("(?s).*--from-(literal|file)=" + Pattern.quote(key) + "=.*")) {
                problems.add(where + ": the README creates " + kind + " " + name + " without the key " + key);
            }
        }
    }

    /** The README's kubectl command (with its continuation lines) that creates a ConfigMap or Secret. */
    static String readmeCommand(String kind, String name) {
        String readme;
        try {
            readme = Files.readString(README);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String joined = readme.replaceAll("\\\\\\n\\s*", " ");
        String create = "kubectl\\s+(?:-n\\s+\\S+\\s+)?create\\s+" + (kind.equals("Secret") ? "secret\\s+generic" : "configmap") + "\\s+" + Pattern.quote(name) + "\\s";
        Matcher m = Pattern.compile(create + ".*").matcher(joined);
        return m.find() ? m.group() : null;
    }
}
