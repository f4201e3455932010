package org.eligo.rules;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eligo.facts.FactType;
import org.eligo.facts.FactTypes;
import org.eligo.facts.Field;
import org.eligo.rules.Ruleset.AgeOf;
import org.eligo.rules.Ruleset.AllOf;
import org.eligo.rules.Ruleset.AnyOf;
import org.eligo.rules.Ruleset.Check;
import org.eligo.rules.Ruleset.Combination;
import org.eligo.rules.Ruleset.Compare;
import org.eligo.rules.Ruleset.Condition;
import org.eligo.rules.Ruleset.FieldValue;
import org.eligo.rules.Ruleset.Literal;
import org.eligo.rules.Ruleset.LookbackMonths;
import org.eligo.rules.Ruleset.Operand;
import org.eligo.rules.Ruleset.ParameterValue;
import org.eligo.rules.Ruleset.Subcheck;
import org.eligo.support.yaml.RuleFileException;
import org.eligo.support.yaml.YamlNode;

/**
 * Reads and validates rulesets. A ruleset is a folder holding {@code ruleset.yaml} (id, version,
 * checks) and {@code parameters.yaml} (dated parameters with their legal sources). Everything is
 * checked before anything is returned — unknown keys, fact types and fields, parameter references,
 * operand types — so a ruleset loads whole or not at all, and every error names file and line.
 */
public final class RulesetLoader {

    public static final String RULESET_FILE = "ruleset.yaml";
    public static final String PARAMETERS_FILE = "parameters.yaml";
    /** The folder of rule tests beside the rulesets; not a ruleset. */
    public static final String TESTS_FOLDER = "tests";
    /** Where an extending ruleset's files carry the files of the ruleset it extends (see {@link #load(Path, Map, FactTypes)}). */
    public static final String BASE_FOLDER = "base";
    /** The date key of a parameter value in effect on every day. */
    static final String ALWAYS = "always";

