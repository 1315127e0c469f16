package milter.testing.filters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import milter.testing.process.Directories;

/**
 * A DKIM key pair made by {@code opendkim-genkey}: the private key file and the TXT record that would be published
 * at {@code SELECTOR._domainkey.DOMAIN}.
 */
public record DkimKey(String domain, String selector, Path privateKey, String txtRecord) {
    public static final String GENKEY = "/usr/sbin/opendkim-genkey";
    private static final Pattern QUOTED = Pattern.compile("\"([^\"]*)\"");

    public static DkimKey generate(Path directory, String domain, String selector)
            throws IOException, InterruptedException {
        Files.createDirectories(directory);
        Directories.run(directory, GENKEY, "-b", "1024", "-D", directory.toString(), "-d", domain, "-s", selector);
        String zone = Files.readString(directory.resolve(selector + ".txt"));
        StringBuilder record = new StringBuilder();
        Matcher quoted = QUOTED.matcher(zone);
        while (quoted.find()) {
            record.append(quoted.group(1));
        }
        if (!record.toString().contains("p=")) {
            throw new IOException("no public key in " + zone);
        }
        return new DkimKey(domain, selector, directory.resolve(selector + ".private"), record.toString().trim());
    }

    /** The DNS name the record belongs to. */
    public String recordName() {
        return selector + "._domainkey." + domain;
    }
}
