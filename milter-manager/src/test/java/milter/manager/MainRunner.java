package milter.manager;

import java.io.PrintWriter;

/** Lets tests in other packages run the command line in-process. */
public final class MainRunner {
    private MainRunner() {
    }

    public static int run(String[] args, PrintWriter out) {
        return Main.run(args, out);
    }
}
