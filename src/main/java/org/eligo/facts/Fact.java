package org.eligo.facts;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import jakarta.persistence.Transient;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.hibernate.annotations.Immutable;

/**
 * An immutable fact (a row of table {@code fact}, whose owner is {@link Facts}), as the API shows it:
 * typed data, the message it came from, and its revocation.
 *
 * <p>One class is the mapped row and the API's {@code Fact}: the columns the API shows are its JSON
 * properties, in the order the API has always shown them (by name, as records are); {@code fact_key}, {@code withdrawn} and the
 * stored {@code data} are mapped but not shown (a withdrawal shows as its key's fields and
 * {@code "withdrawn": true} in {@link #data()}). {@code data} as shown has every declared field,
 * null where not reported; {@link Facts} fills it from the stored JSON and the type's declaration
 * when it reads a fact. Rows are never updated through this mapping ({@code @Immutable}): facts are
 * written and revoked by the set-wise statements in {@link Facts}. The accessors are named as the
 * record this class replaced named them, so readers of facts (rules, determinations) read it as before.
 */
@Entity
@Table(name = "fact")
@Immutable
@Schema(name = "Fact")
@JsonPropertyOrder(alphabetic = true)
public class Fact implements org.eligo.auth.AboutBeneficiary {

    // The table's primary key is (id, beneficiary_id), so that it can be distributed by beneficiary;
    // id alone is unique (ULIDs), which is what a look-up by id relies on.
    @Id
    @JsonProperty
    private String id;

    @JsonProperty
    @Schema(ref = org.eligo.facts.rest.FactTypeDocument.TYPE_NAMES)
    private String type;

    @JsonProperty
    @Column(name = "beneficiary_id")
    private String beneficiaryId;

    @JsonProperty
    @Column(name = "message_id")
    private String messageId;

    @JsonProperty
    @Column(name = "created_at")
    private Instant createdAt;

    @JsonProperty
    @Column(name = "revoked_at")
    private Instant revokedAt;

    @JsonProperty
    @Column(name = "revoked_by")
    private String revokedBy;

    @JsonProperty
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(description = "the replay that re-derived this fact from its message; absent for ordinary processing")
    @Column(name = "replay_id")
    private String replayId;

    @JsonProperty
    @Schema(ref = org.eligo.facts.rest.FactTypeDocument.DATA,
            description = "The typed fields of the fact, every field present (null when not reported)")
    @Transient
    private ObjectNode data;

    @JsonIgnore
    @Schema(hidden = true)
    @Column(name = "fact_key")
    private String factKey;

    @JsonIgnore
    @Schema(hidden = true)
    private boolean withdrawn;

    /** The typed fields as stored (jsonb, read as its text: numbers exactly as stored); shown as {@link #data()}. */
    @JsonIgnore
    @Schema(hidden = true)
    @Column(name = "data")
    private String stored;

    /** For Hibernate. */
    protected Fact() {
    }

    /**
     * A fact as shown, built by {@link Facts}' set-wise reads (and by tests of the rules): the mapped
     * columns the API does not show stay unset, except whether it is a withdrawal, which its data says.
     */
    public Fact(String id, String type, String beneficiaryId, String messageId, Instant createdAt, Instant revokedAt, String revokedBy,
                String replayId, ObjectNode data) {
        this.id = id;
        this.type = type;
        this.beneficiaryId = beneficiaryId;
        this.messageId = messageId;
        this.createdAt = createdAt;
        this.revokedAt = revokedAt;
        this.revokedBy = revokedBy;
        this.replayId = replayId;
        this.data = data;
        this.withdrawn = data != null && data.path(FactData.WITHDRAWN).asBoolean(false);
    }

    public String id() {
        return id;
    }

    /** The fact's key within its beneficiary and type (not shown: its fields are in the data). */
    String factKey() {
        return factKey;
    }

    public String type() {
        return type;
    }

    @Override
    public String beneficiaryId() {
        return beneficiaryId;
    }

    public String messageId() {
        return messageId;
    }

    public Instant createdAt() {
        return createdAt;
    }

    public Instant revokedAt() {
        return revokedAt;
    }

    public String revokedBy() {
        return revokedBy;
    }

    public String replayId() {
        return replayId;
    }

    public ObjectNode data() {
        return data;
    }

    /** A withdrawal (contract, "Withdrawal"): its key reads as having no fact. */
    @JsonIgnore
    public boolean isWithdrawal() {
        return data != null && data.path(FactData.WITHDRAWN).asBoolean(false);
    }

    public boolean activeAt(Instant instant) {
        return !createdAt.isAfter(instant) && (revokedAt == null || revokedAt.isAfter(instant));
    }

    /** The stored row's {@code data}, its {@code withdrawn} flag: what {@link Facts} shows as {@link #data()}. */
    String stored() {
        return stored;
    }

    boolean withdrawn() {
        return withdrawn;
    }

    /** Sets the data shown, once, as {@link Facts} reads the row. */
    void show(ObjectNode shown) {
        this.data = shown;
    }

    @Override
    public String toString() {
        return "Fact[" + id + " " + type + " " + beneficiaryId + " from " + messageId + (revokedAt == null ? "" : ", revoked by " + revokedBy) + "]";
    }
}
