package milter.testing.postfix;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class PostfixInstallationTest {

    @Test
    void missingPostfixFailsUnderCi() {
        AssertionFailedError failure = assertThrows(AssertionFailedError.class,
                () -> PostfixInstallation.require("/usr/sbin/postfix is missing", true));
        assertTrue(failure.getMessage().contains("/usr/sbin/postfix is missing"), failure.getMessage());
    }

    @Test
    void missingPostfixSkipsOutsideCi() {
        assertThrows(TestAbortedException.class,
                () -> PostfixInstallation.require("/usr/sbin/postfix is missing", false));
    }

    @Test
    void availablePostfixPassesEverywhere() {
        assertDoesNotThrow(() -> PostfixInstallation.require(null, true));
        assertDoesNotThrow(() -> PostfixInstallation.require(null, false));
    }
}
