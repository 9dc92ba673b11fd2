package dev.sluice.s3;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The XML bodies of CompleteMultipartUpload and DeleteObjects, read with the hardened
 * {@link XmlReader} (no DOCTYPE, no entities) from a body already held whole and small. As S3:
 * a body that is not the document, or breaks its rules, is {@code 400 MalformedXML}; parts out of
 * ascending order are {@code 400 InvalidPartOrder}. Element names are matched by local name, so
 * a document with or without S3's namespace reads alike.
 */
public final class RequestDocuments {
    /** The most keys one DeleteObjects may name (S3's limit). */
    public static final int MAX_DELETE_KEYS = 1000;
    private static final int MAX_PART_NUMBER = 10_000;

    private RequestDocuments() {
    }

    /**
     * A part the client lists: its number, the ETag it was answered (quoted, as S3 shows it) and
     * the checksums it lists for it ({@code ChecksumCRC32} as {@code x-amz-checksum-crc32}).
     */
    public record CompletedPart(int partNumber, String etag, Map<String, String> checksums) {
        public CompletedPart {
            checksums = Map.copyOf(checksums);
        }

        public CompletedPart(int partNumber, String etag) {
            this(partNumber, etag, Map.of());
        }
    }

    /** The checksum elements of a listed part, and the names they stand for. */

    /** One key of a DeleteObjects request, as the client wrote it ({@code product/key}), and its version id if any. */
    public record DeleteKey(String key, Optional<String> versionId) {
    }

    /** A DeleteObjects request: the keys in the order given, and whether only errors are reported ({@code Quiet}). */
    public record DeleteRequest(boolean quiet, List<DeleteKey> keys) {
        public DeleteRequest {
            keys = List.copyOf(keys);
        }
    }

    /**
     * {@code <CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>…</CompleteMultipartUpload>}:
     * at least one part, each with a part number from 1 to 10000 (else {@code 400 InvalidPart},
     * no such part can exist) and an ETag; part numbers strictly ascending, else
     * {@code 400 InvalidPartOrder}. A part's checksum elements ({@code ChecksumCRC32} …) are
     * read as given; the store checks them against what it kept.
     */
    public static List<CompletedPart> completeMultipartUpload(byte[] body) {
        Element root = root(body, "CompleteMultipartUpload");
        List<CompletedPart> parts = new ArrayList<>();
        for (Element part : children(root, "Part")) {
            String number = XmlReader.text(part, "PartNumber").map(String::strip).orElseThrow(RequestDocuments::malformed);
            String etag = XmlReader.text(part, "ETag").map(String::strip).filter(e -> !e.isEmpty())
                    .orElseThrow(RequestDocuments::malformed);
            int n;
            try {
                n = Integer.parseInt(number);
            } catch (NumberFormatException e) {
                throw malformed();
            }
            if (n < 1 || n > MAX_PART_NUMBER) {
                throw new S3Exception(S3Error.INVALID_PART);
            }
            if (!parts.isEmpty() && n <= parts.get(parts.size() - 1).partNumber()) {
                throw new S3Exception(S3Error.INVALID_PART_ORDER);
            }
            Map<String, String> checksums = new LinkedHashMap<>();
            for (String algorithm : MultipartChecksum.ALGORITHMS) {
                XmlReader.text(part, MultipartChecksum.element(algorithm)).map(String::strip)
                        .ifPresent(v -> checksums.put("x-amz-checksum-" + algorithm, v));
            }
            parts.add(new CompletedPart(n, quoted(etag), checksums));
        }
        if (parts.isEmpty()) {
            throw new S3Exception(S3Error.MALFORMED_XML, "You must specify at least one part.");
        }
        return List.copyOf(parts);
    }

    /**
     * {@code <Delete><Quiet/><Object><Key/><VersionId/></Object>…</Delete>}: one to
     * {@link #MAX_DELETE_KEYS} objects, each with a key; {@code Quiet} {@code true} or
     * {@code false} (default false).
     */
    public static DeleteRequest delete(byte[] body) {
        Element root = root(body, "Delete");
        boolean quiet = switch (XmlReader.text(root, "Quiet").map(String::strip).orElse("false")) {
            case "true" -> true;
            case "false" -> false;
            default -> throw malformed();
        };
        List<DeleteKey> keys = new ArrayList<>();
        for (Element object : children(root, "Object")) {
            String key = XmlReader.text(object, "Key").orElseThrow(RequestDocuments::malformed);
            keys.add(new DeleteKey(key, XmlReader.text(object, "VersionId").map(String::strip)));
            if (keys.size() > MAX_DELETE_KEYS) {
                throw new S3Exception(S3Error.MALFORMED_XML, "A DeleteObjects request names at most " + MAX_DELETE_KEYS + " keys.");
            }
        }
        if (keys.isEmpty()) {
            throw malformed();
        }
        return new DeleteRequest(quiet, keys);
    }

    private static Element root(byte[] body, String name) {
        Document doc = XmlReader.parse(body).orElseThrow(RequestDocuments::malformed);
        Element root = doc.getDocumentElement();
        if (root == null || !name.equals(root.getLocalName())) {
            throw malformed();
        }
        return root;
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && name.equals(e.getLocalName())) {
                out.add(e);
            }
        }
        return out;
    }

    /** An ETag as S3 shows it, quoted; clients send it with or without the quotes. */
    private static String quoted(String etag) {
        return etag.startsWith("\"") && etag.endsWith("\"") && etag.length() >= 2 ? etag : "\"" + etag + "\"";
    }

    private static S3Exception malformed() {
        return new S3Exception(S3Error.MALFORMED_XML);
    }
}
