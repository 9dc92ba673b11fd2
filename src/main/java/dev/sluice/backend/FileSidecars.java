package dev.sluice.backend;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a write stored with an object besides its bytes (its attributes, the checksums the
 * client sent, the ETag of a multipart object), kept in a sidecar file under
 * {@code .sluice/meta} of the product directory ({@code docs/writes.md}, "File backend").
 *
 * <p><b>Why the pair is safe without writing two files atomically.</b> A sidecar describes one
 * version of its data file: it records the file's key (device and inode), size and
 * modification time, and is named after the file key, in a directory of its own per object
 * key ({@code .sluice/meta/<h[0,2]>/<h>/<file key hash>}, {@code h} the SHA-256 of the object
 * key). A write puts the new sidecar in place, durably, before it renames the new data file
 * over the key; a rename keeps a file's inode and modification time, so from that instant the
 * sidecar matches. Until then the old file still matches its own sidecar, which a new one
 * never overwrites (it has another name); the old one is removed after the rename. A sidecar
 * whose fingerprint does not match the file at its key (a write that failed or crashed before
 * its rename, a file replaced or touched outside sluice, a directory copied elsewhere) is
 * ignored, and the file is served as a file without sidecar is: as before writes existed.
 *
 * <p>Object keys are hashed rather than mirrored so that the metadata tree never conflicts with
 * itself (keys {@code a} and {@code a/b} cannot both be files) and a key's length never makes a
 * name too long.
 */
final class FileSidecars {
    /** A sidecar larger than this was not written by sluice (S3 allows 2 KiB of user metadata). */
    private static final int MAX_SIZE = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final MessageDigest SHA256;

    static {
        try {
            SHA256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    /** What a sidecar holds: the ETag to show (empty: the content MD5), stored headers and checksums. */
    record Stored(Optional<String> etag, List<Map.Entry<String, String>> headers, List<Map.Entry<String, String>> checksums) {
        Stored {
            headers = List.copyOf(headers);
            checksums = List.copyOf(checksums);
        }

        boolean isEmpty() {
            return etag.isEmpty() && headers.isEmpty() && checksums.isEmpty();
        }
    }

    /** The file format, version 1. */
    record Document(int v, String key, String fileKey, long size, long modifiedSeconds, int modifiedNanos, String etag,
                    List<List<String>> headers, List<List<String>> checksums) {
    }

    private final Path metaRoot;
    private final FileWrites.Names names;
    private volatile boolean seen;

    FileSidecars(Path metaRoot, FileWrites.Names names) {
        this.metaRoot = metaRoot;
        this.names = names;
    }

    /**
     * Whether any sidecar may exist: the area is made by the first write that stores one, and
     * never removed, so once seen it is not looked for again. Until then each read costs one
     * {@code stat} that finds nothing, not the hashing of names and the failed open of a
     * sidecar (a directory no write went through is read without any).
     */
    boolean present() {
        if (seen) {
            return true;
        }
        if (Files.isDirectory(metaRoot)) {
            seen = true;
        }
        return seen;
    }

    /** What is stored for the file now at {@code key}, if its sidecar matches that file's version. */
    Optional<Stored> read(String key, BasicFileAttributes file) {
        if (!present()) {
            return Optional.empty();
        }
        Path sidecar = keyDirectory(key).resolve(fileName(file));
        byte[] bytes;
        try {
            // Most files have no sidecar (put there by other means): asking whether one exists
            // does not throw, where opening a missing one would build an exception per read.
            if (!Files.isRegularFile(sidecar) || Files.size(sidecar) > MAX_SIZE) {
                return Optional.empty();
            }
            bytes = Files.readAllBytes(sidecar);
        } catch (IOException e) {
            return Optional.empty();
        }
        try {
            Document d = JSON.readValue(bytes, Document.class);
            if (d.v() != 1 || !key.equals(d.key()) || !fingerprintMatches(d, file)) {
                return Optional.empty();
            }
            return Optional.of(new Stored(Optional.ofNullable(d.etag()), entries(d.headers()), entries(d.checksums())));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Writes, durably, the sidecar of the file version {@code file} (not yet at {@code key}: the
     * caller renames it there next); answers the sidecar's path so a failed write can remove it.
     */
    Path write(String key, BasicFileAttributes file, Stored stored) throws IOException {
        Instant modified = file.lastModifiedTime().toInstant();
        Document d = new Document(1, key, fileKeyText(file), file.size(), modified.getEpochSecond(), modified.getNano(),
                stored.etag().orElse(null), lists(stored.headers()), lists(stored.checksums()));
        byte[] bytes = JSON.writeValueAsBytes(d);
        Path target = keyDirectory(key).resolve(fileName(file));
        // The key's directory may be removed by a delete of the same key between creating it
        // and writing into it; a second attempt creates it again.
        for (int attempt = 0; ; attempt++) {
            try {
                Files.createDirectories(target.getParent());
                DurableFiles.writeDurably(target, bytes, names);
                return target;
            } catch (NoSuchFileException e) {
                if (attempt >= 2) {
                    throw e;
                }
            }
        }
    }

    /** Removes the sidecar of the file version {@code file} of {@code key}, if any. */
    void remove(String key, BasicFileAttributes file) {
        try {
            Files.deleteIfExists(keyDirectory(key).resolve(fileName(file)));
        } catch (IOException e) {
            // a sidecar left behind matches no file and is removed by a later write of the key
        }
    }

    /**
     * Removes the sidecars of {@code key} other than {@code keep} that were written before
     * {@code before} (left by a crash, or by a failed write), then the key's directory if it is
     * empty. A younger one may belong to a write in progress on another instance.
     */
    void removeStale(String key, Optional<BasicFileAttributes> keep, Instant before) {
        Path dir = keyDirectory(key);
        String kept = keep.map(FileSidecars::fileName).orElse("");
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                if (!p.getFileName().toString().equals(kept)
                        && Files.getLastModifiedTime(p).toInstant().isBefore(before)) {
                    stale.add(p);
                }
            }
        } catch (IOException e) {
            return;
        }
        for (Path p : stale) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // tried again by the next write of the key
            }
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException notEmpty) {
            // still holds the current sidecar, or one being written
        }
    }

