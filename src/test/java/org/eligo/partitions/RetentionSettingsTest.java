package org.eligo.partitions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;

import org.eligo.auth.AccessLogConfig;
import org.junit.jupiter.api.Test;

/**
 * The two retentions are two settings: the records' ({@code eligo.partitions.retention-years}) and
 * the access log's ({@code eligo.access-log.retention-years}), each passed to its own database
 * function, in months. (What the functions do with them: PartitionsTest.)
 */
class RetentionSettingsTest {

    private static PartitionsConfig records(int retentionYears) {
        return new PartitionsConfig() {
            @Override
            public int monthsAhead() {
                return 3;
            }

            @Override
            public int retentionYears() {
                return retentionYears;
            }

            @Override
            public String maintenanceInterval() {
                return "6h";
            }
        };
    }

    @Test
    void eachRetentionGoesToItsOwnFunction() {
        List<String> calls = new ArrayList<>();
        PartitionFunctions functions = new PartitionFunctions(null, null) {
            @Override
            public int createAhead(int monthsAhead) {
                calls.add("ahead " + monthsAhead);
                return 4;
            }

            @Override
            public int dropExpired(int retentionMonths) {
                calls.add("records " + retentionMonths);
                return 3;
            }

            @Override
            public int dropExpiredAccessLog(int retentionMonths) {
                calls.add("access log " + retentionMonths);
                return 2;
            }
        };
        AccessLogConfig twoYears = () -> 2;

        Partitions.Maintenance done = new Partitions(functions, records(7), twoYears).maintain();

        assertEquals(List.of("ahead 3", "records 84", "access log 24"), calls);
        assertEquals(new Partitions.Maintenance(4, 3, 2), done);
        // 0 keeps everything; a negative number of years is refused at start, like the records' setting.
        AccessLogConfig keepAll = () -> 0;
        new Partitions(functions, records(7), keepAll);
        AccessLogConfig negative = () -> -1;
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> new Partitions(functions, records(7), negative));
        assertEquals("eligo.access-log.retention-years must be 0 (keep everything) or more, not -1", refused.getMessage());
    }
}
