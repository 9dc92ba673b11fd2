package dev.sluice.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link S3ProxyProcess} per test class: started before the class's {@code @BeforeAll}
 * methods, stopped after its {@code @AfterAll} methods, whether or not the tests passed.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final S3ProxyExtension S3PROXY = new S3ProxyExtension();
 * }</pre>
 */
public final class S3ProxyExtension implements BeforeAllCallback, AfterAllCallback {
    private S3ProxyProcess process;

    @Override
    public void beforeAll(ExtensionContext context) {
        process = S3ProxyProcess.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (process != null) {
            process.close();
            process = null;
        }
    }

    /** The running S3Proxy; only valid between {@code beforeAll} and {@code afterAll}. */
    public S3ProxyProcess get() {
        if (process == null) {
            throw new IllegalStateException("S3Proxy is not running: register the extension as a static field");
        }
        return process;
    }
}
