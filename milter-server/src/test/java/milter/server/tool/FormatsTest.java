package milter.server.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class FormatsTest {
    @Test
    void percentGLikeC() {
        assertEquals("0.5", Formats.g(0.5));
        assertEquals("0.00123457", Formats.g(0.001234567));
        assertEquals("1.5e-05", Formats.g(0.000015));
        assertEquals("123457", Formats.g(123456.7));
        assertEquals("1.23457e+06", Formats.g(1234567.0));
        assertEquals("2", Formats.g(2.0));
        assertEquals("0", Formats.g(0));
    }

    @Test
    void replyCodeAsUpstreamPrintsIt() {
        assertEquals("[554]<5.7.1>(1% 2%% 3%%%)", Formats.replyCode("554 5.7.1 1% 2%% 3%%%"));
        assertEquals("[451]<4.7.1>(Greylisting)", Formats.replyCode("451 4.7.1 Greylisting"));
        assertEquals("[550]<(null)>(Rejected)", Formats.replyCode("550 Rejected"));
        assertEquals("[550]<5.7.1>((null))", Formats.replyCode("550 5.7.1"));
    }
}
