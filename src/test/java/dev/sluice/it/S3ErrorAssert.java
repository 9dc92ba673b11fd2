package dev.sluice.it;

import org.w3c.dom.Document;
import org.w3c.dom.Element;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks an error response against docs/behaviour.md, "Errors": status, S3 XML body, request id in body and header,
 * nothing internal, and the CORS headers every response carries.
 */
final class S3ErrorAssert {
    /** A stack frame, a Java exception name, or a package of ours or of a library. */
    private static final Pattern INTERNALS = Pattern.compile(
            "\\bat [\\w$.]+\\(|Exception|java\\.|javax\\.|dev\\.sluice|org\\.eclipse|jetty|com\\.fasterxml|\\.java\\b",
            Pattern.CASE_INSENSITIVE);

    private S3ErrorAssert() {
    }

    /** The parsed {@code <Error>} of a response that must be an S3 error. */
    record ErrorDocument(String code, String message, String resource, String requestId) {
    }

    static ErrorDocument assertS3Error(SluiceUnderTest.RawResponse r, int status, String code, String resource) {
        assertThat(r.status()).as("status of %s", r.text()).isEqualTo(status);
        assertThat(r.header("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/xml"));
        ErrorDocument doc = parse(r.body());
        assertThat(doc.code()).isEqualTo(code);
        assertThat(doc.message()).isNotBlank();
        assertThat(doc.resource()).isEqualTo(resource);
        assertThat(doc.requestId()).matches("[0-9A-F]{16}");
        assertThat(r.header("x-amz-request-id")).hasValue(doc.requestId());
        assertThat(r.text()).startsWith("<?xml").doesNotContainPattern(INTERNALS);
        // Browsers can read an error only with CORS headers on it.
        assertThat(r.header("Access-Control-Allow-Origin")).hasValue("*");
        assertThat(r.header("Access-Control-Expose-Headers"))
                .hasValueSatisfying(h -> assertThat(h.toLowerCase(java.util.Locale.ROOT)).contains("x-amz-request-id"));
        return doc;
    }

    static ErrorDocument parse(byte[] body) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document d = f.newDocumentBuilder().parse(new ByteArrayInputStream(body));
            Element root = d.getDocumentElement();
            assertThat(root.getTagName()).isEqualTo("Error");
            return new ErrorDocument(text(root, "Code"), text(root, "Message"), text(root, "Resource"), text(root, "RequestId"));
        } catch (Exception e) {
            throw new AssertionError("not an XML error document: " + new String(body, java.nio.charset.StandardCharsets.UTF_8), e);
        }
    }

    private static String text(Element root, String name) {
        var nodes = root.getElementsByTagName(name);
        assertThat(nodes.getLength()).as("<%s> elements", name).isEqualTo(1);
        return nodes.item(0).getTextContent();
    }
}
