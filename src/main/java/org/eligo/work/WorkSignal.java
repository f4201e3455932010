package org.eligo.work;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import jakarta.enterprise.context.ApplicationScoped;

/**
 * Wakes idle workers when there may be new work: after this instance commits new messages, a rerun
 * or a redrive, and when a notification arrives from PostgreSQL (messages committed by any instance).
 *
 * <p>A generation counter closes the gap between "the claim found nothing" and "start waiting": a
 * worker reads the generation before it claims and waits only if no wake-up came since.
 */
@ApplicationScoped
public class WorkSignal {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final jakarta.transaction.TransactionSynchronizationRegistry transactions;
    private long generation;

    public WorkSignal(jakarta.transaction.TransactionSynchronizationRegistry transactions) {
        this.transactions = transactions;
    }

    /**
     * Wakes the workers once the caller's transaction has committed (not if it rolls back): woken
     * before the commit, they would find nothing new to claim and sleep until their next poll.
     */
    public void wakeAfterCommit() {
        transactions.registerInterposedSynchronization(new jakarta.transaction.Synchronization() {
            @Override
            public void beforeCompletion() {
            }

            @Override
            public void afterCompletion(int status) {
                if (status == jakarta.transaction.Status.STATUS_COMMITTED) {
                    wake();
                }
            }
        });
    }

    public void wake() {
        lock.lock();
        try {
            generation++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public long generation() {
        lock.lock();
        try {
            return generation;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until a wake-up after {@code seen}, or {@code timeout}; false on interrupt. */
    public boolean awaitAfter(long seen, Duration timeout) {
        long remaining = timeout.toNanos();
        lock.lock();
        try {
            while (generation == seen && remaining > 0) {
                remaining = changed.awaitNanos(remaining);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }
}
