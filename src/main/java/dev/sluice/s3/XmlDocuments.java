package dev.sluice.s3;

import dev.sluice.s3.UriEncoding;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** The S3 XML documents sluice writes: errors, list results, bucket location, and the answers to writes. */
public final class XmlDocuments {
    private static final String S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
    /**
     * The JDK's own writer, never one a library on the classpath registers as the default: the
     * documents are byte-for-byte what clients were tested against (a Woodstox writer, brought
     * in by a test dependency, wrote the declaration with single quotes).
     */
    private static final XMLOutputFactory FACTORY = XMLOutputFactory.newDefaultFactory();
    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private XmlDocuments() {
    }

    /** {@code <Error><Code/><Message/><Resource/><RequestId/></Error>}. */
    public static String error(S3Error error, String message, String resource, String requestId) {
        return write(w -> {
            w.writeStartElement("Error");
            element(w, "Code", error.code());
            element(w, "Message", message);
            element(w, "Resource", resource);
            element(w, "RequestId", requestId);
            w.writeEndElement();
        });
    }

    public static String location(String region) {
        return write(w -> {
            w.writeStartElement("LocationConstraint");
            w.writeDefaultNamespace(S3_NS);
            if (!region.equals("us-east-1")) {
                w.writeCharacters(region);
            }
            w.writeEndElement();
        });
    }

    /**
     * {@code ListAllMyBucketsResult} (S3's ListBuckets): {@code Owner} {ID, DisplayName}, then one
     * {@code Bucket} {Name, CreationDate} per name, in the order given; {@code Prefix} when one
     * was asked for, as S3 echoes it.
     */
    public static String bucketList(String owner, java.util.List<String> names, Instant creationDate, String prefix) {
        return write(w -> {
            w.writeStartElement("ListAllMyBucketsResult");
            w.writeDefaultNamespace(S3_NS);
            w.writeStartElement("Owner");
            element(w, "ID", owner);
            element(w, "DisplayName", owner);
            w.writeEndElement();
            w.writeStartElement("Buckets");
            for (String name : names) {
                w.writeStartElement("Bucket");
                element(w, "Name", name);
                element(w, "CreationDate", ISO_MILLIS.format(creationDate));
                w.writeEndElement();
            }
            w.writeEndElement();
            if (!prefix.isEmpty()) {
                element(w, "Prefix", prefix);
            }
            w.writeEndElement();
        });
    }

    /** {@code ListBucketResult}, V1 or V2 shape according to the request. */
    public static String listResult(String bucket, ListRequest req, ListResult result, String ownerId) {
        boolean url = req.urlEncoding();
        return write(w -> {
            w.writeStartElement("ListBucketResult");
            w.writeDefaultNamespace(S3_NS);
            element(w, "Name", bucket);
            element(w, "Prefix", enc(req.prefix(), url));
            if (req.version() == 1) {
                element(w, "Marker", enc(req.marker().orElse(""), url));
            }
            element(w, "MaxKeys", Integer.toString(req.maxKeys()));
            if (req.delimiter().isPresent()) {
                element(w, "Delimiter", enc(req.delimiter().get(), url));
            }
            if (url) {
                element(w, "EncodingType", "url");
            }
            element(w, "IsTruncated", Boolean.toString(result.truncated()));
            if (req.version() == 2) {
                element(w, "KeyCount", Integer.toString(result.contents().size() + result.commonPrefixes().size()));
                if (req.continuationToken().isPresent()) {
                    element(w, "ContinuationToken", req.continuationToken().get());
                }
                if (result.nextToken().isPresent()) {
                    element(w, "NextContinuationToken", result.nextToken().get());
                }
                if (req.startAfter().isPresent()) {
                    element(w, "StartAfter", enc(req.startAfter().get(), url));
                }
            } else if (result.truncated() && result.nextMarker().isPresent()) {
                element(w, "NextMarker", enc(result.nextMarker().get(), url));
            }
            for (ObjectSummary o : result.contents()) {
                w.writeStartElement("Contents");
                element(w, "Key", enc(o.key(), url));
                element(w, "LastModified", ISO_MILLIS.format(o.lastModified()));
                element(w, "ETag", o.etag());
                element(w, "Size", Long.toString(o.size()));
                if (req.fetchOwner()) {
                    w.writeStartElement("Owner");
                    element(w, "ID", ownerId);
                    element(w, "DisplayName", ownerId);
                    w.writeEndElement();
                }
                element(w, "StorageClass", "STANDARD");
                w.writeEndElement();
            }
            for (String p : result.commonPrefixes()) {
                w.writeStartElement("CommonPrefixes");
                element(w, "Prefix", enc(p, url));
                w.writeEndElement();
            }
            w.writeEndElement();
        });
    }

