package milter.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CFormatTest {
    @Test
    void matchesCPercentG() {
        assertEquals("0", CFormat.g(0));
        assertEquals("0.00118282", CFormat.g(0.00118282));
        assertEquals("0.048787", CFormat.g(0.048787));
        assertEquals("35.2041", CFormat.g(35.20412));
        assertEquals("1.5e-05", CFormat.g(0.000015));
        assertEquals("1e+06", CFormat.g(1_000_000));
        assertEquals("123457", CFormat.g(123456.7));
        assertEquals("2", CFormat.g(2.0000001));
        assertEquals("0.0001", CFormat.g(0.0001));
        assertEquals("-3.5", CFormat.g(-3.5));
    }
}
