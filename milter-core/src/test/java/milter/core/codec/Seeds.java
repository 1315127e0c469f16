package milter.core.codec;

/** Seeds of the randomised tests: fixed by default, overridable with {@code -Dmilter.test.seed=N} to reproduce. */
final class Seeds {
    private Seeds() {
    }

    static long seed(String test, long fixed) {
        long seed = Long.getLong("milter.test.seed", fixed);
        System.out.println(test + ": seed=" + seed + " (rerun with -Dmilter.test.seed=" + seed + ")");
        return seed;
    }
}
