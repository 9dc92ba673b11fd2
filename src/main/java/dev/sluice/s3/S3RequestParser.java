package dev.sluice.s3;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Turns method, raw path, raw query and headers into an {@link Operation}. Path style only:
 * {@code /{account}/{product}/{key}}, where the S3 bucket is the account and the product is
 * the first segment of the key. The path is split on its raw {@code /} first and each part
 * is percent-decoded once, so a key is byte-for-byte what the client encoded. Writes are
 * told apart by method and sub-resource as S3 tells them (docs/writes.md, "Operations").
 */
public final class S3RequestParser {

    /** Bucket sub-resources that name an S3 API sluice does not serve. */
    private static final Set<String> BUCKET_SUBRESOURCES = Set.of(
            "accelerate", "acl", "analytics", "cors", "encryption", "intelligent-tiering", "inventory",
            "lifecycle", "logging", "metrics", "notification", "object-lock", "ownershipControls",
            "policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment", "tagging",
            "uploads", "versioning", "versions", "website", "delete");
    /** Object sub-resources of a write that name an S3 API sluice does not serve. */
    private static final Set<String> OBJECT_WRITE_SUBRESOURCES = Set.of(
            "acl", "legal-hold", "retention", "tagging", "restore", "select", "renameObject", "attributes", "torrent");

    /**
     * Object sub-resources and parameters that ask for something other than the current object's
     * bytes. {@code versionId} and {@code partNumber} are read by {@link #parse} itself.
     */
    private static final Set<String> OBJECT_SUBRESOURCES = Set.of(
            "acl", "attributes", "legal-hold", "retention", "tagging", "torrent", "uploadId", "uploads",
            "restore", "select");
    /** The version id S3 gives every object of a bucket that has never been versioned. */
    private static final String NULL_VERSION = "null";
    private static final int MAX_PART_NUMBER = 10_000;
    /** The most parts, or uploads, one ListParts or ListMultipartUploads page holds (S3's cap). */
    static final int MAX_LISTED = 1000;

    private S3RequestParser() {
    }

    /** A request whose headers are looked up by name only (reads; a write's attributes need {@link #parse(String, String, String, List)}). */
    public static Operation parse(String method, String rawPath, String rawQuery, Function<String, Optional<String>> header) {
        return parse(method, rawPath, rawQuery, header, List.of());
    }

    /** A request with every header as sent, in order. */
    public static Operation parse(String method, String rawPath, String rawQuery, List<Map.Entry<String, String>> headers) {
        return parse(method, rawPath, rawQuery, name -> {
            for (Map.Entry<String, String> h : headers) {
                if (h.getKey().equalsIgnoreCase(name)) {
                    return Optional.ofNullable(h.getValue());
                }
            }
            return Optional.empty();
        }, headers);
    }

