package dev.sluice.server;

import java.util.HexFormat;
import java.util.function.LongSupplier;

/** Request ids in S3's shape: 16 uppercase hex digits. Unique enough to find a request in the logs, not secret. */
public final class RequestIds {
    private final LongSupplier random;

    public RequestIds(LongSupplier random) {
        this.random = random;
    }

    public String next() {
        return HexFormat.of().withUpperCase().toHexDigits(random.getAsLong());
    }
}
