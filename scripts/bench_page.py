"""What one page costs the web service to make, on the benchmark world: prints a table.

Run with ``.venv/bin/python scripts/bench_page.py``. Starts its own Anvil on a free loopback
port, builds the world of `make bench-trace` (1,000 items in cases, pallets and a shipping
container, three transformations, some 10,000 passport events), serves it in this process
(uvicorn on 127.0.0.1, as the web tests do) and asks, one request at a time, for pages that
are not kept yet (each with a query string of its own, which the pages ignore but the answer
cache keys on: ``chainpass.web.cache``) and for the same page kept: the passport page of the
item with the longest journey (whose lineage is the drawing's largest), and its product's page.
``make bench-web`` measures the service under load; this measures the making of one page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from bench_trace import build  # the same world as `make bench-trace` (scripts/ is on sys.path)

from chainpass.chain import Chain
from chainpass.node import AnvilNode, free_port
from chainpass.passport import ProductPassports

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from web_world import serving  # the web tests' uvicorn server in a thread


def timed(url: str, count: int, fresh: bool) -> tuple[list[float], int]:
    """``count`` GETs of ``url`` one after another (each a new answer when ``fresh``): their
    times (ms), and the status of the last."""
    session = requests.Session()
    session.trust_env = False  # loopback only: no proxy
    times, status = [], 0
    for n in range(count):
        started = time.perf_counter()
        answer = session.get(url + (f"?fresh={n}" if fresh else ""), timeout=120)
        times.append((time.perf_counter() - started) * 1000)
        status = answer.status_code
    return times, status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30, help="requests of each kind")
    args = parser.parse_args()
    node = AnvilNode(port=free_port()).start()
    rows = []
    try:
        chain = Chain.connect(node.url)
        history = build(chain)
        with tempfile.TemporaryDirectory() as folder, serving(chain, history.deployment, Path(folder)) as base:
            pp = ProductPassports.from_deployment(chain, history.deployment)
            item = history.items[-1]
            page = "/passport" + item.digital_link(base).removeprefix(base)
            product = f"/passport/01/{item.gtin:014d}"
            assert pp.exists(pp.passport_id(item))
            for name, path, fresh in [
                ("passport page, made", page, True),
                ("passport page, kept", page, False),
                ("product page, made", product, True),
            ]:
                times, status = timed(base + path, args.count, fresh)
                rows.append((name, path, status, times))
    finally:
        node.stop()
    print(f"| page ({args.count} requests, one at a time) | status | median | p95 | max |")
    print("|---|---:|---:|---:|---:|")
    for name, _path, status, times in rows:
        p95 = sorted(times)[min(len(times) - 1, int(0.95 * len(times)))]
        print(f"| {name} | {status} | {statistics.median(times):.1f} ms | {p95:.1f} ms | {max(times):.1f} ms |")
    print()
    print(f"- the passport page: {rows[0][1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
