/**
 * AWS Signature Version 4 as S3 uses it: signing requests sluice sends to its S3 backends and
 * verifying requests clients send to sluice.
 *
 * <p>{@link dev.sluice.sigv4.SigV4} holds the pure steps of the algorithm (canonical request,
 * string to sign, signing key, signature), {@link dev.sluice.sigv4.RequestSigner} composes them
 * into the headers an outbound request must carry, and {@link dev.sluice.s3.UriEncoding} is
 * the percent-encoding both sides must agree on byte for byte. Inbound,
 * {@link dev.sluice.sigv4.SigV4Verifier} parses a {@link dev.sluice.sigv4.SignableRequest} into a
 * {@link dev.sluice.sigv4.SignedRequest} and verifies it. JDK only.
 *
 * <p>S3 differs from the generic SigV4 rules in one place that matters: the canonical URI is the
 * path exactly as sent, encoded once and never normalised ({@code //a/./b} stays as it is).
 */
package dev.sluice.sigv4;
