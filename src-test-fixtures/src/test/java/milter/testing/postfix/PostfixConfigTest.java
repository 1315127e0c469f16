package milter.testing.postfix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PostfixConfigTest {
    private final PostfixConfig.Layout layout = new PostfixConfig.Layout(Path.of("/tmp/postfix-x"));

    @Test
    void defaultsKeepEverythingUnderTheBaseDirectory() {
        Map<String, String> cf = PostfixConfig.defaults(layout, 102, 105);

        assertEquals("/tmp/postfix-x/queue", cf.get("queue_directory"));
        assertEquals("/tmp/postfix-x/data", cf.get("data_directory"));
        assertEquals("/tmp/postfix-x/maillog", cf.get("maillog_file"));
        assertEquals("/tmp/postfix-x", cf.get("maillog_file_prefixes"));
        assertEquals("/tmp/postfix-x/mail", cf.get("virtual_mailbox_base"));
        assertEquals("static:102", cf.get("virtual_uid_maps"));
        assertEquals("static:105", cf.get("virtual_gid_maps"));
        assertEquals("disabled", cf.get("smtp_dns_support_level"));
        assertEquals("tempfail", cf.get("milter_default_action"));
        assertEquals("6", cf.get("milter_protocol"));
    }

    @Test
    void mainCfWritesOneSettingPerLineAndEmptyValuesBare() {
        Map<String, String> cf = new LinkedHashMap<>();
        cf.put("smtpd_milters", "inet:127.0.0.1:10025");
        cf.put("mydestination", "");

        String text = PostfixConfig.mainCf(cf);

        assertTrue(text.endsWith("smtpd_milters = inet:127.0.0.1:10025\nmydestination =\n"), text);
    }

    @Test
    void masterCfListensOnLoopbackOnlyWithoutChroot() {
        String text = PostfixConfig.masterCf(2525);

        assertTrue(text.contains("\n127.0.0.1:2525 inet  n       -       n       -       -       smtpd\n"), text);
        assertTrue(text.contains("postlog   unix-dgram n  -       n"), text);
        for (String line : text.split("\n")) {
            if (!line.startsWith("#")) {
                assertEquals("n", line.trim().split("\\s+")[4], "chroot column of: " + line);
            }
        }
    }

    @Test
    void parameterNamesAndValuesAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> PostfixConfig.checkParameter("bad name", "x"));
        assertThrows(IllegalArgumentException.class, () -> PostfixConfig.checkParameter("a", "x\ninjected = y"));
    }
}
