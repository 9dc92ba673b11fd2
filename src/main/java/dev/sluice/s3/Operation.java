package dev.sluice.s3;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What an S3 request asks for, parsed from method, raw path, query and headers. The set is
 * closed so the server can switch over it exhaustively; anything sluice does not serve is
 * one of the rejection variants rather than a silent fallback.
 */
public sealed interface Operation {

    /** The operation's S3 name, used in metrics and the access log. */
    String name();

    /**
     * {@code GET /} (S3's ListBuckets): the accounts the caller can see, as buckets, those
     * whose name starts with {@code prefix}.
     */
    record ListAccounts(String prefix) implements Operation {
        public String name() {
            return "ListBuckets";
        }
    }

    /** {@code GET /} with {@code Accept: application/json}: a small JSON document naming the service. */
    record ServiceInfo() implements Operation {
        public String name() {
            return "ServiceInfo";
        }
    }

    /** {@code GET /{account}?list-type=2} or V1: products as common prefixes, or keys inside one product. */
    record ListAccount(String account, ListRequest list) implements Operation {
        public String name() {
            return list.version() == 2 ? "ListObjectsV2" : "ListObjects";
        }
    }

    /** {@code HEAD /{account}}: does the account exist (has any visible product)? */
    record HeadAccount(String account) implements Operation {
        public String name() {
            return "HeadBucket";
        }
    }

    /**
     * {@code PUT /{account}} (S3's CreateBucket). Accounts are configured, never created through
     * S3; but clients that upload (rclone) first make sure the bucket exists, and S3 answers its
     * owner {@code 409 BucketAlreadyOwnedByYou}, which they take as "it exists". Sluice answers
     * so to an authenticated caller who can see the account, and {@code 501 NotImplemented} otherwise.
     */
    record CreateAccount(String account) implements Operation {
        public String name() {
            return "CreateBucket";
        }
    }

    /** {@code GET /{account}?location}. */
    record GetAccountLocation(String account) implements Operation {
        public String name() {
            return "GetBucketLocation";
        }
    }

    /**
     * GetObject, or HeadObject when {@code headOnly}; HEAD honours Range like GET does.
     * {@code partNumber} (1 to 10000, never together with a range) asks for one part of the
     * object; sluice serves every object as a single part (docs/behaviour.md, "Reads").
     */
    record ReadObject(String account, String product, String key, Optional<ByteRange.Spec> range,
                      Preconditions preconditions, ResponseOverrides overrides, boolean headOnly,
                      Optional<Integer> partNumber, boolean checksumMode) implements OnObject {
        public ReadObject(String account, String product, String key, Optional<ByteRange.Spec> range,
                          Preconditions preconditions, ResponseOverrides overrides, boolean headOnly,
                          Optional<Integer> partNumber) {
            this(account, product, key, range, preconditions, overrides, headOnly, partNumber, false);
        }

        public ReadObject(String account, String product, String key, Optional<ByteRange.Spec> range,
                          Preconditions preconditions, ResponseOverrides overrides, boolean headOnly) {
            this(account, product, key, range, preconditions, overrides, headOnly, Optional.empty());
        }

        public String name() {
            return headOnly ? "HeadObject" : "GetObject";
        }
    }

    /** A request for something sluice recognises but does not (yet) serve: 501 NotImplemented, with {@code message}. */
    record Unsupported(String what, Optional<String> account, String message) implements Operation {
        public Unsupported(String what, Optional<String> account) {
            this(what, account, S3Error.NOT_IMPLEMENTED.defaultMessage());
        }

        public String name() {
            return "Unsupported";
        }
    }

    /** An operation on one key of one product ({@code /{account}/{product}/{key}}). */
    sealed interface OnObject extends Operation {
        String account();

        String product();

        String key();
    }

    /**
     * A write (docs/writes.md, "Operations"). The ones whose body is an object's bytes
     * ({@link PutObject}, {@link UploadPart}) stream it into the store; the others have none or
     * a small XML document.
     */
    sealed interface Write extends Operation {
        String account();
    }

