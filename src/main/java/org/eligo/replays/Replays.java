package org.eligo.replays;

import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import jakarta.transaction.Transactional.TxType;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;

/** The owner of the table {@code replay} (V3__facts_and_replays.sql): stored replays, one row each. */
@ApplicationScoped
public class Replays implements PanacheRepositoryBase<StoredReplay, String> {

    private final ObjectMapper mapper;

    public Replays(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /**
     * Stores {@code replay} (not a dry run) in the caller's transaction, the one that wrote its facts:
     * a fact names its replay (a foreign key checked at commit), so both commit or neither does.
     */
    @Transactional(TxType.MANDATORY)
    public void record(Replay replay) {
        StoredReplay row = new StoredReplay();
        row.id = replay.id();
        row.reason = replay.reason();
        row.dryRun = false;
        try {
            row.scope = mapper.writeValueAsString(Map.of("beneficiary_ids", replay.beneficiaryIds(), "types", replay.types()));
            row.summary = mapper.writeValueAsString(Map.of("messages_replayed", replay.messagesReplayed(),
                    "beneficiaries_changed", replay.beneficiariesChanged(), "changes", replay.changes().size(), "failures", replay.failures().size()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        // Written now, not at commit: a failure surfaces here, with its SQL error, like the facts'.
        persistAndFlush(row);
    }
}
