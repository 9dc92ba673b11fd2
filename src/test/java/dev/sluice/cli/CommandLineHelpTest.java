package dev.sluice.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --help} on every command, and the command list a newcomer sees first. */
class CommandLineHelpTest {

    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new SluiceCommand());
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int status = cli.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"serve", "check-config", "keygen", "version"})
    void everySubcommandPrintsItsUsageForHelpAndExitsZero(String command) {
        for (String flag : new String[] {"--help", "-h"}) {
            Run r = run(command, flag);

            assertThat(r.status()).as(command + " " + flag + ": " + r.err()).isZero();
            assertThat(r.out()).contains("Usage: sluice " + command);
            assertThat(r.err()).isEmpty();
        }
    }

    @Test
    void theTopLevelHelpListsEveryCommand() {
        Run r = run("--help");

        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("serve", "check-config", "keygen", "version");
    }

    @Test
    void noSubcommandNamesEveryCommandIncludingKeygen() {
        Run r = run();

        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("a subcommand is required (serve, check-config, keygen, version)");
    }
}
