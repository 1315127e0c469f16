package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import milter.core.net.ConnectionSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** log.format and manager.metrics_spec: ours, not upstream's, so shown only when set, and checked when set. */
@ExtendWith(SharedLoader.class)
class ExtensionSettingsTest {
    @TempDir
    Path directory;

    @Test
    void unsetExtensionKeysStayOutOfTheDump() {
        String dump = ConfigurationDumper.dump(Configuration.defaults());
        assertFalse(dump.contains("log.format"), dump);
        assertFalse(dump.contains("manager.metrics_spec"), dump);
    }

    @Test
    void setExtensionKeysAreDumpedAndLoadBack() {
        SharedLoader.write(directory, "a/milter-manager.conf",
                "log.format = \"json\"\nmanager.metrics_spec = \"inet:9125@[127.0.0.1]\"\n");
        LoadResult first = SharedLoader.load(directory.resolve("a"));
        assertTrue(first.ok(), first.errors().toString());
        String dump = ConfigurationDumper.dump(first.configuration());
        assertTrue(dump.contains("log.format = \"json\"\n"), dump);
        assertTrue(dump.contains("manager.metrics_spec = \"inet:9125@[127.0.0.1]\"\n"), dump);

        SharedLoader.write(directory, "b/milter-manager.conf", dump);
        LoadResult second = SharedLoader.load(directory.resolve("b"));
        assertTrue(second.ok(), second.errors().toString());
        assertEquals("json", second.configuration().string(Setting.LOG_FORMAT));
        assertEquals(ConnectionSpec.parse("inet:9125@[127.0.0.1]"),
                second.configuration().spec(Setting.MANAGER_METRICS_SPEC));
    }

    @Test
    void badValuesAreRefusedWithTheUsualMessage() {
        SharedLoader.write(directory, "milter-manager.conf", "log.format = \"xml\"\n");
        LoadResult result = SharedLoader.load(directory);
        assertEquals(1, result.errors().size(), result.errors().toString());
        assertTrue(result.errors().get(0).toString().contains(
                "log.format should be one of [text, json] but was \"xml\""), result.errors().toString());
        assertEquals("text", result.configuration().string(Setting.LOG_FORMAT));
    }
}
