package milter.manager.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** defaults/debian.conf on a fake file system (package option "root"): only files are looked at. */
@ExtendWith(SharedLoader.class)
class PackageDetectorTest {
    @TempDir
    Path root;

    @TempDir
    Path local;

    @Test
    void debianPackagesAreDefinedWithTheirConditions() throws Exception {
        SharedLoader.write(root, "lib/systemd/system/clamav-milter.service", "[Unit]\n");
        SharedLoader.write(root, "etc/clamav/clamav-milter.conf",
                "# comment\nMilterSocket /var/run/clamav/clamav-milter.ctl\n");
        Files.createDirectories(root.resolve("etc/systemd/system/multi-user.target.wants"));
        SharedLoader.write(root, "etc/systemd/system/multi-user.target.wants/clamav-milter.service", "");
        SharedLoader.write(root, "etc/init.d/milter-greylist", "#!/bin/sh\n");
        SharedLoader.write(root, "etc/milter-greylist/greylist.conf", "socket \"/run/milter-greylist/sock\" 660\n");
        SharedLoader.write(root, "lib/systemd/system/spamass-milter.service", "");
        SharedLoader.write(root, "etc/default/spamass-milter", "SOCKET=\"/var/spool/postfix/spamass/spamass.sock\"\n");
        SharedLoader.write(root, "lib/systemd/system/opendkim.service", "");
        SharedLoader.write(local, "milter-manager.conf", String.join("\n",
                "package.options = \"root=" + root + "\"",
                "load(\"applicable-conditions/*.conf\")",
                "load_default", ""));
        LoadResult result = SharedLoader.loader().load(LoadRequest.builder().loadPath(local)
                .loadPath(SharedLoader.shippedConf()).platform("debian").build());
        assertTrue(result.ok(), result.errors().toString());
        Configuration c = result.configuration();
        assertTrue(c.bool(Setting.SECURITY_PRIVILEGE_MODE));
        assertEquals(List.of("milter-greylist", "clamav-milter", "spamass-milter"),
                c.eggs().stream().map(Egg::name).toList(), "opendkim has no socket to be found");

        Egg clamav = c.egg("clamav-milter");
        assertEquals("unix:/var/run/clamav/clamav-milter.ctl", clamav.connectionSpec().toString());
        assertTrue(clamav.enabled());
        assertEquals("/usr/bin/systemctl", clamav.command());
        assertEquals("start clamav-milter", clamav.commandOptions());
        assertEquals(List.of(), clamav.applicableConditions());

        Egg greylist = c.egg("milter-greylist");
        assertEquals("unix:/run/milter-greylist/sock", greylist.connectionSpec().toString());
        assertEquals("/etc/init.d/milter-greylist", greylist.command());
        assertEquals("start", greylist.commandOptions());
        assertEquals(List.of("Sendmail Compatible", "Stress Notify", "Trust", "Remote Network", "S25R",
                "Unauthenticated"), greylist.applicableConditions());

        Egg spamass = c.egg("spamass-milter");
        assertFalse(spamass.enabled(), "not wanted by any target");
        assertEquals("unix:/var/spool/postfix/spamass/spamass.sock", spamass.connectionSpec().toString());
        assertTrue(c.location("milter[spamass-milter]").startsWith(SharedLoader.shippedConf() + "/defaults/debian.conf:"));
        assertNull(c.egg("opendkim"));
    }
}
