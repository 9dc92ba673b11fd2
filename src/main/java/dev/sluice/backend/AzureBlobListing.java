package dev.sluice.backend;

import dev.sluice.s3.HttpDate;
import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.UriEncoding;
import dev.sluice.s3.XmlReader;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One List Blobs answer ({@code EnumerationResults}) read as S3 listing entries: blob names and
 * prefixes relative to the product's prefix, in S3 key order, and the marker of the next page.
 * A blob's {@code Etag} (bare in listings) is quoted as Get Blob sends it, so a listing and a
 * HEAD show the same ETag. A blob whose name ends in {@code /} is a directory marker and, as on
 * the S3 backend, never an object. Names Azure percent-encodes ({@code Encoded="true"}, for
 * characters XML cannot carry) are decoded.
 */
final class AzureBlobListing {
    private AzureBlobListing() {
    }

    /** A blob (with its summary) or a prefix (without). */
    record Entry(String name, Optional<ObjectSummary> summary) {
    }

    record Page(List<Entry> entries, Optional<String> nextMarker) {
    }

    static Page parse(byte[] body, String prefix, String backend) {
        try {
            return read(body, prefix, backend);
        } catch (NumberFormatException e) {
            throw S3Exception.unavailable(backend + ": listing has a Content-Length that does not parse", e);
        }
    }

    private static Page read(byte[] body, String prefix, String backend) {
        Element root = XmlReader.parse(body)
                .orElseThrow(() -> S3Exception.unavailable(backend + ": listing response is not XML", null))
                .getDocumentElement();
        List<Entry> entries = new ArrayList<>();
        Optional<String> next = XmlReader.text(root, "NextMarker").filter(m -> !m.isEmpty());
        Element blobs = child(root, "Blobs");
        if (blobs != null) {
            for (Node n = blobs.getFirstChild(); n != null; n = n.getNextSibling()) {
                if (!(n instanceof Element e)) {
                    continue;
                }
                String name = name(child(e, "Name"));
                if (!name.startsWith(prefix) || name.length() == prefix.length()) {
                    continue;
                }
                String rel = name.substring(prefix.length());
                switch (e.getLocalName()) {
                    case "BlobPrefix" -> entries.add(new Entry(rel, Optional.empty()));
                    case "Blob" -> {
                        if (rel.endsWith("/")) {
                            continue;
                        }
                        Element props = child(e, "Properties");
                        long size = props == null ? 0 : Long.parseLong(XmlReader.text(props, "Content-Length").orElse("0"));
                        Instant modified = props == null ? Instant.EPOCH : XmlReader.text(props, "Last-Modified")
                                .flatMap(HttpDate::parse).orElse(Instant.EPOCH);
                        String etag = props == null ? "\"\"" : XmlReader.text(props, "Etag").map(AzureBlobReply::quoted).orElse("\"\"");
                        entries.add(new Entry(rel, Optional.of(new ObjectSummary(rel, size, modified, etag))));
                    }
                    default -> { }
                }
            }
        }
        entries.sort((a, b) -> KeyOrder.compare(a.name(), b.name()));
        return new Page(entries, next);
    }

    private static Element child(Element parent, String name) {
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && name.equals(e.getLocalName())) {
                return e;
            }
        }
        return null;
    }

    private static String name(Element e) {
        if (e == null) {
            return "";
        }
        String text = e.getTextContent();
        return "true".equalsIgnoreCase(e.getAttribute("Encoded")) ? UriEncoding.decode(text) : text;
    }
}
