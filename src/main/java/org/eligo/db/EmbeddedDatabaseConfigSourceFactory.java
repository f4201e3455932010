package org.eligo.db;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import org.eclipse.microprofile.config.spi.ConfigSource;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;

/**
 * Points the datasource at the embedded PostgreSQL when no {@code quarkus.datasource.jdbc.url} is
 * configured, starting the server as the runtime configuration is built, that is before the
 * datasource, Flyway and everything else that needs it.
 *
 * <p>Settings: {@code eligo.embedded-postgres.enabled} (default true),
 * {@code eligo.embedded-postgres.data-dir} (default {@code data/pg}) and
 * {@code eligo.embedded-postgres.port} (default 0: any free port). With a URL configured, nothing
 * starts.
 */
public class EmbeddedDatabaseConfigSourceFactory implements ConfigSourceFactory {

    public static final String URL = "quarkus.datasource.jdbc.url";
    private static final String RUNTIME_CONFIG_CLASS = "io.quarkus.runtime.generated.Config";
    /** Below application.properties (250): an explicit setting anywhere wins. */
    private static final int ORDINAL = 200;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        if (!buildingRuntimeConfig() || isSet(context.getValue(URL)) || !Boolean.parseBoolean(value(context, "eligo.embedded-postgres.enabled", "true"))) {
            return List.of();
        }
        Path dataDirectory = Path.of(value(context, "eligo.embedded-postgres.data-dir", "data/pg"));
        int port = Integer.parseInt(value(context, "eligo.embedded-postgres.port", "0"));
        String url = EmbeddedDatabase.start(dataDirectory, port);
        return List.of(new PropertiesConfigSource(Map.of(
                URL, url,
                "quarkus.datasource.username", EmbeddedDatabase.SUPERUSER,
                "quarkus.datasource.password", ""), "EmbeddedPostgreSQL", ORDINAL));
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }

    /**
     * Quarkus also reads configuration while it builds the application (augmentation, in Maven or
     * before tests); no database may start then. The runtime configuration is always built by the
     * generated {@code io.quarkus.runtime.generated.Config} class, in every launch mode.
     */
    public static boolean buildingRuntimeConfig() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(frame -> frame.getClassName().equals(RUNTIME_CONFIG_CLASS)));
    }

    /**
     * Whether the runtime configuration being built is the embedded quick start's: no datasource URL
     * and the embedded database enabled. The development keys (tokens, the ledger) are made only then.
     */
    public static boolean embeddedQuickStart(ConfigSourceContext context) {
        return buildingRuntimeConfig() && !isSet(context.getValue(URL))
                && Boolean.parseBoolean(value(context, "eligo.embedded-postgres.enabled", "true"));
    }

    public static boolean isSet(ConfigValue value) {
        return value != null && value.getValue() != null && !value.getValue().isBlank();
    }

    public static String value(ConfigSourceContext context, String name, String defaultValue) {
        ConfigValue value = context.getValue(name);
        return isSet(value) ? value.getValue().trim() : defaultValue;
    }
}
