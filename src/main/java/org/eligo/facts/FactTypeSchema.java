package org.eligo.facts;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.agroal.api.AgroalDataSource;
import io.quarkus.agroal.DataSource;
import io.quarkus.runtime.StartupEvent;

/**
 * What the fact-type declarations need in the database, applied by the step that migrates the
 * schema, as the schema owner (the {@code migrations} datasource): a {@code fact_type} row per
 * declared type (the declaration as applied) and the type's typed view {@code fact_<type>}, one
 * column per field, for analysts' SQL. The service role never runs DDL.
 *
 * <p>Once facts of a type exist, its declaration may only gain optional fields: any other change to
 * its key, its meaning of absence or an existing field is refused here, and the service does not
 * start (a new meaning is a new type name). Descriptions and references may change; they are not
 * part of what is applied. Where this instance does not migrate
 * ({@code quarkus.flyway.migrations.migrate-at-start=false}: a migration Job does it), it only checks
 * that each of its declarations has been applied, as it was, or extended by a newer release.
 *
 * <p>A type in the database that this release does not declare is left alone (its facts, its view):
 * during a rolling deploy an older instance must not undo a newer one's types, and messages of the
 * type are left for instances that declare it.
 *
 * <p>This is the owner of table {@code fact_type}: every statement on it is here, and the service
 * role only reads it (R__90_tables.sql). It stays JDBC, in a transaction of its own on the
 * {@code migrations} connection rather than {@code @Transactional}: that datasource is not a JTA
 * one ({@code transactions=disabled}), and DDL on the views runs with it. Whether a type has facts
 * is asked of {@link Facts}, the owner of {@code fact}, on this same connection and transaction.
 */
@ApplicationScoped
public class FactTypeSchema {

    private static final Logger LOG = Logger.getLogger(FactTypeSchema.class);

    /** Serialises instances applying declarations at once (a rolling start); lock class 17775 is this step's own (R__10_coordination.sql). */
    static final String LOCK = "SELECT pg_advisory_xact_lock(17775, 0)";
    static final String APPLIED = "SELECT name, declaration::text FROM fact_type";
    static final String UPSERT = """
            INSERT INTO fact_type (name, key_kind, declaration, source, applied_at)
            VALUES (?, ?, ?::jsonb, ?, clock_timestamp())
            ON CONFLICT (name) DO UPDATE SET key_kind = excluded.key_kind, declaration = excluded.declaration,
                                             source = excluded.source, applied_at = excluded.applied_at
            """; // the time in VALUES, not in SET: on Citus (a reference table) SET may call no volatile function

    private static final ObjectMapper JSON = new ObjectMapper();

    private final AgroalDataSource owner;
    private final FactTypes types;
    private final boolean migrates;

    public FactTypeSchema(@DataSource("migrations") AgroalDataSource owner, FactTypes types,
                          @ConfigProperty(name = "quarkus.flyway.migrations.migrate-at-start", defaultValue = "false") boolean migrates) {
        this.owner = owner;
        this.types = types;
        this.migrates = migrates;
    }

