package dev.sluice.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

class XmlDocumentsTest {
    private static final String S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/";
    private static final Instant T1 = Instant.parse("2024-06-03T10:15:30.123Z");
    private static final Instant T2 = Instant.parse("2024-01-02T03:04:05Z");

    private static Document parseXml(String xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new AssertionError("not well-formed XML: " + xml, e);
        }
    }

    private static List<Element> children(Element parent, String localName) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getLocalName().equals(localName)) {
                out.add(e);
            }
        }
        return out;
    }

    private static List<String> childNames(Element parent) {
        List<String> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e) {
                out.add(e.getLocalName());
            }
        }
        return out;
    }

    private static Element child(Element parent, String localName) {
        List<Element> found = children(parent, localName);
        assertThat(found).as("exactly one <%s> in <%s>", localName, parent.getLocalName()).hasSize(1);
        return found.get(0);
    }

    private static String text(Element parent, String localName) {
        return child(parent, localName).getTextContent();
    }

    /** Every element of an S3 list result is in the S3 namespace, not just the root. */
    private static void assertAllInS3Namespace(Element e) {
        assertThat(e.getNamespaceURI()).as("namespace of <%s>", e.getLocalName()).isEqualTo(S3_NS);
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c) {
                assertAllInS3Namespace(c);
            }
        }
    }

    private static ListRequest v2(String prefix, Optional<String> delimiter, int maxKeys, Optional<String> token,
                                  Optional<String> startAfter, boolean url, boolean fetchOwner) {
        return new ListRequest(2, prefix, delimiter, maxKeys, token, startAfter, url, fetchOwner);
    }

    private static ListRequest v1(String prefix, Optional<String> delimiter, int maxKeys, Optional<String> marker, boolean url) {
        return new ListRequest(1, prefix, delimiter, maxKeys, Optional.empty(), marker, url, true);
    }

    private static ListResult result(List<ObjectSummary> contents, List<String> prefixes, boolean truncated,
                                     Optional<String> nextToken, Optional<String> nextMarker) {
        return new ListResult(contents, prefixes, truncated, nextToken, nextMarker);
    }

    // --- Error ---------------------------------------------------------------------------------

    @Test
    void errorHasCodeMessageResourceAndRequestId() {
        String xml = XmlDocuments.error(S3Error.NO_SUCH_KEY, "The specified key does not exist.", "/demo/hello/x.txt", "req-1");

        assertThat(xml).startsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        Element root = parseXml(xml).getDocumentElement();
        assertThat(root.getLocalName()).isEqualTo("Error");
        assertThat(childNames(root)).containsExactly("Code", "Message", "Resource", "RequestId");
        assertThat(text(root, "Code")).isEqualTo("NoSuchKey");
        assertThat(text(root, "Message")).isEqualTo("The specified key does not exist.");
        assertThat(text(root, "Resource")).isEqualTo("/demo/hello/x.txt");
        assertThat(text(root, "RequestId")).isEqualTo("req-1");
    }

    /** The answer to an operation on an upload that another still holds: S3's code and status. */
    @Test
    void operationAbortedIsS3sConflict() {
        Element root = parseXml(XmlDocuments.error(S3Error.OPERATION_ABORTED, S3Error.OPERATION_ABORTED.defaultMessage(),
                "/demo/drop/k", "r")).getDocumentElement();

        assertThat(text(root, "Code")).isEqualTo("OperationAborted");
        assertThat(S3Error.OPERATION_ABORTED.status()).isEqualTo(409);
    }

    @Test
    void bucketListIsListAllMyBucketsResult() {
        Element root = parseXml(XmlDocuments.bucketList("sluice", java.util.List.of("demo", "open"), java.time.Instant.EPOCH, ""))
                .getDocumentElement();

        assertThat(root.getLocalName()).isEqualTo("ListAllMyBucketsResult");
        assertAllInS3Namespace(root);
        assertThat(childNames(root)).containsExactly("Owner", "Buckets");
        Element owner = (Element) root.getElementsByTagNameNS("*", "Owner").item(0);
        assertThat(childNames(owner)).containsExactly("ID", "DisplayName");
        Element bucket = (Element) root.getElementsByTagNameNS("*", "Bucket").item(1);
        assertThat(childNames(bucket)).containsExactly("Name", "CreationDate");
        assertThat(text(bucket, "Name")).isEqualTo("open");
        assertThat(text(bucket, "CreationDate")).isEqualTo("1970-01-01T00:00:00.000Z");
        assertThat(childNames(parseXml(XmlDocuments.bucketList("sluice", java.util.List.of(), java.time.Instant.EPOCH, "de"))
                .getDocumentElement())).containsExactly("Owner", "Buckets", "Prefix");
    }

    @Test
    void errorEscapesWhatTheClientSent() {
        String resource = "/demo/hello/<script>&\"'.txt";
        Element root = parseXml(XmlDocuments.error(S3Error.INVALID_REQUEST, "bad <key> & more", resource, "r")).getDocumentElement();

        assertThat(text(root, "Code")).isEqualTo("InvalidRequest");
        assertThat(text(root, "Message")).isEqualTo("bad <key> & more");
        assertThat(text(root, "Resource")).isEqualTo(resource);
    }

    @Test
    void locationIsEmptyForUsEast1AndTheRegionOtherwise() {
        Element east = parseXml(XmlDocuments.location("us-east-1")).getDocumentElement();
        Element west = parseXml(XmlDocuments.location("eu-west-1")).getDocumentElement();

        assertThat(east.getLocalName()).isEqualTo("LocationConstraint");
        assertThat(east.getNamespaceURI()).isEqualTo(S3_NS);
        assertThat(east.getTextContent()).isEmpty();
        assertThat(west.getTextContent()).isEqualTo("eu-west-1");
    }

    // --- ListObjectsV2 -------------------------------------------------------------------------

    @Test
    void v2ListHasItsFieldsContentsAndCommonPrefixes() {
        ListRequest req = v2("hello/", Optional.of("/"), 2, Optional.of("tok-in"), Optional.empty(), false, false);
        ListResult res = result(
                List.of(new ObjectSummary("hello/a.txt", 12, T1, "\"etag-a\"")),
                List.of("hello/nested/"),
                true, Optional.of("tok-out"), Optional.of("hello/nested/"));

        Element root = parseXml(XmlDocuments.listResult("demo", req, res, "demo")).getDocumentElement();

        assertThat(root.getLocalName()).isEqualTo("ListBucketResult");
        assertAllInS3Namespace(root);
        assertThat(text(root, "Name")).isEqualTo("demo");
        assertThat(text(root, "Prefix")).isEqualTo("hello/");
        assertThat(text(root, "Delimiter")).isEqualTo("/");
        assertThat(text(root, "MaxKeys")).isEqualTo("2");
        assertThat(text(root, "KeyCount")).isEqualTo("2");
        assertThat(text(root, "IsTruncated")).isEqualTo("true");
        assertThat(text(root, "ContinuationToken")).isEqualTo("tok-in");
        assertThat(text(root, "NextContinuationToken")).isEqualTo("tok-out");
        assertThat(children(root, "Marker")).isEmpty();
        assertThat(children(root, "NextMarker")).isEmpty();
        assertThat(children(root, "StartAfter")).isEmpty();
        assertThat(children(root, "EncodingType")).isEmpty();

        Element contents = child(root, "Contents");
        assertThat(text(contents, "Key")).isEqualTo("hello/a.txt");
        assertThat(text(contents, "LastModified")).isEqualTo("2024-06-03T10:15:30.123Z");
        assertThat(text(contents, "ETag")).isEqualTo("\"etag-a\"");
        assertThat(text(contents, "Size")).isEqualTo("12");
        assertThat(text(contents, "StorageClass")).isEqualTo("STANDARD");
        assertThat(children(contents, "Owner")).isEmpty();

        assertThat(children(root, "CommonPrefixes")).singleElement()
                .satisfies(cp -> assertThat(text(cp, "Prefix")).isEqualTo("hello/nested/"));
    }

    @Test
    void aKeyWithACarriageReturnSurvivesXmlEndOfLineNormalisation() {
        ListRequest req = v2("", Optional.empty(), 1000, Optional.empty(), Optional.empty(), false, false);
        String key = "line\r\nbreak\rand\ttab.txt";
        ListResult res = result(List.of(new ObjectSummary(key, 1, T1, "\"e\"")), List.of(), false, Optional.empty(), Optional.empty());

        String xml = XmlDocuments.listResult("demo", req, res, "demo");
        Element contents = child(parseXml(xml).getDocumentElement(), "Contents");

        assertThat(xml).contains("line&#xD;\nbreak&#xD;and\ttab.txt");
        assertThat(text(contents, "Key")).isEqualTo(key);
    }

    @Test
    void controlCharactersXmlCannotCarryAreWrittenAsReferencesAsS3Does() {
        ListRequest req = v2("", Optional.empty(), 1000, Optional.empty(), Optional.empty(), false, false);
        ListResult res = result(List.of(new ObjectSummary("a\u0001b\u001fc", 1, T1, "\"e\"")), List.of(), false,
                Optional.empty(), Optional.empty());

        assertThat(XmlDocuments.listResult("demo", req, res, "demo")).contains("<Key>a&#x1;b&#x1F;c</Key>");
        // With encoding-type=url (aws-cli and boto3 ask for it) the key is plain ASCII.
        ListRequest url = v2("", Optional.empty(), 1000, Optional.empty(), Optional.empty(), true, false);
        assertThat(XmlDocuments.listResult("demo", url, res, "demo")).contains("<Key>a%01b%1Fc</Key>");
    }

    @Test
    void lastModifiedAlwaysHasMillisecondsAndZ() {
        ListRequest req = v2("", Optional.empty(), 1000, Optional.empty(), Optional.empty(), false, false);
        ListResult res = result(List.of(new ObjectSummary("k", 0, T2, "\"e\"")), List.of(), false, Optional.empty(), Optional.empty());

        Element contents = child(parseXml(XmlDocuments.listResult("demo", req, res, "demo")).getDocumentElement(), "Contents");

        assertThat(text(contents, "LastModified")).isEqualTo("2024-01-02T03:04:05.000Z");
        assertThat(text(contents, "Size")).isEqualTo("0");
        assertThat(XmlDocuments.isoMillis(T1)).isEqualTo("2024-06-03T10:15:30.123Z");
    }

    @Test
    void v2ListThatIsCompleteHasNoNextTokenAndOmitsAbsentFields() {
        ListRequest req = v2("", Optional.empty(), 1000, Optional.empty(), Optional.empty(), false, false);
        ListResult res = result(List.of(
                new ObjectSummary("a", 1, T1, "\"1\""),
                new ObjectSummary("b", 2, T2, "\"2\"")), List.of(), false, Optional.empty(), Optional.empty());

        Element root = parseXml(XmlDocuments.listResult("demo", req, res, "demo")).getDocumentElement();

        assertThat(text(root, "IsTruncated")).isEqualTo("false");
        assertThat(text(root, "KeyCount")).isEqualTo("2");
        assertThat(text(root, "Prefix")).isEmpty();
        assertThat(children(root, "NextContinuationToken")).isEmpty();
        assertThat(children(root, "ContinuationToken")).isEmpty();
        assertThat(children(root, "Delimiter")).isEmpty();
        assertThat(children(root, "CommonPrefixes")).isEmpty();
        assertThat(children(root, "Contents")).extracting(c -> text(c, "Key")).containsExactly("a", "b");
    }

    @Test
    void v2EchoesStartAfter() {
        ListRequest req = v2("", Optional.empty(), 1000, Optional.empty(), Optional.of("hello/b"), false, false);
        Element root = parseXml(XmlDocuments.listResult("demo", req,
                result(List.of(), List.of(), false, Optional.empty(), Optional.empty()), "demo")).getDocumentElement();

        assertThat(text(root, "StartAfter")).isEqualTo("hello/b");
        assertThat(text(root, "KeyCount")).isEqualTo("0");
    }

    @Test
    void v2IncludesOwnerOnlyWithFetchOwner() {
        ListResult res = result(List.of(new ObjectSummary("a", 1, T1, "\"1\"")), List.of(), false, Optional.empty(), Optional.empty());
        ListRequest with = v2("", Optional.empty(), 1000, Optional.empty(), Optional.empty(), false, true);
        ListRequest without = v2("", Optional.empty(), 1000, Optional.empty(), Optional.empty(), false, false);

        Element owned = child(child(parseXml(XmlDocuments.listResult("demo", with, res, "owner-1")).getDocumentElement(), "Contents"), "Owner");
        Element plain = child(parseXml(XmlDocuments.listResult("demo", without, res, "owner-1")).getDocumentElement(), "Contents");

        assertThat(text(owned, "ID")).isEqualTo("owner-1");
        assertThat(text(owned, "DisplayName")).isEqualTo("owner-1");
        assertThat(children(plain, "Owner")).isEmpty();
    }

    // --- ListObjects (V1) ----------------------------------------------------------------------

    @Test
    void v1HasMarkerAndNextMarkerWhenTruncated() {
        ListRequest req = v1("hello/", Optional.of("/"), 1, Optional.of("hello/a.txt"), false);
        ListResult res = result(List.of(new ObjectSummary("hello/b.txt", 3, T1, "\"b\"")), List.of(), true,
                Optional.of("token-never-shown-in-v1"), Optional.of("hello/b.txt"));

        Element root = parseXml(XmlDocuments.listResult("demo", req, res, "demo")).getDocumentElement();

        assertAllInS3Namespace(root);
        assertThat(text(root, "Marker")).isEqualTo("hello/a.txt");
        assertThat(text(root, "NextMarker")).isEqualTo("hello/b.txt");
        assertThat(text(root, "IsTruncated")).isEqualTo("true");
        assertThat(children(root, "KeyCount")).isEmpty();
        assertThat(children(root, "NextContinuationToken")).isEmpty();
        assertThat(children(root, "ContinuationToken")).isEmpty();
        assertThat(children(root, "StartAfter")).isEmpty();
        assertThat(child(root, "Contents").getElementsByTagNameNS(S3_NS, "Owner").getLength()).isEqualTo(1);
    }

    @Test
    void v1HasAnEmptyMarkerWithoutOneAndNoNextMarkerWhenComplete() {
        ListRequest req = v1("", Optional.empty(), 1000, Optional.empty(), false);
        ListResult res = result(List.of(new ObjectSummary("a", 1, T1, "\"1\"")), List.of(), false,
                Optional.empty(), Optional.of("a"));

        Element root = parseXml(XmlDocuments.listResult("demo", req, res, "demo")).getDocumentElement();

        assertThat(text(root, "Marker")).isEmpty();
        assertThat(children(root, "NextMarker")).isEmpty();
        assertThat(text(root, "IsTruncated")).isEqualTo("false");
    }

    // --- encoding-type=url ---------------------------------------------------------------------

    @Test
    void urlEncodingEncodesKeysPrefixesAndMarkersButKeepsSlashes() {
        ListRequest req = v2("dir a/", Optional.of("/"), 1000, Optional.empty(), Optional.of("dir a/a b.txt"), true, false);
        ListResult res = result(List.of(
                        new ObjectSummary("dir a/a b.txt", 1, T1, "\"1\""),
                        new ObjectSummary("dir a/a+b", 1, T1, "\"2\""),
                        new ObjectSummary("dir a/ünï 文件.txt", 1, T1, "\"3\"")),
                List.of("dir a/sub dir/"), false, Optional.empty(), Optional.empty());

        Element root = parseXml(XmlDocuments.listResult("demo", req, res, "demo")).getDocumentElement();

        assertThat(text(root, "EncodingType")).isEqualTo("url");
        assertThat(text(root, "Prefix")).isEqualTo("dir%20a/");
        assertThat(text(root, "Delimiter")).isEqualTo("/");
        assertThat(text(root, "StartAfter")).isEqualTo("dir%20a/a%20b.txt");
        assertThat(children(root, "Contents")).extracting(c -> text(c, "Key")).containsExactly(
                "dir%20a/a%20b.txt", "dir%20a/a%2Bb", "dir%20a/%C3%BCn%C3%AF%20%E6%96%87%E4%BB%B6.txt");
        assertThat(child(child(root, "CommonPrefixes"), "Prefix").getTextContent()).isEqualTo("dir%20a/sub%20dir/");
    }

    @Test
    void urlEncodingEncodesV1MarkerAndNextMarker() {
        ListRequest req = v1("", Optional.empty(), 1, Optional.of("a b"), true);
        ListResult res = result(List.of(new ObjectSummary("c+d", 1, T1, "\"1\"")), List.of(), true,
                Optional.empty(), Optional.of("c+d"));

        Element root = parseXml(XmlDocuments.listResult("demo", req, res, "demo")).getDocumentElement();

        assertThat(text(root, "Marker")).isEqualTo("a%20b");
        assertThat(text(root, "NextMarker")).isEqualTo("c%2Bd");
        assertThat(text(root, "EncodingType")).isEqualTo("url");
    }

    @Test
    void withoutUrlEncodingKeysAreVerbatim() {
        ListRequest req = v2("", Optional.empty(), 1000, Optional.empty(), Optional.empty(), false, false);
        ListResult res = result(List.of(new ObjectSummary("a b+c%.txt", 1, T1, "\"1\"")), List.of(), false,
                Optional.empty(), Optional.empty());

        Element root = parseXml(XmlDocuments.listResult("demo", req, res, "demo")).getDocumentElement();

        assertThat(text(child(root, "Contents"), "Key")).isEqualTo("a b+c%.txt");
    }

    // --- XML-special characters ----------------------------------------------------------------

    @Test
    void xmlSpecialCharactersInKeysAreEscapedAndRoundTrip() {
        String key = "dir/<a&b>\"c'd\".txt";
        String prefix = "dir/<&>\"'/";
        ListRequest req = v2("dir/", Optional.of("/"), 1000, Optional.empty(), Optional.of("dir/<"), false, false);
        ListResult res = result(List.of(new ObjectSummary(key, 1, T1, "\"1\"")), List.of(prefix), false,
                Optional.empty(), Optional.empty());

        String xml = XmlDocuments.listResult("demo", req, res, "demo");
        Element root = parseXml(xml).getDocumentElement();

        assertThat(xml).doesNotContain("<a&b>");
        assertThat(text(child(root, "Contents"), "Key")).isEqualTo(key);
        assertThat(text(child(root, "CommonPrefixes"), "Prefix")).isEqualTo(prefix);
        assertThat(text(root, "StartAfter")).isEqualTo("dir/<");
    }

    @Test
    void nonAsciiKeysRoundTripAsUtf8() {
        String key = "ünïcødé/文件/𝄞.txt";
        ListRequest req = v2("", Optional.empty(), 1000, Optional.empty(), Optional.empty(), false, false);
        ListResult res = result(List.of(new ObjectSummary(key, 1, T1, "\"1\"")), List.of(), false, Optional.empty(), Optional.empty());

        Element root = parseXml(XmlDocuments.listResult("demo", req, res, "demo")).getDocumentElement();

        assertThat(text(child(root, "Contents"), "Key")).isEqualTo(key);
    }

    // --- answers to writes ------------------------------------------------------------------------

    @Test
    void initiateMultipartUploadNamesBucketKeyAndUploadId() {
        Element root = parseXml(XmlDocuments.initiateMultipartUpload("demo", "drop/a&b.bin", "id-1")).getDocumentElement();

        assertThat(root.getLocalName()).isEqualTo("InitiateMultipartUploadResult");
        assertAllInS3Namespace(root);
        assertThat(childNames(root)).containsExactly("Bucket", "Key", "UploadId");
        assertThat(text(root, "Key")).isEqualTo("drop/a&b.bin");
        assertThat(text(root, "UploadId")).isEqualTo("id-1");
    }

    @Test
    void completeMultipartUploadCarriesTheEtagAndTheStoredChecksumsInS3sElementNames() {
        Element root = parseXml(XmlDocuments.completeMultipartUpload("http://h/demo/drop/a.bin", "demo", "drop/a.bin", "\"abc-2\"",
                List.of(java.util.Map.entry("x-amz-checksum-crc32", "AAAAAA=="),
                        java.util.Map.entry("x-amz-checksum-crc64nvme", "AAAAAAAAAAA=")))).getDocumentElement();

        assertThat(root.getLocalName()).isEqualTo("CompleteMultipartUploadResult");
        assertAllInS3Namespace(root);
        assertThat(childNames(root)).containsExactly("Location", "Bucket", "Key", "ETag", "ChecksumCRC32", "ChecksumCRC64NVME");
        assertThat(text(root, "ETag")).isEqualTo("\"abc-2\"");
    }

    @Test
    void completeMultipartUploadNamesTheChecksumsTypeAfterThem() {
        Element root = parseXml(XmlDocuments.completeMultipartUpload("http://h/demo/drop/a.bin", "demo", "drop/a.bin", "\"abc-2\"",
                List.of(java.util.Map.entry("x-amz-checksum-crc32", "AAAAAA==-2"),
                        java.util.Map.entry("x-amz-checksum-type", "COMPOSITE")))).getDocumentElement();

        assertThat(childNames(root)).containsExactly("Location", "Bucket", "Key", "ETag", "ChecksumCRC32", "ChecksumType");
        assertThat(text(root, "ChecksumCRC32")).isEqualTo("AAAAAA==-2");
        assertThat(text(root, "ChecksumType")).isEqualTo("COMPOSITE");
    }

    @Test
    void copyObjectResultHasTheEtagAndLastModified() {
        Element root = parseXml(XmlDocuments.copyObject("\"e\"", T1, List.of())).getDocumentElement();

        assertThat(root.getLocalName()).isEqualTo("CopyObjectResult");
        assertThat(childNames(root)).containsExactly("ETag", "LastModified");
        assertThat(text(root, "LastModified")).isEqualTo("2024-06-03T10:15:30.123Z");
    }

    @Test
    void listPartsPagesWithTheNextMarker() {
        Element root = parseXml(XmlDocuments.listParts("demo", "drop/a.bin", "id-1", 0, Optional.of(2), 2,
                List.of(new XmlDocuments.ListedPart(1, "\"p1\"", 5 << 20, T1), new XmlDocuments.ListedPart(2, "\"p2\"", 7, T2,
                        List.of(java.util.Map.entry("x-amz-checksum-crc32c", "AAAAAA==")))),
                Optional.of(new MultipartChecksum("crc32c", true)), "sluice")).getDocumentElement();

        assertThat(root.getLocalName()).isEqualTo("ListPartsResult");
        assertAllInS3Namespace(root);
        assertThat(text(root, "IsTruncated")).isEqualTo("true");
        assertThat(text(root, "NextPartNumberMarker")).isEqualTo("2");
        List<Element> parts = children(root, "Part");
        assertThat(parts).hasSize(2);
        assertThat(childNames(parts.get(0))).containsExactly("PartNumber", "LastModified", "ETag", "Size");
        assertThat(text(parts.get(0), "Size")).isEqualTo(Integer.toString(5 << 20));
        assertThat(childNames(parts.get(1))).containsExactly("PartNumber", "LastModified", "ETag", "Size", "ChecksumCRC32C");
        assertThat(text(parts.get(1), "ChecksumCRC32C")).isEqualTo("AAAAAA==");
        assertThat(text(root, "ChecksumAlgorithm")).isEqualTo("CRC32C");
        assertThat(text(root, "ChecksumType")).isEqualTo("FULL_OBJECT");
    }

    @Test
    void listPartsOfAnUploadWithoutAChecksumNamesNone() {
        Element root = parseXml(XmlDocuments.listParts("demo", "drop/a.bin", "id-1", 0, Optional.empty(), 1000,
                List.of(new XmlDocuments.ListedPart(1, "\"p1\"", 5, T1)), Optional.empty(), "sluice")).getDocumentElement();

        assertThat(childNames(root)).doesNotContain("ChecksumAlgorithm", "ChecksumType");
    }

    @Test
    void listMultipartUploadsUrlEncodesKeysWhenAsked() {
        Element root = parseXml(XmlDocuments.listMultipartUploads("demo", "drop/", Optional.empty(), Optional.empty(), 1, true,
                List.of(new XmlDocuments.ListedUpload("drop/a b.bin", "id-1", T1, Optional.empty())),
                Optional.of(new XmlDocuments.ListedUpload("drop/a b.bin", "id-1", T1, Optional.empty())), "sluice")).getDocumentElement();

        assertThat(root.getLocalName()).isEqualTo("ListMultipartUploadsResult");
        assertAllInS3Namespace(root);
        assertThat(text(root, "NextKeyMarker")).isEqualTo("drop/a%20b.bin");
        assertThat(text(root, "NextUploadIdMarker")).isEqualTo("id-1");
        assertThat(text(root, "EncodingType")).isEqualTo("url");
        assertThat(text(root, "IsTruncated")).isEqualTo("true");
        Element upload = child(root, "Upload");
        assertThat(text(upload, "Key")).isEqualTo("drop/a%20b.bin");
        assertThat(text(upload, "Initiated")).isEqualTo("2024-06-03T10:15:30.123Z");
        assertThat(childNames(upload)).doesNotContain("ChecksumAlgorithm", "ChecksumType");
    }

    /** As S3 lists it: the checksum an upload was started with, in each {@code Upload} that has one. */
    @Test
    void listMultipartUploadsNamesEachUploadsChecksum() {
        Element root = parseXml(XmlDocuments.listMultipartUploads("demo", "drop/", Optional.empty(), Optional.empty(), 1000, false,
                List.of(new XmlDocuments.ListedUpload("drop/a.bin", "id-1", T1, Optional.of(new MultipartChecksum("crc32c", true))),
                        new XmlDocuments.ListedUpload("drop/b.bin", "id-2", T1, Optional.of(new MultipartChecksum("sha256", false)))),
                Optional.empty(), "sluice")).getDocumentElement();

        List<Element> uploads = children(root, "Upload");
        assertThat(uploads).hasSize(2);
        assertThat(text(uploads.get(0), "ChecksumAlgorithm")).isEqualTo("CRC32C");
        assertThat(text(uploads.get(0), "ChecksumType")).isEqualTo("FULL_OBJECT");
        assertThat(text(uploads.get(1), "ChecksumAlgorithm")).isEqualTo("SHA256");
        assertThat(text(uploads.get(1), "ChecksumType")).isEqualTo("COMPOSITE");
    }

    @Test
    void deleteResultListsDeletedAndFailedKeysOrOnlyFailuresWhenQuiet() {
        List<XmlDocuments.DeleteOutcome> outcomes = List.of(new XmlDocuments.DeleteOutcome.Deleted("drop/a"),
                new XmlDocuments.DeleteOutcome.Failed("other/b", S3Error.ACCESS_DENIED, "Access Denied"));

        Element loud = parseXml(XmlDocuments.deleteResult(outcomes, false)).getDocumentElement();
        Element quiet = parseXml(XmlDocuments.deleteResult(outcomes, true)).getDocumentElement();

        assertThat(loud.getLocalName()).isEqualTo("DeleteResult");
        assertAllInS3Namespace(loud);
        assertThat(childNames(loud)).containsExactly("Deleted", "Error");
        assertThat(text(child(loud, "Deleted"), "Key")).isEqualTo("drop/a");
        assertThat(childNames(child(loud, "Error"))).containsExactly("Key", "Code", "Message");
        assertThat(text(child(loud, "Error"), "Code")).isEqualTo("AccessDenied");
        assertThat(childNames(quiet)).containsExactly("Error");
    }

    // --- request documents ---------------------------------------------------------------------------

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void assertRefused(Runnable parse, S3Error error) {
        org.assertj.core.api.Assertions.assertThatThrownBy(parse::run).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.error()).isEqualTo(error);
            assertThat(e.error().status()).isEqualTo(error.status());
        });
    }

    @Test
    void completeMultipartUploadListsThePartsWithQuotedEtagsAndTheirChecksumsWithOrWithoutTheNamespace() {
        String doc = "<CompleteMultipartUpload xmlns=\"" + S3_NS + "\"><Part><ETag>\"a\"</ETag><PartNumber>1</PartNumber>"
                + "<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><PartNumber> 3 </PartNumber><ETag>b</ETag></Part>"
                + "</CompleteMultipartUpload>";

        assertThat(RequestDocuments.completeMultipartUpload(utf8(doc))).containsExactly(
                new RequestDocuments.CompletedPart(1, "\"a\"", java.util.Map.of("x-amz-checksum-crc32", "AAAAAA==")),
                new RequestDocuments.CompletedPart(3, "\"b\""));
        assertThat(RequestDocuments.completeMultipartUpload(utf8(doc.replace(" xmlns=\"" + S3_NS + "\"", "")))).hasSize(2);
    }

    @Test
    void partsOutOfAscendingOrderAreInvalidPartOrder() {
        assertRefused(() -> RequestDocuments.completeMultipartUpload(utf8("<CompleteMultipartUpload>"
                + "<Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>1</PartNumber><ETag>b</ETag></Part>"
                + "</CompleteMultipartUpload>")), S3Error.INVALID_PART_ORDER);
        assertRefused(() -> RequestDocuments.completeMultipartUpload(utf8("<CompleteMultipartUpload>"
                + "<Part><PartNumber>2</PartNumber><ETag>a</ETag></Part><Part><PartNumber>2</PartNumber><ETag>b</ETag></Part>"
                + "</CompleteMultipartUpload>")), S3Error.INVALID_PART_ORDER);
    }

    @Test
    void aPartNumberNoPartCanHaveIsInvalidPart() {
        assertRefused(() -> RequestDocuments.completeMultipartUpload(utf8("<CompleteMultipartUpload>"
                + "<Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")), S3Error.INVALID_PART);
        assertRefused(() -> RequestDocuments.completeMultipartUpload(utf8("<CompleteMultipartUpload>"
                + "<Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>")), S3Error.INVALID_PART);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
        "", "not xml", "<CompleteMultipartUpload/>", "<Other><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Other>",
        "<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
        "<!DOCTYPE x [<!ENTITY e \"1\">]><CompleteMultipartUpload><Part><PartNumber>&e;</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>"})
    void aCompleteMultipartUploadThatIsNotTheDocumentIsMalformedXml(String body) {
        assertRefused(() -> RequestDocuments.completeMultipartUpload(utf8(body)), S3Error.MALFORMED_XML);
    }

    @Test
    void deleteListsItsKeysAndQuiet() {
        RequestDocuments.DeleteRequest request = RequestDocuments.delete(utf8("<Delete xmlns=\"" + S3_NS + "\"><Quiet>true</Quiet>"
                + "<Object><Key>drop/a b</Key></Object><Object><Key>drop/c</Key><VersionId>null</VersionId></Object></Delete>"));

        assertThat(request.quiet()).isTrue();
        assertThat(request.keys()).containsExactly(new RequestDocuments.DeleteKey("drop/a b", Optional.empty()),
                new RequestDocuments.DeleteKey("drop/c", Optional.of("null")));
        assertThat(RequestDocuments.delete(utf8("<Delete><Object><Key>k</Key></Object></Delete>")).quiet()).isFalse();
    }

    @Test
    void aDeleteOfMoreThanAThousandKeysIsMalformedXml() {
        String thousand = "<Object><Key>drop/k</Key></Object>".repeat(1000);

        assertThat(RequestDocuments.delete(utf8("<Delete>" + thousand + "</Delete>")).keys()).hasSize(1000);
        assertRefused(() -> RequestDocuments.delete(utf8("<Delete>" + thousand + "<Object><Key>x</Key></Object></Delete>")),
                S3Error.MALFORMED_XML);
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"", "<Delete/>", "<Delete><Object/></Delete>",
        "<Delete><Quiet>maybe</Quiet><Object><Key>k</Key></Object></Delete>", "<Remove><Object><Key>k</Key></Object></Remove>"})
    void aDeleteThatIsNotTheDocumentIsMalformedXml(String body) {
        assertRefused(() -> RequestDocuments.delete(utf8(body)), S3Error.MALFORMED_XML);
    }
}
