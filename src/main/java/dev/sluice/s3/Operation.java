package dev.sluice.s3;

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
                      Optional<Integer> partNumber) implements Operation {
        public ReadObject(String account, String product, String key, Optional<ByteRange.Spec> range,
                          Preconditions preconditions, ResponseOverrides overrides, boolean headOnly) {
            this(account, product, key, range, preconditions, overrides, headOnly, Optional.empty());
        }

        public String name() {
            return headOnly ? "HeadObject" : "GetObject";
        }
    }

    /** A request for something sluice recognises but does not (yet) serve: 501 NotImplemented. */
    record Unsupported(String what, Optional<String> account) implements Operation {
        public String name() {
            return "Unsupported";
        }
    }
}
