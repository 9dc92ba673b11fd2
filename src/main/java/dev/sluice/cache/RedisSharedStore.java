package dev.sluice.cache;

import dev.sluice.time.Ticker;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The shared tier on Redis or Valkey, through Lettuce.
 *
 * <p>Every command's reply is awaited for {@code timeout} (default 100 ms) from its dispatch (a
 * connection still being opened is waited for up to {@code timeout} before that), and its
 * failure is absorbed here: a miss, a lost lease, a skipped write. Consecutive failures open a
 * {@link CircuitBreaker} and the store is skipped (answers {@code UNAVAILABLE} at once) until a
 * probe succeeds, so a paused or blackholed Redis costs each request at most one timeout
 * while the breaker is still closed, and nothing after it opens.
 *
 * <p>Lettuce reconnects on its own; while disconnected it rejects commands instead of
 * queueing them, so nothing piles up behind a dead server. The connection is opened in the
 * background from construction, and reopened (at most every 250 ms) if that failed, so sluice
 * starts (and serves) with Redis down. A call never opens it on its own thread: it waits for the
 * attempt in flight within its own timeout. An earlier revision connected on the first call, on
 * the caller's thread: that call blocked for the whole connect (seconds, in a cold JVM) and every
 * caller arriving meanwhile failed and counted toward the breaker, so a fleet restarting under
 * load skipped L2 exactly when it needed it most.
 */
public final class RedisSharedStore implements SharedStore {
    private static final Logger LOG = LoggerFactory.getLogger(RedisSharedStore.class);
    private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
    private static final long RECONNECT_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** Connecting happens in the background, so it may take longer than a call; a cold JVM needs it. */
    private static final Duration MIN_CONNECT_TIMEOUT = Duration.ofSeconds(1);
    private static final String COMPARE_AND_DELETE =
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    /** Counts what happened, for metrics. */
    public interface Observer {
        Observer NONE = (op, outcome) -> { };

        /** @param outcome {@code hit}, {@code miss}, {@code ok}, {@code error}, {@code timeout} or {@code skipped} */
        void call(String op, String outcome);
    }

    private final RedisURI uri;
    private final Duration timeout;
    private final CircuitBreaker breaker;
    private final Ticker ticker;
    private final Observer observer;
    private final ClientResources resources;
    private final RedisClient client;
    private final AtomicReference<StatefulRedisConnection<String, byte[]>> connection = new AtomicReference<>();
    private final AtomicReference<Attempt> attempt = new AtomicReference<>();
    private volatile boolean closed;
    private volatile String lastProblem = "";

