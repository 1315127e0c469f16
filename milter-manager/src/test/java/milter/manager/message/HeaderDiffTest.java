package milter.manager.message;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import milter.core.protocol.Reply;
import org.junit.jupiter.api.Test;

/** The header fixtures of upstream's behaviour table: children's edits and the packets the MTA gets. */
class HeaderDiffTest {

    private static HeaderList headers(String... nameValues) {
        HeaderList list = new HeaderList();
        for (int i = 0; i < nameValues.length; i += 2) {
            list.append(nameValues[i], nameValues[i + 1]);
        }
        return list;
    }

    @Test
    void addedHeadersBecomeInsertsAtTheirPositions() {
        HeaderList original = headers("From", "a@example.com");
        HeaderList modified = original.copy();
        modified.add("X1", "1");
        modified.add("X2", "2");
        assertEquals(List.of(new Reply.InsertHeader(1, "X1", "1"), new Reply.InsertHeader(2, "X2", "2")),
                HeaderDiff.diff(original, modified));
    }

    @Test
    void insertedHeadersKeepTheOrderChildrenLeft() {
        HeaderList original = headers("From", "a@example.com");
        HeaderList modified = original.copy();
        modified.insert(2, "X1", "1");
        modified.insert(1, "X2", "2");
        assertEquals(List.of(new Reply.InsertHeader(1, "X2", "2"), new Reply.InsertHeader(2, "X1", "1")),
                HeaderDiff.diff(original, modified));
        assertEquals(List.of(new Header("From", "a@example.com"), new Header("X2", "2"), new Header("X1", "1")),
                modified.list());
    }

    @Test
    void addBeforeSameNameThenChangeGivesChangeAndInsert() {
        HeaderList original = headers("X1", "V1");
        HeaderList modified = original.copy();
        modified.add("X1", "V2");
        modified.change("X1", 1, "R");
        assertEquals(List.of(new Header("X1", "R"), new Header("X1", "V1")), modified.list());
        assertEquals(List.of(new Reply.ChangeHeader(1, "X1", "R"), new Reply.InsertHeader(1, "X1", "V1")),
                HeaderDiff.diff(original, modified));
    }

    @Test
    void deletedHeaderBecomesEmptyChange() {
        HeaderList original = headers("X1", "V1");
        HeaderList modified = original.copy();
        modified.add("X2", "2");
        modified.delete("X1", 1);
        assertEquals(List.of(new Reply.InsertHeader(0, "X2", "2"), new Reply.ChangeHeader(1, "X1", "")),
                HeaderDiff.diff(original, modified));
    }

    @Test
    void manyDeletesComeLastFirst() {
        HeaderList original = headers("X1", "V1", "X1", "V2", "X1", "V3");
        HeaderList modified = original.copy();
        modified.delete("X1", 2);
        modified.delete("X1", 1);
        modified.add("X2", "2");
        assertEquals(List.of(new Reply.InsertHeader(1, "X2", "2"), new Reply.ChangeHeader(2, "X1", ""),
                new Reply.ChangeHeader(1, "X1", "")), HeaderDiff.diff(original, modified));
    }

    @Test
    void unchangedHeadersProduceNothing() {
        HeaderList original = headers("From", "a", "To", "b", "Subject", "c");
        assertEquals(List.of(), HeaderDiff.diff(original, original.copy()));
    }

    @Test
    void changeOfMissingHeaderAddsIt() {
        HeaderList list = headers("From", "a");
        list.change("Subject", 1, "new");
        assertEquals(List.of(new Header("From", "a"), new Header("Subject", "new")), list.list());
    }

    @Test
    void addPlacesBeforeSameNameIgnoringCase() {
        HeaderList list = headers("From", "a", "received", "r1");
        list.add("Received", "r0");
        assertEquals(new Header("Received", "r0"), list.get(1));
    }
}
