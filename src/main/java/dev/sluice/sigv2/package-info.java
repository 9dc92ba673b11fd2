/**
 * AWS Signature Version 2 as S3 still accepts it, for requests clients send to sluice (sluice
 * never signs with it). {@link dev.sluice.sigv2.SigV2} holds the pure steps (string to sign,
 * signature), {@link dev.sluice.sigv2.SigV2Verifier} parses a request's material into a
 * {@link dev.sluice.sigv2.SigV2Request} and verifies it. It reads the same
 * {@link dev.sluice.sigv4.SignableRequest} as the SigV4 verifier, so both judge the request
 * exactly as it arrived. JDK only.
 */
package dev.sluice.sigv2;