    /** After Flyway, before the rulesets and the workers (which read and write facts of these types). */
    void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION - 100) StartupEvent event) {
        try (Connection connection = owner.getConnection()) {
            connection.setAutoCommit(false);
            try {
                apply(connection);
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Could not apply the fact-type declarations: " + e.getMessage(), e);
        }
    }

    /** How a declaration compares with the one applied. */
    enum Change { NONE, NEW, GAINS_OPTIONAL_FIELDS, APPLIED_IS_NEWER, INCOMPATIBLE }

    void apply(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(LOCK);
        }
        Map<String, JsonNode> applied = new HashMap<>();
        try (PreparedStatement statement = connection.prepareStatement(APPLIED); ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                applied.put(rs.getString(1), parse(rs.getString(2)));
            }
        }
        for (FactType type : types.all()) {
            ObjectNode declared = applied(type);
            JsonNode current = applied.get(type.name());
            Change change = compare(declared, current);
            String file = "rules/" + FactTypes.FOLDER + "/" + type.file();
            switch (change) {
                case NONE, APPLIED_IS_NEWER -> {
                    if (migrates && !viewExists(connection, type)) {
                        createView(connection, type, change == Change.NONE ? declared : current);
                    }
                }
                case NEW, GAINS_OPTIONAL_FIELDS, INCOMPATIBLE -> {
                    if (change == Change.INCOMPATIBLE && Facts.anyOfType(connection, type.name())) {
                        throw new IllegalStateException(file + ": the declaration of " + type.name() + " changed, and facts of the type exist."
                                + " Once facts exist a declaration may only gain optional fields; its key, its meaning of absence and its"
                                + " existing fields stay as they are (a new meaning is a new type name). Applied: " + current + "; declared: " + declared);
                    }
                    if (!migrates) {
                        throw new IllegalStateException(file + ": the declaration of " + type.name() + " is not applied to the database"
                                + " (this instance does not migrate: run the migration step of this release first)");
                    }
                    upsert(connection, type, declared);
                    createView(connection, type, declared);
                    LOG.infof("Fact type %s %s", type.name(), change == Change.NEW ? "applied" : "declaration updated");
                }
            }
        }
    }

    /** The declaration as applied: what its facts mean (key, absence, fields and their bounds); not its prose. */
    static ObjectNode applied(FactType type) {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("key", type.key().label());
        node.put("absent", type.absent().label());
        ArrayNode fields = node.putArray("fields");
        for (Field field : type.fields()) {
            ObjectNode f = fields.addObject();
            f.put("name", field.name());
            f.put("kind", field.kind().name());
            f.put("key", field.key());
            f.put("required", field.required());
            f.put("default", field.defaultValue() == null ? null : field.defaultValue().toString());
            f.put("min", field.min() == null ? null : field.min().toPlainString());
            f.put("max", field.max() == null ? null : field.max().toPlainString());
            f.put("decimals", field.decimals());
            f.put("not_after_received", field.notAfterToday());
            ArrayNode values = f.putArray("values");
            field.values().forEach(values::add);
            f.put("max_length", field.maxLength());
        }
        // Only when there are some, so that declarations applied before requirements existed compare equal.
        if (!type.requires().isEmpty()) {
            ArrayNode requires = node.putArray("requires");
            for (FactType.Requirement requirement : type.requires()) {
                ObjectNode r = requires.addObject();
                if (requirement instanceof FactType.Requirement.AtLeastOneOf one) {
                    ArrayNode names = r.putArray("at_least_one_of");
                    one.fields().forEach(names::add);
                } else if (requirement instanceof FactType.Requirement.RequiredUnless unless) {
                    r.put("field", unless.field());
                    r.putObject("unless").put(unless.when(), unless.is());
                }
            }
        }
        return node;
    }

    static Change compare(JsonNode declared, JsonNode current) {
        if (current == null) {
            return Change.NEW;
        }
        if (declared.equals(current)) {
            return Change.NONE;
        }
        if (extendsWithOptionalFields(declared, current)) {
            return Change.GAINS_OPTIONAL_FIELDS;
        }
        if (extendsWithOptionalFields(current, declared)) {
            return Change.APPLIED_IS_NEWER;
        }
        return Change.INCOMPATIBLE;
    }

    /** Whether {@code wider} is {@code narrower} with optional fields added (anywhere, every other field as it was). */
    private static boolean extendsWithOptionalFields(JsonNode wider, JsonNode narrower) {
        if (!Objects.equals(wider.get("key"), narrower.get("key")) || !Objects.equals(wider.get("absent"), narrower.get("absent"))
                || !Objects.equals(wider.get("requires"), narrower.get("requires"))) {
            return false;
        }
        Map<String, JsonNode> widerFields = new HashMap<>();
        wider.get("fields").forEach(f -> widerFields.put(f.get("name").asText(), f));
        for (JsonNode field : narrower.get("fields")) {
            if (!field.equals(widerFields.remove(field.get("name").asText()))) {
                return false;
            }
        }
        return widerFields.values().stream().noneMatch(f -> f.get("required").asBoolean());
    }

    private static boolean viewExists(Connection connection, FactType type) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            statement.setString(1, type.view());
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static void upsert(Connection connection, FactType type, ObjectNode declared) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(UPSERT)) {
            statement.setString(1, type.name());
            statement.setString(2, type.key().label());
            statement.setString(3, declared.toString());
            statement.setString(4, type.source());
            statement.executeUpdate();
        }
    }

    /**
     * The typed view: the fact's own columns, then one column per field, cast from {@code data}.
     * Dropped and made again (its columns may change); nothing depends on it. Names come from the
     * declaration, checked by the loader against strict patterns, and are quoted besides.
     */
    static void createView(Connection connection, FactType type, JsonNode applied) throws SQLException {
        StringBuilder columns = new StringBuilder();
        for (JsonNode field : applied.get("fields")) {
            String name = field.get("name").asText();
            String sqlType = Field.Kind.valueOf(field.get("kind").asText()).sqlType();
            columns.append(", (f.data ->> ").append(literal(name)).append(")::").append(sqlType).append(" AS ").append(identifier(name));
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute("DROP VIEW IF EXISTS " + identifier(type.view()));
            statement.execute("CREATE VIEW " + identifier(type.view()) + " AS SELECT f.id, f.beneficiary_id, f.message_id, f.created_at,"
                    + " f.revoked_at, f.revoked_by, f.replay_id, f.withdrawn" + columns + " FROM fact f WHERE f.type = " + literal(type.name()));
            statement.execute("COMMENT ON VIEW " + identifier(type.view()) + " IS " + literal("Facts of type " + type.name()
                    + " (rules/fact-types/" + type.file() + "), one column per field; made from the declaration at migration"));
            statement.execute("GRANT SELECT ON " + identifier(type.view()) + " TO eligo_service");
        }
    }

    private static String identifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    private static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("fact_type.declaration is not JSON", e);
        }
    }
}
