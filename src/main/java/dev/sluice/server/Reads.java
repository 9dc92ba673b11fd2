package dev.sluice.server;

import dev.sluice.auth.Action;
import dev.sluice.auth.Authorizer;
import dev.sluice.auth.Principal;
import dev.sluice.backend.Backend;
import dev.sluice.backend.KeyOrder;
import dev.sluice.backend.ListPage;
import dev.sluice.backend.ListPosition;
import dev.sluice.backend.ListQuery;
import dev.sluice.backend.ObjectRead;
import dev.sluice.backend.ObjectResponse;
import dev.sluice.registry.Caller;
import dev.sluice.registry.Product;
import dev.sluice.registry.ProductRef;
import dev.sluice.registry.Registry;
import dev.sluice.s3.ListRequest;
import dev.sluice.s3.ListResult;
import dev.sluice.s3.ObjectSummary;
import dev.sluice.s3.Operation;
import dev.sluice.s3.ReadDecision;
import dev.sluice.s3.S3Error;
import dev.sluice.s3.S3Exception;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The read path between the wire and the backends: resolve the product, decide whether the
 * caller may know it exists, and run the read or the listing.
 *
 * <p>An account listing presents products as the first key segment. With delimiter
 * {@code /} and a prefix inside no product, products are common prefixes; with a prefix
 * naming a product ({@code hello/sub/}) the listing is that product's, keys prefixed with
 * {@code hello/}; without a delimiter the products' listings are walked one after another
 * in key order, and the continuation token records which product the next page resumes in.
 *
 * <p>Who may do what is {@link Authorizer}'s decision. Listings show the products the caller
 * may see: public ones, and restricted ones a scope of the caller names. A listing across
 * products includes a restricted product only when the caller may list all of it; a listing
 * inside one product checks the caller's scopes against the listed prefix.
 */
public final class Reads {
    private final Registry registry;

    public Reads(Registry registry) {
        this.registry = registry;
    }

    /**
     * How a read of a product can start without waiting ({@link #startsWithoutWaiting}), which is
     * where the server starts the request (docs/operations.md, "Threads").
     */
    public enum Starting {
        /** It cannot: the registry or the store may keep the caller waiting; a virtual thread of its own. */
        NO,
        /** Whole, on the thread that parsed it: a directory. */
        LOCALLY,
        /**
         * Sent from the thread that parsed it, answered on the thread that reads the store's
         * answer; any other operation on the product goes on on a virtual thread of its own.
         */
        REMOTELY
    }

    /**
     * How a read of {@code account/product} can start without waiting on another process. A
     * product of the static registry (held in memory) whose backend is a directory waits on
     * nothing: identifying the caller and authorizing are computation on what is in memory, so
     * such a read can be answered on the thread that parsed it. One whose backend is a remote
     * store that {@link Backend#opensWithoutWaiting opens without waiting} (an S3 store) can be
     * sent from there ({@link #readWithoutWaiting}). A control-plane product may need the API: no.
     */
    public Starting startsWithoutWaiting(String account, String product) {
        if (!registry.answersFromMemory()) {
            return Starting.NO;
        }
        Optional<Backend> backend = registry.find(new ProductRef(account, product)).map(Product::resolveBackend);
        if (backend.isEmpty()) {
            return Starting.NO;
        }
        return backend.get().readsLocally() ? Starting.LOCALLY : backend.get().opensWithoutWaiting() ? Starting.REMOTELY : Starting.NO;
    }

    /**
     * Reads an object: its backend opens it and {@link ReadDecision} decides the answer (status,
     * headers, the bytes to send; {@code ?partNumber} too, see docs/behaviour.md, "Reads").
     * {@code response-*} overrides are refused to anonymous callers (a stray key is served as
     * one), as S3 refuses them: honoured, they let anyone serve a public object holding markup as
     * {@code text/html} from sluice's origin with a crafted link. Refused before the product is
     * looked up, so the answer says nothing about it (docs/behaviour.md).
     */
    public ObjectResponse read(Operation.ReadObject op, Principal principal, String requestId) {
        Located located = locate(op, principal, requestId);
        return ObjectResponse.read(located.backend(), located.read());
    }

    /**
     * {@link #read}, for a caller that may not wait: who may read is decided now (a refusal is
     * thrown), the answer comes in the future. A store that {@link Backend#opensWithoutWaiting opens
     * without waiting} is asked from this thread and answers on the one that reads its response,
     * with a body of at most {@code bodyMax} bytes in memory by then; a directory is read now.
     * Any other store (the registry changed since the caller asked) is read on {@code elsewhere}.
     */
    public CompletableFuture<ObjectResponse> readWithoutWaiting(Operation.ReadObject op, Principal principal, String requestId,
                                                                int bodyMax, Executor elsewhere) {
        Located located = locate(op, principal, requestId);
        Backend backend = located.backend();
        if (backend.opensWithoutWaiting()) {
            return ObjectResponse.readWithoutWaiting(backend, located.read(), bodyMax);
        }
        if (backend.readsLocally()) {
            return CompletableFuture.completedFuture(ObjectResponse.read(backend, located.read()));
        }
        return CompletableFuture.supplyAsync(() -> ObjectResponse.read(backend, located.read()), elsewhere);
    }

