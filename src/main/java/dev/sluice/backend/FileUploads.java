package dev.sluice.backend;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.s3.MultipartChecksum;
import dev.sluice.s3.ObjectClaims;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Multipart uploads of a {@link FileBackend}, staged under {@code .sluice/uploads/<upload id>/}
 * of the product directory, where listings and reads never look ({@code docs/writes.md},
 * "File backend").
 *
 * <p>An upload is a directory named by its id (128 random bits, so not guessable) holding a
 * record of its key, attributes and start time, and one file per part. A part is written to a
 * temporary file and renamed into place, so a part is whole or absent and a part uploaded again
 * replaces the earlier one in one step; its file starts with the part's MD5 (a
 * {@value #HEADER}-byte header), so the part's ETag is kept in the same atomic file as its bytes.
 * Completing opens every listed part first (a part replaced meanwhile cannot change what was
 * checked), concatenates them in the kernel ({@link FileChannel#transferTo}) into a temporary
 * file next to the target, which is then committed like a PUT ({@link FileWrites#commit}) with
 * S3's multipart ETag ({@code "<md5 of the parts' binary md5s>-N"}) in its sidecar. Staging
 * is removed by renaming it to a reserved name first, so an upload is gone in one step even
 * while its files are deleted.
 */
final class FileUploads {
    /** Abandoned uploads older than this are removed when the store starts. */
    static final Duration DEFAULT_EXPIRY = BackendSpec.File.DEFAULT_ABANDONED_UPLOAD_AGE;
    /** S3's smallest part other than the last. */
    static final long MIN_PART = 5L * 1024 * 1024;
    /** A part file's header: its MD5 in hex and a newline. */
    static final int HEADER = 33;
    static final String RECORD = "upload.json";
    static final Pattern ID = Pattern.compile("[0-9a-f]{32}");
    /**
     * How long a completion waits for another completion of the same upload (a client's retry
     * of one still copying): as long as the server gives a completion in all, since its answer
     * is kept alive meanwhile and it then gets the first one's answer.
     */
    static final Duration COMPLETE_WAIT = Duration.ofHours(1);
    /** How long an abort waits for a completion of the same upload before {@code OperationAborted}. */
    static final Duration ABORT_WAIT = Duration.ofSeconds(30);
    /**
     * What a completed upload leaves, {@code <upload id>.done} beside the uploads: its key, the
     * parts it was completed with and its answer, so that a completion retried after the first
     * one made the object gets the same answer, as from S3 (a client whose connection dropped
     * while the object was being made retries). Removed by age, like an abandoned upload.
     */
    static final Pattern DONE = Pattern.compile("[0-9a-f]{32}\\.done");
    private static final Pattern PART = Pattern.compile("[0-9]{5}");
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Comparator<Multipart.InProgress> ORDER = Comparator
            .comparing(Multipart.InProgress::key, KeyOrder.COMPARATOR)
            .thenComparing(Multipart.InProgress::initiated)
            .thenComparing(Multipart.InProgress::uploadId);

    /**
     * The record of an upload, version 1; {@code checksum} and {@code checksumType} (absent from
     * records written before they were kept) name the checksum the upload was started with.
     */
    record Record(int v, String key, String initiated, List<List<String>> headers, String checksum, String checksumType) {
        Instant started() {
            return Instant.parse(initiated);
        }

        /** The checksum the upload was started with; throws for a record whose pair S3 would not have taken. */
        Optional<MultipartChecksum> multipartChecksum() {
            if (checksum == null) {
                return Optional.empty();
            }
            Map<String, String> asked = Map.of("x-amz-checksum-algorithm", checksum, "x-amz-checksum-type", checksumType);
            return MultipartChecksum.of(name -> Optional.ofNullable(asked.get(name)));
        }
    }

    /** A completion remembered ({@link #DONE}): {@code parts} is the SHA-256 of the listed parts, numbers and ETags. */
    record Done(int v, String key, String parts, String etag, List<List<String>> checksums) {
    }

    private final Path uploads;
    private final FileWrites writes;
    private final FileWrites.Names names;
    private final InstantSource clock;
    private final UploadLocks locks;
    private final Waits waits;

    /** How long a completion and an abort wait for another operation ending the same upload. */
    record Waits(Duration complete, Duration abort) {
        static final Waits DEFAULT = new Waits(COMPLETE_WAIT, ABORT_WAIT);
    }

    FileUploads(Path uploads, FileWrites writes, FileWrites.Names names, InstantSource clock, UploadLocks locks, Waits waits) {
        this.uploads = uploads;
        this.writes = writes;
        this.names = names;
        this.clock = clock;
        this.locks = locks;
        this.waits = waits;
    }

    String start(String key, ObjectAttributes attributes, Optional<MultipartChecksum> checksum) {
        FileWrites.refuseKey(key);
        String id = names.uploadId();
        Path dir = uploads.resolve(id);
        Record record = new Record(1, key, clock.instant().toString(),
                attributes.headers().stream().map(e -> List.of(e.getKey(), e.getValue())).toList(),
                checksum.map(MultipartChecksum::algorithm).orElse(null), checksum.map(MultipartChecksum::type).orElse(null));
        try {
            Files.createDirectories(uploads);
            Files.createDirectory(dir);
            DurableFiles.writeDurably(dir.resolve(RECORD), JSON.writeValueAsBytes(record), names);
            DurableFiles.syncDirectory(uploads);
        } catch (IOException e) {
            throw S3Exception.unavailable("starting an upload in " + dir, e);
        }
        return id;
    }

    Written uploadPart(String key, String uploadId, int partNumber, Upload body) {
        if (partNumber < 1 || partNumber > 10_000) {
            throw new S3Exception(S3Error.INVALID_ARGUMENT, "Part number must be an integer between 1 and 10000, inclusive.");
        }
        Staged upload = load(key, uploadId);
        Path dir = upload.dir;
        Optional<MultipartChecksum> checksum = upload.record.multipartChecksum();
        Path temp;
        try {
            temp = Files.createFile(dir.resolve(names.temp()));
        } catch (NoSuchFileException e) {
            throw new S3Exception(S3Error.NO_SUCH_UPLOAD);
        } catch (IOException e) {
            throw S3Exception.unavailable("creating a part in " + dir, e);
        }
        try {
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                out.position(HEADER);
                DurableFiles.receive(body.stream(), out, Optional.empty());
                String md5 = body.md5Hex();
                if (checksum.isPresent()) {
                    // Kept beside the part, tied to it by its MD5: a part replaced after this is
                    // written leaves a sum that no longer matches, which is then not used.
                    String sum = partChecksum(checksum.get(), body.checksums());
                    DurableFiles.writeDurably(dir.resolve(sumName(partNumber)),
                            (md5 + "\n" + checksum.get().headerName() + "\n" + sum + "\n").getBytes(StandardCharsets.US_ASCII), names);
                }
                ByteBuffer header = ByteBuffer.wrap((md5 + "\n").getBytes(StandardCharsets.US_ASCII));
                while (header.hasRemaining()) {
                    out.write(header, header.position());
                }
                DurableFiles.force(out, temp);
                try {
                    Files.move(temp, dir.resolve(partName(partNumber)), StandardCopyOption.ATOMIC_MOVE);
                } catch (NoSuchFileException aborted) {
                    throw new S3Exception(S3Error.NO_SUCH_UPLOAD);
                }
                DurableFiles.syncDirectory(dir);
                return new Written("\"" + md5 + "\"", body.checksums());
            }
        } catch (IOException e) {
            throw S3Exception.unavailable("writing a part in " + dir, e);
        } finally {
            DurableFiles.deleteQuietly(temp);
        }
    }

    Multipart.PartsPage listParts(String key, String uploadId, int marker, int max) {
        Staged upload = load(key, uploadId);
        Path dir = upload.dir;
        Optional<MultipartChecksum> checksum = upload.record.multipartChecksum();
        List<Integer> numbers = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                if (PART.matcher(name).matches() && Integer.parseInt(name) > marker) {
                    numbers.add(Integer.parseInt(name));
                }
            }
        } catch (NoSuchFileException e) {
            throw new S3Exception(S3Error.NO_SUCH_UPLOAD);
        } catch (IOException e) {
            throw S3Exception.unavailable("listing the parts in " + dir, e);
        }
        numbers.sort(null);
        List<Multipart.Part> parts = new ArrayList<>();
        for (int n : numbers) {
            if (parts.size() >= Math.max(0, max)) {
                break;
            }
            try (FileChannel ch = FileChannel.open(dir.resolve(partName(n)), StandardOpenOption.READ)) {
                Instant modified = Files.getLastModifiedTime(dir.resolve(partName(n))).toInstant();
                String md5 = header(ch);
                List<Map.Entry<String, String>> sums = checksum
                        .flatMap(c -> keptChecksum(dir, n, md5, c).map(v -> List.of(Map.entry(c.headerName(), v))))
                        .orElse(List.of());
                parts.add(new Multipart.Part(n, "\"" + md5 + "\"", ch.size() - HEADER, modified, sums));
            } catch (IOException e) {
                // replaced or aborted while listed: not listed
            }
        }
        boolean more = numbers.size() > parts.size() && !parts.isEmpty();
        return new Multipart.PartsPage(parts, more ? Optional.of(parts.getLast().partNumber()) : Optional.empty(), checksum);
    }

    Written complete(String key, String uploadId, List<Multipart.PartRef> refs, ObjectClaims claims, WriteCondition condition) {
        if (refs.isEmpty()) {
            throw new S3Exception(S3Error.MALFORMED_XML, "You must specify at least one part.");
        }
        UploadLocks.Held held = locks.hold(uploadId, waits.complete(), "complete the upload");
        List<FileChannel> opened = new ArrayList<>();
        Path temp = null;
        try {
            Staged upload;
            try {
                upload = load(key, uploadId);
            } catch (S3Exception gone) {
                if (gone.error() == S3Error.NO_SUCH_UPLOAD) {
                    return completedBefore(key, uploadId, refs).orElseThrow(() -> gone);
                }
                throw gone;
            }
            MessageDigest md5s = DurableFiles.digest("MD5");
            List<String> partMd5s = new ArrayList<>();
            for (int i = 0; i < refs.size(); i++) {
                Multipart.PartRef ref = refs.get(i);
                FileChannel ch = openPart(upload.dir, ref.partNumber());
                opened.add(ch);
                String md5 = header(ch);
                if (!md5.equalsIgnoreCase(FileWrites.unquote(ref.etag().trim()))) {
                    throw new S3Exception(S3Error.INVALID_PART);
                }
                partMd5s.add(md5);
                md5s.update(HexFormat.of().parseHex(md5));
            }
            // Sizes only once every part is known to be there: a missing part is the answer
            // that tells the client what to upload.
            long[] sizes = new long[opened.size()];
            long size = 0;
            for (int i = 0; i < opened.size(); i++) {
                sizes[i] = opened.get(i).size() - HEADER;
                if (i < opened.size() - 1 && sizes[i] < MIN_PART) {
                    throw new S3Exception(S3Error.ENTITY_TOO_SMALL);
                }
                size += sizes[i];
            }
            String etag = "\"" + HexFormat.of().formatHex(md5s.digest()) + "-" + refs.size() + "\"";
            Optional<MultipartChecksum> kept = upload.record.multipartChecksum();
            Optional<String> objectChecksum = kept.map(c -> objectChecksum(c, upload.dir, refs, partMd5s, sizes));
            claims.check(kept, objectChecksum, size);
            List<Map.Entry<String, String>> checksums = kept.map(c -> List.of(Map.entry(c.headerName(), objectChecksum.get()),
                    Map.entry("x-amz-checksum-type", c.type()))).orElse(List.of());
            // A completion its condition refuses is answered before the copy, not after it.
            writes.checkCondition(key, condition);
            Path target = writes.target(key);
            temp = writes.createTemp(key, target);
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE);
                 DurableFiles.Writeback writeback = new DurableFiles.Writeback(out)) {
                for (FileChannel part : opened) {
                    long end = part.size();
                    for (long at = HEADER; at < end; ) {
                        long n = part.transferTo(at, end - at, out);
                        at += n;
                        writeback.wrote(n);
                    }
                }
                writeback.finish();
                DurableFiles.force(out, temp);
            }
            FileSidecars.Stored stored = new FileSidecars.Stored(Optional.of(etag), upload.record.headers().stream()
                    .map(p -> Map.entry(p.get(0), p.get(1))).toList(), checksums);
            Written written = writes.commit(key, target, temp, stored, etag, Optional.empty(), condition, checksums);
            temp = null;
            remember(key, uploadId, refs, written);
            try {
                discard(upload.dir);
            } catch (S3Exception e) {
                // the object is whole; staging left behind is removed by age when the store next starts
            }
            return written;
        } catch (IOException e) {
            throw S3Exception.unavailable("completing the upload " + uploadId, e);
        } finally {
            for (FileChannel ch : opened) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // read-only
                }
            }
            if (temp != null) {
                // not committed: neither the temporary file nor a directory made for it stays
                DurableFiles.deleteQuietly(temp);
                writes.pruneEmpty(temp.getParent());
            }
            held.close();
        }
    }

    /** Writes the completion's {@link Done} record; without it a retried completion is {@code NoSuchUpload}, nothing worse. */
    private void remember(String key, String uploadId, List<Multipart.PartRef> refs, Written written) {
        Done done = new Done(1, key, partsDigest(refs), written.etag(),
                written.checksums().stream().map(e -> List.of(e.getKey(), e.getValue())).toList());
        try {
            DurableFiles.writeDurably(uploads.resolve(uploadId + ".done"), JSON.writeValueAsBytes(done), names);
        } catch (IOException e) {
            // the object is whole; only a retried completion's answer is lost
        }
    }

    /** The answer of the completion of {@code uploadId} for {@code key}, if it was completed with these same parts. */
    private Optional<Written> completedBefore(String key, String uploadId, List<Multipart.PartRef> refs) {
        try {
            Done done = JSON.readValue(Files.readAllBytes(uploads.resolve(uploadId + ".done")), Done.class);
            if (done.v() != 1 || !key.equals(done.key()) || !partsDigest(refs).equals(done.parts()) || done.etag() == null
                    || done.checksums() == null) {
                return Optional.empty();
            }
            return Optional.of(new Written(done.etag(), done.checksums().stream().map(c -> Map.entry(c.get(0), c.get(1))).toList()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The listed parts as one digest: each part's number and ETag (unquoted, lower case), in order. */
    private static String partsDigest(List<Multipart.PartRef> refs) {
        MessageDigest sha = DurableFiles.digest("SHA-256");
        for (Multipart.PartRef ref : refs) {
            sha.update((ref.partNumber() + " " + FileWrites.unquote(ref.etag().trim()).toLowerCase(java.util.Locale.ROOT) + "\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    void abort(String key, String uploadId) {
        try (UploadLocks.Held held = locks.hold(uploadId, waits.abort(), "abort the upload")) {
            discard(load(key, uploadId).dir);
        }
    }

    Multipart.UploadsPage list(String prefix, Optional<Multipart.InProgress> after, int max) {
        List<Multipart.InProgress> all = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(uploads)) {
            for (Path p : entries) {
                String id = p.getFileName().toString();
                if (ID.matcher(id).matches()) {
                    record(p).filter(r -> r.key().startsWith(prefix))
                            .ifPresent(r -> all.add(new Multipart.InProgress(r.key(), id, r.started(), r.multipartChecksum())));
                }
            }
        } catch (NoSuchFileException e) {
            return new Multipart.UploadsPage(List.of(), Optional.empty());
        } catch (IOException e) {
            throw S3Exception.unavailable("listing uploads in " + uploads, e);
        }
        all.sort(ORDER);
        int start = 0;
        if (after.isPresent()) {
            start = startAfter(all, after.get());
        }
        int end = Math.min(all.size(), start + Math.max(0, max));
        List<Multipart.InProgress> page = all.subList(start, end);
        boolean more = end < all.size() && !page.isEmpty();
        return new Multipart.UploadsPage(page, more ? Optional.of(page.getLast()) : Optional.empty());
    }

    /**
     * Where a page after {@code a} starts: after that upload if it is still there; without an
     * upload id (a key marker alone, as S3 takes it) after every upload of that key; else after
     * where it would sort.
     */
    private static int startAfter(List<Multipart.InProgress> all, Multipart.InProgress a) {
        for (int i = 0; i < all.size(); i++) {
            Multipart.InProgress u = all.get(i);
            if (a.uploadId().isEmpty() ? KeyOrder.COMPARATOR.compare(u.key(), a.key()) > 0
                    : u.key().equals(a.key()) && u.uploadId().equals(a.uploadId())) {
                return a.uploadId().isEmpty() ? i : i + 1;
            }
            if (!a.uploadId().isEmpty() && ORDER.compare(u, a) > 0) {
                return i;
            }
        }
        return all.size();
    }

    /** An upload's directory and record. */
    private record Staged(Path dir, Record record) {
    }

    /** The upload {@code uploadId} of {@code key}; any other id, or one held for another key, is {@code NoSuchUpload}. */
    private Staged load(String key, String uploadId) {
        if (!ID.matcher(uploadId).matches()) {
            throw new S3Exception(S3Error.NO_SUCH_UPLOAD);
        }
        Path dir = uploads.resolve(uploadId);
        Record record = record(dir).orElseThrow(() -> new S3Exception(S3Error.NO_SUCH_UPLOAD));
        if (!record.key().equals(key)) {
            throw new S3Exception(S3Error.NO_SUCH_UPLOAD);
        }
        return new Staged(dir, record);
    }

    /** The record of the upload in {@code dir}, if it is whole. */
    static Optional<Record> record(Path dir) {
        try {
            Record r = JSON.readValue(Files.readAllBytes(dir.resolve(RECORD)), Record.class);
            r.started();
            r.multipartChecksum();
            boolean whole = r.v() == 1 && r.key() != null && r.headers() != null
                    && r.headers().stream().allMatch(h -> h != null && h.size() == 2 && !h.contains(null));
            return whole ? Optional.of(r) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static FileChannel openPart(Path dir, int number) {
        if (number < 1 || number > 10_000) {
            throw new S3Exception(S3Error.INVALID_PART);
        }
        try {
            return FileChannel.open(dir.resolve(partName(number)), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new S3Exception(S3Error.INVALID_PART);
        } catch (IOException e) {
            throw S3Exception.unavailable("opening part " + number + " in " + dir, e);
        }
    }

    /** The part's MD5 from its header. */
    private static String header(FileChannel part) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        while (header.hasRemaining() && part.read(header, header.position()) >= 0) {
            // read until full or the end
        }
        String text = StandardCharsets.US_ASCII.decode(header.flip()).toString();
        if (text.length() != HEADER || !text.substring(0, 32).matches("[0-9a-f]{32}")) {
            throw new IOException("part file without a valid header");
        }
        return text.substring(0, 32);
    }

    /** Takes an upload out of view in one rename, then deletes its files. */
    private void discard(Path dir) {
        Path gone = uploads.resolve(names.temp());
        try {
            Files.move(dir, gone, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            throw new S3Exception(S3Error.NO_SUCH_UPLOAD);
        } catch (IOException e) {
            throw S3Exception.unavailable("removing the upload in " + dir, e);
        }
        FileLeftovers.deleteTree(gone);
    }

    private static String partName(int number) {
        return String.format("%05d", number);
    }

    /** Where a part's checksum is kept: {@code 00001.sum} beside {@code 00001}. */
    private static String sumName(int number) {
        return partName(number) + ".sum";
    }

    /**
     * The part's checksum of the upload's algorithm, which it must carry (checked against its
     * bytes); a part with another checksum, or none, is refused as S3 refuses it.
     */
    private static String partChecksum(MultipartChecksum checksum, List<Map.Entry<String, String>> carried) {
        checksum.checkCarried(carried.stream().map(c -> c.getKey().toLowerCase(Locale.ROOT)).toList());
        return carried.stream().filter(c -> c.getKey().equalsIgnoreCase(checksum.headerName())).findFirst().orElseThrow().getValue();
    }

    /**
     * The completed object's checksum value, from the listed parts' kept checksums and their
     * sizes. A part whose checksum was not kept, or whose listed checksum differs from the kept
     * one, is {@code InvalidPart}; a composite upload's list must give every part's checksum, as S3's.
     */
    private static String objectChecksum(MultipartChecksum checksum, Path dir, List<Multipart.PartRef> refs, List<String> md5s,
                                         long[] sizes) {
        List<PartChecksums.PartSum> sums = new ArrayList<>();
        for (int i = 0; i < refs.size(); i++) {
            Multipart.PartRef ref = refs.get(i);
            checksum.checkListed(ref.partNumber(), ref.checksums());
            String listed = ref.checksums().get(checksum.headerName());
            String kept = keptChecksum(dir, ref.partNumber(), md5s.get(i), checksum)
                    .orElseThrow(() -> new S3Exception(S3Error.INVALID_PART));
            if (listed != null && !listed.equals(kept)) {
                throw new S3Exception(S3Error.INVALID_PART);
            }
            try {
                sums.add(new PartChecksums.PartSum(Base64.getDecoder().decode(kept), sizes[i]));
            } catch (IllegalArgumentException e) {
                throw new S3Exception(S3Error.INVALID_PART);
            }
        }
        return PartChecksums.of(checksum, sums);
    }

    /** The checksum kept for part {@code number} if it was kept for the bytes whose MD5 is {@code md5}. */
    private static Optional<String> keptChecksum(Path dir, int number, String md5, MultipartChecksum checksum) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve(sumName(number)), StandardCharsets.US_ASCII);
            return lines.size() == 3 && lines.get(0).equals(md5) && lines.get(1).equals(checksum.headerName())
                    ? Optional.of(lines.get(2)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
