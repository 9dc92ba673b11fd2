#!/usr/bin/python3
"""A small, bounded HTTP GET load client: the fallback for bench/get-vs-direct.sh
when wrk is not installed.

    latency_client.py --connections 8 --duration 15 http://127.0.0.1:PORT/path

One thread per keep-alive connection, each issuing GETs back to back until the
duration ends (closed loop, like wrk). Prints the lines of wrk's --latency
output that the benchmark parses (Latency Distribution, Requests/sec,
Non-2xx or 3xx responses, Socket errors). Being Python, it saturates sooner
than wrk, so its absolute numbers are not comparable with wrk's.
"""
import argparse
import http.client
import threading
import time
from urllib.parse import urlsplit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("url")
    a = ap.parse_args()
    if not (1 <= a.connections <= 256 and 0 < a.duration <= 600):
        ap.error("connections must be 1..256 and duration 0..600 s")
    u = urlsplit(a.url)
    path = u.path + ("?" + u.query if u.query else "")
    start = time.perf_counter()
    deadline = start + a.duration
    lock = threading.Lock()
    lat, non2xx, errors = [], [0], [0]

    def worker():
        mine, bad, err = [], 0, 0
        conn = None
        while time.perf_counter() < deadline:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=a.timeout)
                t0 = time.perf_counter()
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                mine.append(time.perf_counter() - t0)
                if not 200 <= r.status < 400:
                    bad += 1
                if r.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception:  # noqa: BLE001 -- counted like wrk's socket errors
                err += 1
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)
        if conn is not None:
            conn.close()
        with lock:
            lat.extend(mine)
            non2xx[0] += bad
            errors[0] += err

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.duration + a.timeout + 5)
    elapsed = time.perf_counter() - start
    lat.sort()

    def pct(p):
        if not lat:
            return float("nan")
        return lat[min(len(lat) - 1, int(round(p / 100.0 * len(lat) + 0.5)) - 1)]

    print(f"Running {a.duration:g}s test @ {a.url}")
    print(f"  {a.connections} connections (Python client)")
    print("  Latency Distribution")
    for p in (50, 75, 90, 99):
        print(f"     {p}%  {pct(p) * 1e6:.2f}us")
    print(f"  {len(lat)} requests in {elapsed:.2f}s")
    if errors[0]:
        print(f"  Socket errors: connect 0, read {errors[0]}, write 0, timeout 0")
    if non2xx[0]:
        print(f"  Non-2xx or 3xx responses: {non2xx[0]}")
    print(f"Requests/sec: {len(lat) / elapsed:.2f}")


if __name__ == "__main__":
    main()
