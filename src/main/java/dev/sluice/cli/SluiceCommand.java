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

    /** The JDK's setting for how many carrier threads run virtual threads (default: one per core). */
    static final String CARRIERS = "jdk.virtualThreadScheduler.parallelism";

    public static void main(String[] args) {
        carryVirtualThreadsOnMoreThreadsThanCores();
        System.exit(new CommandLine(new SluiceCommand()).execute(args));
    }

    /**
     * Gives the virtual-thread scheduler {@link #carriers} carrier threads, unless the JVM was
     * told a number ({@code -Djdk.virtualThreadScheduler.parallelism}); set before the first
     * virtual thread exists, when the scheduler reads it. A virtual thread keeps its carrier
     * while it computes, and some of sluice's do for seconds (hashing or copying a large file,
     * a fast client's upload): with one carrier per core, two of them on a 2-core machine left
     * every other virtual thread waiting (docs/operations.md, "Threads"). More carriers than
     * cores leave the time-slicing to the kernel.
     */
    static void carryVirtualThreadsOnMoreThreadsThanCores() {
        if (System.getProperty(CARRIERS) == null) {
            System.setProperty(CARRIERS, Integer.toString(carriers(Runtime.getRuntime().availableProcessors())));
        }
    }

    /** Twice the cores, and at least 8. */
    static int carriers(int cores) {
        return Math.max(8, 2 * cores);
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
