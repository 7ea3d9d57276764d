"""The web service under load on Anvil: requests per second and p50/p95/p99 latency; prints a table.

Run with `make bench-web` (which installs wrk, Debian's HTTP load generator, when missing).
Starts its own Anvil on a free loopback port, builds the benchmark world of `make bench-trace`
(1,000 items in cases, pallets and a shipping container, three transformations, some 10,000
passport events), then runs `chainpass serve` on it as a process of its own and puts a bounded
local load on it with wrk (C, one event loop per process: the load costs a fraction of the
service's CPU): ``--clients`` (50) kept-alive connections for ``--seconds`` (30), each sending
one request after another, half of them asking for the passport page of the item with the
longest journey (through its case, pallet and container, and three transformations back) and
half for the linkset of the same code (one wrk process each, run together, so that each
request type has wrk's own figures). The first requests warm the service (its trace index is
brought up to date at start); they are not counted. ``--runs`` (3) repeats the load on the same
service (the spread between runs is reported: the machine may be shared), and ``--world DIR``
keeps the built world (Anvil's state, the deployment, the index) in DIR for the next run, so
that only the first builds it. ``--block-every S`` mines an empty block every S seconds during
each load (a moving chain: every page is made again at each block, as on a live chain).
Everything stays on 127.0.0.1.

Besides wrk's figures, each run says what each process cost: the CPU seconds that wrk, the
service, Anvil and the machine's other processes used per second of load (1.0 is one core):
on a shared machine the others' share is what the service did not get.

Goal (issue 16): p95 ≤ 50 ms for the warm passport page, and no error. Exits 1 if missed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
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
#: wrk reports through this script (its Lua ``done`` hook): its own counts and percentiles, in JSON.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""
#: What the world file says about the kept world (``--world``).
WORLD_FILE = "world.json"


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    accept: str


@dataclass(frozen=True)
class World:
    """What the world file says about a built world (``--world``)."""

    item_path: str
    items: int
    blocks: int
    notes: list[str]
    built_s: float


@dataclass(frozen=True)
class Figures:
    """One request type's figures for one run, as wrk reported them (latencies in ms)."""

    requests: int
    seconds: float
    errors: int
    p50: float
    p95: float
    p99: float
    max: float
    #: CPU seconds that this wrk process used.
    cpu_s: float


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


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """The CPU seconds all the machine's cores have spent busy so far (``/proc/stat``)."""
    # user nice system idle iowait irq softirq steal (guest time is counted in user already)
    ticks = [int(n) for n in Path("/proc/stat").read_text().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def load(wrk: str, url: str, targets: list[Target], clients: int, seconds: float, script: Path) -> dict[str, Figures]:
    """One wrk process per target, run together, ``clients`` connections shared among them."""
    share = [clients // len(targets) + (1 if n < clients % len(targets) else 0) for n in range(len(targets))]
    options = ["-t1", f"-d{seconds:g}s", "--timeout", "30s", "-s", str(script)]
    processes = [
        subprocess.Popen(
            [wrk, *options, f"-c{connections}", "-H", f"Accept: {target.accept}", url + target.path],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for target, connections in zip(targets, share, strict=True)
    ]
    figures: dict[str, Figures] = {}
    for target, process in zip(targets, processes, strict=True):
        assert process.stdout is not None and process.stderr is not None
        output, errors = process.stdout.read().decode(), process.stderr.read().decode()
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        report = next((line for line in output.splitlines() if line.startswith("{")), None)
        if process.returncode != 0 or report is None:
            raise SystemExit(f"wrk failed ({process.returncode}) for the {target.name}: {errors.strip() or output}")
        raw = json.loads(report)
        figures[target.name] = Figures(
            requests=raw["requests"],
            seconds=raw["duration_us"] / 1e6,
            errors=raw["errors"] + raw["non_2xx"],
            p50=raw["p50"] / 1000,
            p95=raw["p95"] / 1000,
            p99=raw["p99"] / 1000,
            max=raw["max"] / 1000,
            cpu_s=usage.ru_utime + usage.ru_stime,
        )
    return figures


@contextlib.contextmanager
def mining(chain: Chain, every: float | None) -> Iterator[None]:
    """An empty block mined every ``every`` seconds while the block runs (none if None)."""
    if every is None:
        yield
        return
    stop = threading.Event()

    def mine() -> None:
        while not stop.wait(every):
            chain.backend.mine()

    miner = threading.Thread(target=mine, daemon=True)
    miner.start()
    try:
        yield
    finally:
        stop.set()
        miner.join()


def world(directory: Path) -> tuple[AnvilNode, World]:
    """The benchmark world's node, started, and what the world file says (the item's path, notes):
    built in ``directory`` if it holds none, else the one kept there."""
    saved = directory / WORLD_FILE
    node = AnvilNode(port=free_port(), state_file=directory / "anvil-state.json", history_on_disk=False)
    node.start(timeout=120)
    if saved.exists():
        return node, World(**json.loads(saved.read_text()))
    try:
        chain = Chain.connect(node.url)
        history = build(chain)
        DeploymentStore(directory / "home" / "deployments").write(history.deployment)
        facts = World(
            item_path=history.items[-1].digital_link("http://x").removeprefix("http://x"),
            items=len(history.items),
            blocks=history.blocks,
            notes=history.notes,
            built_s=history.seconds,
        )
        time.sleep(node.state_interval + 1)  # Anvil writes its state every second, and when it stops
        saved.write_text(json.dumps(dataclasses.asdict(facts)))
        return node, facts
    except BaseException:
        node.stop()
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3, help="loads run one after another on the same service")
    parser.add_argument("--world", type=Path, help="keep the built world in this folder and use it next time")
    parser.add_argument("--block-every", type=float, help="mine an empty block every this many seconds during the load")
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench_web needs wrk (Debian's package): `make bench-web` installs it (apt-get install wrk).")
    started = time.perf_counter()
    scratch = tempfile.TemporaryDirectory()
    directory = args.world or Path(scratch.name)
    directory.mkdir(parents=True, exist_ok=True)
    kept = (directory / WORLD_FILE).exists()
    node, facts = world(directory)
    server: subprocess.Popen[bytes] | None = None
    runs: list[tuple[dict[str, Figures], dict[str, float]]] = []
    try:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        chainpass = str(Path(sys.executable).parent / "chainpass")
        home = str(directory / "home")
        command = [chainpass, "--rpc", node.url, "--home", home, "serve", "--port", str(port)]
        env = {**os.environ, "NO_PROXY": "127.0.0.1"}
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        up_started = time.perf_counter()
        wait_until_up(url, server)
        up_s = time.perf_counter() - up_started
        path = facts.item_path  # /01/{gtin}/21/{serial}
        targets = [
            Target("passport page", "/passport" + path, "text/html"),
            Target("linkset", path + "?linkType=linkset", "application/linkset+json"),
        ]
        for _ in range(WARM_UP):
            for target in targets:
                answer = requests.get(url + target.path, headers={"Accept": target.accept}, timeout=60)
                if answer.status_code != 200:
                    raise SystemExit(f"{target.name} answered {answer.status_code}: {answer.text[:300]}")
        assert node.process is not None
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
            script.write(WRK_REPORT)
            script.flush()
            for _run in range(args.runs):
                before = {"serve": cpu_seconds(server.pid), "anvil": cpu_seconds(node.process.pid)}
                busy = machine_busy()
                with mining(Chain.connect(node.url), args.block_every):
                    figures = load(wrk, url, targets, args.clients, args.seconds, Path(script.name))
                cost = {
                    "serve": cpu_seconds(server.pid) - before["serve"],
                    "anvil": cpu_seconds(node.process.pid) - before["anvil"],
                    "wrk": sum(f.cpu_s for f in figures.values()),
                }
                cost["the machine's other processes"] = max(0.0, machine_busy() - busy - sum(cost.values()))
                runs.append((figures, cost))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        node.stop()
        scratch.cleanup()
    misses: list[str] = []
    for number, (figures, cost) in enumerate(runs, 1):
        print(f"run {number} of {len(runs)}:")
        print()
        moving = f", a block every {args.block_every:g} s" if args.block_every else ""
        print(f"| request ({args.clients} clients, {args.seconds:.0f} s{moving}) | requests | per second "
              "| p50 | p95 | p99 | max | errors |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for target in targets:
            f = figures[target.name]
            print(f"| {target.name} | {f.requests:,} | {f.requests / f.seconds:,.0f} | {f.p50:.1f} ms | {f.p95:.1f} ms "
                  f"| {f.p99:.1f} ms | {f.max:.0f} ms | {f.errors} |")  # fmt: skip
        total = sum(f.requests for f in figures.values())
        print()
        print(f"- {total / args.seconds:,.0f} requests a second in all; CPU used per second of load (1.0 = one core, "
              f"{os.cpu_count()} in all): "
              + ", ".join(f"{name} {seconds / args.seconds:.2f}" for name, seconds in cost.items())
              + f"; the service {cost['serve'] / total * 1e6:,.0f} µs of CPU a request, wrk "
              f"{cost['wrk'] / total * 1e6:,.0f} µs")  # fmt: skip
        page = figures["passport page"]
        errors = sum(f.errors for f in figures.values())
        if page.p95 > P95_GOAL_MS or errors:
            misses.append(f"run {number}: p95 {page.p95:.1f} ms, {errors} errors")
        print()
    p95s = sorted(figures["passport page"].p95 for figures, _cost in runs)
    print(f"- the world: {facts.blocks:,} blocks; " + "; ".join(facts.notes)
          + (f" (kept in {directory}, built before)" if kept else f" (built in {facts.built_s:.0f} s)"))  # fmt: skip
    print(f"- the page: {targets[0].path} ({facts.items:,} items; its journey crosses 3 containers and 3 "
          "transformations)")  # fmt: skip
    print(f"- chainpass serve answered {up_s:.1f} s after it started (its trace index "
          + ("kept, brought up to date)" if kept else "built from scratch)"))  # fmt: skip
    verdict = "MISSED (" + "; ".join(misses) + ")" if misses else "ok"
    print(f"- warm passport page p95 over {len(runs)} run(s): {p95s[0]:.1f} to {p95s[-1]:.1f} ms; goal ≤ "
          f"{P95_GOAL_MS:.0f} ms with no error: {verdict}")  # fmt: skip
    print(f"- whole run: {time.perf_counter() - started:.1f} s")
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