    /** {@code InitiateMultipartUploadResult}: the bucket (account), the key ({@code product/key}) and the upload id the client continues with. */
    public static String initiateMultipartUpload(String bucket, String key, String uploadId) {
        return write(w -> {
            w.writeStartElement("InitiateMultipartUploadResult");
            w.writeDefaultNamespace(S3_NS);
            element(w, "Bucket", bucket);
            element(w, "Key", key);
            element(w, "UploadId", uploadId);
            w.writeEndElement();
        });
    }

    /**
     * {@code CompleteMultipartUploadResult}: {@code Location} (the object's URL), bucket, key,
     * ETag and the stored checksums ({@code x-amz-checksum-crc32} → {@code ChecksumCRC32}).
     */
    public static String completeMultipartUpload(String location, String bucket, String key, String etag,
                                                 List<Map.Entry<String, String>> checksums) {
        return write(w -> {
            w.writeStartElement("CompleteMultipartUploadResult");
            w.writeDefaultNamespace(S3_NS);
            element(w, "Location", location);
            element(w, "Bucket", bucket);
            element(w, "Key", key);
            element(w, "ETag", etag);
            checksumElements(w, checksums);
            w.writeEndElement();
        });
    }

    /** {@code CopyObjectResult}: the new object's ETag, when it was written, and its stored checksums. */
    public static String copyObject(String etag, Instant lastModified, List<Map.Entry<String, String>> checksums) {
        return write(w -> {
            w.writeStartElement("CopyObjectResult");
            w.writeDefaultNamespace(S3_NS);
            element(w, "ETag", etag);
            element(w, "LastModified", ISO_MILLIS.format(lastModified));
            checksumElements(w, checksums);
            w.writeEndElement();
        });
    }

    /** One part of an upload in progress, as ListParts shows it, with its kept checksum ({@code x-amz-checksum-*}), if any. */
    public record ListedPart(int partNumber, String etag, long size, Instant lastModified, List<Map.Entry<String, String>> checksums) {
        public ListedPart {
            checksums = List.copyOf(checksums);
        }

        public ListedPart(int partNumber, String etag, long size, Instant lastModified) {
            this(partNumber, etag, size, lastModified, List.of());
        }
    }

    /**
     * {@code ListPartsResult}: the parts after {@code marker}; {@code next} is the marker of the
     * next page when the listing is truncated. {@code owner} names the initiator and owner.
     */
    public static String listParts(String bucket, String key, String uploadId, int marker, Optional<Integer> next, int maxParts,
                                   List<ListedPart> parts, Optional<MultipartChecksum> checksum, String owner) {
        return write(w -> {
            w.writeStartElement("ListPartsResult");
            w.writeDefaultNamespace(S3_NS);
            element(w, "Bucket", bucket);
            element(w, "Key", key);
            element(w, "UploadId", uploadId);
            owner(w, "Initiator", owner);
            owner(w, "Owner", owner);
            element(w, "StorageClass", "STANDARD");
            element(w, "PartNumberMarker", Integer.toString(marker));
            if (next.isPresent()) {
                element(w, "NextPartNumberMarker", Integer.toString(next.get()));
            }
            element(w, "MaxParts", Integer.toString(maxParts));
            element(w, "IsTruncated", Boolean.toString(next.isPresent()));
            for (ListedPart p : parts) {
                w.writeStartElement("Part");
                element(w, "PartNumber", Integer.toString(p.partNumber()));
                element(w, "LastModified", ISO_MILLIS.format(p.lastModified()));
                element(w, "ETag", p.etag());
                element(w, "Size", Long.toString(p.size()));
                checksumElements(w, p.checksums());
                w.writeEndElement();
            }
            uploadChecksum(w, checksum);
            w.writeEndElement();
        });
    }

