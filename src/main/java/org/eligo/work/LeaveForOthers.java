package org.eligo.work;

/**
 * Thrown by a kind that finds, while doing claimed work, that this instance cannot do it (its
 * ruleset is not loaded here). The engine rolls the batch back and counts no attempt: the work is
 * left, untouched, for an instance that can do it, never failed or dropped. Claims filter such work
 * out in the first place; this is the backstop.
 */
public class LeaveForOthers extends RuntimeException {

    public LeaveForOthers(String what) {
        super(what, null, false, false);
    }
}
