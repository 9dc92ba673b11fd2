package dev.sluice.backend;

import java.net.URI;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a bearer token for an Azure Blob or GCS backend is obtained, and what it is for: the key
 * of the token tier (docs/federation.md, "Azure Blob and GCS tokens"). Two grants that could yield tokens with different
 * rights are never equal, so each record holds every field the token depends on. None of
 * them prints a secret.
 */
public sealed interface TokenGrant {

    /** Whether {@code id} can be an Entra tenant (a GUID or a domain) or application (client) id. */
    static boolean isEntraId(String id) {
        return Patterns.ENTRA_ID.matcher(id).matches();
    }

    /** Whether {@code audience} names a workload identity pool provider: {@code //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/Q}. */
    static boolean isPoolProvider(String audience) {
        return Patterns.POOL_PROVIDER.matcher(audience).matches();
    }

    /** Whether {@code email} can be a service account's email. */
    static boolean isServiceAccount(String email) {
        return Patterns.SERVICE_ACCOUNT.matcher(email).matches();
    }

    /**
     * What the shared tier hashes into the token's Redis key: every field that distinguishes
     * this grant, with U+001F between them (no field can contain it).
     */
    String sharedIdentity();

    /** For logs and error details: who is asked for what, no secret. */
    String describe();

    /** Whether the grant asserts sluice's own OIDC identity (and so needs {@code oidc.signing_key}). */
    default boolean federated() {
        return true;
    }

    /**
     * Entra ID workload identity federation: sluice's JWT for {@code subject}
     * ({@code aud=api://AzureADTokenExchange}) is the client assertion of a
     * {@code client_credentials} grant for {@code clientId} in {@code tenantId}, at
     * {@code tokenEndpoint} (by default {@code https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token}),
     * scope {@code https://storage.azure.com/.default}.
     */
    record Entra(URI tokenEndpoint, String tenantId, String clientId, String subject) implements TokenGrant {
        @Override
        public String sharedIdentity() {
            return "entra\u001F" + tokenEndpoint + "\u001F" + tenantId + "\u001F" + clientId + "\u001F" + subject;
        }

        @Override
        public String describe() {
            return "entra tenant " + tenantId + " client " + clientId;
        }
    }

    /**
     * Google workload identity federation: sluice's JWT for {@code subject} (whose {@code aud} is
     * the provider's URL) exchanged at the Security Token Service {@code stsEndpoint} for
     * {@code audience} ({@code //iam.googleapis.com/projects/…/providers/…}), then, when
     * {@code serviceAccount} is given, a token of that service account from the IAM
     * credentials API at {@code iamEndpoint}.
     */
    record GoogleFederation(URI stsEndpoint, String audience, Optional<String> serviceAccount, URI iamEndpoint, String subject)
            implements TokenGrant {
        @Override
        public String sharedIdentity() {
            return "gcp\u001F" + stsEndpoint + "\u001F" + audience + "\u001F" + serviceAccount.orElse("") + "\u001F" + iamEndpoint
                    + "\u001F" + subject;
        }

        @Override
        public String describe() {
            return "google pool provider " + audience + serviceAccount.map(s -> " as " + s).orElse("");
        }
    }

    /**
     * A Google service-account key (the JSON key file's {@code client_email},
     * {@code private_key_id}, {@code private_key} and {@code token_uri}): a JWT signed with the
     * key is exchanged at {@code tokenUri} for an access token (the OAuth 2.0 JWT bearer grant).
     */
    record GoogleServiceAccount(URI tokenUri, String clientEmail, String privateKeyId, String privateKeyPem) implements TokenGrant {
        @Override
        public String sharedIdentity() {
            return "gsa\u001F" + tokenUri + "\u001F" + clientEmail + "\u001F" + privateKeyId;
        }

        @Override
        public String describe() {
            return "google service account " + clientEmail;
        }

        @Override
        public boolean federated() {
            return false;
        }

        @Override
        public String toString() {
            return "GoogleServiceAccount[tokenUri=" + tokenUri + ", clientEmail=" + clientEmail + ", privateKeyId=" + privateKeyId
                    + ", privateKeyPem=<redacted>]";
        }
    }

    final class Patterns {
        private static final Pattern ENTRA_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.-]{0,127}");
        private static final Pattern POOL_PROVIDER = Pattern.compile(
                "//iam\\.googleapis\\.com/projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]{4,32}/providers/[a-z0-9-]{4,32}");
        private static final Pattern SERVICE_ACCOUNT = Pattern.compile("[^@/\\s]+@[^@/\\s]+");

        private Patterns() {
        }
    }
}
