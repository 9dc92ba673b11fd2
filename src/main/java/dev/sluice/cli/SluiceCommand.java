package dev.sluice.cli;

import dev.sluice.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@code sluice} command. Its help and version options are inherited by every subcommand,
 * so {@code sluice serve --help} prints the usage instead of "Unknown option".
 */
@Command(name = "sluice", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, versionProvider = SluiceCommand.VersionProvider.class,
        description = "An S3-compatible data proxy for published datasets.",
        subcommands = {ServeCommand.class, CheckConfigCommand.class, KeygenCommand.class, VersionCommand.class})
public final class SluiceCommand implements Runnable {
    /** Exit status for a configuration that does not load or validate. */
    static final int CONFIG_ERROR = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new SluiceCommand()).execute(args));
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (serve, check-config, keygen, version)");
    }

    /**
     * The config file: {@code --config}, else {@code SLUICE_CONFIG}, else the quickstart
     * ({@code examples/quickstart.yaml} under {@code SLUICE_HOME}, which the launcher sets,
     * or under the working directory).
     */
    static Path configPath(Optional<Path> option) {
        if (option.isPresent()) {
            return option.get();
        }
        String env = System.getenv("SLUICE_CONFIG");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String home = System.getenv("SLUICE_HOME");
        Path base = home == null || home.isBlank() ? Path.of("") : Path.of(home);
        Path quickstart = base.resolve("examples/quickstart.yaml");
        return Files.exists(quickstart) ? quickstart : Path.of("examples/quickstart.yaml");
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"sluice " + Version.current()};
        }
    }
}
