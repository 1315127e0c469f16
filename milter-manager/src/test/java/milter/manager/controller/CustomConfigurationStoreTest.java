package milter.manager.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CustomConfigurationStoreTest {
    @TempDir
    Path directory;

    @Test
    void writesIntoTheFirstWritableLoadPathReplacingTheOldFile() throws IOException {
        Path missing = directory.resolve("missing");
        Path conf = Files.createDirectories(directory.resolve("conf"));
        Files.writeString(conf.resolve("milter-manager.custom.conf"), "old");
        Path written = CustomConfigurationStore.save(List.of(missing, conf), "<configuration/>\n".getBytes(
                StandardCharsets.UTF_8));
        assertEquals(conf.resolve("milter-manager.custom.conf"), written);
        assertEquals("<configuration/>\n", Files.readString(written));
        try (var files = Files.list(conf)) {
            assertEquals(List.of(written), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void noWritableDirectoryGivesUpstreamsMessageWithEveryPathTried() throws IOException {
        Path missing = directory.resolve("missing");
        Path file = Files.writeString(directory.resolve("plain-file"), "");
        IOException error = assertThrows(IOException.class, () -> CustomConfigurationStore.save(
                List.of(missing, file), new byte[] {'x'}));
        assertEquals("can't find writable custom configuration file in [\"" + missing
                + "/milter-manager.custom.conf\"(No such file or directory), \"" + file
                + "/milter-manager.custom.conf\"(No such file or directory)]", error.getMessage());
        assertFalse(Files.exists(missing));
    }

    @Test
    void lastModifiedIsTheFoundFilesTimeInSeconds() throws IOException {
        assertNull(CustomConfigurationStore.lastModified(List.of(directory)));
        Path custom = Files.writeString(directory.resolve("milter-manager.custom.conf"), "<configuration/>");
        Files.setLastModifiedTime(custom, FileTime.fromMillis(1_700_000_000_999L));
        assertEquals(1_700_000_000L, CustomConfigurationStore.lastModified(List.of(directory)));
    }
}
