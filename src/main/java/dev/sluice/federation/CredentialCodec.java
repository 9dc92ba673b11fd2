package dev.sluice.federation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.cache.Expiring;
import dev.sluice.cache.SharedTier;
import dev.sluice.sigv4.AwsCredentials;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/** Temporary credentials as the shared tier stores them (before sealing): a small JSON document. */
public final class CredentialCodec implements SharedTier.Codec<AwsCredentials> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public byte[] encode(Expiring<AwsCredentials> value) {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("v", 1);
        doc.put("ak", value.value().accessKeyId());
        doc.put("sk", value.value().secretAccessKey());
        value.value().sessionToken().ifPresent(t -> doc.put("st", t));
        doc.put("exp", value.expiresAt().toString());
        try {
            return JSON.writeValueAsBytes(doc);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Optional<Expiring<AwsCredentials>> decode(byte[] bytes) {
        try {
            JsonNode doc = JSON.readTree(bytes);
            if (doc == null || doc.path("v").asInt() != 1 || !doc.hasNonNull("ak") || !doc.hasNonNull("sk") || !doc.hasNonNull("exp")) {
                return Optional.empty();
            }
            AwsCredentials creds = doc.hasNonNull("st")
                    ? AwsCredentials.of(doc.get("ak").asText(), doc.get("sk").asText(), doc.get("st").asText())
                    : AwsCredentials.of(doc.get("ak").asText(), doc.get("sk").asText());
            return Optional.of(new Expiring<>(creds, Instant.parse(doc.get("exp").asText())));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
