package milter.manager.message;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import milter.core.protocol.Reply;
import org.junit.jupiter.api.Test;

/** The MTA model of the header-diff fuzz target reproduces the results of upstream's header fixtures. */
class MtaHeaderModelTest {

    private static List<Header> apply(List<Header> original, Reply... packets) {
        MtaHeaderModel mta = new MtaHeaderModel(original);
        for (Reply packet : packets) {
            mta.apply(packet);
        }
        return mta.headers();
    }

    @Test
    void insertsLandAtTheirPositionAndPastTheEndAppend() {
        assertEquals(List.of(new Header("From", "a"), new Header("X2", "2"), new Header("X1", "1")),
                apply(List.of(new Header("From", "a")), new Reply.InsertHeader(1, "X2", "2"),
                        new Reply.InsertHeader(9, "X1", "1")));
    }

    @Test
    void changeThenInsertOfTheSameName() {
        assertEquals(List.of(new Header("X1", "R"), new Header("X1", "V1")),
                apply(List.of(new Header("X1", "V1")), new Reply.ChangeHeader(1, "X1", "R"),
                        new Reply.InsertHeader(1, "X1", "V1")));
    }

    @Test
    void deletesLastFirstLeaveTheFixturesOrder() {
        // delete-header-many: the MTA ends with X2 first although the manager's list has it last.
        assertEquals(List.of(new Header("X2", "2"), new Header("X1", "V3")),
                apply(List.of(new Header("X1", "V1"), new Header("X1", "V2"), new Header("X1", "V3")),
                        new Reply.InsertHeader(1, "X2", "2"), new Reply.ChangeHeader(2, "X1", ""),
                        new Reply.ChangeHeader(1, "X1", "")));
    }

    @Test
    void addGoesBeforeTheFirstSameNameIgnoringCaseAndChangeOfAMissingHeaderAdds() {
        // The change finds no second x-B and adds: before the first same name again, now X-b.
        assertEquals(List.of(new Header("a", "0"), new Header("x-B", "changed"), new Header("X-b", "new"),
                new Header("x-B", "1")),
                apply(List.of(new Header("a", "0"), new Header("x-B", "1")), new Reply.AddHeader("X-b", "new"),
                        new Reply.ChangeHeader(2, "x-B", "changed")));
    }

    @Test
    void namesAreExactForChangeAndDeleteOfAMissingHeaderDoesNothing() {
        assertEquals(List.of(new Header("x-a", "1")),
                apply(List.of(new Header("x-a", "1")), new Reply.ChangeHeader(1, "X-A", "")));
    }
}
