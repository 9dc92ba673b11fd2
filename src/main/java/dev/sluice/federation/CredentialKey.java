package dev.sluice.federation;

/**
 * What a federated credential is for: the role (scope) and the OIDC subject it is minted for.
 * Two subjects assuming one role are never interchangeable: a trust policy may accept one and
 * not the other.
 */
public record CredentialKey(String roleArn, String subject) {
}
