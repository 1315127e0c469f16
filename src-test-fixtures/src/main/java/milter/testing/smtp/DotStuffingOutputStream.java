package milter.testing.smtp;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Turns message content into the DATA stream of RFC 5321: every line end (CRLF, bare LF or bare CR) becomes
 * CRLF, a dot at the start of a line is doubled, and {@link #finish()} terminates the last line if needed and
 * writes the {@code .CRLF} end marker. Streams, so message size costs no memory.
 */
public final class DotStuffingOutputStream extends FilterOutputStream {
    private boolean atLineStart = true;
    private boolean afterCr;
    private boolean finished;

    public DotStuffingOutputStream(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        if (finished) {
            throw new IOException("DATA stream already finished");
        }
        b &= 0xFF;
        if (afterCr) {
            afterCr = false;
            if (b == '\n') {
                return; // the CR already produced the CRLF
            }
        }
        if (b == '\r') {
            endLine();
            afterCr = true;
            return;
        }
        if (b == '\n') {
            endLine();
            return;
        }
        if (atLineStart && b == '.') {
            out.write('.');
        }
        out.write(b);
        atLineStart = false;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        for (int i = off; i < off + len; i++) {
            write(b[i]);
        }
    }

    private void endLine() throws IOException {
        out.write('\r');
        out.write('\n');
        atLineStart = true;
    }

    /** Ends the last line if it is open and writes the end-of-data marker; does not close the underlying stream. */
    public void finish() throws IOException {
        if (finished) {
            return;
        }
        if (!atLineStart) {
            endLine();
        }
        out.write(new byte[] {'.', '\r', '\n'});
        out.flush();
        finished = true;
    }

    /** Finishes the data stream but leaves the connection open. */
    @Override
    public void close() throws IOException {
        finish();
    }

    /** The DATA-stream encoding of {@code content}, end marker included (for small messages and tests). */
    public static byte[] encode(byte[] content) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(content.length + 64);
        try (DotStuffingOutputStream stuffing = new DotStuffingOutputStream(buffer)) {
            stuffing.write(content);
        } catch (IOException e) {
            throw new IllegalStateException("in-memory stream failed", e);
        }
        return buffer.toByteArray();
    }
}
