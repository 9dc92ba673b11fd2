package dev.sluice.federation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.backend.BearerToken;
import dev.sluice.cache.Expiring;
import dev.sluice.cache.SharedTier;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/** A bearer token as the shared tier stores it (before sealing): a small JSON document. */
public final class TokenCodec implements SharedTier.Codec<BearerToken> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public byte[] encode(Expiring<BearerToken> value) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("v", 1);
        doc.put("t", value.value().value());
        doc.put("exp", value.expiresAt().toString());
        try {
            return JSON.writeValueAsBytes(doc);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Optional<Expiring<BearerToken>> decode(byte[] bytes) {
        try {
            JsonNode doc = JSON.readTree(bytes);
            if (doc == null || doc.path("v").asInt() != 1 || !doc.path("t").isTextual() || !doc.path("exp").isTextual()) {
                return Optional.empty();
            }
            return Optional.of(new Expiring<>(new BearerToken(doc.get("t").asText()), Instant.parse(doc.get("exp").asText())));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
