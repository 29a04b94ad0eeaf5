"""Shared benchmark plumbing: the sandbox and the servers as separate processes (so the load
generator, the app and fake Slack don't share one GIL), a keep-alive load generator, and RSS."""

from __future__ import annotations

import http.client
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# The PostgreSQL server the benchmarks create their databases on (as the tests do).
PG_ADMIN = os.environ.get("AIWINS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()}"


class Proc:
    def __init__(self, args: list[str], env: dict[str, str] | None = None, cwd: Path | str = ROOT) -> None:
        self.p = subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=cwd,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output: list[str] = []

    def readline(self) -> str:
        line = self.p.stdout.readline()
        self.output.append(line)
        return line

    def drain(self) -> None:
        threading.Thread(target=lambda: [self.output.append(x) for x in self.p.stdout], daemon=True).start()

    def peak_rss_mb(self) -> float:
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def start_sandbox() -> tuple[Proc, str]:
    proc = Proc([PY, "-m", "bot.sandbox.fake_slack", "--port", "0"])
    api_url = proc.readline().strip()
    if not api_url.startswith("http"):
        raise RuntimeError(f"sandbox did not start: {api_url!r}")
    proc.drain()
    return proc, api_url


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def sandbox_count(api_url: str, method: str) -> int:
    base = api_url.rsplit("/api/", 1)[0]
    with urllib.request.urlopen(f"{base}/_sandbox/count?method={method}&ok=1") as r:
        return json.loads(r.read())["count"]


@dataclass
class LoadResult:
    n: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]

    @property
    def throughput(self) -> float:
        return self.n / self.seconds

    def pct(self, p: float) -> float:
        xs = sorted(self.latencies_ms)
        return xs[min(len(xs) - 1, int(len(xs) * p / 100))]

    def summary(self) -> dict[str, float]:
        return {"requests": self.n, "seconds": round(self.seconds, 3), "req_per_s": round(self.throughput, 1),
                "p50_ms": round(self.pct(50), 2), "p99_ms": round(self.pct(99), 2),
                "max_ms": round(max(self.latencies_ms), 2), "mean_ms": round(statistics.fmean(self.latencies_ms), 2),
                "non_200": sum(v for k, v in self.statuses.items() if k != 200)}


def run_load(port: int | list[int], requests: list[tuple[bytes, dict[str, str]]], connections: int = 8) -> LoadResult:
    """Send pre-built (body, headers) requests over `connections` keep-alive connections (spread over the
    ports when given several: replicas behind a load balancer)."""
    ports = port if isinstance(port, list) else [port]
    chunks = [requests[i::connections] for i in range(connections)]
    latencies: list[list[float]] = [[] for _ in range(connections)]
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start_gate = threading.Barrier(connections + 1)

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", ports[i % len(ports)], timeout=30)
        conn.connect()
        start_gate.wait()
        for body, headers in chunks[i]:
            t0 = time.perf_counter()
            conn.request("POST", "/slack/events", body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            latencies[i].append((time.perf_counter() - t0) * 1000)
            with lock:
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    start_gate.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return LoadResult(len(requests), elapsed, [x for xs in latencies for x in xs], statuses)


def new_secret() -> str:
    return secrets.token_hex(16)


def save(name: str, data: dict) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def print_ack_table(results: list[dict]) -> None:
    """The ack benchmarks' table: every target against the first (bare Bolt, default runner)."""
    base = results[0]["req_per_s"]
    print(f"\nmachine: {machine()}")
    print(f"{'target':40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'RSS MB':>8}  vs bare Bolt")
    for r in results:
        print(f"{r['target']:40} {r['req_per_s']:8.1f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['max_ms']:8.1f} "
              f"{r['peak_rss_mb']:8.1f}  {r['req_per_s'] / base:5.2f}x")


def timed(fn, repeat: int, warmup: int = 2) -> tuple[float, float, object]:  # noqa: ANN001
    """Median and max milliseconds of `fn()` over `repeat` runs after `warmup`, and its last result."""
    times = []
    for _ in range(repeat + warmup):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times[warmup:]), max(times[warmup:]), result
