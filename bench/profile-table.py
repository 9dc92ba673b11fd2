#!/usr/bin/env python3
"""Where a sluice process's CPU goes, from a JFR recording: every execution sample is put in
the first category (in the order below) one of whose markers appears in its stack, and the
table gives each category's share of the samples. GC runs on native threads and is not in
execution samples; its share is estimated from the recording's GC events instead.

    bench/profile-table.py recording.jfr [more.jfr ...]

Needs the `jfr` tool of the JDK that made the recording (JAVA_HOME/bin/jfr, else PATH).
"""
import collections, os, re, shutil, subprocess, sys

# (category, markers): the first category whose marker is in a sample's stack takes it.
CATEGORIES = [
    ("logging (access log)", ["dev.sluice.observe.AccessLog", "ch.qos.logback"]),
    ("metrics", ["dev.sluice.observe.RequestMetrics", "io.micrometer"]),
    ("identify (signatures)", ["dev.sluice.auth.Identifier", "dev.sluice.sigv4.SigV4Verifier", "dev.sluice.sigv2."]),
    ("registry + authorize", ["dev.sluice.registry.", "dev.sluice.auth.Authorizer"]),
    ("read decision", ["dev.sluice.s3.ReadDecision", "dev.sluice.s3.HttpDate"]),
    ("backend: file", ["dev.sluice.backend.FileBackend", "dev.sluice.backend.ContentHashes"]),
    ("backend: S3 (client side)", ["dev.sluice.backend.S3Backend", "dev.sluice.backend.S3ObjectReply",
                                   "org.eclipse.jetty.client."]),
    ("parsing the S3 request", ["dev.sluice.s3.S3RequestParser", "dev.sluice.s3.QueryString",
                                "dev.sluice.server.VirtualHostStyle"]),
    ("writing the response", ["dev.sluice.server.ReplyWriter", "dev.sluice.server.S3Handler.streamObject"]),
    ("sluice handler (other)", ["dev.sluice."]),
    ("HTTP parsing (Jetty)", ["org.eclipse.jetty.http.HttpParser", "org.eclipse.jetty.server.internal.HttpConnection.parse"]),
    ("selector / IO (Jetty, NIO)", ["org.eclipse.jetty.io.", "sun.nio.ch.", "java.nio."]),
    ("Jetty (other)", ["org.eclipse.jetty."]),
    ("virtual-thread scheduling", ["java.lang.VirtualThread", "java.util.concurrent.ForkJoin", "jdk.internal.vm.Continuation"]),
]

def jfr_tool():
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "jfr")):
        return os.path.join(home, "bin", "jfr")
    for candidate in ("/usr/lib/jvm/temurin-25-jdk-amd64/bin/jfr", shutil.which("jfr")):
        if candidate and os.path.exists(candidate):
            return candidate
    sys.exit("no jfr tool found")

def table(path):
    jfr = jfr_tool()
    text = subprocess.run([jfr, "print", "--events", "jdk.ExecutionSample", "--stack-depth", "128", path],
                          capture_output=True, text=True, check=True, timeout=300).stdout
    samples = text.split("jdk.ExecutionSample {")[1:]
    counts = collections.Counter()
    for s in samples:
        for name, markers in CATEGORIES:
            if any(m in s for m in markers):
                counts[name] += 1
                break
        else:
            counts["other (JDK, JIT-compiled glue)"] += 1
    gc = subprocess.run([jfr, "print", "--events", "jdk.GarbageCollection", path],
                        capture_output=True, text=True, check=True, timeout=300).stdout
    gc_ms = sum(float(v) * {"ms": 1, "s": 1000, "us": 0.001, "ns": 1e-6}[u]
                for v, u in re.findall(r"sumOfPauses = ([\d.]+) (ms|s|us|ns)", gc))
    return len(samples), counts, gc_ms

def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    results = [(p, *table(p)) for p in sys.argv[1:]]
    names = [n for n, _ in CATEGORIES] + ["other (JDK, JIT-compiled glue)"]
    print("| category | " + " | ".join(os.path.basename(p) for p, *_ in results) + " |")
    print("|---|" + "---:|" * len(results))
    for n in names:
        print(f"| {n} | " + " | ".join(f"{100 * c[n] / max(1, total):.1f} %" for _, total, c, _ in results) + " |")
    print("| execution samples | " + " | ".join(str(total) for _, total, _, _ in results) + " |")
    print("| GC pauses, total ms | " + " | ".join(f"{gc:.0f}" for *_, gc in results) + " |")

if __name__ == "__main__":
    main()
