package org.eligo.rules;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;

/**
 * A ruleset version as loaded, kept forever (table {@code ruleset_version}, whose owner this is): a
 * determination names the exact files (sha256) it was made with, and time travel evaluates the
 * version in force at an instant from its recorded files.
 */
@Entity
@Table(name = "ruleset_version")
@IdClass(RulesetVersion.Key.class)
public class RulesetVersion extends PanacheEntityBase {

    /** The primary key: a ruleset and the hash of its files. */
    public static class Key implements Serializable {
        public String rulesetId;
        public String sha256;

        public Key() {
        }

        public Key(String rulesetId, String sha256) {
            this.rulesetId = rulesetId;
            this.sha256 = sha256;
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Key key && Objects.equals(rulesetId, key.rulesetId) && Objects.equals(sha256, key.sha256);
        }

        @Override
        public int hashCode() {
            return Objects.hash(rulesetId, sha256);
        }
    }

    @Id
    @Column(name = "ruleset_id")
    public String rulesetId;

    @Id
    public String sha256;

    public String version;

    public String title;

    @Column(name = "first_loaded_at", insertable = false, updatable = false)
    public Instant firstLoadedAt;

    /**
     * Records a version unless it is recorded already. Native SQL on purpose: instances starting
     * together record the same version at once, and ON CONFLICT DO NOTHING lets every one of them
     * succeed, where a find-then-persist would fail one on the primary key.
     */
    static void record(Ruleset ruleset, String definitionJson, String filesJson) {
        getEntityManager().createNativeQuery("""
                        INSERT INTO ruleset_version (ruleset_id, sha256, version, title, definition, files)
                        VALUES (?1, ?2, ?3, ?4, CAST(?5 AS jsonb), CAST(?6 AS jsonb))
                        ON CONFLICT (ruleset_id, sha256) DO NOTHING""")
                .setParameter(1, ruleset.id()).setParameter(2, ruleset.sha256()).setParameter(3, ruleset.version())
                .setParameter(4, ruleset.title()).setParameter(5, definitionJson).setParameter(6, filesJson)
                .executeUpdate();
    }

    /** A recorded version: its definition (the ruleset and parameters files as JSON) as text. */
    public record Shown(String version, String title, String definition) {
    }

    /** The recorded version {@code sha256} of ruleset {@code rulesetId}, whether or not it is the loaded one. */
    public static java.util.Optional<Shown> shown(String rulesetId, String sha256) {
        List<?> rows = getEntityManager().createNativeQuery(
                        "SELECT version, title, CAST(definition AS text) FROM ruleset_version WHERE ruleset_id = ?1 AND sha256 = ?2")
                .setParameter(1, rulesetId).setParameter(2, sha256).getResultList();
        if (rows.isEmpty()) {
            return java.util.Optional.empty();
        }
        Object[] row = (Object[]) rows.get(0);
        return java.util.Optional.of(new Shown((String) row[0], (String) row[1], (String) row[2]));
    }

    /** The version in force at an instant (or, before the first activation, the first version): sha256 and files as JSON text. */
    record InForce(String sha256, String files) {
    }

    /** Binds id, instant, id. */
    static final String IN_FORCE = """
            SELECT sha256, files FROM (
                (SELECT a.sha256, v.files, 0 AS rank FROM ruleset_activation a JOIN ruleset_version v USING (ruleset_id, sha256)
                  WHERE a.ruleset_id = ? AND a.activated_at <= ? ORDER BY a.activated_at DESC LIMIT 1)
                UNION ALL
                (SELECT a.sha256, v.files, 1 FROM ruleset_activation a JOIN ruleset_version v USING (ruleset_id, sha256)
                  WHERE a.ruleset_id = ? ORDER BY a.activated_at LIMIT 1)) AS candidates
             ORDER BY rank LIMIT 1
            """;

    /**
     * As {@link #IN_FORCE}, on the caller's JDBC connection: evaluations and reruns read it inside
     * their own transaction (with the facts they evaluate), on worker threads with no persistence
     * context of their own.
     */
    static InForce inForceAt(Connection connection, String rulesetId, Instant at) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(IN_FORCE)) {
            statement.setString(1, rulesetId);
            statement.setObject(2, at.atOffset(ZoneOffset.UTC));
            statement.setString(3, rulesetId);
            try (ResultSet rs = statement.executeQuery()) {
                return rs.next() ? new InForce(rs.getString(1), rs.getString(2)) : null;
            }
        }
    }

    /** A recorded version's files as JSON text, for the integrity check. */
    public record RecordedFiles(String rulesetId, String sha256, String files) {
    }

    static final String RECORDED_FILES = "SELECT ruleset_id, sha256, files::text FROM ruleset_version WHERE files IS NOT NULL ORDER BY ruleset_id, sha256";

    /** Every recorded version's files, on the caller's connection (the verifier reads one snapshot). */
    public static List<RecordedFiles> recordedFiles(Connection connection) throws SQLException {
        List<RecordedFiles> files = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(RECORDED_FILES); ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                files.add(new RecordedFiles(rs.getString(1), rs.getString(2), rs.getString(3)));
            }
        }
        return files;
    }
}
