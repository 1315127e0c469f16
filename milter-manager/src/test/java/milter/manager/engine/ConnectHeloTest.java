package milter.manager.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import milter.core.protocol.Command;
import milter.core.protocol.CommandType;
import milter.core.protocol.Reply;
import milter.core.protocol.SocketFamily;
import milter.testing.mta.FakeMta;
import org.junit.jupiter.api.Test;

/** Connect, HELO and unknown: the connection-level parallel stages (behaviour cases 6-10, 45). */
class ConnectHeloTest {

    private static final String CONNECT_EVENT = "connect mx.local.net 192.168.1.29";

    @Test
    void bothChildrenGetConnectAndHelo() throws Exception {
        // connect.txt, helo.txt, children/connect.txt, children/helo.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            List<String> expected = List.of("negotiate 6", CONNECT_EVENT, "helo delian", "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
        }
    }

    @Test
    void connectMacrosReachBothChildren() throws Exception {
        // connect-with-macro.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(Flow.OFFER);
            mta.send(Flow.macros(CommandType.CONNECT, Map.of("{daemon_name}", "Postfix", "j", "postfix")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            mta.send(Flow.macros(CommandType.HELO, Map.of("{tls_version}", "TLSv1.3")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("delian")));
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            List<String> expected = List.of("negotiate 6", CONNECT_EVENT + " {daemon_name=Postfix, j=postfix}",
                    "helo delian {tls_version=TLSv1.3}", "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
        }
    }

    @Test
    void connectStopperTakesTheChildOutForTheSession() throws Exception {
        // applicable-condition-remote-network.txt: a "Remote Network" condition with 160.29.167.0/24 local.
        TestCondition remoteNetwork = new TestCondition("Remote Network").stopper(CommandType.CONNECT,
                (context, host) -> true);
        remoteNetwork.stopper(CommandType.CONNECT, (context, argument) -> argument.contains("@[160.29.167."));
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(remoteNetwork);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("Remote Network")));
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(Flow.OFFER);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Connect("mx.local.net", SocketFamily.INET,
                    2929, "160.29.167.10")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("delian")));
            a.closed().join();
            mta.send(Command.Quit.INSTANCE);
            b.closed().join();
            assertEquals(List.of("negotiate 6", "quit"), a.events());
            assertEquals(List.of("negotiate 6", "connect mx.local.net 160.29.167.10", "helo delian", "quit"),
                    b.events());
            assertEquals(List.of("connect a mx.local.net inet:2929@[160.29.167.10]"), remoteNetwork.calls);
            LogCapture log = harness.log();
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[stop\\]\\[connect\\] \\[\\d+\\] a");
            log.awaitRegex("\\[milter\\]\\[end\\]\\[connect\\]\\[stop\\]\\[[0-9.e-]+\\]\\(\\d+\\): a");
        }
    }

    @Test
    void connectStopperMayAnswerLaterFromAnotherThread() throws Exception {
        // connect-policy.txt: a policy that never matches keeps its milter out (a DNS-like asynchronous answer).
        TestCondition policy = new TestCondition("Policy").asyncConnectStopper((context, host) ->
                CompletableFuture.supplyAsync(() -> !"nonexistent.example.com".equals(host)));
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(policy);
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b", egg -> egg.applicableConditions(List.of("Policy")));
            harness.start();
            FakeMta mta = Flow.connected(harness);
            b.closed().join();
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            assertEquals(List.of("negotiate 6", CONNECT_EVENT, "quit"), a.events());
            assertEquals(List.of("negotiate 6", "quit"), b.events());
        }
    }

    @Test
    void nextConnectStopperIsAskedOnTheSessionsLoopAfterAnAnswerFromAnotherThread() throws Exception {
        java.util.List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        TestCondition dns = new TestCondition("DNSBL").asyncConnectStopper((context, host) -> {
            threads.add(Thread.currentThread());
            return CompletableFuture.supplyAsync(() -> false);
        });
        TestCondition second = new TestCondition("Second").asyncConnectStopper((context, host) -> {
            threads.add(Thread.currentThread());
            return CompletableFuture.completedFuture(true);
        });
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(dns).condition(second);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("DNSBL", "Second")));
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.connected(harness);
            a.closed().join();
            mta.send(Command.Quit.INSTANCE);
            b.closed().join();
            assertEquals(List.of("negotiate 6", "quit"), a.events());
            assertEquals(2, threads.size());
            assertEquals(threads.get(0), threads.get(1));
        }
    }

    @Test
    void failingStopperCountsAsNotStopping() throws Exception {
        TestCondition broken = new TestCondition("Broken").stopper(CommandType.HELO, (context, fqdn) -> {
            throw new IllegalStateException("boom");
        });
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(broken);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("Broken")));
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            assertEquals(List.of("negotiate 6", CONNECT_EVENT, "helo delian", "quit"), a.events());
            harness.log().await("[children][error][applicable-condition][helo] Broken: "
                    + "java.lang.IllegalStateException: boom: a");
        }
    }

    @Test
    void conditionMacrosTravelWithTheStagesCommand() throws Exception {
        TestCondition notify = new TestCondition("Stress Notify").stopper(CommandType.CONNECT, (context, host) -> {
            context.setMacro("stress", "yes");
            return false;
        });
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.condition(notify);
            ScriptedChild a = harness.child("a", egg -> egg.applicableConditions(List.of("Stress Notify")));
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(Flow.OFFER);
            mta.send(Flow.macros(CommandType.CONNECT, Map.of("j", "postfix")));
            assertEquals(Reply.Continue.INSTANCE, mta.call(Flow.connectCommand()));
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            assertEquals(CONNECT_EVENT + " {j=postfix, stress=yes}", a.events().get(1));
            assertEquals(CONNECT_EVENT + " {j=postfix}", b.events().get(1));
        }
    }

    @Test
    void singleChildClosingWithoutReplyLeavesTheMtaWithItsFallback() throws Exception {
        // children/connect-fail.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").closeAt(CommandType.CONNECT);
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(Flow.OFFER);
            assertEquals(Reply.Accept.INSTANCE, mta.call(Flow.connectCommand()));
            assertEquals(List.of("negotiate 6", CONNECT_EVENT), a.events());
            LogCapture log = harness.log();
            log.awaitRegex("\\[\\d+\\] \\[children\\]\\[end\\]\\[connect\\] \\[\\d+\\] a");
            log.awaitRegex("\\[milter\\]\\[end\\]\\[connect\\]\\[error\\]\\[[0-9.e-]+\\]\\(\\d+\\): a");
        }
    }

    @Test
    void evaluationChildRefusingHeloIsCountedAsAcceptAndLeaves() throws Exception {
        // helo-reject-evaluation.txt, helo-temporary-failure-evaluation.txt
        for (Reply refusal : List.of(Reply.Reject.INSTANCE, Reply.TemporaryFailure.INSTANCE)) {
            try (ManagerHarness harness = new ManagerHarness()) {
                ScriptedChild a = harness.child("a", egg -> egg.evaluationMode(true)).reply(CommandType.HELO,
                        refusal);
                ScriptedChild b = harness.child("b");
                harness.start();
                FakeMta mta = Flow.connected(harness);
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Helo("mail.example.com")));
                assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<kou+sender@example.com>")));
                a.closed().join();
                mta.send(Command.Quit.INSTANCE);
                b.closed().join();
                assertEquals(List.of("negotiate 6", CONNECT_EVENT, "helo mail.example.com", "quit"), a.events());
                assertEquals(List.of("negotiate 6", CONNECT_EVENT, "helo mail.example.com",
                        "mail <kou+sender@example.com>", "quit"), b.events());
                String nick = refusal == Reply.Reject.INSTANCE ? "reject" : "temporary-failure";
                harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[evaluation\\]\\[" + nick
                        + "\\]\\[helo\\] \\[\\d+\\] a");
            }
        }
    }

    @Test
    void rejectAtConnectQuitsThatChildAndRefusesTheConnection() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.CONNECT, Reply.Reject.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(Flow.OFFER);
            assertEquals(Reply.Reject.INSTANCE, mta.call(Flow.connectCommand()));
            a.closed().join();
            mta.send(Command.Quit.INSTANCE);
            b.closed().join();
            assertEquals(List.of("negotiate 6", CONNECT_EVENT, "quit"), a.events());
            assertEquals(List.of("negotiate 6", CONNECT_EVENT, "quit"), b.events());
            harness.log().awaitRegex("\\[milter\\]\\[end\\]\\[connect\\]\\[reject\\]\\[[0-9.e-]+\\]\\(\\d+\\): a");
        }
    }

    @Test
    void acceptAtHeloTakesTheChildOutAndTheOtherGoesOn() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.HELO, Reply.Accept.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
            a.closed().join();
            mta.send(Command.Quit.INSTANCE);
            b.closed().join();
            assertEquals(List.of("negotiate 6", CONNECT_EVENT, "helo delian", "quit"), a.events());
            assertEquals(List.of("negotiate 6", CONNECT_EVENT, "helo delian", "mail <a@example.com>", "quit"),
                    b.events());
        }
    }

    @Test
    void everyChildAcceptingAtConnectMeansAccept() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            harness.child("a").reply(CommandType.CONNECT, Reply.Accept.INSTANCE);
            harness.child("b").reply(CommandType.CONNECT, Reply.Accept.INSTANCE);
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(Flow.OFFER);
            assertEquals(Reply.Accept.INSTANCE, mta.call(Flow.connectCommand()));
            // Everyone has left: a further command finds nobody.
            assertEquals(Reply.Accept.INSTANCE, mta.call(new Command.Helo("delian")));
            harness.log().await("[children][error][alive] All milters are no longer alive.");
        }
    }

    @Test
    void discardAtConnectIsAnInvalidStateButCounts() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.CONNECT, Reply.Discard.INSTANCE);
            harness.child("b");
            harness.start();
            FakeMta mta = harness.mta();
            mta.negotiate(Flow.OFFER);
            assertEquals(Reply.Discard.INSTANCE, mta.call(Flow.connectCommand()));
            a.closed().join();
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[invalid-state\\]\\[discard\\]"
                    + "\\[connect\\] \\[\\d+\\] a");
        }
    }

    @Test
    void unknownCommandGoesToBothChildren() throws Exception {
        // unknown.txt
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a");
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.Unknown("UNKNWON COMMAND")));
            mta.send(Command.Quit.INSTANCE);
            a.closed().join();
            b.closed().join();
            List<String> expected = List.of("negotiate 6", CONNECT_EVENT, "helo delian", "unknown UNKNWON COMMAND",
                    "quit");
            assertEquals(expected, a.events());
            assertEquals(expected, b.events());
        }
    }

    @Test
    void rejectOfUnknownIsAnInvalidStateThatQuitsTheChild() throws Exception {
        try (ManagerHarness harness = new ManagerHarness()) {
            ScriptedChild a = harness.child("a").reply(CommandType.UNKNOWN, Reply.Reject.INSTANCE);
            ScriptedChild b = harness.child("b");
            harness.start();
            FakeMta mta = Flow.afterHelo(harness);
            assertEquals(Reply.Reject.INSTANCE, mta.call(new Command.Unknown("VRFY root")));
            a.closed().join();
            assertEquals(Reply.Continue.INSTANCE, mta.call(new Command.EnvelopeFrom("<a@example.com>")));
            mta.send(Command.Quit.INSTANCE);
            b.closed().join();
            assertTrue(b.events().contains("mail <a@example.com>"));
            assertEquals(List.of("negotiate 6", CONNECT_EVENT, "helo delian", "unknown VRFY root", "quit"),
                    a.events());
            harness.log().awaitRegex("\\[\\d+\\] \\[children\\]\\[error\\]\\[invalid-state\\]\\[reject\\]"
                    + "\\[unknown\\] \\[\\d+\\] a");
        }
    }
}
