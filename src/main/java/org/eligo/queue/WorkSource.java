package org.eligo.queue;

/** A kind of queued work the worker threads take turns at: messages, automatic determinations, reruns. */
public interface WorkSource {

    /** Claims and does one batch; returns how many items it claimed (0: nothing due). */
    int processBatch();

    /** Whether worker thread {@code index} (from 0) takes this kind of work; lets a kind have only a share of the threads. */
    default boolean servesWorker(int index) {
        return true;
    }
}
