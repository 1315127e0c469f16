package milter.manager.condition;

import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.Arrays;

/** An IPv4 or IPv6 network ({@code 127.0.0.10/31}, {@code 2001:db8::/32}) or single address; never uses DNS. */
public final class IpRange {
    private final byte[] network;
    private final int prefix;
    private final String text;

    private IpRange(byte[] network, int prefix, String text) {
        this.network = network;
        this.prefix = prefix;
        this.text = text;
    }

    /**
     * Parses {@code ADDRESS} or {@code ADDRESS/PREFIX}.
     *
     * @throws IllegalArgumentException naming the text when it is not an address or range
     */
    public static IpRange parse(String text) {
        String trimmed = text.trim();
        int slash = trimmed.indexOf('/');
        String address = slash < 0 ? trimmed : trimmed.substring(0, slash);
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(address);
        if (bytes == null) {
            throw new IllegalArgumentException("not an IP address or network: <" + text + ">");
        }
        int prefix = bytes.length * 8;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(trimmed.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an IP address or network: <" + text + ">", e);
            }
            if (prefix < 0 || prefix > bytes.length * 8) {
                throw new IllegalArgumentException("prefix out of range: <" + text + ">");
            }
        }
        return new IpRange(mask(bytes, prefix), prefix, trimmed);
    }

    private static byte[] mask(byte[] bytes, int prefix) {
        byte[] masked = Arrays.copyOf(bytes, bytes.length);
        for (int bit = prefix; bit < masked.length * 8; bit++) {
            masked[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return masked;
    }

    public boolean contains(InetAddress address) {
        return contains(address.getAddress());
    }

    /** Whether an address given as text (no DNS) is inside; false for text that is not an address. */
    public boolean contains(String address) {
        byte[] bytes = NetUtil.createByteArrayFromIpAddressString(address);
        return bytes != null && contains(bytes);
    }

    private boolean contains(byte[] bytes) {
        if (bytes.length != network.length) {
            return false;
        }
        return Arrays.equals(mask(bytes, prefix), network);
    }

    @Override
    public String toString() {
        return text;
    }
}
