package milter.manager.message;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.function.Supplier;
import milter.core.protocol.Reply;

/**
 * Coverage-guided fuzz target for the header diff: a random original list, a random sequence of the children's
 * edits (add, insert, change, delete) applied with {@link HeaderList}'s rules, then the packets of
 * {@link HeaderDiff} applied to the original by an independent model of the MTA ({@link MtaHeaderModel}, the
 * rules of upstream's test MTA).
 *
 * <p>What must hold: packets are well formed (insert positions from 0, change indexes from 1, names not empty);
 * no edit means no packet; the MTA ends with as many headers as the manager's list; and, when the original has no
 * two identical headers (same name, same value), with exactly the same headers. The order may differ: the diff
 * follows upstream, which matches an unchanged header wherever it is, changes a header in place and places
 * inserts by their final index before deleting leftovers (upstream's own delete-header-many fixture ends with
 * a different order than the manager's list). With identical duplicates in the original, the change and delete
 * indexes of the diff point at the first of them, so the MTA can end with other headers than the manager's
 * list (reported in docs/reliability.md; the engine keeps upstream's algorithm).
 * Seeds: {@code src/test/resources/milter/manager/message/HeaderDiffFuzzTargetTestInputs/diff}.
 */
class HeaderDiffFuzzTargetTest {
    private static final String[] NAMES = {"From", "Subject", "X-Spam", "x-spam", "Received", "X-A"};
    private static final String[] VALUES = {"1", "2", "3", " spaced", "long value with\ttab"};

    @FuzzTest(maxDuration = "10s")
    void diff(FuzzedDataProvider data) {
        HeaderList original = new HeaderList();
        int count = data.consumeInt(0, 10);
        for (int i = 0; i < count; i++) {
            original.append(name(data), value(data));
        }
        HeaderList modified = original.copy();
        List<String> edits = new ArrayList<>();
        int editCount = data.consumeInt(0, 12);
        for (int i = 0; i < editCount && data.remainingBytes() > 0; i++) {
            String name = name(data);
            switch (data.consumeInt(0, 3)) {
                case 0: {
                    String value = value(data);
                    modified.add(name, value);
                    edits.add("add(" + name + ", " + value + ")");
                    break;
                }
                case 1: {
                    int position = data.consumeInt(-1, modified.size() + 1);
                    String value = value(data);
                    modified.insert(position, name, value);
                    edits.add("insert(" + position + ", " + name + ", " + value + ")");
                    break;
                }
                case 2: {
                    int index = data.consumeInt(0, 4);
                    String value = data.consumeInt(0, 3) == 0 ? "" : value(data);
                    modified.change(name, index, value);
                    edits.add("change(" + name + ", " + index + ", " + value + ")");
                    break;
                }
                default: {
                    int index = data.consumeInt(0, 4);
                    modified.delete(name, index);
                    edits.add("delete(" + name + ", " + index + ")");
                    break;
                }
            }
        }
        List<Reply> packets = HeaderDiff.diff(original, modified);
        Supplier<String> context = () -> "original " + original + ", edits " + edits + ", final " + modified
                + ", packets " + packets;
        for (Reply packet : packets) {
            if (packet instanceof Reply.InsertHeader insert) {
                assertTrue(insert.index() >= 0 && !insert.name().isEmpty(), context);
            } else if (packet instanceof Reply.ChangeHeader change) {
                assertTrue(change.index() >= 1 && !change.name().isEmpty(), context);
            } else {
                assertTrue(packet instanceof Reply.AddHeader add && !add.name().isEmpty(), context);
            }
        }
        if (original.list().equals(modified.list())) {
            assertEquals(List.of(), packets, context);
        }
        MtaHeaderModel mta = new MtaHeaderModel(original.list());
        packets.forEach(mta::apply);
        Supplier<String> outcome = () -> context.get() + ", MTA ends with " + mta.headers();
        assertEquals(modified.size(), mta.headers().size(), outcome);
        if (new HashSet<>(original.list()).size() == original.size()) {
            assertEquals(sorted(modified.list()), sorted(mta.headers()), outcome);
        }
    }

    private static String name(FuzzedDataProvider data) {
        return data.consumeInt(0, 15) == 0 ? "X-" + data.consumeAsciiString(4) + "-" : NAMES[data.consumeInt(0,
                NAMES.length - 1)];
    }

    private static String value(FuzzedDataProvider data) {
        return VALUES[data.consumeInt(0, VALUES.length - 1)];
    }

    private static List<Header> sorted(List<Header> headers) {
        List<Header> out = new ArrayList<>(headers);
        out.sort(Comparator.comparing(Header::name).thenComparing(Header::value));
        return out;
    }
}
