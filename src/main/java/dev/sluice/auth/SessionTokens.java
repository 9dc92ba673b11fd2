package dev.sluice.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.cache.Sealer;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Seals {@link SessionClaims} into the session token of temporary credentials, and opens them
 * again when a request presents the token. Sluice keeps no session state: everything a session
 * is (its key pair, expiry, subject, role and scopes) travels in the token, encrypted and
 * authenticated with AES-256-GCM ({@link Sealer}) so a client can neither read its own secret
 * out of it nor widen its scopes.
 *
 * <p>Format: {@code s1.} followed by the URL-safe, unpadded base64 of the sealed JSON. The
 * prefix lets a later format coexist with this one; the sealed bytes carry the associated data
 * {@value #ASSOCIATED_DATA}, so a value sealed by the shared cache tier under the same key can
 * never pass as a session token.
 *
 * <p>Rotation: tokens are sealed under the current key and open under the current or the
 * previous one, so replacing the key does not log out sessions issued just before.
 *
 * <p>{@link #open} answers only with {@link S3Exception}: {@link S3Error#EXPIRED_TOKEN} for a
 * genuine token past its expiry, {@link S3Error#INVALID_TOKEN} for anything else wrong with it
 * (tampered, truncated, foreign, malformed). It says nothing more specific, and never includes
 * the token in its message.
 */
public final class SessionTokens {
    static final String PREFIX = "s1.";
    static final String ASSOCIATED_DATA = "sluice/session-token/1";
    /** Far beyond any token this class writes; bounds the work a garbage header costs. */
    private static final int MAX_TOKEN_CHARS = 16 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Sealer current;
    private final Optional<Sealer> previous;

    public SessionTokens(byte[] key, Optional<byte[]> previousKey, SecureRandom random) {
        this.current = new Sealer(key, random);
        this.previous = previousKey.map(k -> new Sealer(k, random));
    }

    public String seal(SessionClaims c) {
        ObjectNode root = JSON.createObjectNode();
        root.put("akid", c.accessKeyId());
        root.put("secret", c.secretAccessKey());
        root.put("exp", c.expiry().toString());
        root.put("sub", c.subject());
        root.put("role", c.role());
        ArrayNode scopes = root.putArray("scopes");
        for (Scope s : c.scopes()) {
            ObjectNode n = scopes.addObject();
            n.put("product", s.product());
            ArrayNode prefixes = n.putArray("prefixes");
            s.prefixes().forEach(prefixes::add);
            ArrayNode actions = n.putArray("actions");
            s.actions().stream().map(Action::configName).sorted().forEach(actions::add);
        }
        byte[] plain = root.toString().getBytes(StandardCharsets.UTF_8);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(current.seal(ASSOCIATED_DATA, plain));
    }

    /**
     * The claims sealed in {@code token}.
     *
     * @throws S3Exception {@link S3Error#EXPIRED_TOKEN} when {@code now} is at or past the
     *                     expiry, {@link S3Error#INVALID_TOKEN} when the token is not one this
     *                     sluice (under its current or previous key) sealed
     */
    public SessionClaims open(String token, Instant now) {
        SessionClaims claims;
        try {
            claims = decode(token);
        } catch (IOException | RuntimeException e) {
            // Anything that goes wrong reading a token is the token's fault; the cause is not
            // logged because it may quote the token.
            throw invalid();
        }
        if (!now.isBefore(claims.expiry())) {
            throw new S3Exception(S3Error.EXPIRED_TOKEN);
        }
        return claims;
    }

    private SessionClaims decode(String token) throws IOException {
        if (token == null || token.length() > MAX_TOKEN_CHARS || !token.startsWith(PREFIX)) {
            throw invalid();
        }
        String body = token.substring(PREFIX.length());
        if (body.indexOf('=') >= 0) {
            throw invalid();
        }
        byte[] sealed = Base64.getUrlDecoder().decode(body);
        Optional<byte[]> plain = current.open(ASSOCIATED_DATA, sealed);
        if (plain.isEmpty() && previous.isPresent()) {
            plain = previous.get().open(ASSOCIATED_DATA, sealed);
        }
        if (plain.isEmpty()) {
            throw invalid();
        }
        JsonNode root = JSON.readTree(new String(plain.get(), StandardCharsets.UTF_8));
        List<Scope> scopes = new ArrayList<>();
        for (JsonNode s : array(root, "scopes")) {
            List<String> prefixes = new ArrayList<>();
            for (JsonNode p : array(s, "prefixes")) {
                prefixes.add(text(p));
            }
            Set<Action> actions = EnumSet.noneOf(Action.class);
            for (JsonNode a : array(s, "actions")) {
                actions.add(Action.fromConfigName(text(a)).orElseThrow(SessionTokens::invalid));
            }
            scopes.add(new Scope(text(s.get("product")), prefixes, actions));
        }
        return new SessionClaims(text(root.get("akid")), text(root.get("secret")), Instant.parse(text(root.get("exp"))),
                text(root.get("sub")), text(root.get("role")), scopes);
    }

    private static JsonNode array(JsonNode parent, String field) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isArray()) {
            throw invalid();
        }
        return n;
    }

    private static String text(JsonNode n) {
        if (n == null || !n.isTextual()) {
            throw invalid();
        }
        return n.asText();
    }

    private static S3Exception invalid() {
        return new S3Exception(S3Error.INVALID_TOKEN);
    }

    @Override
    public String toString() {
        return "SessionTokens[AES-256-GCM" + (previous.isPresent() ? ", with previous key" : "") + "]";
    }
}
