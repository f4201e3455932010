package org.eligo.rules;

import java.io.Serializable;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;

/**
 * When a ruleset version came into force (table {@code ruleset_activation}, whose owner this is): a
 * row whenever an instance starts with a version other than the latest one recorded. The version in
 * force at T is the latest activation at or before T.
 */
@Entity
@Table(name = "ruleset_activation")
@IdClass(RulesetActivation.Key.class)
public class RulesetActivation extends PanacheEntityBase {

    /** The primary key. */
    public static class Key implements Serializable {
        public String rulesetId;
        public Instant activatedAt;
        public String sha256;

        @Override
        public boolean equals(Object other) {
            return other instanceof Key key && Objects.equals(rulesetId, key.rulesetId) && Objects.equals(activatedAt, key.activatedAt)
                    && Objects.equals(sha256, key.sha256);
        }

        @Override
        public int hashCode() {
            return Objects.hash(rulesetId, activatedAt, sha256);
        }
    }

    @Id
    @Column(name = "ruleset_id")
    public String rulesetId;

    @Id
    @Column(name = "activated_at")
    public Instant activatedAt;

    @Id
    public String sha256;

    /**
     * Records that {@code sha256} came into force, unless it is the version in force already. Native
     * SQL: the comparison with the latest activation and the insert are one statement, and the
     * database's clock stamps it.
     */
    static void recordIfNew(String rulesetId, String sha256) {
        getEntityManager().createNativeQuery("""
                        INSERT INTO ruleset_activation (ruleset_id, sha256)
                        SELECT ?1, ?2
                         WHERE ?2 IS DISTINCT FROM (SELECT sha256 FROM ruleset_activation WHERE ruleset_id = ?1 ORDER BY activated_at DESC LIMIT 1)""")
                .setParameter(1, rulesetId).setParameter(2, sha256).executeUpdate();
    }

    /** A ruleset's activations, oldest first. */
    static List<RulesetActivation> of(String rulesetId) {
        return list("rulesetId = ?1 ORDER BY activatedAt", rulesetId);
    }
}
