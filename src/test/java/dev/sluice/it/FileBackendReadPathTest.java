package dev.sluice.it;

import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

/** The read path contract with every product served from a local directory ({@code type: file}). */
class FileBackendReadPathTest extends ReadPathContract {
    @TempDir
    static Path root;

    @Override
    protected SluiceUnderTest startSluice() {
        Fixture.writeTo(root);
        String yaml = """
                server:
                  listen: "127.0.0.1:0"
                  admin_listen: "127.0.0.1:0"
                registry:
                  type: static
                  products:
                    - account: acme
                      product: hello
                      backend: { type: file, path: hello }
                    - account: acme
                      product: world
                      visibility: public
                      backend: { type: file, path: world }
                    - account: acme
                      product: secret
                      visibility: restricted
                      backend: { type: file, path: secret }
                """;
        return SluiceUnderTest.start(yaml, Map.of(), root);
    }
}