    private Path keyDirectory(String key) {
        String h = hex(sha256(key), 32);
        return metaRoot.resolve(h.substring(0, 2)).resolve(h);
    }

    private static String fileName(BasicFileAttributes file) {
        return hex(sha256(fileKeyText(file)), 8);
    }

    private static String fileKeyText(BasicFileAttributes file) {
        Object fileKey = file.fileKey();
        return fileKey == null ? "none" : fileKey.toString();
    }

    private static boolean fingerprintMatches(Document d, BasicFileAttributes file) {
        Instant modified = file.lastModifiedTime().toInstant();
        return fileKeyText(file).equals(d.fileKey()) && d.size() == file.size()
                && d.modifiedSeconds() == modified.getEpochSecond() && d.modifiedNanos() == modified.getNano();
    }

    private static List<Map.Entry<String, String>> entries(List<List<String>> pairs) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        if (pairs != null) {
            for (List<String> p : pairs) {
                if (p.size() == 2 && p.get(0) != null && p.get(1) != null) {
                    out.add(Map.entry(p.get(0), p.get(1)));
                }
            }
        }
        return out;
    }

    private static List<List<String>> lists(List<Map.Entry<String, String>> entries) {
        return entries.stream().map(e -> List.of(e.getKey(), e.getValue())).toList();
    }

    private static byte[] sha256(String text) {
        try {
            // A copy of a digest made once is cheaper than looking the algorithm up among the providers per call.
            return ((MessageDigest) SHA256.clone()).digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("the JDK's SHA-256 can be copied", e);
        }
    }

    private static String hex(byte[] bytes, int count) {
        return HexFormat.of().formatHex(bytes, 0, count);
    }
}
