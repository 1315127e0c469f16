package milter.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class StatusTest {
    /** Most severe first, as upstream's milter_status_compare ranks them. */
    private static final List<Status> RANKED = List.of(Status.DISCARD, Status.REJECT, Status.TEMPORARY_FAILURE,
            Status.CONTINUE, Status.SKIP, Status.ACCEPT);

    private static Set<Status> unranked() {
        Set<Status> others = EnumSet.allOf(Status.class);
        others.removeAll(RANKED);
        return others;
    }

    @Test
    void rankedStatusesFollowUpstreamOrder() {
        for (int i = 0; i < RANKED.size(); i++) {
            for (int j = 0; j < RANKED.size(); j++) {
                Status a = RANKED.get(i);
                Status b = RANKED.get(j);
                int expected = i == j ? 0 : i < j ? 1 : -1;
                assertEquals(expected, Status.compareSeverity(a, b), a + " vs " + b);
            }
        }
    }

    @Test
    void rankedStatusesOutrankEverythingElse() {
        for (Status ranked : RANKED) {
            for (Status other : unranked()) {
                assertEquals(1, Status.compareSeverity(ranked, other), ranked + " vs " + other);
                // Upstream: a current status without rank is always replaced by a different one.
                assertEquals(-1, Status.compareSeverity(other, ranked), other + " vs " + ranked);
            }
        }
    }

    @Test
    void unrankedStatusesGiveWayToEachOther() {
        for (Status a : unranked()) {
            for (Status b : unranked()) {
                assertEquals(a == b ? 0 : -1, Status.compareSeverity(a, b), a + " vs " + b);
            }
        }
    }

    @Test
    void moreSevereFoldsToTheWorstVerdict() {
        Status merged = Status.DEFAULT;
        for (Status next : List.of(Status.ACCEPT, Status.CONTINUE, Status.SKIP, Status.TEMPORARY_FAILURE,
                Status.ACCEPT, Status.NOT_CHANGE)) {
            merged = Status.moreSevere(merged, next);
        }
        assertSame(Status.TEMPORARY_FAILURE, merged);
        assertSame(Status.DISCARD, Status.moreSevere(Status.DISCARD, Status.REJECT));
        assertSame(Status.DISCARD, Status.moreSevere(Status.REJECT, Status.DISCARD));
        assertSame(Status.ACCEPT, Status.moreSevere(Status.NOT_CHANGE, Status.ACCEPT));
        assertSame(Status.CONTINUE, Status.moreSevere(Status.CONTINUE, Status.PROGRESS));
    }

    @ParameterizedTest
    @EnumSource(Status.class)
    void everyNickParsesBack(Status status) {
        assertSame(status, Status.fromNick(status.nick()));
        assertSame(status, Status.fromNick(status.nick().toUpperCase().replace('-', '_')));
    }

    @ParameterizedTest
    @CsvSource({
        "temporary_failure, TEMPORARY_FAILURE",
        "Temporary-Failure, TEMPORARY_FAILURE",
        "'  accept ', ACCEPT",
        "NOT_CHANGE, NOT_CHANGE",
        "all_options, ALL_OPTIONS",
    })
    void nicksIgnoreCaseAndUnderscores(String nick, Status expected) {
        assertSame(expected, Status.fromNick(nick));
    }

    @Test
    void unknownNickIsAClearError() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Status.fromNick("tempfail"));
        assertTrue(error.getMessage().contains("<tempfail>"), error.getMessage());
    }

    @Test
    void fallbackIsOneOfTheFourVerdicts() {
        assertSame(Status.ACCEPT, Status.fallbackFromNick("accept"));
        assertSame(Status.TEMPORARY_FAILURE, Status.fallbackFromNick("temporary_failure"));
        assertSame(Status.REJECT, Status.fallbackFromNick("reject"));
        assertSame(Status.DISCARD, Status.fallbackFromNick("discard"));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Status.fallbackFromNick("continue"));
        assertTrue(error.getMessage().contains("fallback status"), error.getMessage());
    }

    @Test
    void passIsDefaultNotChangeAndContinue() {
        for (Status status : Status.values()) {
            boolean pass = status == Status.DEFAULT || status == Status.NOT_CHANGE || status == Status.CONTINUE;
            assertEquals(pass, status.isPass(), status.toString());
        }
        assertFalse(Status.ACCEPT.isPass());
    }
}
