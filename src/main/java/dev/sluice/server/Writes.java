package dev.sluice.server;

import dev.sluice.auth.Action;
import dev.sluice.auth.Authorizer;
import dev.sluice.auth.Principal;
import dev.sluice.backend.Backend;
import dev.sluice.backend.Fetch;
import dev.sluice.backend.KeyOrder;
import dev.sluice.backend.Multipart;
import dev.sluice.backend.ObjectAttributes;
import dev.sluice.backend.ObjectBody;
import dev.sluice.backend.StoredObject;
import dev.sluice.backend.Upload;
import dev.sluice.backend.WriteCondition;
import dev.sluice.backend.Written;
import dev.sluice.registry.Caller;
import dev.sluice.registry.Product;
import dev.sluice.registry.ProductRef;
import dev.sluice.registry.Registry;
import dev.sluice.s3.ByteRange;
import dev.sluice.s3.ObjectKeys;
import dev.sluice.s3.ObjectMeta;
import dev.sluice.s3.Operation;
import dev.sluice.s3.Preconditions;
import dev.sluice.s3.RequestDocuments;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;
import dev.sluice.s3.SmallBodyDigests;
import dev.sluice.s3.UriEncoding;
import dev.sluice.s3.WriteHeaders;
import dev.sluice.s3.XmlDocuments;
import dev.sluice.sigv4.ChunkSigning;
import dev.sluice.upload.UploadBodies;
import org.eclipse.jetty.io.Content;

