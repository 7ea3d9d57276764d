"""The web service under load on Anvil: requests per second and p50/p95/p99 latency; prints a table.

Run with `make bench-web`. Starts its own Anvil on a free loopback port, builds the benchmark
world of `make bench-trace` (1,000 items in cases, pallets and a shipping container, three
transformations, some 10,000 passport events), then runs `chainpass serve` on it as a process
of its own (so the load's clients do not share its interpreter) and puts a bounded local
load on it: ``--clients`` threads (50) for ``--seconds`` (30), each sending one request after
another over a kept-alive connection, alternating between the passport page of the item with
the longest journey (through its case, pallet and container, and three transformations back)
and the linkset of the same code. The first requests warm the service (its trace index is
brought up to date at start); they are not counted. Everything stays on 127.0.0.1.

Goal (issue 16): p95 ≤ 50 ms for the warm passport page, and no error. Exits 1 if missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import requests
from bench_trace import build  # the same world as `make bench-trace` (scripts/ is on sys.path)

from chainpass.chain import Chain
from chainpass.deployment import DeploymentStore
from chainpass.node import AnvilNode, free_port

#: The goal for the warm passport page (issue 16).
P95_GOAL_MS = 50.0
WARM_UP = 20


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    accept: str


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"chainpass serve ended with code {process.returncode} before it answered")
        try:
            if requests.get(url + "/.well-known/gs1resolver", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"chainpass serve did not answer at {url} within {timeout:.0f} s")


def load(url: str, targets: list[Target], clients: int, seconds: float) -> tuple[dict[str, list[float]], list[str]]:
    """``clients`` threads sending requests for ``seconds``: the latencies (ms) by target, and the errors."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        session = requests.Session()
        session.trust_env = False  # loopback only: no proxy
        turn = number
        while time.monotonic() < stop_at:
            target = targets[turn % len(targets)]
            turn += 1
            started = time.perf_counter()
            try:
                answer = session.get(url + target.path, headers={"Accept": target.accept}, timeout=30)
                elapsed = (time.perf_counter() - started) * 1000
                ok = answer.status_code == 200 and answer.content
            except requests.RequestException as exc:
                elapsed, ok = 0.0, False
                answer = None
                with lock:
                    errors.append(f"{target.name}: {type(exc).__name__}")
            with lock:
                if ok:
                    latencies[target.name].append(elapsed)
                elif answer is not None:
                    errors.append(f"{target.name}: HTTP {answer.status_code}")

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    started = time.perf_counter()
    node = AnvilNode(port=free_port()).start()
    server: subprocess.Popen[bytes] | None = None
    try:
        with tempfile.TemporaryDirectory() as home:
            chain = Chain.connect(node.url)
            history = build(chain)
            DeploymentStore(Path(home) / "deployments").write(history.deployment)
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            chainpass = str(Path(sys.executable).parent / "chainpass")
            command = [chainpass, "--rpc", node.url, "--home", home, "serve", "--port", str(port)]
            env = {**os.environ, "NO_PROXY": "127.0.0.1"}
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            up_started = time.perf_counter()
            wait_until_up(url, server)
            up_s = time.perf_counter() - up_started
            path = history.items[-1].digital_link(url).removeprefix(url)  # /01/{gtin}/21/{serial}
            targets = [
                Target("passport page", "/passport" + path, "text/html"),
                Target("linkset", path + "?linkType=linkset", "application/linkset+json"),
            ]
            for _ in range(WARM_UP):
                for target in targets:
                    answer = requests.get(url + target.path, headers={"Accept": target.accept}, timeout=60)
                    if answer.status_code != 200:
                        raise SystemExit(f"{target.name} answered {answer.status_code}: {answer.text[:300]}")
            latencies, errors = load(url, targets, args.clients, args.seconds)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        node.stop()
    print(f"| request ({args.clients} clients, {args.seconds:.0f} s) | requests | per second | p50 | p95 | p99 |")
    print("|---|---:|---:|---:|---:|---:|")
    for target in targets:
        values = latencies.get(target.name, [])
        if not values:
            print(f"| {target.name} | 0 | | | | |")
            continue
        p50, p95_, p99 = statistics.median(values), percentile(values, 0.95), percentile(values, 0.99)
        rate = len(values) / args.seconds
        print(f"| {target.name} | {len(values):,} | {rate:,.0f} | {p50:.1f} ms | {p95_:.1f} ms | {p99:.1f} ms |")
    page = latencies.get("passport page", [])
    p95 = percentile(page, 0.95) if page else float("inf")
    print()
    print(f"- the world: {history.blocks:,} blocks; " + "; ".join(history.notes))
    print(f"- the page: {targets[0].path} ({len(history.items):,} items; its journey crosses 3 containers and 3 "
          "transformations)")  # fmt: skip
    print(f"- chainpass serve answered {up_s:.1f} s after it started (its trace index built from scratch)")
    print(f"- errors: {len(errors)}" + (f" ({', '.join(sorted(set(errors))[:5])})" if errors else ""))
    verdict = "ok" if p95 <= P95_GOAL_MS and not errors else "MISSED"
    print(f"- warm passport page p95 {p95:.1f} ms, goal ≤ {P95_GOAL_MS:.0f} ms with no error: {verdict}")
    print(f"- whole run: {time.perf_counter() - started:.1f} s")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
