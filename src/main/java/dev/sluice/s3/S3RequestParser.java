package dev.sluice.s3;

import dev.sluice.sigv4.UriEncoding;

import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Turns method, raw path, raw query and headers into an {@link Operation}. Path style only:
 * {@code /{account}/{product}/{key}}, where the S3 bucket is the account and the product is
 * the first segment of the key. The path is split on its raw {@code /} first and each part
 * is percent-decoded once, so a key is byte-for-byte what the client encoded.
 */
public final class S3RequestParser {

    /** Bucket sub-resources that name an S3 API sluice does not serve. */
    private static final Set<String> BUCKET_SUBRESOURCES = Set.of(
            "accelerate", "acl", "analytics", "cors", "encryption", "intelligent-tiering", "inventory",
            "lifecycle", "logging", "metrics", "notification", "object-lock", "ownershipControls",
            "policy", "policyStatus", "publicAccessBlock", "replication", "requestPayment", "tagging",
            "uploads", "versioning", "versions", "website", "delete");

    /** Object sub-resources and parameters that ask for something other than the current object's bytes. */
    private static final Set<String> OBJECT_SUBRESOURCES = Set.of(
            "acl", "attributes", "legal-hold", "retention", "tagging", "torrent", "uploadId", "uploads",
            "versionId", "partNumber", "restore", "select");

    private S3RequestParser() {
    }

    public static Operation parse(String method, String rawPath, String rawQuery, Function<String, Optional<String>> header) {
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
            return new Operation.ServiceInfo();
        }
        String account = decode(rawAccount);
        if (write) {
            return new Operation.Unsupported(method + " (writes are not supported)", Optional.of(account));
        }
        if (rawRest.isEmpty()) {
            return parseAccountRequest(method, account, query);
        }
        for (String sub : OBJECT_SUBRESOURCES) {
            if (query.has(sub)) {
                return new Operation.Unsupported(method + " object ?" + sub, Optional.of(account));
            }
        }
        int productEnd = rawRest.indexOf('/');
        String product = decode(productEnd < 0 ? rawRest : rawRest.substring(0, productEnd));
        String key = productEnd < 0 ? "" : decode(rawRest.substring(productEnd + 1));
        if (product.isEmpty()) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "Object keys may not contain empty segments.");
        }
        if (!key.isEmpty()) {
            ObjectKeys.requireValid(key);
        }
        Preconditions preconditions = Preconditions.of(
                header.apply("If-Match").orElse(null), header.apply("If-None-Match").orElse(null),
                header.apply("If-Modified-Since").orElse(null), header.apply("If-Unmodified-Since").orElse(null));
        Optional<ByteRange.Spec> range = header.apply("Range").flatMap(ByteRange::parse);
        return new Operation.ReadObject(account, product, key, range, preconditions,
                ResponseOverrides.from(query), method.equals("HEAD"));
    }

    private static Operation parseAccountRequest(String method, String account, QueryString query) {
        if (method.equals("HEAD")) {
            return new Operation.HeadAccount(account);
        }
        if (query.has("location")) {
            return new Operation.GetAccountLocation(account);
        }
        for (String sub : BUCKET_SUBRESOURCES) {
            if (query.has(sub)) {
                return new Operation.Unsupported("GET bucket ?" + sub, Optional.of(account));
            }
        }
        return new Operation.ListAccount(account, parseList(query));
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
