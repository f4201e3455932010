package org.eligo.support.yaml;

import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A YAML node that remembers its file and line, so that every complaint about a rule file says
 * where. Only plain YAML is read: no tags that build objects, no anchors turned into code.
 */
public final class YamlNode {

    private final Path file;
    private final Node node;

    private YamlNode(Path file, Node node) {
        this.file = file;
        this.node = node;
    }

    public static YamlNode parse(Path file, String text) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        try {
            Node root = new Yaml(new SafeConstructor(options), new org.yaml.snakeyaml.representer.Representer(new org.yaml.snakeyaml.DumperOptions()),
                    new org.yaml.snakeyaml.DumperOptions(), options).compose(new StringReader(text));
            if (root == null) {
                throw new RuleFileException(file, 1, "the file is empty");
            }
            return new YamlNode(file, root);
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new RuleFileException(file, line, "not valid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new RuleFileException(file, 0, "not valid YAML: " + e.getMessage());
        }
    }

    public Path file() {
        return file;
    }

    public int line() {
        return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
    }

    public RuleFileException error(String problem) {
        return new RuleFileException(file, line(), problem);
    }

    public boolean isMap() {
        return node instanceof MappingNode;
    }

    public boolean isList() {
        return node instanceof SequenceNode;
    }

    public boolean isScalar() {
        return node instanceof ScalarNode;
    }

    /** The members of a mapping, in order; fails on keys outside {@code allowed} and on repeated keys. */
    public Map<String, YamlNode> map(String what, Set<String> allowed) {
        if (!(node instanceof MappingNode mapping)) {
            throw error(what + " must be a mapping");
        }
        Map<String, YamlNode> members = new LinkedHashMap<>();
        for (NodeTuple tuple : mapping.getValue()) {
            YamlNode key = new YamlNode(file, tuple.getKeyNode());
            String name = key.text(what + " key");
            if (allowed != null && !allowed.contains(name)) {
                throw key.error("unknown key '" + name + "' in " + what + "; expected one of " + String.join(", ", allowed.stream().sorted().toList()));
            }
            if (members.put(name, new YamlNode(file, tuple.getValueNode())) != null) {
                throw key.error("key '" + name + "' appears twice in " + what);
            }
        }
        return members;
    }

    /** Keys with their nodes, for mappings whose keys are data (dates, names). */
    public List<Map.Entry<YamlNode, YamlNode>> entries(String what) {
        if (!(node instanceof MappingNode mapping)) {
            throw error(what + " must be a mapping");
        }
        List<Map.Entry<YamlNode, YamlNode>> entries = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (NodeTuple tuple : mapping.getValue()) {
            YamlNode key = new YamlNode(file, tuple.getKeyNode());
            if (!seen.add(key.text(what + " key"))) {
                throw key.error("key '" + key.text(what + " key") + "' appears twice in " + what);
            }
            entries.add(Map.entry(key, new YamlNode(file, tuple.getValueNode())));
        }
        return entries;
    }

    public List<YamlNode> list(String what) {
        if (!(node instanceof SequenceNode sequence)) {
            throw error(what + " must be a list");
        }
        return sequence.getValue().stream().map(child -> new YamlNode(file, child)).toList();
    }

    public String text(String what) {
        if (!(node instanceof ScalarNode scalar) || scalar.getTag().equals(Tag.NULL)) {
            throw error(what + " must be a text value");
        }
        return scalar.getValue();
    }

    public BigDecimal number(String what) {
        if (!(node instanceof ScalarNode scalar) || !(scalar.getTag().equals(Tag.INT) || scalar.getTag().equals(Tag.FLOAT))) {
            throw error(what + " must be a number");
        }
        try {
            return new BigDecimal(scalar.getValue().replace("_", ""));
        } catch (NumberFormatException e) {
            throw error(what + " must be a plain decimal number, not '" + scalar.getValue() + "'");
        }
    }

    public boolean isNumber() {
        return node instanceof ScalarNode scalar && (scalar.getTag().equals(Tag.INT) || scalar.getTag().equals(Tag.FLOAT));
    }

    public boolean isBoolean() {
        return node instanceof ScalarNode scalar && scalar.getTag().equals(Tag.BOOL);
    }

    public boolean bool(String what) {
        if (!isBoolean()) {
            throw error(what + " must be true or false");
        }
        return Boolean.parseBoolean(((ScalarNode) node).getValue());
    }

    /** The node as JSON (numbers, booleans and nulls by their YAML type; everything else as text). */
    public JsonNode toJson() {
        JsonNodeFactory json = JsonNodeFactory.instance;
        if (node instanceof MappingNode mapping) {
            ObjectNode object = json.objectNode();
            for (NodeTuple tuple : mapping.getValue()) {
                object.set(((ScalarNode) tuple.getKeyNode()).getValue(), new YamlNode(file, tuple.getValueNode()).toJson());
            }
            return object;
        }
        if (node instanceof SequenceNode sequence) {
            ArrayNode array = json.arrayNode();
            sequence.getValue().forEach(child -> array.add(new YamlNode(file, child).toJson()));
            return array;
        }
        ScalarNode scalar = (ScalarNode) node;
        if (scalar.getTag().equals(Tag.NULL)) {
            return json.nullNode();
        }
        if (isNumber()) {
            try {
                String digits = scalar.getValue().replace("_", "");
                if (scalar.getTag().equals(Tag.INT)) {
                    return json.numberNode(new java.math.BigInteger(digits));
                }
                return json.numberNode(new BigDecimal(digits));
            } catch (NumberFormatException e) {
                return json.textNode(scalar.getValue());
            }
        }
        if (isBoolean()) {
            return json.booleanNode(Boolean.parseBoolean(scalar.getValue()));
        }
        return json.textNode(scalar.getValue());
    }
}
