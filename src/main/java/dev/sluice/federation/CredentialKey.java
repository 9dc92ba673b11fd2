package dev.sluice.federation;

/**
 * What a federated credential is for: the role (scope) and the OIDC subject it is minted for.
 * Two subjects assuming one role are never interchangeable: a trust policy may accept one and
 * not the other.
 */
public record CredentialKey(String roleArn, String subject) {

    /**
     * What the shared tier hashes into this credential's Redis key (docs/shared-tier.md): scope ␟ subject,
     * with U+001F between them, which a role ARN cannot contain, so no two keys share it.
     */
    public String sharedIdentity() {
        return roleArn + "\u001F" + subject;
    }
}
