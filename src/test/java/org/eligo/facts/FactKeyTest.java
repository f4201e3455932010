package org.eligo.facts;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Locale;

import org.junit.jupiter.api.Test;

/** Month keys and padded numbers are written as {@code String.format("%0<n>d")} would write them. */
class FactKeyTest {

    @Test
    void padsAsFormatDoes() {
        for (int value : new int[] {0, 1, 7, 9, 10, 99, 100, 999, 1000, 2027, 9999, 10000, 123456, -1, -7, -99, -100, -2027,
                Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            for (int width : new int[] {1, 2, 4}) {
                assertEquals(String.format(Locale.ROOT, "%0" + width + "d", value), FactType.pad(value, width), value + " to " + width);
            }
        }
    }

    @Test
    void monthKeysSortAsMonths() {
        assertEquals("2027-01", FactType.monthKey(2027, 1));
        assertEquals("2027-12", FactType.monthKey(2027, 12));
        assertEquals("0999-09", FactType.monthKey(999, 9));
    }
}