    /** The checksum an upload was started with, as ListParts and ListMultipartUploads name it; nothing without one. */
    private static void uploadChecksum(XMLStreamWriter w, Optional<MultipartChecksum> checksum) throws XMLStreamException {
        if (checksum.isPresent()) {
            element(w, "ChecksumAlgorithm", checksum.get().algorithm().toUpperCase(Locale.ROOT));
            element(w, "ChecksumType", checksum.get().type());
        }
    }

    /**
     * One upload in progress, as ListMultipartUploads shows it: its key ({@code product/key}),
     * the client's upload id, and the checksum it was started with, where the store says.
     */
    public record ListedUpload(String key, String uploadId, Instant initiated, Optional<MultipartChecksum> checksum) {
    }

    /**
     * {@code ListMultipartUploadsResult}. {@code next} names the key and upload id of the next
     * page's marker when the listing is truncated; with {@code urlEncoding} keys and the prefix
     * are URL-encoded ({@code encoding-type=url}).
     */
    public static String listMultipartUploads(String bucket, String prefix, Optional<String> keyMarker,
                                              Optional<String> uploadIdMarker, int maxUploads, boolean urlEncoding,
                                              List<ListedUpload> uploads, Optional<ListedUpload> next, String owner) {
        return write(w -> {
            w.writeStartElement("ListMultipartUploadsResult");
            w.writeDefaultNamespace(S3_NS);
            element(w, "Bucket", bucket);
            element(w, "KeyMarker", enc(keyMarker.orElse(""), urlEncoding));
            element(w, "UploadIdMarker", uploadIdMarker.orElse(""));
            if (next.isPresent()) {
                element(w, "NextKeyMarker", enc(next.get().key(), urlEncoding));
                element(w, "NextUploadIdMarker", next.get().uploadId());
            }
            element(w, "Prefix", enc(prefix, urlEncoding));
            if (urlEncoding) {
                element(w, "EncodingType", "url");
            }
            element(w, "MaxUploads", Integer.toString(maxUploads));
            element(w, "IsTruncated", Boolean.toString(next.isPresent()));
            for (ListedUpload u : uploads) {
                w.writeStartElement("Upload");
                element(w, "Key", enc(u.key(), urlEncoding));
                element(w, "UploadId", u.uploadId());
                owner(w, "Initiator", owner);
                owner(w, "Owner", owner);
                element(w, "StorageClass", "STANDARD");
                element(w, "Initiated", ISO_MILLIS.format(u.initiated()));
                uploadChecksum(w, u.checksum());
                w.writeEndElement();
            }
            w.writeEndElement();
        });
    }

    /** One key's outcome in a DeleteObjects answer: deleted, or refused with an S3 error. */
    public sealed interface DeleteOutcome {
        String key();

        record Deleted(String key) implements DeleteOutcome {
        }

        record Failed(String key, S3Error error, String message) implements DeleteOutcome {
        }
    }

