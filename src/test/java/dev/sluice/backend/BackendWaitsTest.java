package dev.sluice.backend;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A backend wait ends as {@code future.get(timeout)} would, with one timer shared by every
 * wait: a wait that ends sooner than the others must not be held to their deadline.
 */
class BackendWaitsTest {

    @Test
    void aCompletedFutureIsItsValueAndAFailedOneItsFailure() throws Exception {
        assertThat(BackendWaits.await(CompletableFuture.completedFuture("head"), Duration.ofSeconds(1))).isEqualTo("head");

        CompletableFuture<String> failed = new CompletableFuture<>();
        IOException reset = new IOException("connection reset");
        failed.completeExceptionally(reset);
        assertThatThrownBy(() -> BackendWaits.await(failed, Duration.ofSeconds(1)))
                .isInstanceOf(ExecutionException.class).hasCause(reset);
    }

    @Test
    void aDeadlineWithoutAWaiterEndsAnUnansweredFutureAndLeavesAnAnsweredOneAlone() throws Exception {
        CompletableFuture<String> answered = BackendWaits.within(new CompletableFuture<>(), Duration.ofMillis(50));
        answered.complete("head");
        CompletableFuture<String> unanswered = BackendWaits.within(new CompletableFuture<>(), Duration.ofMillis(50));
        long started = System.nanoTime();

        assertThat(unanswered).failsWithin(Duration.ofSeconds(10)).withThrowableThat().havingCause()
                .satisfies(e -> assertThat(BackendWaits.expired(e)).isTrue());
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
        assertThat(answered.get()).isEqualTo("head");
        assertThat(BackendWaits.expired(new IOException("reset"))).isFalse();
    }

    @Test
    void anUnansweredWaitEndsAtItsDeadlineAndEndsItsFuture() {
        CompletableFuture<String> never = new CompletableFuture<>();
        long started = System.nanoTime();

        assertThatThrownBy(() -> BackendWaits.await(never, Duration.ofMillis(200))).isInstanceOf(TimeoutException.class);

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        assertThat(never).as("the owner sees the wait ended").isCompletedExceptionally();
    }

    @Test
    void aShortWaitBehindALongOneEndsAtItsOwnDeadline() throws Exception {
        CompletableFuture<String> slow = new CompletableFuture<>();
        CompletableFuture<String> unanswered = new CompletableFuture<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            CompletableFuture<Void> longWaitArmed = new CompletableFuture<>();
            Future<String> longWait = threads.submit(() -> {
                longWaitArmed.complete(null);
                return BackendWaits.await(slow, Duration.ofMinutes(10));
            });
            longWaitArmed.get(10, TimeUnit.SECONDS);
            // The shared timer is armed for the long wait (or about to be); the short one must re-arm it sooner.
            long started = System.nanoTime();
            assertThatThrownBy(() -> BackendWaits.await(unanswered, Duration.ofMillis(300))).isInstanceOf(TimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(300), Duration.ofSeconds(30));

            assertThat(longWait.isDone()).as("the long wait goes on").isFalse();
            slow.complete("late head");
            assertThat(longWait.get(10, TimeUnit.SECONDS)).isEqualTo("late head");
        }
    }
}
