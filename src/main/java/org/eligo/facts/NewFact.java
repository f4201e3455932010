package org.eligo.facts;

import java.util.List;

/**
 * A fact about to be derived from a message: its type, beneficiary and typed values in field order.
 *
 * @param messageId     the message it comes from
 * @param type          its fact type
 * @param beneficiaryId whom it is about
 * @param values        typed values, as {@link FactData#parse} returns them
 * @param withdrawn     a withdrawal: it supersedes the key's fact, and the key then reads as having none
 */
public record NewFact(String messageId, FactType type, String beneficiaryId, Object[] values, boolean withdrawn) {

    /** Its key within the beneficiary and type ({@link FactType#factKey}). */
    public String factKey() {
        return type.factKey(values);
    }

    /** The fact key: beneficiary, type, key within them. */
    public List<Object> key() {
        return List.of(beneficiaryId, type.name(), factKey());
    }
}
