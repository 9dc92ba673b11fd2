package dev.sluice.s3;

import dev.sluice.s3.UriEncoding;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The S3 XML documents sluice writes: errors, list results, bucket location. */
public final class XmlDocuments {
    private static final String S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
    private static final XMLOutputFactory FACTORY = XMLOutputFactory.newFactory();
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
