package milter.core.codec;

import io.netty.handler.codec.DecoderException;

/**
 * A frame the milter protocol does not allow. The stream cannot be resynchronised after one: the decoder that
 * threw it discards all further input, and the connection should be closed.
 */
public final class MilterDecoderException extends DecoderException {

    /** Why a frame was refused. */
    public enum Reason {
        SHORT_LENGTH("short-length"),
        LONG_LENGTH("long-length"),
        UNEXPECTED_END("unexpected-end"),
        UNEXPECTED_COMMAND("unexpected-command"),
        MISSING_NUL("missing-nul"),
        TRUNCATED_FIELD("truncated-field"),
        TRAILING_BYTES("trailing-bytes"),
        WRONG_ARGUMENT_COUNT("wrong-argument-count"),
        UNKNOWN_FAMILY("unknown-family"),
        UNKNOWN_MACRO_STAGE("unknown-macro-stage"),
        INVALID_REPLY_CODE("invalid-reply-code");

        private final String nick;

        Reason(String nick) {
            this.nick = nick;
        }

        public String nick() {
            return nick;
        }
    }

    private final Reason reason;

    public MilterDecoderException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public MilterDecoderException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
