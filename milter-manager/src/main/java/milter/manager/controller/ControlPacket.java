package milter.manager.controller;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One packet of the control protocol, either direction: a name ({@code get-configuration}, {@code reload},
 * {@code success}, {@code configuration} ...) and its content bytes. On the wire: a 32-bit big-endian payload
 * length, then NAME, a NUL byte, and CONTENT ({@link ControlCodec}).
 */
public record ControlPacket(String name, byte[] content) {
    public static final String GET_CONFIGURATION = "get-configuration";
    public static final String SET_CONFIGURATION = "set-configuration";
    public static final String RELOAD = "reload";
    public static final String STOP_CHILD = "stop-child";
    public static final String GET_STATUS = "get-status";

    public static final String SUCCESS = "success";
    public static final String FAILURE = "failure";
    public static final String ERROR = "error";
    public static final String CONFIGURATION = "configuration";
    public static final String STATUS = "status";

    public ControlPacket {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(content, "content");
        if (name.isEmpty() || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("invalid control packet name: <" + name + ">");
        }
    }

    /** A packet whose content is text (UTF-8). */
    public static ControlPacket of(String name, String content) {
        return new ControlPacket(name, content.getBytes(StandardCharsets.UTF_8));
    }

    /** A packet without content. */
    public static ControlPacket of(String name) {
        return new ControlPacket(name, new byte[0]);
    }

    /** The content as text (UTF-8). */
    public String text() {
        return new String(content, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ControlPacket packet && packet.name.equals(name)
                && java.util.Arrays.equals(packet.content, content);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + java.util.Arrays.hashCode(content);
    }

    @Override
    public String toString() {
        return name + "(" + content.length + " bytes)";
    }
}
