package dev.sluice.federation;

import dev.sluice.observe.LogText;
import dev.sluice.time.Ticker;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.Request;
import org.slf4j.Logger;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.DoubleSupplier;

/**
 * The deadline, retry and backoff of an exchange with an identity provider (AWS STS, Entra ID,
 * Google STS, IAM credentials, Google's OAuth token endpoint), written once so that every
 * exchange obeys the same rules (docs/federation.md):
 *
 * <ul>
 *   <li>one overall deadline covers connecting, every attempt, every backoff and reading;
 *       each attempt's HTTP timeout is what remains of it, so a hung provider is not retried;</li>
 *   <li>only a failure the exchange marks {@link Failed#retryable()} is retried (throttling,
 *       5xx, I/O: what another attempt may cure), with jittered exponential backoff (100 ms
 *       doubling to 1 s, times 0.5–1.5), never sleeping past the deadline;</li>
 *   <li>the outcome is reported once per exchange to the {@link Observer}, retries included.</li>
 * </ul>
 *
 * <p>What an exchange does on success and on failure (its log line, the S3 error the client
 * sees) stays with the exchange, which knows its provider's words.
 */
public final class ExchangeLoop {
    static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(1);

    /** What happened, for metrics: outcome ({@code success} or the failure's kind) and the provider's error code ("" when none). */
    @FunctionalInterface
    public interface Observer {
        Observer NONE = (outcome, code, duration) -> { };

        void exchanged(String outcome, String code, Duration duration);
    }

    /** One attempt's result. */
    public sealed interface Outcome<T> {
    }

    /** A usable answer, and the provider's request (or correlation) id for the log. */
    public record Got<T>(T value, String requestId) implements Outcome<T> {
    }

    /**
     * A failed attempt.
     *
     * @param kind what failed, also the metric's outcome: the exchange's own words for a provider
     *             error, or {@code io}, {@code deadline}, {@code garbage}
     */
    public record Failed<T>(boolean retryable, String kind, String code, String message, String requestId) implements Outcome<T> {
        public static <T> Failed<T> deadline() {
            return new Failed<>(false, "deadline", "", "no answer within the deadline", "-");
        }
    }

    /** One attempt, given the deadline ({@link Ticker#nanoTime()} value) it must answer by. */
    @FunctionalInterface
    public interface Attempt<T> {
        Outcome<T> attempt(long deadlineNanos);
    }

    /** What the exchange does with the final outcome: log it, and return the value or throw. */
    public interface Conclusion<T> {
        T succeeded(Got<T> got, int attempts, Duration took);

        /** @param outOfTime whether the deadline ended the exchange (rather than a failure not worth retrying) */
        RuntimeException failed(Failed<T> failed, int attempts, Duration took, boolean outOfTime);
    }

    private final DoubleSupplier jitter;
    private final Ticker ticker;
    private final Observer observer;
    private final Logger log;
    private final String what;

    /**
     * @param log  where a failed attempt that is retried is noted (debug)
     * @param what names the exchange in that note, e.g. {@code "entra exchange"}
     */
    public ExchangeLoop(DoubleSupplier jitter, Ticker ticker, Observer observer, Logger log, String what) {
        this.jitter = jitter;
        this.ticker = ticker;
        this.observer = observer;
        this.log = log;
        this.what = what;
    }

    public Ticker ticker() {
        return ticker;
    }

    /** Runs {@code attempt} until it succeeds, fails for good, or {@code timeout} from now has passed. */
    public <T> T run(Duration timeout, Attempt<T> attempt, Conclusion<T> conclusion) {
        long started = ticker.nanoTime();
        return run(started, started + timeout.toNanos(), attempt, conclusion);
    }

    /**
     * Runs {@code attempt} within a deadline set earlier ({@link Ticker#nanoTime()} values), for
     * an exchange of several steps under one deadline.
     */
    public <T> T run(long started, long deadline, Attempt<T> attempt, Conclusion<T> conclusion) {
        Duration backoff = FIRST_BACKOFF;
        int attempts = 0;
        Failed<T> last = null;
        while (true) {
            attempts++;
            if (ticker.remainingNanos(deadline) == 0) {
                return fail(conclusion, last != null ? last : Failed.<T>deadline(), attempts - 1, started, true);
            }
            Outcome<T> outcome = attempt.attempt(deadline);
            if (outcome instanceof Got<T> got) {
                Duration took = ticker.since(started);
                observer.exchanged("success", "", took);
                return conclusion.succeeded(got, attempts, took);
            }
            last = (Failed<T>) outcome;
            if (!last.retryable()) {
                return fail(conclusion, last, attempts, started, false);
            }
            Duration sleep = Duration.ofNanos((long) (backoff.toNanos() * (0.5 + jitter.getAsDouble())));
            if (sleep.toNanos() >= ticker.remainingNanos(deadline)) {
                return fail(conclusion, last, attempts, started, true);
            }
            log.debug("{} attempt {} failed ({} {} {}), retrying", what, attempts, last.kind(), last.code(),
                    LogText.escape(last.message()));
            try {
                ticker.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return fail(conclusion, last, attempts, started, true);
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    private <T> T fail(Conclusion<T> conclusion, Failed<T> f, int attempts, long started, boolean outOfTime) {
        Duration took = ticker.since(started);
        observer.exchanged(f.kind(), f.code(), took);
        throw conclusion.failed(f, attempts, took, outOfTime);
    }

    /** What an exchange makes of its provider's HTTP answer: its status and its body, read whole. */
    @FunctionalInterface
    public interface Reply<T> {
        Outcome<T> read(int status, byte[] body);
    }

    /**
     * Sends {@code request} with what remains of the deadline as its timeout, and the answer is
     * what {@code reply} reads in it. A reply bigger than {@code maxBytes} is garbage (retryable
     * when its status is 5xx); no answer in time is the deadline; a connection failure is
     * retryable I/O.
     */
    public <T> Outcome<T> send(Request request, long deadlineNanos, int maxBytes, Reply<T> reply) {
        long remainingNanos = ticker.remainingNanos(deadlineNanos);
        if (remainingNanos == 0) {
            return Failed.deadline();
        }
        request.timeout(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remainingNanos)), TimeUnit.MILLISECONDS);
        ContentResponse response;
        try {
            response = request.send();
        } catch (TimeoutException e) {
            return Failed.deadline();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IllegalArgumentException && String.valueOf(cause.getMessage()).contains("capacity")) {
                return (new Failed<>(false, "garbage", "", "a response over the buffer's capacity", "-"));
            }
            return (new Failed<>(true, "io", "", String.valueOf(cause), "-"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Failed.deadline();
        }
        byte[] body = response.getContent();
        int status = response.getStatus();
        if (body.length > maxBytes) {
            return (new Failed<>(status >= 500, "garbage", "", "response of " + body.length + " bytes", "-"));
        }
        return reply.read(status, body);
    }
}