    private record Located(Backend backend, ObjectRead read) {
    }

    /** The store and the read a GET or HEAD asks for, once the caller may make it. */
    private Located locate(Operation.ReadObject op, Principal principal, String requestId) {
        if (principal instanceof Principal.Anonymous && !op.overrides().headers().isEmpty()) {
            throw new S3Exception(S3Error.INVALID_REQUEST, "Request specific response headers cannot be used for anonymous GET requests.");
        }
        ProductRef ref = new ProductRef(op.account(), op.product());
        Optional<Product> found = registry.find(ref, caller(principal, requestId));
        Product product = Authorizer.authorize(principal, op.headOnly() ? Action.HEAD_OBJECT : Action.GET_OBJECT, ref, found,
                op.key());
        if (op.key().isEmpty()) {
            throw new S3Exception(S3Error.NO_SUCH_KEY);
        }
        return new Located(product.resolveBackend(), new ObjectRead(op.key(), ReadDecision.Request.of(op), requestId));
    }

    /**
     * ListBuckets: the accounts whose name starts with {@code prefix} in which the caller can
     * see at least one product (public ones, and restricted ones a scope of the caller covers),
     * in key order. An account the caller sees nothing of is left out, as it answers them
     * {@code NoSuchBucket} elsewhere.
     */
    public List<String> listAccounts(String prefix, Principal principal, String requestId) {
        Caller caller = caller(principal, requestId);
        return registry.accounts().stream()
                .filter(account -> account.startsWith(prefix))
                .filter(account -> registry.list(account, caller).stream().anyMatch(p -> Authorizer.canSee(principal, p)))
                .toList();
    }

    /** HeadBucket and GetBucketLocation on an account: does the caller see any product in it? */
    public void requireAccount(String account, Principal principal, String requestId) {
        visibleProducts(account, principal, requestId);
    }

    public ListResult list(Operation.ListAccount op, Principal principal, String requestId) {
        String account = op.account();
        List<Product> products = visibleProducts(account, principal, requestId);
        ListRequest req = op.list();
        Optional<ListTokens.Token> token = req.continuationToken().map(ListTokens::decode);
        String prefix = req.prefix();
        int slash = prefix.indexOf('/');
        if (slash >= 0) {
            return listInside(products, prefix.substring(0, slash), prefix.substring(slash + 1), req, token, principal);
        }
        if (req.delimiter().equals(Optional.of("/"))) {
            return listProductsAsPrefixes(products, prefix, req, token);
        }
        return listAcross(products.stream().filter(p -> Authorizer.canListWhole(principal, p)).toList(), prefix, req, token);
    }

    /** {@code prefix = product/inner}: one product's keys. */
    private ListResult listInside(List<Product> products, String productName, String inner, ListRequest req,
                                  Optional<ListTokens.Token> token, Principal principal) {
        Optional<Product> product = products.stream().filter(p -> p.ref().product().equals(productName)).findFirst();
        if (product.isEmpty()) {
            return empty();
        }
        Authorizer.authorize(principal, Action.LIST_BUCKET, product.get().ref(), product, inner);
        String base = productName + "/";
        ListPosition position;
        if (token.isPresent()) {
            if (!token.get().product().equals(productName)) {
                throw new S3Exception(S3Error.INVALID_ARGUMENT, "The continuation token provided is incorrect");
            }
            position = token.get().position();
        } else {
            Optional<String> after = req.startAfter();
            if (after.isEmpty() || KeyOrder.compare(after.get(), base) < 0) {
                position = new ListPosition.Start();
            } else if (after.get().startsWith(base)) {
                position = new ListPosition.After(after.get().substring(base.length()));
            } else {
                return empty();
            }
        }
        ListPage page = product.get().resolveBackend().list(new ListQuery(inner, req.delimiter(), req.maxKeys(), position));
        return present(productName, page, page.next());
    }

    /** Delimiter {@code /} above the products: each product is one common prefix. */
    private ListResult listProductsAsPrefixes(List<Product> products, String prefix, ListRequest req,
                                              Optional<ListTokens.Token> token) {
        Optional<String> after = token.map(t -> t.product() + "/")
                .or(() -> req.startAfter());
        List<String> prefixes = new ArrayList<>();
        for (Product p : products) {
            String name = p.ref().product() + "/";
            if (!name.startsWith(prefix)) {
                continue;
            }
            if (after.isPresent() && KeyOrder.compare(name, after.get()) <= 0) {
                continue;
            }
            if (prefixes.size() == req.maxKeys()) {
                String last = prefixes.isEmpty() ? "" : prefixes.get(prefixes.size() - 1);
                String lastProduct = last.isEmpty() ? "" : last.substring(0, last.length() - 1);
                return new ListResult(List.of(), prefixes, true,
                        Optional.of(ListTokens.encode(lastProduct, new ListPosition.Start())), Optional.of(last));
            }
            prefixes.add(name);
        }
        return new ListResult(List.of(), prefixes, false, Optional.empty(), Optional.empty());
    }

