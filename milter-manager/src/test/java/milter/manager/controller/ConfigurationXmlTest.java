package milter.manager.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import milter.core.net.ConnectionSpec;
import milter.core.protocol.CommandType;
import milter.core.protocol.Status;
import milter.manager.condition.ApplicableCondition;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import org.junit.jupiter.api.Test;

class ConfigurationXmlTest {

    private static ApplicableCondition condition(String name, String description) {
        return new ApplicableCondition() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String description() {
                return description;
            }

            @Override
            public boolean hasStopper(CommandType stage) {
                return false;
            }
        };
    }

    @Test
    void upstreamLayoutWithConditionsAndMilters() {
        Configuration configuration = Configuration.builder()
                .condition(condition("S25R", "Selective SMTP Rejection"))
                .condition(condition("Quiet", null))
                .egg(Egg.builder("milter-greylist").connectionSpec(ConnectionSpec.parse("unix:/run/greylist.sock"))
                        .description("grey & <listing>").fallbackStatus(Status.TEMPORARY_FAILURE)
                        .applicableConditions(List.of("S25R", "Quiet")).command("/etc/init.d/milter-greylist")
                        .commandOptions("start").build())
                .egg(Egg.builder("clamav-milter").enabled(false).evaluationMode(true).build())
                .build();
        assertEquals("<configuration>\n"
                + "  <last-modified>1700000000</last-modified>\n"
                + "  <applicable-conditions>\n"
                + "    <applicable-condition>\n"
                + "      <name>S25R</name>\n"
                + "      <description>Selective SMTP Rejection</description>\n"
                + "    </applicable-condition>\n"
                + "    <applicable-condition>\n"
                + "      <name>Quiet</name>\n"
                + "    </applicable-condition>\n"
                + "  </applicable-conditions>\n"
                + "  <milters>\n"
                + "    <milter>\n"
                + "      <name>milter-greylist</name>\n"
                + "      <description>grey &amp; &lt;listing&gt;</description>\n"
                + "      <enabled>true</enabled>\n"
                + "      <fallback-status>temporary-failure</fallback-status>\n"
                + "      <evaluation-mode>false</evaluation-mode>\n"
                + "      <connection-spec>unix:/run/greylist.sock</connection-spec>\n"
                + "      <command>/etc/init.d/milter-greylist</command>\n"
                + "      <command-options>start</command-options>\n"
                + "      <applicable-conditions>\n"
                + "        <applicable-condition>S25R</applicable-condition>\n"
                + "        <applicable-condition>Quiet</applicable-condition>\n"
                + "      </applicable-conditions>\n"
                + "    </milter>\n"
                + "    <milter>\n"
                + "      <name>clamav-milter</name>\n"
                + "      <enabled>false</enabled>\n"
                + "      <fallback-status>accept</fallback-status>\n"
                + "      <evaluation-mode>true</evaluation-mode>\n"
                + "    </milter>\n"
                + "  </milters>\n"
                + "</configuration>\n", ConfigurationXml.render(configuration, 1700000000L));
    }

    @Test
    void emptyConfigurationIsJustTheRoot() {
        assertEquals("<configuration>\n</configuration>\n", ConfigurationXml.render(Configuration.builder().build(),
                (Long) null));
    }

    @Test
    void escapingFollowsGlibMarkupEscaping() {
        StringBuilder out = new StringBuilder();
        ConfigurationXml.escape(out, "a'b\"c\u0001d\te\u0085f");
        assertEquals("a&#39;b&quot;c&#x1;d\te\u0085f", out.toString());
    }
}
