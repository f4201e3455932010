package org.eligo.facts;

import java.util.ArrayList;
import java.util.List;

/**
 * A fact about to be derived from a message: its type, beneficiary and typed values in field order.
 *
 * @param messageId     the message it comes from
 * @param type          its fact type
 * @param beneficiaryId whom it is about
 * @param values        typed values, as {@link FactData#parse} returns them
 */
public record NewFact(String messageId, FactType type, String beneficiaryId, Object[] values) {

    /** The fact key: beneficiary, then the key fields' values. */
    public List<Object> key() {
        List<Object> key = new ArrayList<>();
        key.add(beneficiaryId);
        List<Field> fields = type.fields();
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).key()) {
                key.add(values[i]);
            }
        }
        return key;
    }
}