    /** No delimiter (or another one) above the products: walk each product's keys in key order. */
    private ListResult listAcross(List<Product> products, String prefix, ListRequest req,
                                  Optional<ListTokens.Token> token) {
        List<ObjectSummary> contents = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        int remaining = req.maxKeys();
        for (Product p : products) {
            String name = p.ref().product();
            String base = name + "/";
            if (!base.startsWith(prefix)) {
                continue;
            }
            ListPosition position = new ListPosition.Start();
            if (token.isPresent()) {
                int c = KeyOrder.compare(base, token.get().product() + "/");
                if (c < 0) {
                    continue;
                }
                if (c == 0) {
                    position = token.get().position();
                }
            } else if (req.startAfter().isPresent()) {
                String after = req.startAfter().get();
                if (KeyOrder.compare(base, after) <= 0 && !after.startsWith(base)) {
                    continue;
                }
                if (after.startsWith(base)) {
                    position = new ListPosition.After(after.substring(base.length()));
                }
            }
            if (remaining == 0) {
                return new ListResult(contents, prefixes, true,
                        Optional.of(ListTokens.encode(name, position)), lastOf(contents, prefixes));
            }
            ListPage page = p.resolveBackend().list(new ListQuery("", req.delimiter(), remaining, position));
            page.objects().forEach(o -> contents.add(new ObjectSummary(base + o.key(), o.size(), o.lastModified(), o.etag())));
            page.commonPrefixes().forEach(cp -> prefixes.add(base + cp));
            remaining -= page.objects().size() + page.commonPrefixes().size();
            if (page.next().isPresent()) {
                return new ListResult(contents, prefixes, true,
                        Optional.of(ListTokens.encode(name, page.next().get())), lastOf(contents, prefixes));
            }
        }
        return new ListResult(contents, prefixes, false, Optional.empty(), Optional.empty());
    }

    private static ListResult present(String productName, ListPage page, Optional<ListPosition> next) {
        String base = productName + "/";
        List<ObjectSummary> contents = page.objects().stream()
                .map(o -> new ObjectSummary(base + o.key(), o.size(), o.lastModified(), o.etag())).toList();
        List<String> prefixes = page.commonPrefixes().stream().map(cp -> base + cp).toList();
        return new ListResult(contents, prefixes, next.isPresent(),
                next.map(n -> ListTokens.encode(productName, n)), lastOf(contents, prefixes));
    }

    private static Optional<String> lastOf(List<ObjectSummary> contents, List<String> prefixes) {
        Optional<String> lastKey = contents.isEmpty() ? Optional.empty() : Optional.of(contents.get(contents.size() - 1).key());
        Optional<String> lastPrefix = prefixes.isEmpty() ? Optional.empty() : Optional.of(prefixes.get(prefixes.size() - 1));
        if (lastKey.isPresent() && lastPrefix.isPresent()) {
            return KeyOrder.compare(lastKey.get(), lastPrefix.get()) > 0 ? lastKey : lastPrefix;
        }
        return lastKey.or(() -> lastPrefix);
    }

    private static ListResult empty() {
        return new ListResult(List.of(), List.of(), false, Optional.empty(), Optional.empty());
    }

    private static Caller caller(Principal principal, String requestId) {
        return principal.subject().map(subject -> Caller.authenticated(subject, requestId))
                .orElseGet(() -> Caller.anonymous(requestId));
    }

    /**
     * The account's visible products in the order their keys list: by {@code name/}, not by
     * name. The two differ when one name extends another with '-' or '.', which sort before
     * '/': "data-v2/" lists before "data/" although "data" names first. Walking in name order
     * returned such listings out of S3 order, and with pagination skipped products entirely
     * (the resume point "data/" is after "data-v2/").
     */
    private List<Product> visibleProducts(String account, Principal principal, String requestId) {
        List<Product> products = registry.list(account, caller(principal, requestId)).stream()
                .filter(p -> Authorizer.canSee(principal, p))
                .sorted(Comparator.comparing(p -> p.ref().product() + "/", KeyOrder.COMPARATOR))
                .toList();
        if (products.isEmpty()) {
            // An account the caller sees nothing of does not exist for them; a stray key is told
            // so rather than being served as anonymous and told the account is missing.
            throw new S3Exception(principal instanceof Principal.Anonymous a && a.unknownKeyId().isPresent()
                    ? S3Error.INVALID_ACCESS_KEY_ID : S3Error.NO_SUCH_BUCKET);
        }
        return products;
    }

}
