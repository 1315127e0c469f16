package milter.core.bench;

import java.io.File;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Starts JMH from a class loader that is not the JVM's own (as {@code mvn exec:java} runs it): JMH hands its
 * forked benchmark JVMs the {@code java.class.path} of this one, so that is set to what this loader sees first.
 *
 * <pre>
 * mvn -o -q -pl milter-core test-compile exec:java -Dexec.args="milter.core.bench -f 1 -wi 3 -i 5"
 * </pre>
 */
public final class BenchmarkMain {
    private BenchmarkMain() {
    }

    public static void main(String[] args) throws Exception {
        Set<String> entries = new LinkedHashSet<>();
        for (ClassLoader loader = Thread.currentThread().getContextClassLoader(); loader != null;
                loader = loader.getParent()) {
            if (loader instanceof URLClassLoader urls) {
                for (URL url : urls.getURLs()) {
                    entries.add(path(url));
                }
            }
        }
        String own = System.getProperty("java.class.path", "");
        if (!own.isEmpty()) {
            entries.add(own);
        }
        System.setProperty("java.class.path", String.join(File.pathSeparator, entries));
        org.openjdk.jmh.Main.main(args);
    }

    private static String path(URL url) throws URISyntaxException {
        return "file".equals(url.getProtocol()) ? Path.of(url.toURI()).toString() : url.toString();
    }
}