    /** {@code DeleteResult}: each key's outcome in the order asked; with {@code quiet} only the failures, as S3 does. */
    public static String deleteResult(List<DeleteOutcome> outcomes, boolean quiet) {
        return write(w -> {
            w.writeStartElement("DeleteResult");
            w.writeDefaultNamespace(S3_NS);
            for (DeleteOutcome o : outcomes) {
                switch (o) {
                    case DeleteOutcome.Deleted d -> {
                        if (!quiet) {
                            w.writeStartElement("Deleted");
                            element(w, "Key", d.key());
                            w.writeEndElement();
                        }
                    }
                    case DeleteOutcome.Failed f -> {
                        w.writeStartElement("Error");
                        element(w, "Key", f.key());
                        element(w, "Code", f.error().code());
                        element(w, "Message", f.message());
                        w.writeEndElement();
                    }
                }
            }
            w.writeEndElement();
        });
    }

    /**
     * {@code x-amz-checksum-crc64nvme} → {@code ChecksumCRC64NVME}: the element S3 names each
     * stored checksum with; {@code x-amz-checksum-type} → {@code ChecksumType}, after them.
     */
    private static void checksumElements(XMLStreamWriter w, List<Map.Entry<String, String>> checksums) throws XMLStreamException {
        String type = null;
        for (Map.Entry<String, String> c : checksums) {
            String name = c.getKey().toLowerCase(java.util.Locale.ROOT);
            if (name.equals("x-amz-checksum-type")) {
                type = c.getValue();
            } else if (name.startsWith("x-amz-checksum-")) {
                element(w, MultipartChecksum.element(name.substring("x-amz-checksum-".length())), c.getValue());
            }
        }
        if (type != null) {
            element(w, "ChecksumType", type);
        }
    }

    private static void owner(XMLStreamWriter w, String element, String owner) throws XMLStreamException {
        w.writeStartElement(element);
        element(w, "ID", owner);
        element(w, "DisplayName", owner);
        w.writeEndElement();
    }

    public static String isoMillis(Instant t) {
        return ISO_MILLIS.format(t);
    }

    private static String enc(String s, boolean url) {
        return url ? UriEncoding.encodePath(s) : s;
    }

    /** One element holding {@code text}, written as every text of sluice's XML is (see {@code characters}). */
    public static void element(XMLStreamWriter w, String name, String text) throws XMLStreamException {
        w.writeStartElement(name);
        characters(w, text);
        w.writeEndElement();
    }

    /**
     * Text content that survives an XML parser unchanged, as S3 writes it: {@code &}, {@code <}
     * and {@code >} escaped by the writer, and every control character but tab and line feed as
     * a character reference ({@code &#xD;}). A raw carriage return would reach the client as a
     * line feed (XML end-of-line normalisation), so a key {@code "a\rb"} would come back as a
     * different key. Control characters other than those are not allowed in XML 1.0 at all; S3
     * writes them as references too, which lenient parsers accept, and recommends
     * {@code encoding-type=url}, which aws-cli and boto3 send by default.
     */
    private static void characters(XMLStreamWriter w, String text) throws XMLStreamException {
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0xFFFE || c == 0xFFFF) {
                if (i > start) {
                    w.writeCharacters(text.substring(start, i));
                }
                w.writeEntityRef("#x" + Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT));
                start = i + 1;
            }
        }
        if (start == 0) {
            w.writeCharacters(text);
        } else if (start < text.length()) {
            w.writeCharacters(text.substring(start));
        }
    }

    /** What a document holds, written element by element. */
    public interface Body {
        void write(XMLStreamWriter w) throws XMLStreamException;
    }

    /**
     * A whole document with its XML declaration: the one XML writer for every document sluice
     * answers with, the S3 ones here and the STS ones of {@code auth.StsService}.
     */
    public static String write(Body body) {
        StringWriter out = new StringWriter(256);
        try {
            XMLStreamWriter w = FACTORY.createXMLStreamWriter(out);
            w.writeStartDocument("UTF-8", "1.0");
            body.write(w);
            w.writeEndDocument();
            w.close();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("writing an XML document to a string failed", e);
        }
        return out.toString();
    }

}
