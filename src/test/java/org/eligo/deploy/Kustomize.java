package org.eligo.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * Builds a Kustomize overlay the way {@code kubectl apply -k} does, for the subset of Kustomize that
 * {@code k8s/} uses, so that the manifests can be checked without the kustomize binary. Anything
 * outside that subset fails the build here rather than being half understood:
 * <ul>
 * <li>{@code resources} (files, or folders with a kustomization), {@code components};</li>
 * <li>{@code configMapGenerator} and {@code secretGenerator} with {@code literals} and {@code files},
 * {@code behavior} create, merge or replace (the generated names keep no hash suffix here: kustomize
 * adds one and rewrites every reference, which changes nothing checked);</li>
 * <li>{@code patches} given by {@code path}: strategic-merge patches naming their target by kind and
 * name; lists merge by the Kubernetes merge keys listed in {@link #mergeKey}, other lists are
 * replaced, a null value deletes a field, {@code $patch: delete} deletes a list element;</li>
 * <li>{@code images} (name, newName, newTag) on containers and init containers;</li>
 * <li>{@code namespace}.</li>
 * </ul>
 */
final class Kustomize {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> KNOWN_FIELDS = Set.of("apiVersion", "kind", "resources", "components", "patches",
            "configMapGenerator", "secretGenerator", "images", "namespace");
    private static final Set<String> GENERATOR_FIELDS = Set.of("name", "behavior", "literals", "files");

    /** The result of a build, and what the checks need to know about how it was made. */
    record Build(Path root, List<ObjectNode> resources, Set<String> generated, Set<String> unmatchedImages, Set<Path> filesRead) {

        List<ObjectNode> ofKind(String kind) {
            return resources.stream().filter(r -> kind.equals(r.path("kind").asText())).toList();
        }
    }

    private final List<ObjectNode> resources = new ArrayList<>();
    private final Set<String> generated = new LinkedHashSet<>();
    private final Set<String> unmatchedImages = new LinkedHashSet<>();
    private final Set<Path> filesRead = new LinkedHashSet<>();

    private Kustomize() {
    }

    /** Builds the kustomization in {@code directory}, adding {@code extraComponents} after its own. */
    static Build build(Path directory, List<Path> extraComponents) {
        Kustomize k = new Kustomize();
        k.run(directory, extraComponents, false);
        return new Build(directory, k.resources, k.generated, k.unmatchedImages, k.filesRead);
    }

    private void run(Path directory, List<Path> extraComponents, boolean asComponent) {
        Path file = directory.resolve("kustomization.yaml");
        ObjectNode kustomization = (ObjectNode) readAll(file).get(0);
        kustomization.fieldNames().forEachRemaining(field -> {
            if (!KNOWN_FIELDS.contains(field)) {
                throw new AssertionError(file + ": '" + field + "' is outside the Kustomize subset ManifestsTest understands");
            }
        });
        String kind = kustomization.path("kind").asText();
        if (!kind.equals(asComponent ? "Component" : "Kustomization")) {
            throw new AssertionError(file + ": kind " + kind + " where a " + (asComponent ? "Component" : "Kustomization") + " belongs");
        }
        for (JsonNode entry : kustomization.path("resources")) {
            Path path = directory.resolve(entry.asText()).normalize();
            if (Files.isDirectory(path)) {
                Kustomize child = new Kustomize();
                child.run(path, List.of(), false);
                resources.addAll(child.resources);
                generated.addAll(child.generated);
                unmatchedImages.addAll(child.unmatchedImages);
                filesRead.addAll(child.filesRead);
            } else {
                for (JsonNode document : readAll(path)) {
                    resources.add((ObjectNode) document);
                }
            }
        }
        List<Path> components = new ArrayList<>();
        kustomization.path("components").forEach(c -> components.add(directory.resolve(c.asText()).normalize()));
        components.addAll(extraComponents);
        for (Path component : components) {
            run(component, List.of(), true);
        }
        generate(directory, kustomization.path("configMapGenerator"), "ConfigMap");
        generate(directory, kustomization.path("secretGenerator"), "Secret");
        for (JsonNode patch : kustomization.path("patches")) {
            if (!patch.has("path") || patch.size() != 1) {
                throw new AssertionError(file + ": only patches given by path are understood here: " + patch);
            }
            for (JsonNode document : readAll(directory.resolve(patch.get("path").asText()).normalize())) {
                ObjectNode target = find(document.path("kind").asText(), document.path("metadata").path("name").asText(), file);
                merge(target, (ObjectNode) document, "");
            }
        }
        for (JsonNode image : kustomization.path("images")) {
            setImage(image, file);
        }
        if (kustomization.has("namespace")) {
            String namespace = kustomization.get("namespace").asText();
            resources.forEach(r -> r.withObjectProperty("metadata").put("namespace", namespace));
        }
    }

    private void generate(Path directory, JsonNode generators, String kind) {
        for (JsonNode generator : generators) {
            generator.fieldNames().forEachRemaining(field -> {
                if (!GENERATOR_FIELDS.contains(field)) {
                    throw new AssertionError(directory + ": generator field '" + field + "' is not understood here");
                }
            });
            String name = generator.path("name").asText();
            Map<String, String> data = new LinkedHashMap<>();
            for (JsonNode literal : generator.path("literals")) {
                String text = literal.asText();
                int equals = text.indexOf('=');
                if (equals <= 0) {
                    throw new AssertionError(directory + ": literal without a key: " + text);
                }
                putOnce(data, text.substring(0, equals), text.substring(equals + 1), directory);
            }
            for (JsonNode entry : generator.path("files")) {
                String text = entry.asText();
                int equals = text.indexOf('=');
                Path path = directory.resolve(equals < 0 ? text : text.substring(equals + 1)).normalize();
                String key = equals < 0 ? path.getFileName().toString() : text.substring(0, equals);
                putOnce(data, key, read(path), directory);
            }
            String behavior = generator.path("behavior").asText("create");
            ObjectNode existing = resources.stream()
                    .filter(r -> kind.equals(r.path("kind").asText()) && name.equals(r.path("metadata").path("name").asText()))
                    .findFirst().orElse(null);
            switch (behavior) {
                case "create" -> {
                    if (existing != null) {
                        throw new AssertionError(directory + ": " + kind + " " + name + " is generated twice (use behavior: merge)");
                    }
                    resources.add(generatedResource(kind, name, data));
                }
                case "merge", "replace" -> {
                    if (existing == null || !generated.contains(kind + "/" + name)) {
                        throw new AssertionError(directory + ": behavior " + behavior + " on " + kind + " " + name + ", which no generator made");
                    }
                    ObjectNode fresh = generatedResource(kind, name, data);
                    if (behavior.equals("merge")) {
                        existing.withObjectProperty("data").setAll((ObjectNode) fresh.get("data"));
                    } else {
                        existing.set("data", fresh.get("data"));
                    }
                }
                default -> throw new AssertionError(directory + ": unknown generator behavior " + behavior);
            }
            generated.add(kind + "/" + name);
        }
    }

    private static void putOnce(Map<String, String> data, String key, String value, Path directory) {
        if (data.put(key, value) != null) {
            throw new AssertionError(directory + ": key " + key + " given twice in one generator");
        }
    }

    private static ObjectNode generatedResource(String kind, String name, Map<String, String> data) {
        ObjectNode resource = YAML.createObjectNode();
        resource.put("apiVersion", "v1");
        resource.put("kind", kind);
        resource.withObjectProperty("metadata").put("name", name);
        ObjectNode values = resource.withObjectProperty("data");
        data.forEach((key, value) -> values.put(key, kind.equals("Secret")
                ? Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)) : value));
        if (kind.equals("Secret")) {
            resource.put("type", "Opaque");
        }
        return resource;
    }

    private ObjectNode find(String kind, String name, Path file) {
        return resources.stream()
                .filter(r -> kind.equals(r.path("kind").asText()) && name.equals(r.path("metadata").path("name").asText()))
                .findFirst()
                .orElseThrow(() -> new AssertionError(file + ": a patch targets " + kind + " " + name + ", which is not among the resources"));
    }

    private void setImage(JsonNode image, Path file) {
        String name = image.path("name").asText();
        boolean matched = false;
        for (ObjectNode resource : resources) {
            JsonNode podSpec = podSpec(resource);
            if (podSpec == null) {
                continue;
            }
            for (String list : List.of("containers", "initContainers")) {
                for (JsonNode container : podSpec.path(list)) {
                    String current = container.path("image").asText();
                    if (!imageName(current).equals(name)) {
                        continue;
                    }
                    String newName = image.path("newName").asText(imageName(current));
                    String tag = image.has("newTag") ? ":" + image.get("newTag").asText() : tagOf(current);
                    ((ObjectNode) container).put("image", newName + tag);
                    matched = true;
                }
            }
        }
        if (!matched) {
            unmatchedImages.add(file + ": images entry '" + name + "'");
        }
    }

    /** The pod spec of a workload (Deployment, StatefulSet, Job, CronJob), or null. */
    static JsonNode podSpec(JsonNode resource) {
        return switch (resource.path("kind").asText()) {
            case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job" -> resource.path("spec").path("template").path("spec");
            case "CronJob" -> resource.path("spec").path("jobTemplate").path("spec").path("template").path("spec");
            case "Pod" -> resource.path("spec");
            default -> null;
        };
    }

    /** An image reference without its tag or digest. */
    static String imageName(String image) {
        String withoutDigest = image.contains("@") ? image.substring(0, image.indexOf('@')) : image;
        int slash = withoutDigest.lastIndexOf('/');
        int colon = withoutDigest.lastIndexOf(':');
        return colon > slash ? withoutDigest.substring(0, colon) : withoutDigest;
    }

    private static String tagOf(String image) {
        String name = imageName(image);
        return image.substring(name.length());
    }

    /**
     * Strategic merge: objects merge field by field, null deletes, lists with a Kubernetes merge key
     * merge element by element, other lists and scalars are replaced.
     */
    private static void merge(ObjectNode target, ObjectNode patch, String path) {
        for (Map.Entry<String, JsonNode> field : patch.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            String at = path.isEmpty() ? name : path + "." + name;
            if (name.startsWith("$")) {
                throw new AssertionError("patch directive " + name + " at " + at + " is not understood here");
            }
            JsonNode current = target.get(name);
            if (value.isNull()) {
                target.remove(name);
            } else if (value.isObject() && current != null && current.isObject()) {
                merge((ObjectNode) current, (ObjectNode) value, at);
            } else if (value.isArray() && current != null && current.isArray() && mergeKey(target, at) != null) {
                mergeList((ArrayNode) current, (ArrayNode) value, mergeKey(target, at), at);
            } else {
                target.set(name, value.deepCopy());
            }
        }
    }

    private static void mergeList(ArrayNode target, ArrayNode patch, String key, String path) {
        for (JsonNode element : patch) {
            JsonNode id = element.get(key);
            if (id == null) {
                throw new AssertionError("patch list element at " + path + " has no " + key);
            }
            ObjectNode existing = null;
            int index = -1;
            for (int i = 0; i < target.size(); i++) {
                if (id.equals(target.get(i).get(key))) {
                    existing = (ObjectNode) target.get(i);
                    index = i;
                }
            }
            boolean delete = "delete".equals(element.path("$patch").asText(null));
            if (delete) {
                if (existing != null) {
                    target.remove(index);
                }
            } else if (existing != null) {
                merge(existing, (ObjectNode) element, path + "[" + id.asText() + "]");
            } else {
                target.add(element.deepCopy());
            }
        }
    }

    /** The merge key Kubernetes declares for a list, by where the list is; null: the list is replaced. */
    static String mergeKey(ObjectNode parent, String path) {
        String field = path.substring(path.lastIndexOf('.') + 1);
        String normalized = path.replaceAll("\\[[^]]*]", "[]");
        return switch (field) {
            case "containers", "initContainers", "volumes", "imagePullSecrets" -> "name";
            case "env" -> normalized.contains("ontainers[]") ? "name" : null;
            case "volumeMounts" -> "mountPath";
            case "topologySpreadConstraints" -> "topologyKey";
            case "ports" -> normalized.contains("ontainers[]") ? "containerPort"
                    : normalized.equals("spec.ports") && parent.has("selector") ? "port" : null;
            default -> null;
        };
    }

    private List<JsonNode> readAll(Path path) {
        String text = read(path);
        List<JsonNode> documents = new ArrayList<>();
        try (JsonParser parser = YAML.getFactory().createParser(text)) {
            Iterator<JsonNode> values = YAML.readValues(parser, JsonNode.class);
            while (values.hasNext()) {
                JsonNode document = values.next();
                if (document != null && !document.isNull() && !document.isMissingNode()) {
                    if (!document.isObject()) {
                        throw new AssertionError(path + ": a document that is not a mapping");
                    }
                    documents.add(document);
                }
            }
        } catch (IOException e) {
            throw new AssertionError(path + ": not valid YAML: " + e.getMessage(), e);
        }
        return documents;
    }

    private String read(Path path) {
        try {
            filesRead.add(path.toAbsolutePath().normalize());
            return Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + path, e);
        }
    }

    /** A generated Secret's value, decoded. */
    static String secretValue(JsonNode secret, String key) {
        JsonNode value = secret.path("data").get(key);
        return value == null ? null : new String(Base64.getDecoder().decode(value.asText()), StandardCharsets.UTF_8);
    }
}
