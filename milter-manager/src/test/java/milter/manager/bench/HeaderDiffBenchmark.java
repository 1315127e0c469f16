package milter.manager.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import milter.core.protocol.Reply;
import milter.manager.message.HeaderDiff;
import milter.manager.message.HeaderList;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The end-of-message header diff on a message of 100 headers (a long trace of Received lines, authentication
 * results, DKIM signatures, list headers): once as the children left it untouched, the common case, and once after
 * typical edits (a spam filter's headers added and one changed, two headers deleted, one inserted at the top).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HeaderDiffBenchmark {
    static final int HEADERS = 100;

    private HeaderList original;
    private HeaderList untouched;
    private HeaderList edited;

    @Setup
    public void setUp() {
        original = message(HEADERS);
        untouched = original.copy();
        edited = original.copy();
        edited.add("X-Spam-Status", "No, score=-0.1 required=5.0");
        edited.add("X-Spam-Score", "-0.1");
        edited.add("X-Virus-Scanned", "clean");
        edited.change("Subject", 1, " [checked] message with " + HEADERS + " headers");
        edited.delete("X-Mailer", 1);
        edited.delete("Received", 7);
        edited.insert(0, "Authentication-Results", " mx.example.org; spf=pass smtp.mailfrom=example.com");
    }

    /** A message of {@code count} headers of the usual kinds, many sharing a name. */
    static HeaderList message(int count) {
        HeaderList headers = new HeaderList();
        String[] fixed = {"From", "To", "Cc", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
            "X-Mailer", "List-Id", "List-Unsubscribe", "Reply-To"};
        for (String name : fixed) {
            headers.append(name, " value of " + name.toLowerCase(java.util.Locale.ROOT));
        }
        for (int i = headers.size(); i < count; i++) {
            switch (i % 4) {
                case 0:
                    headers.append("Received", " from relay" + i + ".example.net (relay" + i
                            + ".example.net [192.0.2." + (i % 250) + "]) by mx.example.org with ESMTPS id " + i);
                    break;
                case 1:
                    headers.append("DKIM-Signature", " v=1; a=rsa-sha256; d=example" + i + ".com; s=sel; b=abc" + i);
                    break;
                case 2:
                    headers.append("ARC-Seal", " i=" + i + "; a=rsa-sha256; cv=pass; d=example.com; b=xyz" + i);
                    break;
                default:
                    headers.append("X-Trace-" + i, " trace value " + i);
                    break;
            }
        }
        return headers;
    }

    @Benchmark
    public List<Reply> untouched() {
        return HeaderDiff.diff(original, untouched);
    }

    @Benchmark
    public List<Reply> edited() {
        return HeaderDiff.diff(original, edited);
    }
}
