package dev.sluice.auth;

/** What the STS endpoint answers: an HTTP status, a content type and an XML body. */
public record StsReply(int status, String contentType, String body) {
}
