package milter.testing.filters;

/** Where a milter listens on loopback, in the spellings the MTAs and milter manager use. */
public record MilterAddress(String name, int port) {
    /** libmilter, Sendmail and milter manager: {@code inet:PORT@127.0.0.1}. */
    public String libmilterSpec() {
        return "inet:" + port + "@127.0.0.1";
    }

    /** Postfix's {@code smtpd_milters}: {@code inet:127.0.0.1:PORT}. */
    public String postfixSpec() {
        return "inet:127.0.0.1:" + port;
    }
}
