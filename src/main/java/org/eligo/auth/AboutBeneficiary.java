package org.eligo.auth;

/**
 * A response about one beneficiary (a fact, a message, a determination): the access log records
 * whose data it carried without each resource having to say so.
 */
public interface AboutBeneficiary {
    String beneficiaryId();
}