import java.io.InputStream;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The write path between the wire and the backends (docs/writes.md): resolve the product,
 * authorize ({@link Authorizer#authorizeWrite}: never anonymous, scopes, and a product that
 * takes writes), apply S3's limits, seal and open upload ids ({@link UploadIds}), call the
 * store, and answer as S3 answers. A body is opened ({@link UploadBodies}) only once the caller
 * may write there, so a refused write reads none of it. The store makes an object visible whole
 * or not at all; nothing here holds an object's bytes.
 */
public final class Writes {
    /** The largest object one PutObject stores, and the largest part (S3: 5 GiB). */
    static final long MAX_SINGLE_UPLOAD = 5L * 1024 * 1024 * 1024;
    /** The largest object CopyObject copies (S3: a source over 5 GiB is copied with UploadPartCopy). */
    static final long MAX_COPY_SOURCE = MAX_SINGLE_UPLOAD;
    /** Who initiated and owns uploads in listings: sluice's accounts have no owner a client could use. */
    private static final String OWNER = S3Handler.BUCKET_OWNER;

    private final Registry registry;
    private final UploadIds uploadIds;
    private final InstantSource clock;
    private final String publicUrl;

    /** What a write answers: status, headers, and an XML document for the writes that have one. */
    record Answer(int status, List<Map.Entry<String, String>> headers, Optional<String> xml) {
        Answer {
            headers = List.copyOf(headers);
        }

        static Answer xml(String document) {
            return new Answer(200, List.of(), Optional.of(document));
        }
    }

    public Writes(Registry registry, UploadIds uploadIds, InstantSource clock, String publicUrl) {
        this.registry = registry;
        this.uploadIds = uploadIds;
        this.clock = clock;
        this.publicUrl = publicUrl.replaceAll("/+$", "");
    }

    /**
     * PutObject: the body, checked as it streams ({@link UploadBodies#open}), up to 5 GiB
     * ({@code EntityTooLarge} above), stored at the key; answers its ETag and checksums.
     */
    Answer put(Operation.PutObject op, Principal principal, Function<String, Optional<String>> headers, InputStream body,
               Optional<ChunkSigning> chunkSigning, String requestId) {
        Product product = authorize(principal, Action.PUT_OBJECT, op, requestId);
        Backend backend = product.resolveBackend();
        Upload upload = UploadBodies.open(body, headers, chunkSigning, MAX_SINGLE_UPLOAD, backend.needsBodyMd5());
        Written written = backend.put(op.key(), upload, new ObjectAttributes(op.attributes()), condition(op.condition()));
        return new Answer(200, writtenHeaders(written), Optional.empty());
    }

    /** UploadPart: as PutObject, into an upload the client's id names for this key. */
    Answer uploadPart(Operation.UploadPart op, Principal principal, Function<String, Optional<String>> headers, InputStream body,
                      Optional<ChunkSigning> chunkSigning, String requestId) {
        Product product = authorize(principal, Action.UPLOAD_PART, op, requestId);
        String storeId = uploadIds.open(product.ref(), op.key(), op.uploadId());
        Backend backend = product.resolveBackend();
        Upload upload = UploadBodies.open(body, headers, chunkSigning, MAX_SINGLE_UPLOAD, backend.needsBodyMd5());
        Written written = backend.uploadPart(op.key(), storeId, op.partNumber(), upload);
        return new Answer(200, writtenHeaders(written), Optional.empty());
    }

    /** CreateMultipartUpload: the store starts the upload; the client is given its id sealed to this product and key. */
    Answer createUpload(Operation.CreateMultipartUpload op, Principal principal, String requestId) {
        Product product = authorize(principal, Action.CREATE_MULTIPART_UPLOAD, op, requestId);
        String storeId = product.resolveBackend().startUpload(op.key(), new ObjectAttributes(op.attributes()), op.checksum());
        return Answer.xml(XmlDocuments.initiateMultipartUpload(op.account(), op.product() + "/" + op.key(),
                uploadIds.seal(product.ref(), op.key(), storeId)));
    }

    /**
     * CompleteMultipartUpload: the parts listed in {@code body} (ascending, at least one, at most
     * 10,000 by their numbers), made into the object by the store.
     */
    Answer completeUpload(Operation.CompleteMultipartUpload op, Principal principal, Function<String, Optional<String>> headers,
                          byte[] body, String requestId) {
        Product product = authorize(principal, Action.COMPLETE_MULTIPART_UPLOAD, op, requestId);
        String storeId = uploadIds.open(product.ref(), op.key(), op.uploadId());
        SmallBodyDigests.checkContentMd5(headers, body);
        List<Multipart.PartRef> parts = RequestDocuments.completeMultipartUpload(body).stream()
                .map(p -> new Multipart.PartRef(p.partNumber(), p.etag(), p.checksums())).toList();
        Written written = product.resolveBackend().completeUpload(op.key(), storeId, parts, op.claims(), condition(op.condition()));
        String key = op.product() + "/" + op.key();
        String location = publicUrl + "/" + UriEncoding.encodePath(op.account()) + "/" + UriEncoding.encodePath(key);
        return Answer.xml(XmlDocuments.completeMultipartUpload(location, op.account(), key, written.etag(), written.checksums()));
    }

    /** AbortMultipartUpload: 204 once the store discarded the upload's parts. */
    Answer abortUpload(Operation.AbortMultipartUpload op, Principal principal, String requestId) {
        Product product = authorize(principal, Action.ABORT_MULTIPART_UPLOAD, op, requestId);
        String storeId = uploadIds.open(product.ref(), op.key(), op.uploadId());
        product.resolveBackend().abortUpload(op.key(), storeId);
        return new Answer(204, List.of(), Optional.empty());
    }

    /** ListParts: one page of an upload's parts. */
    Answer listParts(Operation.ListParts op, Principal principal, String requestId) {
        Product product = authorize(principal, Action.LIST_MULTIPART_UPLOADS, op, requestId);
        String storeId = uploadIds.open(product.ref(), op.key(), op.uploadId());
        Multipart.PartsPage page = op.maxParts() == 0 ? new Multipart.PartsPage(List.of(), Optional.empty())
                : product.resolveBackend().listParts(op.key(), storeId, op.marker(), op.maxParts());
        List<XmlDocuments.ListedPart> parts = page.parts().stream()
                .map(p -> new XmlDocuments.ListedPart(p.partNumber(), p.etag(), p.size(), p.lastModified(), p.checksums())).toList();
        return Answer.xml(XmlDocuments.listParts(op.account(), op.product() + "/" + op.key(), op.uploadId(), op.marker(),
                page.next(), op.maxParts(), parts, page.checksum(), OWNER));
    }

    /**
     * ListMultipartUploads on an account. Keys are {@code product/key}, so the prefix names the
     * product: {@code product/} or {@code product/inner} lists that product's uploads (with
     * {@code list_multipart_uploads} on the product for that prefix). A prefix that names no
     * single product (empty, or without a {@code /}) lists no uploads, for every account alike,
     * so the answer tells nothing about which products exist (docs/writes.md).
     */
    Answer listUploads(Operation.ListMultipartUploads op, Principal principal, String requestId) {
        int slash = op.prefix().indexOf('/');
        if (slash <= 0) {
            return listedUploads(op, List.of(), Optional.empty());
        }
        String productName = op.prefix().substring(0, slash);
        String inner = op.prefix().substring(slash + 1);
        ProductRef ref = new ProductRef(op.account(), productName);
        Product product = Authorizer.authorizeWrite(principal, Action.LIST_MULTIPART_UPLOADS, ref,
                registry.find(ref, caller(principal, requestId)), inner);
        String base = productName + "/";
        Optional<Multipart.InProgress> after = Optional.empty();
        Optional<String> sameKeySkipped = Optional.empty();
        if (op.keyMarker().isPresent()) {
            String marker = op.keyMarker().get();
            if (marker.startsWith(base)) {
                String markerKey = marker.substring(base.length());
                Optional<String> storeId = op.uploadIdMarker().flatMap(id -> uploadIds.tryOpen(ref, markerKey, id));
                // The store resumes after (key, upload id); with no upload id S3 lists keys after the marker only.
                after = Optional.of(new Multipart.InProgress(markerKey, storeId.orElse(""), Instant.EPOCH));
                if (storeId.isEmpty()) {
                    sameKeySkipped = Optional.of(markerKey);
                }
            } else if (KeyOrder.compare(marker, base) > 0) {
                return listedUploads(op, List.of(), Optional.empty());
            }
        }
        Multipart.UploadsPage page = op.maxUploads() == 0 ? new Multipart.UploadsPage(List.of(), Optional.empty())
                : product.resolveBackend().listUploads(inner, after, op.maxUploads());
        List<XmlDocuments.ListedUpload> uploads = new ArrayList<>();
        for (Multipart.InProgress u : page.uploads()) {
            if (sameKeySkipped.isEmpty() || !sameKeySkipped.get().equals(u.key())) {
                uploads.add(listed(ref, base, u));
            }
        }
        return listedUploads(op, uploads, page.next().map(n -> listed(ref, base, n)));
    }

    private XmlDocuments.ListedUpload listed(ProductRef ref, String base, Multipart.InProgress u) {
        return new XmlDocuments.ListedUpload(base + u.key(), uploadIds.seal(ref, u.key(), u.uploadId()), u.initiated(), u.checksum());
    }

    private static Answer listedUploads(Operation.ListMultipartUploads op, List<XmlDocuments.ListedUpload> uploads,
                                        Optional<XmlDocuments.ListedUpload> next) {
        return Answer.xml(XmlDocuments.listMultipartUploads(op.account(), op.prefix(), op.keyMarker(), op.uploadIdMarker(),
                op.maxUploads(), op.urlEncoding(), uploads, next, OWNER));
    }

    /** DeleteObject: 204 whether or not the object existed, as S3 answers. */
    Answer delete(Operation.DeleteObject op, Principal principal, String requestId) {
        Product product = authorize(principal, Action.DELETE_OBJECT, op, requestId);
        product.resolveBackend().delete(op.key());
        return new Answer(204, List.of(), Optional.empty());
    }

    /**
     * DeleteObjects: never anonymous (refused whole, for any account, before the body counts);
     * the body's integrity header is required, as S3 requires it; then each key
     * ({@code product/key}) is authorized and deleted on its own, and answered {@code Deleted}
     * or {@code Error} with the code a DeleteObject of it would have had. With {@code Quiet},
     * only the errors are listed.
     */
    Answer deleteObjects(Operation.DeleteObjects op, Principal principal, Function<String, Optional<String>> headers, byte[] body,
                         String requestId) {
        refuseAnonymous(principal);
        SmallBodyDigests.check(headers, body, true);
        RequestDocuments.DeleteRequest request = RequestDocuments.delete(body);
        Caller caller = caller(principal, requestId);
        Map<String, Optional<Product>> products = new HashMap<>();
        List<XmlDocuments.DeleteOutcome> outcomes = new ArrayList<>(request.keys().size());
        for (RequestDocuments.DeleteKey k : request.keys()) {
            try {
                if (k.versionId().isPresent() && !k.versionId().get().equals("null")) {
                    throw new S3Exception(S3Error.INVALID_ARGUMENT, "Invalid version id specified");
                }
                int slash = k.key().indexOf('/');
                if (slash <= 0 || slash == k.key().length() - 1) {
                    throw new S3Exception(S3Error.INVALID_ARGUMENT, "A key names an object inside a product: product/key.");
                }
                String productName = k.key().substring(0, slash);
                String key = k.key().substring(slash + 1);
                ObjectKeys.requireValid(key);
                ProductRef ref = new ProductRef(op.account(), productName);
                Optional<Product> found = products.computeIfAbsent(productName, n -> registry.find(ref, caller));
                Authorizer.authorizeWrite(principal, Action.DELETE_OBJECT, ref, found, key).resolveBackend().delete(key);
                outcomes.add(new XmlDocuments.DeleteOutcome.Deleted(k.key()));
            } catch (S3Exception e) {
                outcomes.add(new XmlDocuments.DeleteOutcome.Failed(k.key(), e.error(), e.clientMessage()));
            }
        }
        return Answer.xml(XmlDocuments.deleteResult(outcomes, request.quiet()));
    }

    /**
     * CopyObject: the target authorized for {@code put_object}, the source for
     * {@code get_object}, separately; the {@code x-amz-copy-source-if-*} conditions judged
     * against the source (any that fails, including a matching {@code If-None-Match}, is
     * {@code 412 PreconditionFailed}, as S3 answers a copy); then a copy inside the store when
     * both sit on one backend, otherwise the source's bytes streamed into the target.
     */
    Answer copy(Operation.CopyObject op, Principal principal, String requestId) {
        Product target = authorize(principal, Action.PUT_OBJECT, op, requestId);
        Operation.CopySource src = op.source();
        ProductRef sourceRef = new ProductRef(src.account(), src.product());
        Product source = Authorizer.authorize(principal, Action.GET_OBJECT, sourceRef,
                registry.find(sourceRef, caller(principal, requestId)), src.key());
        Backend from = source.resolveBackend();
        Backend to = target.resolveBackend();
        WriteCondition condition = condition(op.condition());
        Optional<ObjectAttributes> replaced = op.replaceAttributes()
                ? Optional.of(new ObjectAttributes(op.attributes())) : Optional.empty();
        Written written;
        if (from == to) {
            try (StoredObject object = from.open(src.key(), new Fetch(Optional.empty(), Preconditions.NONE, true))) {
                checkCopySource(op.sourceConditions(), object.meta());
            }
            written = to.copy(src.key(), op.key(), replaced, condition);
        } else {
            try (StoredObject object = from.open(src.key(), new Fetch(Optional.empty(), Preconditions.NONE, false))) {
                long size = checkCopySource(op.sourceConditions(), object.meta());
                ObjectAttributes attributes = replaced.orElseGet(() -> new ObjectAttributes(WriteHeaders.attributes(object.meta().stored())));
                try (ObjectBody body = object.body(new ByteRange(0, size - 1));
                     InputStream in = Content.Source.asInputStream(body.source())) {
                    written = to.put(op.key(), UploadBodies.trusted(in, size), attributes, condition);
                } catch (java.io.IOException e) {
                    throw S3Exception.unavailable("copy of " + sourceRef + "/" + src.key() + ": " + e, e);
                }
            }
        }
        return Answer.xml(XmlDocuments.copyObject(written.etag(), clock.instant(), written.checksums()));
    }

    /** Judges a copy's source conditions; answers the source's size. */
    private static long checkCopySource(Preconditions conditions, ObjectMeta meta) {
        if (!conditions.isEmpty() && meta.etag().isPresent() && meta.lastModified().isPresent()
                && conditions.evaluate(meta.etags(), meta.lastModified().get()) != Preconditions.Outcome.PROCEED) {
            throw new S3Exception(S3Error.PRECONDITION_FAILED);
        }
        long size = meta.size().orElseThrow(() -> new S3Exception(S3Error.PRECONDITION_FAILED));
        if (size > MAX_COPY_SOURCE) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "The specified copy source is larger than the maximum allowable size "
                    + "for a copy source: " + MAX_COPY_SOURCE);
        }
        return size;
    }

    private Product authorize(Principal principal, Action action, Operation.OnObject op, String requestId) {
        ProductRef ref = new ProductRef(op.account(), op.product());
        return Authorizer.authorizeWrite(principal, action, ref, registry.find(ref, caller(principal, requestId)), op.key());
    }

    /** A write request that needs no product to refuse: an anonymous caller, or one with a key sluice does not know. */
    private static void refuseAnonymous(Principal principal) {
        if (principal instanceof Principal.Anonymous a) {
            throw new S3Exception(a.unknownKeyId().isPresent() ? S3Error.INVALID_ACCESS_KEY_ID : S3Error.ACCESS_DENIED);
        }
    }

    private static WriteCondition condition(Operation.WriteCondition c) {
        return c.createOnly() || c.ifMatch().isPresent() ? new WriteCondition(c.createOnly(), c.ifMatch()) : WriteCondition.NONE;
    }

    /** The ETag and stored checksums of a write, as S3 answers PutObject and UploadPart. */
    private static List<Map.Entry<String, String>> writtenHeaders(Written written) {
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(Map.entry("ETag", written.etag()));
        headers.addAll(written.checksums());
        return headers;
    }

    private static Caller caller(Principal principal, String requestId) {
        return principal.subject().map(subject -> Caller.authenticated(subject, requestId))
                .orElseGet(() -> Caller.anonymous(requestId));
    }
}
