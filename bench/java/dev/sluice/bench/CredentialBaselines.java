package dev.sluice.bench;

import dev.sluice.Sluice;
import dev.sluice.cache.RefreshAheadCache;
import dev.sluice.config.ConfigLoader;
import dev.sluice.federation.CredentialFront;
import dev.sluice.federation.CredentialKey;
import dev.sluice.federation.CredentialTier;

import java.nio.file.Path;
import java.time.InstantSource;
import java.util.concurrent.CountDownLatch;

/**
 * The credential fronts the benchmarks compare the credential tier with, built through
 * {@link Sluice}'s {@link CredentialFront} seam so that production configuration has no
 * benchmark-only setting. {@code normal} is the tier as sluice runs it.
 *
 * <p>{@link #main} runs one sluice with a named front until the process is terminated, for
 * benchmarks that start a fleet of separate JVMs ({@code FleetBench}):
 * {@code CredentialBaselines MODE CONFIG}.
 */
public final class CredentialBaselines {
    private CredentialBaselines() {
    }

    /** {@code normal}, {@code no_single_flight} (cold loads not shared) or {@code per_request} (an exchange per request). */
    public static CredentialFront front(String mode) {
        return switch (mode) {
            case "normal" -> CredentialFront.TIER;
            case "no_single_flight" -> (chain, s) -> {
                RefreshAheadCache.Policy p = s.policy();
                return new CredentialTier(chain, new RefreshAheadCache.Policy(p.refreshLead(), p.minServe(), p.claimTimeout(),
                        p.failureBackoff(), false), s.clock(), s.loads(), s.jitter(), s.maxWait(), s.meters());
            };
            case "per_request" -> (chain, s) -> (roleArn, subject) -> chain.load(new CredentialKey(roleArn, subject)).value();
            default -> throw new IllegalArgumentException("unknown credential front " + mode
                    + " (normal, no_single_flight, per_request)");
        };
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: CredentialBaselines MODE CONFIG");
        }
        Sluice sluice = new Sluice(ConfigLoader.fromSystemEnvironment().load(Path.of(args[1])), InstantSource.system(),
                front(args[0]));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                sluice.close();
            } catch (Exception e) {
                System.err.println("closing: " + e);
            } finally {
                stopped.countDown();
            }
        }));
        sluice.start();
        System.err.println("sluice (credential front " + args[0] + ") listening on " + sluice.server().s3Endpoint());
        stopped.await();
    }
}
