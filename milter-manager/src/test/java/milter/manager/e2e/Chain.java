package milter.manager.e2e;

import java.util.ArrayList;
import java.util.List;
import milter.testing.filters.MilterAddress;

/**
 * Which children a mail system runs, in order, and how each is configured: for milter manager (Ruby DSL), for
 * Postfix's {@code smtpd_milters} and for Sendmail's {@code INPUT_MAIL_FILTER}. The settings are the ones
 * docs/integration.md shows.
 */
enum Chain {
    /**
     * opendkim signing, spamass-milter (only for remote clients under milter manager), rspamd, the libmilter
     * milter, opendkim verifying, and a child that is down (its failure accepted).
     */
    FULL,
    /** The down child, the libmilter milter, and one that hangs at end of message (given two seconds). */
    FAULTY;

    static final String HANG_TIMEOUT_SECONDS = "2";

    record Member(MilterAddress address, boolean remoteOnly, boolean failureAccepted, boolean hangs) {
    }

    List<Member> members(Children children) {
        List<Member> members = new ArrayList<>();
        if (this == FULL) {
            members.add(new Member(children.signer.address(), false, false, false));
            members.add(new Member(children.spamAssassin.address(), true, false, false));
            members.add(new Member(children.rspamd.address(), false, false, false));
            members.add(new Member(children.libmilterAddress(), false, false, false));
            members.add(new Member(children.verifier.address(), false, false, false));
            members.add(new Member(children.dead, false, true, false));
        } else {
            members.add(new Member(children.dead, false, true, false));
            members.add(new Member(children.libmilterAddress(), false, false, false));
            members.add(new Member(children.hangingAddress(), false, true, true));
        }
        return members;
    }

    /** milter-manager.conf lines defining the children. */
    String managerEggs(Children children) {
        StringBuilder conf = new StringBuilder("remote_network.add_remote_address(\"127.0.0.2\")\n");
        for (Member member : members(children)) {
            conf.append("define_milter(\"").append(member.address().name()).append("\") do |milter|\n")
                    .append("  milter.connection_spec = \"").append(member.address().libmilterSpec()).append("\"\n");
            if (member.remoteOnly()) {
                conf.append("  milter.applicable_conditions = [\"Remote Network\"]\n");
            }
            if (member.failureAccepted()) {
                conf.append("  milter.fallback_status = \"accept\"\n");
            }
            if (member.hangs()) {
                conf.append("  milter.end_of_message_timeout = ").append(HANG_TIMEOUT_SECONDS).append(".0\n");
            }
            conf.append("end\n");
        }
        return conf.toString();
    }

    /** Postfix's {@code smtpd_milters} chaining the children itself (per-milter settings in braces). */
    String postfixMilters(Children children) {
        List<String> milters = new ArrayList<>();
        for (Member member : members(children)) {
            String spec = member.address().postfixSpec();
            if (member.hangs()) {
                milters.add("{ " + spec + ", content_timeout=" + HANG_TIMEOUT_SECONDS + "s, default_action=accept }");
            } else if (member.failureAccepted()) {
                milters.add("{ " + spec + ", default_action=accept }");
            } else {
                milters.add(spec);
            }
        }
        return String.join(" ", milters);
    }
}