    /**
     * A conditional write's headers, as S3 takes them: {@code If-None-Match: *} creates only
     * ({@code createOnly}); {@code If-Match: "etag"} replaces only that object. Attributes
     * ({@code attributes} of the writes) are the stored headers of {@link ObjectMeta#stored()},
     * names lower-case, as the client sent them.
     */
    record WriteCondition(boolean createOnly, Optional<String> ifMatch) {
        public static final WriteCondition NONE = new WriteCondition(false, Optional.empty());
    }

    /** {@code PUT /{account}/{product}/{key}}: the body becomes the object. */
    record PutObject(String account, String product, String key, List<Map.Entry<String, String>> attributes, WriteCondition condition)
            implements OnObject, Write {
        public String name() {
            return "PutObject";
        }
    }

    /**
     * {@code PUT} with {@code x-amz-copy-source}: the source object, in another or the same
     * product, copied to this key, with its attributes ({@code x-amz-metadata-directive: COPY})
     * or the request's ({@code REPLACE}); {@code sourceConditions} are the
     * {@code x-amz-copy-source-if-*} headers, judged against the source.
     */
    record CopyObject(String account, String product, String key, CopySource source, boolean replaceAttributes,
                      List<Map.Entry<String, String>> attributes, Preconditions sourceConditions, WriteCondition condition)
            implements OnObject, Write {
        public String name() {
            return "CopyObject";
        }
    }

    /** Where a copy reads from: an object of a product of an account, as any key is addressed. */
    record CopySource(String account, String product, String key) {
    }

    /**
     * {@code POST /{account}/{product}/{key}?uploads}; {@code checksum}: the one its parts and the
     * object are to carry, if the client named one.
     */
    record CreateMultipartUpload(String account, String product, String key, List<Map.Entry<String, String>> attributes,
                                 Optional<MultipartChecksum> checksum)
            implements OnObject, Write {
        public CreateMultipartUpload(String account, String product, String key, List<Map.Entry<String, String>> attributes) {
            this(account, product, key, attributes, Optional.empty());
        }

        public String name() {
            return "CreateMultipartUpload";
        }
    }

    /** {@code PUT ...?partNumber=n&uploadId=id}, n from 1 to 10000; {@code uploadId} as the client holds it (sealed). */
    record UploadPart(String account, String product, String key, String uploadId, int partNumber)
            implements OnObject, Write {
        public String name() {
            return "UploadPart";
        }
    }

    /**
     * {@code POST ...?uploadId=id} with the list of parts as its body; {@code claims} are what its
     * headers say the finished object will be.
     */
    record CompleteMultipartUpload(String account, String product, String key, String uploadId, WriteCondition condition,
                                   ObjectClaims claims)
            implements OnObject, Write {
        public CompleteMultipartUpload(String account, String product, String key, String uploadId, WriteCondition condition) {
            this(account, product, key, uploadId, condition, ObjectClaims.NONE);
        }

        public String name() {
            return "CompleteMultipartUpload";
        }
    }

    /** {@code DELETE ...?uploadId=id}. */
    record AbortMultipartUpload(String account, String product, String key, String uploadId) implements OnObject, Write {
        public String name() {
            return "AbortMultipartUpload";
        }
    }

    /** {@code GET ...?uploadId=id}: the parts after {@code marker} (0: from the first), at most {@code maxParts}. */
    record ListParts(String account, String product, String key, String uploadId, int marker, int maxParts)
            implements OnObject, Write {
        public String name() {
            return "ListParts";
        }
    }

    /**
     * {@code GET /{account}?uploads}: uploads in progress whose key ({@code product/key}) starts
     * with {@code prefix}, after {@code keyMarker} and {@code uploadIdMarker}, at most {@code maxUploads}.
     */
    record ListMultipartUploads(String account, String prefix, Optional<String> keyMarker, Optional<String> uploadIdMarker,
                                int maxUploads, boolean urlEncoding) implements Write {
        public String name() {
            return "ListMultipartUploads";
        }
    }

    /** {@code DELETE /{account}/{product}/{key}}. */
    record DeleteObject(String account, String product, String key) implements OnObject, Write {
        public String name() {
            return "DeleteObject";
        }
    }

    /** {@code POST /{account}?delete}: the keys ({@code product/key}) are in the body. */
    record DeleteObjects(String account) implements Write {
        public String name() {
            return "DeleteObjects";
        }
    }
}
