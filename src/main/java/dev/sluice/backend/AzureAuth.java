package dev.sluice.backend;

/** How requests to an Azure Blob backend are authorized. No record prints a secret. */
public sealed interface AzureAuth {

    /** Unauthorized requests: a container with public read access. */
    record Anonymous() implements AzureAuth {
    }

    /** Signed with the storage account's shared key (base64, as the portal shows it). */
    record SharedKey(String accountKey) implements AzureAuth {
        @Override
        public String toString() {
            return "SharedKey[<redacted>]";
        }
    }

    /** A shared access signature: its query string (without a leading {@code ?}) is added to every request. */
    record Sas(String token) implements AzureAuth {
        @Override
        public String toString() {
            return "Sas[<redacted>]";
        }
    }

    /** A bearer token from Entra ID, obtained with sluice's own identity ({@link AccessTokens}). */
    record Federated(TokenGrant.Entra grant) implements AzureAuth {
    }
}
