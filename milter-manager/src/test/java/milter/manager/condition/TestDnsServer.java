package milter.manager.condition;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP, port chosen by the system) answering A and PTR questions
 * from tables the test fills; everything else is NXDOMAIN. Never forwards anything anywhere.
 */
public final class TestDnsServer implements AutoCloseable {
    private static final int TYPE_A = 1;
    private static final int TYPE_PTR = 12;

    private final DatagramSocket socket;
    private final Thread thread;
    private final Map<String, List<String>> addresses = new ConcurrentHashMap<>();
    private final Map<String, String> pointers = new ConcurrentHashMap<>();
    private final AtomicInteger queries = new AtomicInteger();

    public TestDnsServer() throws SocketException {
        socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        thread = new Thread(this::serve, "test-dns");
        thread.setDaemon(true);
        thread.start();
    }

    /** {@code 127.0.0.1:PORT}, as a name-server setting takes it. */
    public String address() {
        return "127.0.0.1:" + socket.getLocalPort();
    }

    public TestDnsServer a(String name, String... ipv4) {
        addresses.put(name.toLowerCase(Locale.ROOT), List.of(ipv4));
        return this;
    }

    public TestDnsServer ptr(String reverseName, String host) {
        pointers.put(reverseName.toLowerCase(Locale.ROOT), host);
        return this;
    }

    public int queries() {
        return queries.get();
    }

    private void serve() {
        byte[] buffer = new byte[512];
        while (!socket.isClosed()) {
            DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
            try {
                socket.receive(packet);
                byte[] answer = answer(packet.getData(), packet.getLength());
                if (answer != null) {
                    socket.send(new DatagramPacket(answer, answer.length, packet.getSocketAddress()));
                }
            } catch (IOException | RuntimeException e) {
                if (socket.isClosed()) {
                    return;
                }
            }
        }
    }

    private byte[] answer(byte[] query, int length) {
        if (length < 12) {
            return null;
        }
        queries.incrementAndGet();
        int position = 12;
        StringBuilder name = new StringBuilder();
        while (position < length && query[position] != 0) {
            int label = query[position] & 0xFF;
            if (name.length() > 0) {
                name.append('.');
            }
            name.append(new String(query, position + 1, label, java.nio.charset.StandardCharsets.US_ASCII));
            position += label + 1;
        }
        position++;
        int type = ((query[position] & 0xFF) << 8) | (query[position + 1] & 0xFF);
        int questionEnd = position + 4;
        String key = name.toString().toLowerCase(Locale.ROOT);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(query[0]);
        out.write(query[1]);
        List<byte[]> records = new java.util.ArrayList<>();
        if (type == TYPE_A && addresses.containsKey(key)) {
            for (String address : addresses.get(key)) {
                records.add(record(TYPE_A, addressBytes(address)));
            }
        } else if (type == TYPE_PTR && pointers.containsKey(key)) {
            records.add(record(TYPE_PTR, encodeName(pointers.get(key))));
        }
        boolean known = addresses.containsKey(key) || pointers.containsKey(key);
        out.write(0x84 | (query[2] & 0x01));
        out.write(0x80 | (known ? 0 : 3));
        writeShort(out, 1);
        writeShort(out, records.size());
        writeShort(out, 0);
        writeShort(out, 0);
        out.write(query, 12, questionEnd - 12);
        for (byte[] record : records) {
            out.writeBytes(record);
        }
        return out.toByteArray();
    }

    private static byte[] record(int type, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeShort(out, 0xC00C);
        writeShort(out, type);
        writeShort(out, 1);
        writeShort(out, 0);
        writeShort(out, 60);
        writeShort(out, data.length);
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static byte[] addressBytes(String address) {
        String[] parts = address.split("\\.");
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
            bytes[i] = (byte) Integer.parseInt(parts[i]);
        }
        return bytes;
    }

    private static byte[] encodeName(String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String label : name.split("\\.")) {
            out.write(label.length());
            out.writeBytes(label.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        out.write(0);
        return out.toByteArray();
    }

    private static void writeShort(ByteArrayOutputStream out, int value) {
        out.write((value >> 8) & 0xFF);
        out.write(value & 0xFF);
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(10_000);
    }
}