    public RedisSharedStore(String uri, Duration timeout, CircuitBreaker breaker, Ticker ticker, Observer observer) {
        this.uri = RedisURI.create(uri);
        Duration connectTimeout = timeout.compareTo(MIN_CONNECT_TIMEOUT) > 0 ? timeout : MIN_CONNECT_TIMEOUT;
        this.uri.setTimeout(connectTimeout); // bounds the connection handshake; commands have their own timeout below
        this.timeout = timeout;
        this.breaker = breaker;
        this.ticker = ticker;
        this.observer = observer;
        this.resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2)
                // Lettuce's default reconnect backoff grows to 30 s, which kept a fleet off a restarted
                // Redis for 11 s in the fleet test; a 1 s cap finds it again within a second.
                .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        this.client = RedisClient.create(resources);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .socketOptions(SocketOptions.builder().connectTimeout(connectTimeout).build())
                .timeoutOptions(TimeoutOptions.enabled(timeout))
                .build());
        startAttempt(null, ticker.nanoTime());
    }

    @Override
    public Read get(String key) {
        Reply<byte[]> reply = call("get", c -> c.get(key));
        if (!reply.ok()) {
            return new Read.Unavailable();
        }
        observer.call("get", reply.value() == null ? "miss" : "hit");
        return reply.value() == null ? new Read.Miss() : new Read.Hit(reply.value());
    }

    @Override
    public void put(String key, byte[] value, Duration ttl) {
        if (call("put", c -> c.set(key, value, SetArgs.Builder.px(millis(ttl)))).ok()) {
            observer.call("put", "ok");
        }
    }

    @Override
    public void delete(String key, byte[] expected) {
        if (call("delete", c -> c.<Long>eval(COMPARE_AND_DELETE, ScriptOutputType.INTEGER, new String[] {key}, expected)).ok()) {
            observer.call("delete", "ok");
        }
    }

    @Override
    public Lease acquireLease(String key, String token, Duration ttl) {
        Reply<String> reply = call("lease", c -> c.set(key, token.getBytes(StandardCharsets.UTF_8), SetArgs.Builder.nx().px(millis(ttl))));
        if (!reply.ok()) {
            return Lease.UNAVAILABLE;
        }
        Lease lease = "OK".equals(reply.value()) ? Lease.WON : Lease.HELD;
        observer.call("lease", lease == Lease.WON ? "won" : "held");
        return lease;
    }

    @Override
    public void releaseLease(String key, String token) {
        if (call("release", c -> c.<Long>eval(COMPARE_AND_DELETE, ScriptOutputType.INTEGER, new String[] {key},
                token.getBytes(StandardCharsets.UTF_8))).ok()) {
            observer.call("release", "ok");
        }
    }

    /**
     * {@code EVALSHA}, and {@code EVAL} with the source only when the server answers
     * {@code NOSCRIPT} (a restarted or flushed Redis): both inside the one awaited future, so the
     * call keeps its single timeout and counts once toward the breaker.
     */
    @Override
    public Eval eval(Script script, List<String> keys, List<String> args) {
        String[] k = keys.toArray(String[]::new);
        byte[][] v = args.stream().map(a -> a.getBytes(StandardCharsets.UTF_8)).toArray(byte[][]::new);
        Reply<Object> reply = call("eval", c -> c.<Object>evalsha(script.sha1(), ScriptOutputType.MULTI, k, v)
                .exceptionallyCompose(e -> unwrap(e) instanceof RedisNoScriptException
                        ? c.<Object>eval(script.source(), ScriptOutputType.MULTI, k, v)
                        : CompletableFuture.failedFuture(unwrap(e))));
        if (!reply.ok()) {
            return new Eval.Unavailable();
        }
        List<Long> values = new ArrayList<>();
        for (Object o : reply.value() instanceof List<?> list ? list : List.of(reply.value())) {
            if (!(o instanceof Long n)) {
                fail("eval", "error", "script answered a non-integer");
                return new Eval.Unavailable();
            }
            values.add(n);
        }
        observer.call("eval", "ok");
        return new Eval.Done(List.copyOf(values));
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    /**
     * {@code PX} in whole milliseconds, at least 1: Redis refuses {@code PX 0} with an error, which
     * would count toward opening the breaker although Redis is fine.
     */
    private static long millis(Duration ttl) {
        return Math.max(1, ttl.toMillis());
    }

    @Override
    public String health() {
        CircuitBreaker.State s = breaker.state();
        StatefulRedisConnection<String, byte[]> c = connection.get();
        // The breaker only learns of trouble from calls, which may be an hour apart when every
        // credential is warm; the connection's own state is current.
        boolean connected = c != null && c.isOpen();
        String state = s != CircuitBreaker.State.CLOSED ? "unavailable (breaker " + s.name().toLowerCase(java.util.Locale.ROOT) + ")"
                : connected ? "ok" : "unavailable (not connected)";
        return "shared tier: redis " + uri.getHost() + ":" + uri.getPort() + " " + state
                + (lastProblem.isEmpty() || state.equals("ok") ? "" : ": " + lastProblem);
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    /** A command's reply; {@code ok} false when the call failed, timed out or was skipped ({@code value} null then). */
    private record Reply<T>(boolean ok, T value) {
    }

    /** One connection attempt: its outcome, and when it started. */
    private record Attempt(CompletableFuture<StatefulRedisConnection<String, byte[]>> result, long startedNanos) {
    }

    private interface Command<T> {
        CompletionStage<T> run(RedisAsyncCommands<String, byte[]> commands);
    }

    private <T> Reply<T> call(String op, Command<T> command) {
        if (!breaker.allow()) {
            observer.call(op, "skipped");
            return new Reply<>(false, null);
        }
        try {
            StatefulRedisConnection<String, byte[]> c = connection(ticker.nanoTime() + timeout.toNanos());
            // The reply gets its whole timeout from the moment the command is handed to Lettuce. An
            // earlier revision started the clock before the dispatch: in a fresh JVM serving a burst,
            // the caller's (virtual) thread was sometimes held up 100-160 ms inside the dispatch, so
            // the command was written with no time left, "timed out" against a healthy Redis, and the
            // load exchanged on its own - a second exchange in the fleet's cold start.
            CompletableFuture<T> pending = command.run(c.async()).toCompletableFuture();
            T reply = pending.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            breaker.onSuccess();
            return new Reply<>(true, reply);
        } catch (TimeoutException e) {
            fail(op, "timeout", "no reply within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            fail(op, cause instanceof io.lettuce.core.RedisCommandTimeoutException ? "timeout" : "error", String.valueOf(cause));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(op, "error", "interrupted");
        } catch (RuntimeException e) {
            fail(op, "error", e.toString());
        }
        return new Reply<>(false, null);
    }

    private void fail(String op, String outcome, String problem) {
        breaker.onFailure();
        observer.call(op, outcome);
        if (!problem.equals(lastProblem)) {
            LOG.warn("shared tier {} {}: {}", op, outcome, problem);
        }
        lastProblem = problem;
    }

    /**
     * The connection, or the attempt in flight to open one, waited for until {@code deadline}; a
     * failed attempt is followed by another (started by a caller) at most every 250 ms.
     */
    private StatefulRedisConnection<String, byte[]> connection(long deadline)
            throws ExecutionException, InterruptedException, TimeoutException {
        StatefulRedisConnection<String, byte[]> c = connection.get();
        if (c != null) {
            return c;
        }
        Attempt a = attempt.get();
        long now = ticker.nanoTime();
        if (a.result().isCompletedExceptionally() && now - a.startedNanos() >= RECONNECT_INTERVAL_NANOS) {
            a = startAttempt(a, now);
        }
        if (a.result().isCompletedExceptionally()) {
            throw new IllegalStateException("not connected (retrying)");
        }
        return a.result().get(ticker.remainingNanos(deadline), TimeUnit.NANOSECONDS);
    }

    /** Starts a connection attempt unless another caller replaced {@code previous} first; returns the current attempt. */
    private Attempt startAttempt(Attempt previous, long now) {
        Attempt mine = new Attempt(new CompletableFuture<>(), now);
        if (!attempt.compareAndSet(previous, mine)) {
            return attempt.get();
        }
        try {
            client.connectAsync(CODEC, uri).whenComplete((c, e) -> {
                if (e != null) {
                    mine.result().completeExceptionally(e);
                    return;
                }
                connection.set(c);
                if (closed) {
                    c.closeAsync();
                } else {
                    LOG.info("shared tier connected to redis {}:{}", uri.getHost(), uri.getPort());
                }
                mine.result().complete(c);
            });
        } catch (RuntimeException e) {
            mine.result().completeExceptionally(e);
        }
        return mine;
    }

    @Override
    public void close() {
        closed = true;
        StatefulRedisConnection<String, byte[]> c = connection.getAndSet(null);
        if (c != null) {
            c.closeAsync();
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        resources.shutdown(0, 1, TimeUnit.SECONDS);
    }
}
