package dev.sluice.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link AzuriteProcess} per test class: started before the class's {@code @BeforeAll}
 * methods, stopped after its {@code @AfterAll} methods, whether or not the tests passed.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final AzuriteExtension AZURITE = new AzuriteExtension();
 * }</pre>
 */
public final class AzuriteExtension implements BeforeAllCallback, AfterAllCallback {
    private AzuriteProcess process;

    @Override
    public void beforeAll(ExtensionContext context) {
        process = AzuriteProcess.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (process != null) {
            process.close();
            process = null;
        }
    }

    /** The running Azurite; only valid between {@code beforeAll} and {@code afterAll}. */
    public AzuriteProcess get() {
        if (process == null) {
            throw new IllegalStateException("Azurite is not running: register the extension as a static field");
        }
        return process;
    }
}
