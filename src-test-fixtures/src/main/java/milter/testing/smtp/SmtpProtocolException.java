package milter.testing.smtp;

import java.io.IOException;

/** The server sent something that is not a well-formed SMTP reply, or closed the connection mid-reply. */
public class SmtpProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    public SmtpProtocolException(String message) {
        super(message);
    }
}
