package dev.sluice.config;

import java.util.List;

/**
 * A configuration problem, reported before anything starts; the message names the key and what
 * is wrong. The loader reports every problem it finds in one exception ({@link #problems()}, one
 * per line of the message), so a file with three typos needs one run, not three.
 */
public final class ConfigException extends RuntimeException {
    private final List<String> problems;

    public ConfigException(String message) {
        super(message);
        this.problems = List.of(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
        this.problems = List.of(message);
    }

    private ConfigException(List<String> problems) {
        super(problems.size() == 1 ? problems.get(0)
                : problems.size() + " problems:\n  " + String.join("\n  ", problems));
        this.problems = problems;
    }

    /** One exception for every problem found, in the order they were found; {@code problems} is not empty. */
    public static ConfigException of(List<String> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("no problems");
        }
        return new ConfigException(List.copyOf(problems));
    }

    /** Each problem, led by the dotted path of the key it concerns. */
    public List<String> problems() {
        return problems;
    }
}
