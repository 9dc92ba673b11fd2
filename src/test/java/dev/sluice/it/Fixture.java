package dev.sluice.it;

import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeSet;

/**
 * The objects every integration setup serves, identical on each backend: account {@code acme}
 * with a public product {@code hello} (every awkward key the wire can carry), a public product
 * {@code world}, and a restricted product {@code secret} that anonymous callers must never
 * see. A listing model computes what S3 would answer for any prefix and delimiter, so tests
 * compare sluice with S3's semantics instead of with hand-copied lists.
 */
final class Fixture {
    static final String ACCOUNT = "acme";
    static final String HELLO = "hello";
    static final String WORLD = "world";
    static final String SECRET = "secret";

    /** A key S3 encodes as {@code %25}, next to a key that is those three characters literally. */
    static final String PERCENT = "100%.txt";
    static final String PERCENT_25 = "100%25.txt";
    static final String UNICODE = "\u00fcn\u00efc\u00f8d\u00e9/\u6587\u4ef6.txt";
    static final String BIG = "big.bin";
    static final String EMPTY = "empty.txt";

    /** Keys whose encoding a client, sluice and the backend must agree on byte for byte. */
    static final List<String> SPECIAL_KEYS = List.of(
            "a b.txt", "a+b.txt", PERCENT, PERCENT_25, "country_iso=ETH/part-0.parquet", "report*.pdf",
            "tilde~hash#pipe|.bin", UNICODE);

    /** About 1 MiB and not a multiple of any buffer size, from a fixed seed. */
    static final byte[] BIG_BYTES = randomBytes(1024 * 1024 + 4321, 20240611L);

    record Object(String key, byte[] bytes, String contentType) {
    }

    /** S3's key order, by definition: the keys' UTF-8 bytes compared unsigned. */
    static final Comparator<String> S3_ORDER = (a, b) -> Arrays.compareUnsigned(
            a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    private static final Map<String, List<Object>> PRODUCTS = new LinkedHashMap<>();

    static {
        List<Object> hello = new ArrayList<>();
        for (String key : SPECIAL_KEYS) {
            hello.add(text(key, "contents of " + key + "\n"));
        }
        hello.add(text("country_iso=KEN/part-0.parquet", "kenya\n"));
        hello.add(text("nested/note.txt", "a note\n"));
        hello.add(text("nested/deeper/leaf.txt", "a leaf\n"));
        hello.add(text("nested/deeper/deepest/bottom.txt", "the bottom\n"));
        hello.add(text("sub/one.txt", "one\n"));
        hello.add(text("sub/two.txt", "two\n"));
        hello.add(text("sub/deeper/three.txt", "three\n"));
        hello.add(text("greeting.txt", "hello, world\n"));
        hello.add(new Object(BIG, BIG_BYTES, "application/octet-stream"));
        hello.add(new Object(EMPTY, new byte[0], "text/plain"));
        PRODUCTS.put(HELLO, List.copyOf(hello));
        PRODUCTS.put(WORLD, List.of(text("readme.txt", "the world\n"), text("data/x.csv", "x\n1\n")));
        PRODUCTS.put(SECRET, List.of(text("hidden.txt", "not for anonymous eyes\n")));
    }

    private Fixture() {
    }

    static List<Object> objects(String product) {
        return PRODUCTS.get(product);
    }

    static Object object(String product, String key) {
        return objects(product).stream().filter(o -> o.key().equals(key)).findFirst().orElseThrow();
    }

    static byte[] bytes(String key) {
        return object(HELLO, key).bytes();
    }

    /** Every public key of the account, as the account listing names them ({@code product/key}). */
    static List<String> publicAccountKeys() {
        List<String> keys = new ArrayList<>();
        for (String product : List.of(HELLO, WORLD)) {
            for (Object o : objects(product)) {
                keys.add(product + "/" + o.key());
            }
        }
        keys.sort(S3_ORDER);
        return keys;
    }

    /** Writes the products as directories under {@code root}, one per product. */
    static void writeTo(Path root) {
        try {
            for (var product : PRODUCTS.entrySet()) {
                for (Object o : product.getValue()) {
                    Path file = root.resolve(product.getKey()).resolve(o.key());
                    Files.createDirectories(file.getParent());
                    Files.write(file, o.bytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Puts one product's objects into {@code bucket}, each key under {@code prefix}. */
    static void putTo(S3Client s3, String product, String bucket, String prefix) {
        for (Object o : objects(product)) {
            s3.putObject(b -> b.bucket(bucket).key(prefix + o.key()).contentType(o.contentType()),
                    RequestBody.fromBytes(o.bytes()));
        }
    }

    /** What an S3 listing holds: contents and common prefixes, each in S3 key order. */
    record Listing(List<String> contents, List<String> commonPrefixes) {
        int keyCount() {
            return contents.size() + commonPrefixes.size();
        }
    }

    /**
     * S3's answer for {@code prefix} and {@code delimiter} over {@code keys}. Zero-byte keys
     * ending in {@code /} (directory markers) roll up into common prefixes like any key but
     * never appear as contents, which is how sluice presents them.
     */
    static Listing expectedListing(List<String> keys, List<String> directoryMarkers, String prefix, Optional<String> delimiter) {
        List<String> contents = new ArrayList<>();
        TreeSet<String> prefixes = new TreeSet<>(S3_ORDER);
        List<String> all = new ArrayList<>(keys);
        all.addAll(directoryMarkers);
        for (String key : all) {
            if (!key.startsWith(prefix)) {
                continue;
            }
            if (delimiter.isPresent()) {
                int d = key.indexOf(delimiter.get(), prefix.length());
                if (d >= 0) {
                    prefixes.add(key.substring(0, d + delimiter.get().length()));
                    continue;
                }
            }
            if (!directoryMarkers.contains(key)) {
                contents.add(key);
            }
        }
        contents.sort(S3_ORDER);
        return new Listing(contents, List.copyOf(prefixes));
    }

    private static Object text(String key, String content) {
        return new Object(key, content.getBytes(StandardCharsets.UTF_8), "text/plain");
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
