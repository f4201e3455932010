package org.eligo.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Verification's stream of records: formed on other threads, handed on in order, stopped when the sink stops. */
class RecordedStreamTest {

    private static Recorded form(Integer n) {
        return new Recorded("determination/" + String.format("%08d", n), Canonical.object().put("n", n).putJson("checks", "[{\"id\":\"c\",\"n\":" + n + "}]"));
    }

    @Test
    void everyRecordReachesTheSinkOnceInTheOrderOfTheRowsWithItsBytesWrittenElsewhere() throws Exception {
        int rows = RecordedStream.BATCH * 9 + 123;
        List<String> seen = new ArrayList<>();
        Set<String> formingThreads = ConcurrentHashMap.newKeySet();
        Thread caller = Thread.currentThread();
        List<Thread> sinkThreads = new ArrayList<>();
        try (RecordedStream<Integer> stream = new RecordedStream<>(n -> {
            formingThreads.add(Thread.currentThread().getName());
            return form(n);
        }, recorded -> {
            sinkThreads.add(Thread.currentThread());
            assertArrayEquals(form(seen.size()).content().bytes(), recorded.content().bytes(), "the frozen bytes are the record's");
            seen.add(recorded.label());
            return true;
        })) {
            for (int n = 0; n < rows; n++) {
                assertTrue(stream.add(n));
            }
            assertTrue(stream.finish());
        }
        assertEquals(rows, seen.size());
        for (int n = 0; n < rows; n++) {
            assertEquals(form(n).label(), seen.get(n));
        }
        assertTrue(sinkThreads.stream().allMatch(t -> t == caller), "the sink runs on the caller's thread");
        assertFalse(formingThreads.contains(caller.getName()), "records are formed on the stream's workers");
    }

    @Test
    void aSinkThatStopsStopsTheStream() throws Exception {
        List<String> seen = new ArrayList<>();
        int stopAt = RecordedStream.BATCH + 7;
        boolean going = true;
        int offered = 0;
        try (RecordedStream<Integer> stream = new RecordedStream<>(RecordedStreamTest::form, recorded -> {
            seen.add(recorded.label());
            return seen.size() < stopAt;
        })) {
            while (going && offered < RecordedStream.BATCH * 20) {
                going = stream.add(offered++);
            }
            assertFalse(going, "the stream said to read no more");
            assertFalse(stream.finish());
        }
        assertEquals(stopAt, seen.size(), "nothing after the record the sink stopped at");
        assertTrue(offered < RecordedStream.BATCH * 20, "reading stopped early: " + offered);
    }

    @Test
    void aRowThatCannotBeFormedFailsTheStreamWithItsOwnErrorAfterTheRecordsBeforeIt() {
        List<String> seen = new ArrayList<>();
        IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> {
            try (RecordedStream<Integer> stream = new RecordedStream<>(n -> {
                if (n == RecordedStream.BATCH * 2 + 3) {
                    throw new IllegalArgumentException("row " + n + " is not JSON");
                }
                return form(n);
            }, recorded -> seen.add(recorded.label()))) {
                for (int n = 0; n < RecordedStream.BATCH * 5; n++) {
                    stream.add(n);
                }
                stream.finish();
            }
        });
        assertEquals("row " + (RecordedStream.BATCH * 2 + 3) + " is not JSON", thrown.getMessage());
        assertEquals(RecordedStream.BATCH * 2 + 3, seen.size(), "every record before the bad row reached the sink, in order");
        assertEquals(form(RecordedStream.BATCH * 2 + 2).label(), seen.get(seen.size() - 1));
    }

    @Test
    void aSinkThatThrowsFailsTheStreamWithItsError() {
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> {
            try (RecordedStream<Integer> stream = new RecordedStream<>(RecordedStreamTest::form, recorded -> {
                throw new IllegalStateException("the walk broke at " + recorded.label());
            })) {
                for (int n = 0; n < RecordedStream.BATCH * 5; n++) {
                    stream.add(n);
                }
                stream.finish();
            }
        });
        assertEquals("the walk broke at " + form(0).label(), thrown.getMessage());
    }
}
