package dev.sluice.backend;

import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.HttpClient;

import java.time.InstantSource;

/** PLACEHOLDER of the shared contract: replaced by the real backend before this branch lands. */
public final class AzureBackend implements Backend {
    private final BackendSpec.Azure spec;

    public AzureBackend(HttpClient http, BackendSpec.Azure spec, AccessTokens tokens, InstantSource clock, Ticker ticker) {
        this.spec = spec;
    }

    @Override
    public StoredObject open(String key, Fetch fetch) {
        throw new S3Exception(S3Error.NOT_IMPLEMENTED, "not built yet");
    }

    @Override
    public ListPage list(ListQuery query) {
        throw new S3Exception(S3Error.NOT_IMPLEMENTED, "not built yet");
    }

    @Override
    public String describe() {
        return spec.toString();
    }
}
