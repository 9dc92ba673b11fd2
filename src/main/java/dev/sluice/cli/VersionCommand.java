package dev.sluice.cli;

import dev.sluice.Version;
import picocli.CommandLine.Command;

/** {@code sluice version}. */
@Command(name = "version", description = "Print the version.")
final class VersionCommand implements Runnable {
    @Override
    public void run() {
        System.out.println("sluice " + Version.current());
    }
}
