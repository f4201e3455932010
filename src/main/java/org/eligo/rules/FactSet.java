package org.eligo.rules;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

import org.eligo.facts.Fact;
import org.eligo.facts.FactType;

/** The facts an evaluation may read: those active at one instant, by type. */
public final class FactSet {

    private final Map<String, List<Fact>> byType = new HashMap<>();

    /**
     * Keeps from {@code facts} those active at {@code asOf}; revoked and later facts are ignored, and
     * so are withdrawals: a withdrawn key reads as having no fact, and is never listed in fact_ids.
     */
    public FactSet(Collection<Fact> facts, Instant asOf) {
        for (Fact fact : facts) {
            if (fact.activeAt(asOf) && !fact.isWithdrawal()) {
                byType.computeIfAbsent(fact.type(), t -> new ArrayList<>()).add(fact);
            }
        }
    }

    /** Every active fact of {@code type}. */
    public List<Fact> all(FactType type) {
        return byType.getOrDefault(type.name(), List.of());
    }

    /** Active facts of {@code type} whose key fields have the given values. */
    public List<Fact> matching(FactType type, Map<String, Integer> key) {
        List<Fact> found = new ArrayList<>();
        for (Fact fact : byType.getOrDefault(type.name(), List.of())) {
            boolean matches = true;
            for (Map.Entry<String, Integer> entry : key.entrySet()) {
                JsonNode value = fact.data().get(entry.getKey());
                if (value == null || !value.isNumber() || value.decimalValue().compareTo(BigDecimal.valueOf(entry.getValue())) != 0) {
                    matches = false;
                    break;
                }
            }
            if (matches) {
                found.add(fact);
            }
        }
        return found;
    }
}