    private static Operation parse(String method, String rawPath, String rawQuery, Function<String, Optional<String>> header,
                                   List<Map.Entry<String, String>> headers) {
        if (rawPath == null || !rawPath.startsWith("/")) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "The request path must start with '/'.");
        }
        QueryString query = QueryString.parse(rawQuery);
        String path = rawPath.substring(1);
        int slash = path.indexOf('/');
        String rawAccount = slash < 0 ? path : path.substring(0, slash);
        String rawRest = slash < 0 ? "" : path.substring(slash + 1);
        boolean read = method.equals("GET") || method.equals("HEAD");
        boolean write = method.equals("PUT") || method.equals("POST") || method.equals("DELETE");
        if (!read && !write) {
            throw new S3Exception(S3Error.METHOD_NOT_ALLOWED);
        }

        if (rawAccount.isEmpty()) {
            if (!rawRest.isEmpty()) {
                throw new S3Exception(S3Error.INVALID_REQUEST, "The request path has an empty bucket name.");
            }
            if (write) {
                return new Operation.Unsupported(method + " /", Optional.empty());
            }
            if (header.apply("Accept").map(S3RequestParser::asksForJson).orElse(false)) {
                return new Operation.ServiceInfo();
            }
            return new Operation.ListAccounts(query.first("prefix").orElse(""));
        }
        String account = decode(rawAccount);
        if (rawRest.isEmpty()) {
            return write ? parseAccountWrite(method, account, query) : parseAccountRequest(method, account, query);
        }
        if (write) {
            return parseObjectWrite(method, account, rawRest, query, header, headers);
        }
        if (method.equals("GET") && query.has("uploadId")) {
            ObjectName name = objectName(account, rawRest);
            if (name.key().isEmpty()) {
                throw new S3Exception(S3Error.INVALID_REQUEST, "ListParts names an object: /{account}/{product}/{key}?uploadId=…");
            }
            return new Operation.ListParts(account, name.product(), name.key(), query.first("uploadId").get(),
                    nonNegative(query, "part-number-marker", 0, Integer.MAX_VALUE, "Argument partNumberMarker must be an integer."),
                    nonNegative(query, "max-parts", MAX_LISTED, MAX_LISTED, "Argument max-parts must be an integer."));
        }
        for (String sub : OBJECT_SUBRESOURCES) {
            if (query.has(sub)) {
                return new Operation.Unsupported(method + " object ?" + sub, Optional.of(account));
            }
        }
        ObjectName name = objectName(account, rawRest);
        String product = name.product();
        String key = name.key();
        Preconditions preconditions = Preconditions.of(
                header.apply("If-Match").orElse(null), header.apply("If-None-Match").orElse(null),
                header.apply("If-Modified-Since").orElse(null), header.apply("If-Unmodified-Since").orElse(null));
        Optional<String> rangeHeader = header.apply("Range");
        Optional<Integer> partNumber = partNumber(query);
        if (partNumber.isPresent() && rangeHeader.isPresent()) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "Cannot specify both Range header and partNumber query parameter.");
        }
        requireCurrentVersion(query);
        Optional<ByteRange.Spec> range = rangeHeader.flatMap(ByteRange::parse);
        boolean checksumMode = header.apply("x-amz-checksum-mode").map(v -> v.strip().equalsIgnoreCase("ENABLED")).orElse(false);
        return new Operation.ReadObject(account, product, key, range, preconditions,
                ResponseOverrides.from(query), method.equals("HEAD"), partNumber, checksumMode);
    }

    /** A write to the account itself: DeleteObjects ({@code POST ?delete}); anything else (CreateBucket, DeleteBucket, …) is not served. */
    private static Operation parseAccountWrite(String method, String account, QueryString query) {
        if (method.equals("POST") && query.has("delete")) {
            return new Operation.DeleteObjects(account);
        }
        if (method.equals("PUT") && query.isEmpty()) {
            return new Operation.CreateAccount(account);
        }
        return new Operation.Unsupported(method + " bucket", Optional.of(account),
                "Accounts are configured, not created or changed through S3; this request is not supported.");
    }

    /** PUT, POST or DELETE of {@code /{account}/{product}/{key}}, told apart by sub-resource as S3 does. */
    private static Operation parseObjectWrite(String method, String account, String rawRest, QueryString query,
                                              Function<String, Optional<String>> header, List<Map.Entry<String, String>> headers) {
        for (String sub : OBJECT_WRITE_SUBRESOURCES) {
            if (query.has(sub)) {
                return new Operation.Unsupported(method + " object ?" + sub, Optional.of(account));
            }
        }
        ObjectName name = objectName(account, rawRest);
        String product = name.product();
        String key = name.key();
        if (key.isEmpty()) {
            throw new S3Exception(S3Error.INVALID_REQUEST,
                    "A write names an object inside a product: /{account}/{product}/{key}, with a key.");
        }
        Optional<String> uploadId = query.first("uploadId");
        switch (method) {
            case "PUT" -> {
                Optional<Integer> partNumber = partNumber(query);
                Optional<String> copySource = header.apply("x-amz-copy-source");
                if (uploadId.isPresent() || partNumber.isPresent()) {
                    if (uploadId.isEmpty() || partNumber.isEmpty()) {
                        throw new S3Exception(S3Error.INVALID_REQUEST, "UploadPart needs both partNumber and uploadId.");
                    }
                    if (copySource.isPresent()) {
                        return new Operation.Unsupported("UploadPartCopy", Optional.of(account),
                                "UploadPartCopy is not supported: upload the part's bytes with UploadPart, or copy the whole "
                                        + "object with CopyObject.");
                    }
                    return new Operation.UploadPart(account, product, key, uploadId.get(), partNumber.get());
                }
                requireCurrentVersion(query);
                Operation.WriteCondition condition = WriteHeaders.condition(header);
                if (copySource.isPresent()) {
                    Operation.CopySource source = WriteHeaders.copySource(copySource.get());
                    boolean replace = WriteHeaders.replacesAttributes(header);
                    if (!replace && source.account().equals(account) && source.product().equals(product) && source.key().equals(key)) {
                        throw new S3Exception(S3Error.INVALID_REQUEST, "This copy request is illegal because it is trying to copy an "
                                + "object to itself without changing the object's metadata, storage class, website redirect "
                                + "location or encryption attributes.");
                    }
                    return new Operation.CopyObject(account, product, key, source, replace, WriteHeaders.attributes(headers),
                            WriteHeaders.sourceConditions(header), condition);
                }
                return new Operation.PutObject(account, product, key, WriteHeaders.attributes(headers), condition);
            }
            case "POST" -> {
                if (query.has("uploads")) {
                    return new Operation.CreateMultipartUpload(account, product, key, WriteHeaders.attributes(headers),
                            MultipartChecksum.of(header));
                }
                if (uploadId.isPresent()) {
                    return new Operation.CompleteMultipartUpload(account, product, key, uploadId.get(), WriteHeaders.condition(header),
                            ObjectClaims.of(header));
                }
                return new Operation.Unsupported("POST object", Optional.of(account));
            }
            default -> {
                if (uploadId.isPresent()) {
                    return new Operation.AbortMultipartUpload(account, product, key, uploadId.get());
                }
                requireCurrentVersion(query);
                return new Operation.DeleteObject(account, product, key);
            }
        }
    }

    /** The product and key of {@code product/key} (raw), each percent-decoded once; an empty product is {@code 400 InvalidRequest}. */
    private record ObjectName(String product, String key) {
    }

    private static ObjectName objectName(String account, String rawRest) {
        int productEnd = rawRest.indexOf('/');
        String product = decode(productEnd < 0 ? rawRest : rawRest.substring(0, productEnd));
        String key = productEnd < 0 ? "" : decode(rawRest.substring(productEnd + 1));
        if (product.isEmpty()) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "Object keys may not contain empty segments.");
        }
        if (!key.isEmpty()) {
            ObjectKeys.requireValid(key);
        }
        return new ObjectName(product, key);
    }

    /** A whole-number parameter from 0 to {@code cap} (larger values are capped, as S3 caps them), else {@code 400 InvalidArgument}. */
    private static int nonNegative(QueryString query, String name, int fallback, int cap, String message) {
        Optional<String> raw = query.first(name);
        if (raw.isEmpty()) {
            return fallback;
        }
        String v = raw.get();
        if (v.isEmpty() || v.length() > 10 || !v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, message);
        }
        return (int) Math.min(Long.parseLong(v), cap);
    }

    /**
     * Objects behind sluice are unversioned, so the only version id that names one is S3's
     * {@code null} (the current object); any other is what S3 answers on a bucket that was never
     * versioned: {@code 400 InvalidArgument}.
     */
    private static void requireCurrentVersion(QueryString query) {
        Optional<String> versionId = query.first("versionId");
        if (versionId.isPresent() && !versionId.get().equals(NULL_VERSION)) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Invalid version id specified");
        }
    }

    /** {@code partNumber}: an integer from 1 to 10000, as S3 requires; anything else is {@code 400 InvalidArgument}. */
    private static Optional<Integer> partNumber(QueryString query) {
        Optional<String> raw = query.first("partNumber");
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        String value = raw.get();
        boolean digits = !value.isEmpty() && value.length() <= 5 && value.chars().allMatch(c -> c >= '0' && c <= '9');
        int number = digits ? Integer.parseInt(value) : 0;
        if (number < 1 || number > MAX_PART_NUMBER) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Part number must be an integer between 1 and 10000, inclusive");
        }
        return Optional.of(number);
    }

    /** Whether an {@code Accept} header names JSON (service information rather than S3's bucket list). */
    private static boolean asksForJson(String accept) {
        for (String part : accept.split(",")) {
            String type = part.split(";", 2)[0].trim();
            if (type.equalsIgnoreCase("application/json")) {
                return true;
            }
        }
        return false;
    }

    private static Operation parseAccountRequest(String method, String account, QueryString query) {
        if (method.equals("HEAD")) {
            return new Operation.HeadAccount(account);
        }
        if (query.has("location")) {
            return new Operation.GetAccountLocation(account);
        }
        if (query.has("uploads")) {
            return listUploads(account, query);
        }
        for (String sub : BUCKET_SUBRESOURCES) {
            if (query.has(sub)) {
                return new Operation.Unsupported("GET bucket ?" + sub, Optional.of(account));
            }
        }
        return new Operation.ListAccount(account, parseList(query));
    }

    /**
     * ListMultipartUploads. The bucket is the account, so keys are {@code product/key} and the
     * prefix names the product; a {@code delimiter} is not supported (501).
     */
    private static Operation listUploads(String account, QueryString query) {
        if (query.first("delimiter").filter(d -> !d.isEmpty()).isPresent()) {
            return new Operation.Unsupported("GET bucket ?uploads&delimiter", Optional.of(account),
                    "ListMultipartUploads with a delimiter is not supported; list with a prefix instead.");
        }
        Optional<String> encoding = query.first("encoding-type");
        if (encoding.isPresent() && !encoding.get().equalsIgnoreCase("url")) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Invalid Encoding Method specified in Request");
        }
        return new Operation.ListMultipartUploads(account, query.first("prefix").orElse(""),
                query.first("key-marker").filter(m -> !m.isEmpty()), query.first("upload-id-marker").filter(m -> !m.isEmpty()),
                nonNegative(query, "max-uploads", MAX_LISTED, MAX_LISTED, "Argument max-uploads must be an integer."),
                encoding.isPresent());
    }

    static ListRequest parseList(QueryString query) {
        int version = 1;
        Optional<String> listType = query.first("list-type");
        if (listType.isPresent()) {
            if (!listType.get().equals("2")) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "Invalid list-type; the only supported value is 2.");
            }
            version = 2;
        }
        int maxKeys = ListRequest.MAX_KEYS_CAP;
        Optional<String> mk = query.first("max-keys");
        if (mk.isPresent()) {
            try {
                long v = Long.parseLong(mk.get());
                if (v < 0) {
                    throw new NumberFormatException();
                }
                maxKeys = (int) Math.min(v, ListRequest.MAX_KEYS_CAP);
            } catch (NumberFormatException e) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "Provided max-keys not an integer or within integer range.");
            }
        }
        Optional<String> encoding = query.first("encoding-type");
        if (encoding.isPresent() && !encoding.get().equalsIgnoreCase("url")) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Invalid Encoding Method specified in Request");
        }
        Optional<String> delimiter = query.first("delimiter").filter(d -> !d.isEmpty());
        Optional<String> startAfter = version == 2 ? query.first("start-after") : query.first("marker");
        Optional<String> token = version == 2 ? query.first("continuation-token") : Optional.empty();
        if (token.isPresent() && token.get().isEmpty()) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "The continuation token provided is incorrect");
        }
        boolean fetchOwner = version == 1 || query.first("fetch-owner").map("true"::equalsIgnoreCase).orElse(false);
        return new ListRequest(version, query.first("prefix").orElse(""), delimiter, maxKeys, token,
                startAfter.filter(s -> !s.isEmpty()), encoding.isPresent(), fetchOwner);
    }

    private static String decode(String raw) {
        try {
            return UriEncoding.decode(raw);
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "The request path is not correctly percent-encoded.");
        }
    }
}
