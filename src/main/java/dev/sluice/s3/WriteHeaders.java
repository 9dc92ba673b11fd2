package dev.sluice.s3;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * What the headers of a write say besides its body (docs/writes.md, "Operations"): the
 * attributes stored with the object, the write's own condition, and for a copy its source and
 * the conditions on that source.
 */
public final class WriteHeaders {
    /** The headers stored with an object and sent back with it, as {@link ObjectMeta#stored()} names them. */
    private static final Set<String> STORED = Set.of(
            "content-type", "content-encoding", "content-disposition", "content-language", "cache-control", "expires");
    private static final String USER_METADATA = "x-amz-meta-";
    /** The coding that frames a streamed body on the wire (aws-chunked); never part of what is stored. */
    public static final String AWS_CHUNKED = "aws-chunked";

    private WriteHeaders() {
    }

    /**
     * The attributes a write stores, in the order sent, names lower-case: the stored headers and
     * {@code x-amz-meta-*}. {@code aws-chunked} is taken out of {@code Content-Encoding}, as S3
     * does: it describes the request's framing, not the object.
     */
    public static List<Map.Entry<String, String>> attributes(List<Map.Entry<String, String>> headers) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (Map.Entry<String, String> h : headers) {
            String name = h.getKey().toLowerCase(Locale.ROOT);
            String value = h.getValue() == null ? "" : h.getValue();
            if (name.equals("content-encoding")) {
                storedCoding(value).ifPresent(coding -> out.add(Map.entry(name, coding)));
            } else if (STORED.contains(name) || (name.startsWith(USER_METADATA) && name.length() > USER_METADATA.length())) {
                out.add(Map.entry(name, value));
            }
        }
        return List.copyOf(out);
    }

    /**
     * A {@code Content-Encoding} as an object keeps it: without {@code aws-chunked}, which names
     * a request's framing; empty when nothing else is left. S3 stores it so, and a store that
     * kept it anyway (S3Proxy does) is read so.
     */
    public static Optional<String> storedCoding(String contentEncoding) {
        List<String> codings = new ArrayList<>();
        for (String c : contentEncoding.split(",")) {
            String coding = c.strip();
            if (!coding.isEmpty() && !coding.equalsIgnoreCase(AWS_CHUNKED)) {
                codings.add(coding);
            }
        }
        return codings.isEmpty() ? Optional.empty() : Optional.of(String.join(",", codings));
    }

    /**
     * {@code If-None-Match: *} and {@code If-Match: "etag"} of a write. S3 takes nothing else on
     * a write: another {@code If-None-Match}, {@code If-Match: *} or a list of tags is
     * {@code 501 NotImplemented}, as S3 answers them.
     */
    static Operation.WriteCondition condition(Function<String, Optional<String>> header) {
        Optional<String> ifNoneMatch = header.apply("If-None-Match");
        boolean createOnly = false;
        if (ifNoneMatch.isPresent()) {
            if (!ifNoneMatch.get().strip().equals("*")) {
                throw new S3Exception(S3Error.NOT_IMPLEMENTED, "A write takes If-None-Match only as '*' (create the object only if it does not exist).");
            }
            createOnly = true;
        }
        Optional<String> ifMatch = header.apply("If-Match").map(v -> Preconditions.entityTagList(v, "If-Match"));
        if (ifMatch.isPresent() && (ifMatch.get().equals("*") || ifMatch.get().contains("\", "))) {
            throw new S3Exception(S3Error.NOT_IMPLEMENTED, "A write takes If-Match only with one entity tag.");
        }
        return new Operation.WriteCondition(createOnly, ifMatch);
    }

    /**
     * {@code x-amz-copy-source}: {@code account/product/key}, URL-encoded, with an optional
     * leading {@code /}, as any key is addressed. Objects behind sluice are unversioned, so a
     * {@code ?versionId=} other than {@code null} is {@code 400 InvalidArgument}, as a bucket
     * that was never versioned answers; anything else that does not name an object is
     * {@code 400 InvalidArgument} too.
     */
    static Operation.CopySource copySource(String raw) {
        String value = raw.strip();
        int q = value.indexOf('?');
        String path = q < 0 ? value : value.substring(0, q);
        if (q >= 0) {
            QueryString query = QueryString.parse(value.substring(q + 1));
            for (QueryString.Parameter p : query.parameters()) {
                if (!p.nameOrRaw().equals("versionId")) {
                    throw new S3Exception(S3Error.INVALID_ARGUMENT, "The copy source may carry only a versionId.");
                }
            }
            if (!query.first("versionId").orElse("").equals("null")) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "Invalid version id specified");
            }
        }
        String decoded;
        try {
            decoded = UriEncoding.decode(path);
        } catch (IllegalArgumentException e) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "The copy source is not correctly URL-encoded.");
        }
        if (decoded.startsWith("/")) {
            decoded = decoded.substring(1);
        }
        int first = decoded.indexOf('/');
        int second = first < 0 ? -1 : decoded.indexOf('/', first + 1);
        if (first <= 0 || second <= first + 1 || second == decoded.length() - 1) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT,
                    "Copy Source must mention the source bucket and key: account/product/key.");
        }
        String key = decoded.substring(second + 1);
        ObjectKeys.requireValid(key);
        return new Operation.CopySource(decoded.substring(0, first), decoded.substring(first + 1, second), key);
    }

    /** {@code x-amz-metadata-directive}: {@code COPY} (the default) or {@code REPLACE}; anything else is {@code 400 InvalidArgument}. */
    static boolean replacesAttributes(Function<String, Optional<String>> header) {
        String directive = header.apply("x-amz-metadata-directive").orElse("COPY").strip();
        return switch (directive) {
            case "COPY" -> false;
            case "REPLACE" -> true;
            default -> throw new S3Exception(S3Error.INVALID_ARGUMENT, "Unknown metadata directive.");
        };
    }

    /** The {@code x-amz-copy-source-if-*} headers, judged against the source as a GET's conditions are. */
    static Preconditions sourceConditions(Function<String, Optional<String>> header) {
        return Preconditions.of(header.apply("x-amz-copy-source-if-match").orElse(null),
                header.apply("x-amz-copy-source-if-none-match").orElse(null),
                header.apply("x-amz-copy-source-if-modified-since").orElse(null),
                header.apply("x-amz-copy-source-if-unmodified-since").orElse(null));
    }
}
