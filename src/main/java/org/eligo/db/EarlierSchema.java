package org.eligo.db;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import jakarta.inject.Singleton;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.configuration.Configuration;
import org.flywaydb.core.api.configuration.FluentConfiguration;

import io.quarkus.flyway.FlywayConfigurationCustomizer;
import io.quarkus.flyway.FlywayDataSource;

/**
 * Refuses a database whose schema an earlier build made, before Flyway validates or migrates it.
 *
 * <p>The migrations (src/main/resources/db/migration) start from a baseline that replaced the
 * eleven-step history of earlier builds, and a database made by one of those is not upgraded. Flyway
 * alone would stop on it with "Validate failed: Migration checksum mismatch ...", which does not say
 * what to do. This check runs whenever the Flyway of the {@code migrations} datasource is created,
 * that is before Quarkus runs it at start (migrate, or validate where pods do not migrate, or the
 * init-and-exit migration Job), and fails the start with a message naming what to delete.
 *
 * <p>A schema is refused when its history holds a versioned migration that this build carries with
 * other content (checksum), or that this build does not carry although it carries later ones.
 * Migrations past this build's last one are a newer build's, which Flyway tolerates (a rollback):
 * so does this check.
 */
@Singleton
@FlywayDataSource("migrations")
public class EarlierSchema implements FlywayConfigurationCustomizer {

    private static final Set<MigrationState> FUTURE = Set.of(MigrationState.FUTURE_SUCCESS, MigrationState.FUTURE_FAILED);
    private static final Set<MigrationState> MISSING = Set.of(MigrationState.MISSING_SUCCESS, MigrationState.MISSING_FAILED);

    @Override
    public void customize(FluentConfiguration configuration) {
        refuse(configuration, EmbeddedDatabase.dataDirectory());
    }

    /**
     * Throws {@link IllegalStateException} if the schema {@code configuration} points at was made by
     * an earlier build. {@code embeddedDataDirectory}: the embedded PostgreSQL's data directory, if
     * that is the database, so that the message names it.
     */
    public static void refuse(Configuration configuration, Optional<Path> embeddedDataDirectory) {
        List<String> foreign = foreign(new Flyway(configuration).info().all());
        if (!foreign.isEmpty()) {
            throw new IllegalStateException(message(foreign, configuration, embeddedDataDirectory));
        }
    }

    /** The applied versioned migrations that are not this build's, as {@code V1 "description"}. */
    static List<String> foreign(MigrationInfo[] migrations) {
        return Arrays.stream(migrations)
                .filter(m -> m.isVersioned() && m.isApplied() && !FUTURE.contains(m.getState()))
                .filter(m -> MISSING.contains(m.getState()) || !m.isChecksumMatching())
                .map(m -> "V" + m.getVersion() + " \"" + m.getDescription() + "\"")
                .toList();
    }

    static String message(List<String> foreign, Configuration configuration, Optional<Path> embeddedDataDirectory) {
        String what = "Eligo cannot start: this database holds a schema made by an earlier build of Eligo, which this build does not"
                + " upgrade (its migration history, table " + configuration.getTable() + ", has migrations this build does not carry: "
                + String.join(", ", foreign) + "). Start from an empty database, losing what the old one holds: ";
        if (embeddedDataDirectory.isPresent()) {
            return what + "delete the embedded PostgreSQL's data directory " + embeddedDataDirectory.get()
                    + " (eligo.embedded-postgres.data-dir) and start Eligo again; it creates and migrates a new one.";
        }
        String[] where = where(configuration);
        return what + "drop and recreate the database " + where[0] + " (or its schema " + where[1]
                + "), then start Eligo again; it migrates the empty database.";
    }

    /** The database and schema Flyway works in, quoted, for the message (generic words if they cannot be read). */
    private static String[] where(Configuration configuration) {
        try (Connection connection = configuration.getDataSource().getConnection();
             Statement statement = connection.createStatement();
             ResultSet rs = statement.executeQuery("SELECT current_database(), current_schema()")) {
            rs.next();
            String schema = configuration.getDefaultSchema() != null ? configuration.getDefaultSchema() : rs.getString(2);
            return new String[] {"\"" + rs.getString(1) + "\"", "\"" + schema + "\""};
        } catch (SQLException | RuntimeException e) {
            return new String[] {"Eligo uses", "that the migrations use"};
        }
    }
}
