package org.eligo.determinations;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Convert;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import org.hibernate.annotations.Immutable;

/**
 * A stored determination: one row of {@code determination}, written once and never changed (its
 * owner is {@link Determinations}; V4__rulesets_and_determinations.sql). The API shows it as a
 * {@link DeterminationView}. Its checks are one JSON document in the owner's format; the generated
 * column {@code outcomes} is the database's, for reports, and not mapped.
 */
@Entity
@Table(name = "determination")
@Immutable
public class Determination {

    @Id
    public String id;

    @Column(name = "beneficiary_id")
    public String beneficiaryId;

    public String period;

    @Column(name = "ruleset_id")
    public String rulesetId;

    @Column(name = "ruleset_sha256")
    public String rulesetSha256;

    @Column(name = "ruleset_version")
    public String rulesetVersion;

    @Column(name = "evaluated_at")
    public Instant evaluatedAt;

    /** The instant whose active facts were used. */
    @Column(name = "facts_as_of")
    public Instant factsAsOf;

    @Convert(converter = DeterminationTrigger.Column.class)
    public DeterminationTrigger trigger;

    @Column(name = "rerun_id")
    public String rerunId;

    /** The ruleset's result: {@code org.eligo.rules.Result}'s name. */
    public String result;

    /** The checks document (jsonb) as text: {@link Determinations#checks(String)} reads it. */
    public String checks;
}
