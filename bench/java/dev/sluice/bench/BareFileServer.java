package dev.sluice.bench;

import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Invocable;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;

/**
 * The floor under sluice's small GET: a Jetty server configured as sluice's is (the same Jetty,
 * thread pool with virtual threads, one acceptor and a selector per core, the same HTTP
 * configuration) whose handler does the least a file server can: resolve the name under a
 * directory, read the file, write it with its length and type. Nothing else: no identity,
 * registry, S3 parsing, access log or metrics. {@code bench/file-vs-nginx.sh} (BARE=1) serves
 * the same 1 KiB file with it beside nginx and sluice, so the distance from nginx splits into
 * what Jetty and the thread model cost and what sluice's own work costs.
 *
 * <p>Two dispatch modes, the question the performance issue left open:
 * <ul>
 *   <li>{@code blocking}: the handler is {@code BLOCKING}, so each request is handed from the
 *       selector to a virtual thread, as sluice's is;</li>
 *   <li>{@code nonblocking}: the handler is {@code NON_BLOCKING}, so Jetty runs it on the
 *       thread that parsed the request, and the write completes through its callback.</li>
 * </ul>
 *
 * <pre>java -cp BENCH_CP dev.sluice.bench.BareFileServer MODE PORT DIRECTORY</pre>
 * serves {@code GET /bench/data/NAME} from DIRECTORY until killed.
 */
public final class BareFileServer {
    private static final HttpField TYPE = new PreEncodedHttpField(HttpHeader.CONTENT_TYPE, "application/octet-stream");

    private BareFileServer() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !(args[0].equals("blocking") || args[0].equals("nonblocking"))) {
            System.err.println("usage: BareFileServer blocking|nonblocking PORT DIRECTORY");
            System.exit(2);
        }
        boolean blocking = args[0].equals("blocking");
        int port = Integer.parseInt(args[1]);
        Path root = Path.of(args[2]).toRealPath();

        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("bare");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setRequestHeaderSize(16 * 1024);
        http.setOutputBufferSize(64 * 1024);
        // One acceptor and a selector per core (at most 8), as sluice's S3 listener.
        int selectors = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
        ServerConnector connector = new ServerConnector(server, 1, selectors, new HttpConnectionFactory(http));
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(new Files1(blocking ? Invocable.InvocationType.BLOCKING : Invocable.InvocationType.NON_BLOCKING, root));
        server.start();
        System.err.println("bare " + args[0] + " serving " + root + " on " + connector.getLocalPort());
        server.join();
    }

    private static final class Files1 extends Handler.Abstract {
        private static final String PREFIX = "/bench/data/";
        private final Path root;

        Files1(InvocationType type, Path root) {
            super(type);
            this.root = root;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = request.getHttpURI().getPath();
            if (!request.getMethod().equals("GET") || !path.startsWith(PREFIX) || path.indexOf('/', PREFIX.length()) >= 0
                    || path.length() == PREFIX.length() || path.contains("..")) {
                Response.writeError(request, response, callback, HttpStatus.NOT_FOUND_404);
                return true;
            }
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(root.resolve(path.substring(PREFIX.length())));
            } catch (Exception e) {
                Response.writeError(request, response, callback, HttpStatus.NOT_FOUND_404);
                return true;
            }
            response.setStatus(200);
            response.getHeaders().add(TYPE);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
            response.write(true, ByteBuffer.wrap(bytes), callback);
            return true;
        }
    }
}
