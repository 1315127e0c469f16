package milter.core.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * The main output: standard output, or a file opened for appending ({@code log.path}) that {@link #reopen()}
 * closes and opens again under the same name, so that a rotated (renamed) file is let go and a new one started.
 * When a file cannot be opened the lines go to standard output instead, as upstream does.
 */
public class LogOutputAppender extends OutputStreamAppender<ILoggingEvent> {
    private volatile String path;
    private PrintStream stdout;
    private String openError;

    public LogOutputAppender() {
        setEncoder(new TaggedEncoder());
    }

    /** The log file; null or {@code -} means standard output. Takes effect at {@link #start()}. */
    public void setPath(String path) {
        this.path = path == null || path.equals("-") ? null : path;
    }

    /** The file written to, or null while writing to standard output. */
    public String getPath() {
        return path;
    }

    /** The stream used as standard output; {@link System#out} as it is when first needed if not set. */
    public void setStdout(PrintStream stdout) {
        this.stdout = stdout;
    }

    /**
     * Why the file given to {@link #setPath} could not be opened at {@link #start()} (then standard output is
     * used and {@link #getPath()} is null), or null.
     */
    public String getOpenError() {
        return openError;
    }

    @Override
    public void start() {
        if (getOutputStream() == null) {
            String file = path;
            OutputStream out;
            if (file == null) {
                out = stdoutStream();
            } else {
                try {
                    out = openFile(file);
                } catch (IOException e) {
                    openError = "failed to set log output path: <" + file + ">: " + reason(e);
                    path = null;
                    out = stdoutStream();
                }
            }
            setOutputStream(out);
        }
        super.start();
    }

    /**
     * Closes the log file and opens it again by name. Logs {@code [logger][reopen][close]} (to the old file) and
     * {@code [logger][reopen][open]} (to the new one), both at info level; when the file cannot be opened, logs
     * {@code [logger][reopen][open][warning] <PATH>: ERROR} and goes on with standard output. Does nothing when
     * writing to standard output.
     *
     * @return whether a file is open afterwards
     */
    public boolean reopen() {
        String file = path;
        if (file == null) {
            return false;
        }
        TaggedLogger.info(TaggedLogger.NO_SESSION, "[logger][reopen][close]", "");
        String failure = null;
        streamWriteLock.lock();
        try {
            closeOutputStream();
            OutputStream out;
            try {
                out = openFile(file);
            } catch (IOException e) {
                failure = reason(e);
                path = null;
                out = stdoutStream();
            }
            setOutputStream(out);
            if (!isStarted()) {
                // An earlier write error stops an OutputStreamAppender; a fresh stream is the moment to resume.
                super.start();
            }
        } finally {
            streamWriteLock.unlock();
        }
        if (failure != null) {
            TaggedLogger.warning(TaggedLogger.NO_SESSION, "[logger][reopen][open][warning]",
                    "<" + file + ">: " + failure);
        }
        TaggedLogger.info(TaggedLogger.NO_SESSION, "[logger][reopen][open]", "");
        return failure == null;
    }

    private static OutputStream openFile(String file) throws IOException {
        return new FileOutputStream(file, true);
    }

    private OutputStream stdoutStream() {
        PrintStream target = stdout == null ? System.out : stdout;
        // Closing the appender's stream must never close the process's standard output.
        return new OutputStream() {
            @Override
            public void write(int b) {
                target.write(b);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) {
                target.write(bytes, offset, length);
            }

            @Override
            public void flush() {
                target.flush();
            }

            @Override
            public void close() {
                target.flush();
            }
        };
    }

    /** The system's reason ("No such file or directory") from the JDK's {@code "PATH (REASON)"} message. */
    static String reason(IOException e) {
        String message = e.getMessage();
        if (message == null) {
            return e.getClass().getSimpleName();
        }
        int open = message.lastIndexOf(" (");
        if (open >= 0 && message.endsWith(")")) {
            return message.substring(open + 2, message.length() - 1);
        }
        return message;
    }
}