    /** A ruleset id (its folder's name): also what a request naming a ruleset is checked against. */
    public static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,63}");
    private static final Pattern TEMPLATE_ID = Pattern.compile("[a-z][a-z0-9_{}]{0,63}");
    static final Set<String> OPERATORS = Set.of("<", "<=", ">", ">=", "==", "!=");
    private static final Set<String> PERIOD_PARTS = Set.of("period.year", "period.month");
    /** The most subchecks a count may ask for (positions are stored as smallint). */
    static final int MAX_COUNT = 120;

    private RulesetLoader() {
    }

    /** The folder of fact-type declarations beside the rulesets; not a ruleset. A ruleset records those it reads under this name. */
    public static final String FACT_TYPES_FOLDER = FactTypes.FOLDER;

    /**
     * The fact types a subcheck may name while one ruleset is read: the catalogue to resolve names
     * against, and the types used so far (their declarations join the ruleset's files).
     */
    private static final class TypesInUse {
        final FactTypes catalogue;
        final Map<String, FactType> used = new TreeMap<>();

        TypesInUse(FactTypes catalogue) {
            this.catalogue = catalogue;
        }

        FactType resolve(YamlNode node) {
            return resolve(node, node.text("fact"));
        }

        FactType resolve(YamlNode node, String name) {
            FactType type = catalogue.byName(name).orElseThrow(() -> node.error("unknown fact type '" + name + "'; declared in "
                    + FACT_TYPES_FOLDER + "/: " + catalogue.names()));
            used.put(name, type);
            return type;
        }
    }

    /** Every ruleset under {@code directory} (one per sub-folder holding a ruleset.yaml), with the fact types declared there. */
    public static List<Ruleset> loadAll(Path directory) {
        return loadAll(directory, FactTypes.load(directory.resolve(FACT_TYPES_FOLDER)));
    }

    /** Every ruleset under {@code directory}, its subchecks reading the given fact types. */
    public static List<Ruleset> loadAll(Path directory, FactTypes factTypes) {
        List<Ruleset> rulesets = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Map<String, Map<String, String>> ownFiles = new HashMap<>();
        Map<Path, Map<String, String>> extending = new LinkedHashMap<>();
        Map<Path, String> bases = new HashMap<>();
        try (Stream<Path> children = Files.list(directory)) {
            for (Path child : children.sorted().toList()) {
                String childName = child.getFileName().toString();
                if (!Files.isDirectory(child) || childName.equals(TESTS_FOLDER) || childName.equals(FACT_TYPES_FOLDER)) {
                    continue;
                }
                if (!Files.exists(child.resolve(RULESET_FILE))) {
                    // A misspelt ruleset.yml must not leave a program silently unloaded.
                    try (Stream<Path> files = Files.list(child)) {
                        if (files.anyMatch(f -> f.getFileName().toString().matches(".*\\.ya?ml"))) {
                            throw new RuleFileException(child.resolve(RULESET_FILE), 0, "missing: this folder holds rule files but no " + RULESET_FILE);
                        }
                    }
                    continue;
                }
                Map<String, String> files = readAll(child);
                String base = extendsId(child, files);
                if (base == null) {
                    Ruleset ruleset = load(child, files, factTypes);
                    if (!ids.add(ruleset.id())) {
                        throw new RuleFileException(child.resolve(RULESET_FILE), 0, "a second ruleset with id '" + ruleset.id() + "'");
                    }
                    rulesets.add(ruleset);
                    ownFiles.put(ruleset.id(), files);
                } else {
                    extending.put(child, files);
                    bases.put(child, base);
                }
            }
            // A state's folder extends a ruleset of this folder: its files carry the base's, under base/.
            for (Map.Entry<Path, Map<String, String>> entry : extending.entrySet()) {
                Path child = entry.getKey();
                String base = bases.get(child);
                Map<String, String> baseFiles = ownFiles.get(base);
                if (baseFiles == null) {
                    throw new RuleFileException(child.resolve(RULESET_FILE), 0, "extends '" + base + "', which is not a ruleset of "
                            + directory + " (a ruleset that extends another cannot itself be extended)");
                }
                Map<String, String> files = new TreeMap<>(entry.getValue());
                baseFiles.forEach((name, text) -> {
                    if (!name.startsWith(FACT_TYPES_FOLDER + "/")) {
                        files.put(BASE_FOLDER + "/" + name, text);
                    }
                });
                Ruleset ruleset = load(child, files, factTypes);
                if (!ids.add(ruleset.id())) {
                    throw new RuleFileException(child.resolve(RULESET_FILE), 0, "a second ruleset with id '" + ruleset.id() + "'");
                }
                rulesets.add(ruleset);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read the rules folder " + directory, e);
        }
        return rulesets;
    }

    /** The id a folder's ruleset.yaml {@code extends}, or null if it extends none. */
    private static String extendsId(Path folder, Map<String, String> files) {
        if (files.keySet().stream().anyMatch(name -> name.startsWith(BASE_FOLDER + "/"))) {
            throw new RuleFileException(folder.resolve(BASE_FOLDER), 0, "'" + BASE_FOLDER + "/' is reserved in a ruleset folder"
                    + " (a recorded extending ruleset keeps the files of the one it extends there)");
        }
        YamlNode root = YamlNode.parse(folder.resolve(RULESET_FILE), files.get(RULESET_FILE));
        if (!root.isMap()) {
            return null;
        }
        Map<String, YamlNode> members = root.map("the ruleset", null);
        return members.containsKey("extends") ? members.get("extends").text("extends") : null;
    }

    /** One ruleset folder, reading the fact types declared beside it (in ../fact-types). */
    public static Ruleset load(Path folder) {
        Path parent = folder.toAbsolutePath().getParent();
        return load(folder, readAll(folder), FactTypes.load(parent.resolve(FACT_TYPES_FOLDER)));
    }

    /**
     * A ruleset from its files' contents (relative name -> text) as a version recorded in the
     * database holds them, the declarations of the fact types it reads included (under
     * {@code fact-types/}): how an earlier version is evaluated again, with the very declarations it
     * was hashed with. {@code folder} only names the files in error messages.
     */
    public static Ruleset load(Path folder, Map<String, String> files) {
        Map<String, String> declarations = new TreeMap<>();
        files.forEach((name, text) -> {
            if (name.startsWith(FACT_TYPES_FOLDER + "/")) {
                declarations.put(name.substring(FACT_TYPES_FOLDER.length() + 1), text);
            }
        });
        return load(folder, files, FactTypes.parse(folder.resolve(FACT_TYPES_FOLDER), declarations));
    }

    /**
     * A ruleset from its own files, its subchecks naming types of {@code factTypes}. The declarations
     * of the types it reads join its files as {@code fact-types/<file>}: its sha256 covers them, and
     * its recorded version carries them.
     */
    public static Ruleset load(Path folder, Map<String, String> ownFiles, FactTypes factTypes) {
        Map<String, String> files = new TreeMap<>();
        ownFiles.forEach((name, text) -> {
            if (!name.startsWith(FACT_TYPES_FOLDER + "/")) {
                files.put(name, text);
            }
        });
        TypesInUse types = new TypesInUse(factTypes);
        Path rulesetFile = folder.resolve(RULESET_FILE);
        Path parametersFile = folder.resolve(PARAMETERS_FILE);
        if (!files.containsKey(PARAMETERS_FILE)) {
            throw new RuleFileException(parametersFile, 0, "missing: a ruleset needs its parameters file");
        }
        if (!files.containsKey(RULESET_FILE)) {
            throw new RuleFileException(rulesetFile, 0, "missing");
        }
        YamlNode parametersYaml = YamlNode.parse(parametersFile, files.get(PARAMETERS_FILE));
        YamlNode rulesetYaml = YamlNode.parse(rulesetFile, files.get(RULESET_FILE));
        YamlNode ownYaml = rulesetYaml;
        Map<String, YamlNode> own = ownYaml.map("the ruleset", null);
        Map<String, Parameter> parameters;
        ObjectNode parametersJson;
        String extendsId = null;
        if (own.containsKey("extends")) {
            // A state's choices: the base's checks with some of its parameters given other values.
            own = ownYaml.map("a ruleset that extends another", Set.of("id", "version", "title", "reference", "extends"));
            extendsId = own.get("extends").text("extends");
            Path baseFolder = folder.resolve(BASE_FOLDER);
            if (!files.containsKey(BASE_FOLDER + "/" + RULESET_FILE) || !files.containsKey(BASE_FOLDER + "/" + PARAMETERS_FILE)) {
                throw own.get("extends").error("extends '" + extendsId + "', whose files are not here");
            }
            rulesetYaml = YamlNode.parse(baseFolder.resolve(RULESET_FILE), files.get(BASE_FOLDER + "/" + RULESET_FILE));
            YamlNode baseParameters = YamlNode.parse(baseFolder.resolve(PARAMETERS_FILE), files.get(BASE_FOLDER + "/" + PARAMETERS_FILE));
            Map<String, YamlNode> base = rulesetYaml.map("the ruleset", null);
            if (base.containsKey("extends")) {
                throw own.get("extends").error("extends '" + extendsId + "', which extends another: a ruleset extends one that has checks of its own");
            }
            if (!base.containsKey("id") || !extendsId.equals(base.get("id").text("id"))) {
                throw own.get("extends").error("extends '" + extendsId + "', but the files under " + BASE_FOLDER + "/ are another ruleset's");
            }
            List<Map.Entry<YamlNode, YamlNode>> merged = overridden(baseParameters, parametersYaml, extendsId);
            parameters = parameters(merged);
            parametersJson = JsonNodeFactory.instance.objectNode();
            for (Map.Entry<YamlNode, YamlNode> entry : merged) {
                parametersJson.set(entry.getKey().text("a parameter name"), entry.getValue().toJson());
            }
        } else {
            parameters = parameters(parametersYaml.entries("the parameters file"));
            parametersJson = (ObjectNode) parametersYaml.toJson();
        }

        Map<String, YamlNode> root = rulesetYaml.map("the ruleset",
                Set.of("id", "version", "title", "reference", "in_effect_when_defined", "in_effect_from", "review_months", "result", "tests",
                        "checks"));
        Map<String, YamlNode> named = extendsId == null ? root : own;
        String id = required(ownYaml, named, "id").text("id");
        if (!ID.matcher(id).matches()) {
            throw named.get("id").error("id must be lower-case letters, digits and '-' (at most 64)");
        }
        if (id.equals(extendsId)) {
            throw named.get("id").error("a ruleset that extends another has an id of its own");
        }
        String version = required(ownYaml, named, "version").text("version");
        String title = required(ownYaml, named, "title").text("title");
        String reference = named.containsKey("reference") ? named.get("reference").text("reference")
                : root.containsKey("reference") ? root.get("reference").text("reference") : null;
        List<String> inEffect = new ArrayList<>();
        if (root.containsKey("in_effect_when_defined")) {
            for (YamlNode name : root.get("in_effect_when_defined").list("in_effect_when_defined")) {
                inEffect.add(parameterName(name, parameters));
            }
        }
        YamlNode resultNode = required(rulesetYaml, root, "result");
        boolean nested = resultNode.isMap() && resultNode.map("result", null).keySet().stream().anyMatch(k -> k.equals("of") || k.equals("any")
                || k.equals("all"));
        Combination result = nested ? new Combination(Combination.Kind.ANY, new Literal(BigDecimal.ONE))
                : combination(resultNode, parameters, "result");
        String inEffectFrom = null;
        if (root.containsKey("in_effect_from")) {
            inEffectFrom = parameterName(root.get("in_effect_from"), parameters);
            if (parameters.get(inEffectFrom).kind() != Parameter.Kind.DATE) {
                throw root.get("in_effect_from").error("in_effect_from names a date parameter");
            }
        }
        Ruleset.ReviewMonths reviewMonths = null;
        if (root.containsKey("review_months")) {
            YamlNode node = root.get("review_months");
            Map<String, YamlNode> spec = node.map("review_months", Set.of("context", "application_months", "renewal_required_months"));
            FactType context = types.resolve(required(node, spec, "context"));
            if (context.key() != FactType.KeyKind.MONTH || context.field("kind") == null || context.field("period_start") == null) {
                throw spec.get("context").error("the review context is a month fact with 'kind' and 'period_start'");
            }
            Operand application = count(required(node, spec, "application_months"), parameters, "application_months");
            Operand renewal = count(required(node, spec, "renewal_required_months"), parameters, "renewal_required_months");
            if (!(application instanceof ParameterValue a) || !(renewal instanceof ParameterValue r)) {
                throw node.error("the review months' counts are parameters (state options)");
            }
            reviewMonths = new Ruleset.ReviewMonths(context, a.name(), r.name());
        }
        List<Check> checks = new ArrayList<>();
        Set<String> checkIds = new HashSet<>();
        Map<String, YamlNode> namedTests = new LinkedHashMap<>();
        if (root.containsKey("tests")) {
            for (Map.Entry<YamlNode, YamlNode> entry : root.get("tests").entries("tests")) {
                namedTests.put(name(entry.getKey(), "a named test"), entry.getValue());
            }
        }
        ExpressionLoader expressions = new ExpressionLoader(types::resolve, parameters, namedTests);
        for (YamlNode definition : namedTests.values()) {
            expressions.test(definition); // each named test is checked once, used or not
        }
        List<YamlNode> checkNodes = required(rulesetYaml, root, "checks").list("checks");
        if (checkNodes.isEmpty()) {
            throw root.get("checks").error("a ruleset needs at least one check");
        }
        for (YamlNode node : checkNodes) {
            Check check = check(node, parameters, types, expressions);
            if (!checkIds.add(check.id())) {
                throw node.error("a second check with id '" + check.id() + "'");
            }
            if (check.eachReviewMonth() != null) {
                if (reviewMonths == null) {
                    throw node.error("an each_review_month check needs 'review_months' in the ruleset");
                }
                if (checks.stream().anyMatch(c -> c.eachReviewMonth() != null)) {
                    throw node.error("a ruleset has one each_review_month check");
                }
                String skip = check.eachReviewMonth().skippedWhenPassed();
                if (skip != null && !checkIds.contains(skip)) {
                    throw node.error("skipped_when_passed names check '" + skip + "', which is not an earlier check");
                }
            }
            checks.add(check);
        }
        Ruleset.Part resultTree = nested ? part(resultNode, parameters, checks) : null;

        types.used.values().forEach(type -> files.put(FACT_TYPES_FOLDER + "/" + type.file(), type.source()));
        ObjectNode definition = JsonNodeFactory.instance.objectNode();
        ObjectNode rulesetJson = (ObjectNode) rulesetYaml.toJson();
        if (extendsId != null) {
            rulesetJson.put("id", id);
            rulesetJson.put("version", version);
            rulesetJson.put("title", title);
            if (reference != null) {
                rulesetJson.put("reference", reference);
            }
            rulesetJson.put("extends", extendsId);
        }
        definition.set("ruleset", rulesetJson);
        definition.set("parameters", parametersJson);
        definition.set("fact_types", JsonNodeFactory.instance.arrayNode().addAll(
                types.used.keySet().stream().map(JsonNodeFactory.instance::textNode).toList()));
        return new Ruleset(id, version, title, reference, sha256(files), Map.copyOf(parameters), List.copyOf(inEffect), result,
                List.copyOf(checks), definition, Map.copyOf(files), List.copyOf(types.used.values()),
                new Ruleset.Structure(inEffectFrom, reviewMonths, resultTree));
    }

    /**
     * A part of a nested result: {@code {check: id}}; {@code {any: [parts]}} or {@code {all: [parts]}};
     * {@code {at_least: n, of: [parts]}}; or {@code {at_least: review_months, of: each_review_month}}.
     */
    private static Ruleset.Part part(YamlNode node, Map<String, Parameter> parameters, List<Check> checks) {
        Map<String, YamlNode> m = node.map("a part of the result", Set.of("check", "any", "all", "at_least", "of"));
        if (m.containsKey("check")) {
            if (m.size() != 1) {
                throw node.error("{check: id} stands alone");
            }
            String id = m.get("check").text("check");
            if (checks.stream().noneMatch(c -> c.id().equals(id) && c.eachReviewMonth() == null)) {
                throw m.get("check").error("no check '" + id + "' (the review-month checks are {at_least: review_months, of: each_review_month})");
            }
            return new Ruleset.CheckPart(id);
        }
        if (m.containsKey("any") || m.containsKey("all")) {
            String kind = m.containsKey("any") ? "any" : "all";
            if (m.size() != 1) {
                throw node.error("'" + kind + "' stands alone: {" + kind + ": [parts]}");
            }
            List<Ruleset.Part> parts = new ArrayList<>();
            for (YamlNode child : m.get(kind).list(kind)) {
                parts.add(part(child, parameters, checks));
            }
            if (parts.isEmpty()) {
                throw m.get(kind).error("'" + kind + "' needs at least one part");
            }
            return new Ruleset.GroupPart(kind.equals("any") ? new Combination(Combination.Kind.ANY, new Literal(BigDecimal.ONE))
                    : new Combination(Combination.Kind.ALL, null), List.copyOf(parts));
        }
        if (!m.containsKey("at_least") || !m.containsKey("of") || m.size() != 2) {
            throw node.error("a part of the result is {check: id}, {any: [...]}, {all: [...]} or {at_least: k, of: ...}");
        }
        if (m.get("of").isScalar()) {
            if (!"each_review_month".equals(m.get("of").text("of")) || !m.get("at_least").isScalar()
                    || !"review_months".equals(m.get("at_least").text("at_least"))) {
                throw node.error("the review-month checks are counted as {at_least: review_months, of: each_review_month}");
            }
            if (checks.stream().noneMatch(c -> c.eachReviewMonth() != null)) {
                throw m.get("of").error("there is no each_review_month check");
            }
            return new Ruleset.ReviewMonthsPart();
        }
        List<Ruleset.Part> parts = new ArrayList<>();
        for (YamlNode child : m.get("of").list("of")) {
            parts.add(part(child, parameters, checks));
        }
        return new Ruleset.GroupPart(new Combination(Combination.Kind.AT_LEAST, count(m.get("at_least"), parameters, "at_least")), List.copyOf(parts));
    }

    /**
     * The parameters by the names rules use: a plain or derived parameter by its name, a range
     * parameter as its two bounds ({@code name.min}, {@code name.max}).
     */
    /**
     * The base's parameter entries, in its order, each replaced by the extending ruleset's entry of
     * the same name; the extending ruleset may only change parameters the base has.
     */
    private static List<Map.Entry<YamlNode, YamlNode>> overridden(YamlNode base, YamlNode changes, String baseId) {
        Map<String, Map.Entry<YamlNode, YamlNode>> merged = new LinkedHashMap<>();
        for (Map.Entry<YamlNode, YamlNode> entry : base.entries("the parameters file")) {
            merged.put(entry.getKey().text("a parameter name"), entry);
        }
        Set<String> changed = new HashSet<>();
        if (!changes.isScalar()) {
            for (Map.Entry<YamlNode, YamlNode> entry : changes.entries("the parameters file")) {
                String name = entry.getKey().text("a parameter name");
                if (!merged.containsKey(name)) {
                    throw entry.getKey().error("'" + name + "' is not a parameter of " + baseId
                            + " (a ruleset that extends another changes that one's parameters, and adds none)");
                }
                if (!changed.add(name)) {
                    throw entry.getKey().error("parameter '" + name + "' is defined twice");
                }
                merged.put(name, entry);
            }
        }
        return List.copyOf(merged.values());
    }

    private static Map<String, Parameter> parameters(List<Map.Entry<YamlNode, YamlNode>> entries) {
        Map<String, Parameter> parameters = new LinkedHashMap<>();
        Map<String, YamlNode> derived = new LinkedHashMap<>();
        Set<String> names = new HashSet<>();
        for (Map.Entry<YamlNode, YamlNode> entry : entries) {
            String name = entry.getKey().text("a parameter name");
            if (!NAME.matcher(name).matches()) {
                throw entry.getKey().error("parameter name '" + name + "' must be lower_snake_case");
            }
            if (!names.add(name)) {
                throw entry.getKey().error("parameter '" + name + "' is defined twice");
            }
            YamlNode node = entry.getValue();
            Map<String, YamlNode> members = node.map("parameter " + name, Set.of("description", "reference", "values", "product", "sum", "unit"));
            String description = members.containsKey("description") ? members.get("description").text("description") : null;
            if (!members.containsKey("reference")) {
                throw node.error("parameter " + name + " needs a 'reference' to the law or rule it comes from");
            }
            String reference = members.get("reference").text("reference");
            long forms = Stream.of("values", "product", "sum").filter(members::containsKey).count();
            if (forms != 1) {
                throw node.error("parameter " + name + " needs one of 'values' (dated), 'product' or 'sum' (derived)");
            }
            if (!members.containsKey("values")) {
                derived.put(name, node);
                continue;
            }
            TreeMap<LocalDate, BigDecimal> values = new TreeMap<>();
            TreeMap<LocalDate, BigDecimal> mins = new TreeMap<>();
            TreeMap<LocalDate, BigDecimal> maxes = new TreeMap<>();
            Set<Parameter.Kind> kinds = new HashSet<>();
            for (Map.Entry<YamlNode, YamlNode> value : members.get("values").entries("values of " + name)) {
                LocalDate since;
                try {
                    // "always": a value with no start (a rule the law fixed without a date of its own).
                    since = ALWAYS.equals(value.getKey().text("a date")) ? LocalDate.MIN : LocalDate.parse(value.getKey().text("a date"));
                } catch (DateTimeParseException e) {
                    throw value.getKey().error("'" + value.getKey().text("a date") + "' is not a date (YYYY-MM-DD) or 'always'");
                }
                if (values.containsKey(LocalDate.MIN) || mins.containsKey(LocalDate.MIN)
                        || since.equals(LocalDate.MIN) && !(values.isEmpty() && mins.isEmpty())) {
                    throw value.getKey().error("a parameter with a value for 'always' has no other dated value");
                }
                String what = "the value of " + name + " since " + since;
                if (value.getValue().isMap()) {
                    Map<String, YamlNode> range = value.getValue().map(what, Set.of(Parameter.MIN, Parameter.MAX));
                    if (!range.containsKey(Parameter.MIN) || !range.containsKey(Parameter.MAX)) {
                        throw value.getValue().error(what + " is a range: it needs both 'min' and 'max' (both included)");
                    }
                    BigDecimal min = range.get(Parameter.MIN).number("min of " + name + " since " + since);
                    BigDecimal max = range.get(Parameter.MAX).number("max of " + name + " since " + since);
                    if (min.compareTo(max) > 0) {
                        throw value.getValue().error(what + ": min " + min.toPlainString() + " is above max " + max.toPlainString());
                    }
                    mins.put(since, min);
                    maxes.put(since, max);
                } else if (value.getValue().isBoolean()) {
                    kinds.add(Parameter.Kind.BOOLEAN);
                    values.put(since, value.getValue().bool(what) ? BigDecimal.ONE : BigDecimal.ZERO);
                } else if (value.getValue().isNumber()) {
                    kinds.add(Parameter.Kind.NUMBER);
                    values.put(since, value.getValue().number(what));
                } else {
                    try {
                        values.put(since, BigDecimal.valueOf(LocalDate.parse(value.getValue().text(what)).toEpochDay()));
                        kinds.add(Parameter.Kind.DATE);
                    } catch (DateTimeParseException e) {
                        throw value.getValue().error(what + " must be a number, true or false, a date (YYYY-MM-DD) or a range {min, max}");
                    }
                }
                if (kinds.size() > 1) {
                    throw value.getValue().error("parameter " + name + " mixes kinds of values: they are all numbers, all true/false or all dates");
                }
                if (!values.isEmpty() && !mins.isEmpty()) {
                    throw value.getValue().error("parameter " + name + " mixes ranges and numbers: its values are all one or all the other");
                }
            }
            if (values.isEmpty() && mins.isEmpty()) {
                throw members.get("values").error("parameter " + name + " has no values");
            }
            if (mins.isEmpty()) {
                parameters.put(name, new Parameter(name, description, reference, values, null,
                        kinds.isEmpty() ? Parameter.Kind.NUMBER : kinds.iterator().next()));
            } else {
                String min = Parameter.bound(name, Parameter.MIN), max = Parameter.bound(name, Parameter.MAX);
                parameters.put(min, new Parameter(min, description, reference, mins, null));
                parameters.put(max, new Parameter(max, description, reference, maxes, null));
            }
        }
        Map<String, Parameter> dated = Map.copyOf(parameters);
        for (Map.Entry<String, YamlNode> entry : derived.entrySet()) {
            String name = entry.getKey();
            Map<String, YamlNode> members = entry.getValue().map("parameter " + name, null);
            String description = members.containsKey("description") ? members.get("description").text("description") : null;
            String operation = members.containsKey("product") ? "product" : "sum";
            List<YamlNode> terms = members.get(operation).list(operation);
            if (terms.size() < 2) {
                throw members.get(operation).error("a " + operation + " has at least two terms");
            }
            List<String> factors = new ArrayList<>();
            List<BigDecimal> numbers = new ArrayList<>();
            for (YamlNode term : terms) {
                if (term.isNumber()) {
                    numbers.add(term.number("a number"));
                    continue;
                }
                String termName = term.text("a parameter name or a number");
                if (!dated.containsKey(termName)) {
                    throw term.error("'" + termName + "' is not a dated parameter of this ruleset or a range's bound (a "
                            + operation + " combines dated parameters and numbers)");
                }
                if (dated.get(termName).kind() != Parameter.Kind.NUMBER) {
                    throw term.error("'" + termName + "' is not a number: a " + operation + " combines numbers");
                }
                factors.add(termName);
            }
            if (factors.isEmpty()) {
                throw members.get(operation).error("a " + operation + " names at least one parameter (a number alone is a dated value)");
            }
            Parameter.Derived.Operation kind = operation.equals("product") ? Parameter.Derived.Operation.PRODUCT : Parameter.Derived.Operation.SUM;
            parameters.put(name, new Parameter(name, description, members.get("reference").text("reference"), new TreeMap<>(),
                    new Parameter.Derived(kind, List.copyOf(factors), List.copyOf(numbers))));
        }
        return parameters;
    }

    private static Check check(YamlNode node, Map<String, Parameter> parameters, TypesInUse types, ExpressionLoader expressions) {
        if (node.isMap() && node.map("a check", null).containsKey("each_review_month")) {
            YamlNode spec = node.map("a check", Set.of("each_review_month")).get("each_review_month");
            Map<String, YamlNode> m = spec.map("each_review_month", Set.of("id", "title", "reference", "combine", "skipped_when_passed", "subchecks"));
            String template = required(spec, m, "id").text("id");
            if (!TEMPLATE_ID.matcher(template).matches() || !template.contains("{yyyy}") || !template.contains("{mm}")) {
                throw m.get("id").error("a review-month check's id is a template with {yyyy} and {mm}, e.g. month_{yyyy}_{mm}");
            }
            String title = required(spec, m, "title").text("title");
            Combination combination = combination(required(spec, m, "combine"), parameters, "combine");
            String skipped = null;
            String skippedDetail = null;
            if (m.containsKey("skipped_when_passed")) {
                Map<String, YamlNode> skip = m.get("skipped_when_passed").map("skipped_when_passed", Set.of("check", "detail"));
                skipped = required(m.get("skipped_when_passed"), skip, "check").text("check");
                skippedDetail = required(m.get("skipped_when_passed"), skip, "detail").text("detail");
            }
            List<Subcheck> subchecks = new ArrayList<>();
            Set<String> ids = new HashSet<>();
            for (YamlNode child : required(spec, m, "subchecks").list("subchecks")) {
                Map<String, YamlNode> sub = child.map("a subcheck", Set.of("id", "title", "reference", "test"));
                Subcheck subcheck = subcheck(child, sub, name(required(child, sub, "id"), "subcheck id"), parameters, types, expressions);
                if (!ids.add(subcheck.id())) {
                    throw child.error("a second subcheck with id '" + subcheck.id() + "'");
                }
                subchecks.add(subcheck);
            }
            if (subchecks.isEmpty()) {
                throw m.get("subchecks").error("a review-month check has subchecks");
            }
            return new Check(template, title, combination, List.copyOf(subchecks), null, new Ruleset.ReviewMonthChecks(skipped, skippedDetail));
        }
        Map<String, YamlNode> members = node.map("a check", Set.of("id", "title", "reference", "combine", "subchecks", "each_lookback_month"));
        String id = name(required(node, members, "id"), "check id");
        String title = required(node, members, "title").text("title");
        Combination combination = combination(required(node, members, "combine"), parameters, "combine");
        if (members.containsKey("subchecks") == members.containsKey("each_lookback_month")) {
            throw node.error("check " + id + " needs either 'subchecks' or 'each_lookback_month'");
        }
        if (members.containsKey("each_lookback_month")) {
            YamlNode lookback = members.get("each_lookback_month");
            Map<String, YamlNode> spec = lookback.map("each_lookback_month", Set.of("months", "id", "title", "fact", "key", "test"));
            Operand months = count(required(lookback, spec, "months"), parameters, "months");
            String template = required(lookback, spec, "id").text("id");
            if (!TEMPLATE_ID.matcher(template).matches() || !template.contains("{yyyy}") || !template.contains("{mm}")) {
                throw spec.get("id").error("a look-back subcheck id is a template with {yyyy} and {mm}, e.g. month_{yyyy}_{mm}");
            }
            Subcheck subcheck = subcheck(lookback, spec, template, parameters, types, expressions);
            if (subcheck.expression() == null && subcheck.keyBinding().isEmpty()) {
                throw lookback.error("a look-back subcheck reads a monthly fact: its 'key' must bind period.year and period.month");
            }
            return new Check(id, title, combination, List.of(), new LookbackMonths(months, subcheck));
        }
        List<Subcheck> subchecks = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (YamlNode child : members.get("subchecks").list("subchecks")) {
            Map<String, YamlNode> spec = child.map("a subcheck", Set.of("id", "title", "reference", "fact", "key", "test"));
            Subcheck subcheck = subcheck(child, spec, name(required(child, spec, "id"), "subcheck id"), parameters, types, expressions);
            if (!ids.add(subcheck.id())) {
                throw child.error("a second subcheck with id '" + subcheck.id() + "' in check " + id);
            }
            subchecks.add(subcheck);
        }
        if (subchecks.isEmpty()) {
            throw members.get("subchecks").error("check " + id + " has no subchecks");
        }
        if (combination.k() instanceof Literal literal && combination.kind() == Combination.Kind.AT_LEAST
                && ((BigDecimal) literal.value()).intValue() > subchecks.size()) {
            throw members.get("combine").error("at_least " + literal.value() + " of " + subchecks.size() + " subchecks can never pass");
        }
        return new Check(id, title, combination, List.copyOf(subchecks), null);
    }

    private static Subcheck subcheck(YamlNode node, Map<String, YamlNode> spec, String id, Map<String, Parameter> parameters, TypesInUse types,
                                     ExpressionLoader expressions) {
        String title = required(node, spec, "title").text("title");
        if (!spec.containsKey("fact")) {
            // A test over several facts (Expressions): it names the facts it reads itself.
            if (spec.containsKey("key")) {
                throw spec.get("key").error("'key' goes with 'fact'; a test over several facts reads each month fact for the subcheck's month");
            }
            return new Subcheck(id, title, null, Map.of(), null, expressions.test(required(node, spec, "test")));
        }
        YamlNode factNode = required(node, spec, "fact");
        String factName = factNode.text("fact");
        FactType type = types.resolve(factNode);
        Map<String, String> binding = new LinkedHashMap<>();
        if (spec.containsKey("key")) {
            for (Map.Entry<String, YamlNode> entry : spec.get("key").map("key", null).entrySet()) {
                Field field = type.field(entry.getKey());
                if (field == null || !field.key()) {
                    throw entry.getValue().error("'" + entry.getKey() + "' is not a key field of " + factName);
                }
                String part = entry.getValue().text("a key binding");
                if (!PERIOD_PARTS.contains(part) || !part.equals("period." + entry.getKey())) {
                    throw entry.getValue().error("key field " + entry.getKey() + " binds to period." + entry.getKey() + ", not '" + part + "'");
                }
                binding.put(entry.getKey(), part);
            }
        }
        for (Field keyField : type.keyFields()) {
            if (!binding.containsKey(keyField.name())) {
                throw node.error("fact " + factName + " is keyed by " + keyField.name() + ": bind it under 'key' (period.year or period.month)");
            }
        }
        Condition test = condition(required(node, spec, "test"), type, parameters);
        return new Subcheck(id, title, type, Map.copyOf(binding), test);
    }

    private static Condition condition(YamlNode node, FactType type, Map<String, Parameter> parameters) {
        Map<String, YamlNode> members = node.map("a test", Set.of("any", "all", "compare", "op", "to", "label", "unit"));
        if (members.containsKey("any") || members.containsKey("all")) {
            if (members.size() != 1) {
                throw node.error("a test is either 'any: [...]', 'all: [...]' or a comparison, not a mix");
            }
            String kind = members.containsKey("any") ? "any" : "all";
            List<Condition> parts = new ArrayList<>();
            for (YamlNode part : members.get(kind).list(kind)) {
                parts.add(condition(part, type, parameters));
            }
            if (parts.isEmpty()) {
                throw members.get(kind).error("'" + kind + "' needs at least one test");
            }
            return kind.equals("any") ? new AnyOf(List.copyOf(parts)) : new AllOf(List.copyOf(parts));
        }
        YamlNode leftNode = required(node, members, "compare");
        Map<String, YamlNode> left = leftNode.map("compare", Set.of("field", "age_of"));
        if (left.size() != 1) {
            throw leftNode.error("compare names one thing: {field: name} or {age_of: date_field}");
        }
        Operand leftOperand;
        Field.Kind leftKind;
        if (left.containsKey("field")) {
            Field field = field(left.get("field"), type);
            leftOperand = new FieldValue(field.name(), field.kind());
            leftKind = field.kind();
        } else {
            Field field = field(left.get("age_of"), type);
            if (field.kind() != Field.Kind.DATE) {
                throw left.get("age_of").error("age_of needs a date field; " + field.name() + " is " + field.kind());
            }
            leftOperand = new AgeOf(field.name());
            leftKind = Field.Kind.INTEGER;
        }
        String op = required(node, members, "op").text("op");
        if (!OPERATORS.contains(op)) {
            throw members.get("op").error("op must be one of " + String.join(" ", OPERATORS.stream().sorted().toList()));
        }
        YamlNode rightNode = required(node, members, "to");
        Operand right = value(rightNode, leftKind, parameters);
        if (leftKind == Field.Kind.BOOLEAN && !(op.equals("==") || op.equals("!="))) {
            throw members.get("op").error("a true/false field is compared with == or != only");
        }
        if (leftKind == Field.Kind.TEXT && !(op.equals("==") || op.equals("!="))) {
            throw members.get("op").error("a text field is compared with == or != only");
        }
        String label = members.containsKey("label") ? members.get("label").text("label")
                : leftOperand instanceof AgeOf ? "age" : ((FieldValue) leftOperand).field();
        String unit = members.containsKey("unit") ? members.get("unit").text("unit") : null;
        return new Compare(leftOperand, op, right, label, unit);
    }

    private static Operand value(YamlNode node, Field.Kind kind, Map<String, Parameter> parameters) {
        Map<String, YamlNode> members = node.map("to", Set.of("parameter", "value"));
        if (members.size() != 1) {
            throw node.error("'to' is {parameter: name} or {value: literal}");
        }
        if (members.containsKey("parameter")) {
            if (kind == Field.Kind.BOOLEAN || kind == Field.Kind.DATE || kind == Field.Kind.TEXT) {
                throw node.error("parameters are numbers; a " + kind + " field is compared with a {value: ...}");
            }
            String name = parameterName(members.get("parameter"), parameters);
            if (parameters.get(name).kind() != Parameter.Kind.NUMBER) {
                throw members.get("parameter").error("parameter " + name + " is not a number");
            }
            return new ParameterValue(name);
        }
        YamlNode literal = members.get("value");
        return switch (kind) {
            case BOOLEAN -> new Literal(literal.bool("value"));
            case DATE -> {
                try {
                    yield new Literal(LocalDate.parse(literal.text("value")));
                } catch (DateTimeParseException e) {
                    throw literal.error("value must be a date (YYYY-MM-DD)");
                }
            }
            case TEXT -> new Literal(literal.text("value"));
            default -> new Literal(literal.number("value"));
        };
    }

    private static Combination combination(YamlNode node, Map<String, Parameter> parameters, String what) {
        if (node.isScalar()) {
            String kind = node.text(what);
            return switch (kind) {
                case "any" -> new Combination(Combination.Kind.ANY, new Literal(BigDecimal.ONE));
                case "all" -> new Combination(Combination.Kind.ALL, null);
                default -> throw node.error(what + " is any, all, or {at_least: n}");
            };
        }
        Map<String, YamlNode> members = node.map(what, Set.of("at_least"));
        if (!members.containsKey("at_least")) {
            throw node.error(what + " is any, all, or {at_least: n}");
        }
        return new Combination(Combination.Kind.AT_LEAST, count(members.get("at_least"), parameters, "at_least"));
    }

    /**
     * A count (look-back months, at_least k): a whole number from 1 to {@link #MAX_COUNT} written in
     * the file, or a parameter all of whose dated values are such numbers.
     */
    private static Operand count(YamlNode node, Map<String, Parameter> parameters, String what) {
        if (node.isNumber()) {
            if (!isCount(node.number(what))) {
                throw node.error(what + " must be a whole number from 1 to " + MAX_COUNT);
            }
            return new Literal(node.number(what));
        }
        Map<String, YamlNode> members = node.map(what, Set.of("parameter"));
        if (!members.containsKey("parameter")) {
            throw node.error(what + " is a whole number or {parameter: name}");
        }
        String name = parameterName(members.get("parameter"), parameters);
        Parameter parameter = parameters.get(name);
        if (parameter.derived() != null || parameter.kind() != Parameter.Kind.NUMBER
                || !parameter.values().values().stream().allMatch(RulesetLoader::isCount)) {
            throw members.get("parameter").error("parameter " + name + " is used as a count: its values must be whole numbers from 1 to " + MAX_COUNT);
        }
        return new ParameterValue(name);
    }

    private static boolean isCount(BigDecimal value) {
        return value.signum() > 0 && value.stripTrailingZeros().scale() <= 0 && value.compareTo(BigDecimal.valueOf(MAX_COUNT)) <= 0;
    }

    private static Field field(YamlNode node, FactType type) {
        return field(node, type, node.text("a field name"));
    }

    /** {@code type}'s field {@code name}, or a load error at {@code node} listing the type's fields. */
    static Field field(YamlNode node, FactType type, String name) {
        Field field = type.field(name);
        if (field == null) {
            throw node.error(type.name() + " has no field '" + name + "'; its fields: "
                    + String.join(", ", type.fields().stream().map(Field::name).toList()));
        }
        return field;
    }

    static String parameterName(YamlNode node, Map<String, Parameter> parameters) {
        String name = node.text("a parameter name");
        if (parameters.containsKey(name)) {
            return name;
        }
        if (parameters.containsKey(Parameter.bound(name, Parameter.MIN))) {
            throw node.error("parameter " + name + " is a range: name a bound, " + Parameter.bound(name, Parameter.MIN)
                    + " or " + Parameter.bound(name, Parameter.MAX));
        }
        int dot = name.lastIndexOf('.');
        if (dot > 0 && parameters.containsKey(Parameter.bound(name.substring(0, dot), Parameter.MIN))) {
            String range = name.substring(0, dot);
            throw node.error("a range's bounds are " + Parameter.bound(range, Parameter.MIN) + " and " + Parameter.bound(range, Parameter.MAX)
                    + ", not '" + name + "'");
        }
        throw node.error("unknown parameter '" + name + "' (not in " + PARAMETERS_FILE + ")");
    }

    private static String name(YamlNode node, String what) {
        String name = node.text(what);
        if (!NAME.matcher(name).matches()) {
            throw node.error(what + " '" + name + "' must be lower_snake_case");
        }
        return name;
    }

    static YamlNode required(YamlNode parent, Map<String, YamlNode> members, String key) {
        YamlNode value = members.get(key);
        if (value == null) {
            throw parent.error("'" + key + "' is required here");
        }
        return value;
    }

    /** Every regular file below {@code folder}, by relative name ('/' separated). */
    public static Map<String, String> readAll(Path folder) {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(folder)) {
            for (Path file : paths.filter(Files::isRegularFile).sorted().toList()) {
                files.put(folder.relativize(file).toString().replace('\\', '/'), Files.readString(file, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new RuleFileException(folder, 0, "cannot be read: " + e.getMessage());
        }
        return files;
    }

    /** SHA-256 over the files, each as its relative name, a NUL, its UTF-8 bytes and a NUL, in name order. */
    public static String sha256(Map<String, String> files) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, String> file : new TreeMap<>(files).entrySet()) {
                digest.update(file.getKey().getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
                digest.update(file.getValue().getBytes(StandardCharsets.UTF_8));
                digest.update((byte) 0);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
