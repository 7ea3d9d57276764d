"""The capacity plan's figures (docs/capacity.md): a county of 1 million residents and a port
of 1 million items a day, costed from the gas, sizes and logs `make bench` measures.

Run with `make capacity`. Every gas figure is measured here, now, by scripts/bench_gas.py's own
scenarios on the embedded EVM; the workloads (how many of each operation a day) and the
networks' prices are assumptions, printed with the tables and changed by the options.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from bench_gas import Row, measure, measure_anchors, measure_passports

DAY = 24 * 3600


@dataclass(frozen=True)
class Network:
    """A chain's capacity and its prices: gas per block, seconds per block, the price of gas
    and, on a rollup, of each byte it posts to L1 (in blobs, at one blob gas a byte)."""

    name: str
    block_gas: int
    block_seconds: float
    gas_gwei: float
    byte_gwei: float = 0.0

    @property
    def gas_per_day(self) -> float:
        return self.block_gas * DAY / self.block_seconds


@dataclass(frozen=True)
class Load:
    """``per_day`` of one measured operation (its bench row); ``anchored``: evidence, not state."""

    what: str
    row: str
    per_day: float


@dataclass(frozen=True)
class Costed:
    load: Load
    gas: float
    size: float
    logs: float

    @property
    def gas_per_day(self) -> float:
        return self.gas * self.load.per_day


def county(residents: int, checks: int) -> list[Load]:
    """A county's identities in a steady year: everyone verified once (the first year's work,
    spread over it), renewed yearly, checked ``checks`` times a year with an audit event, two
    relayed consents a year, 5% of phones lost (a recovery), 1% of documents suspended."""
    year = 365
    return [
        Load("first verification (the whole county in its first year)", "verify a holder", residents / year),
        Load("yearly renewal", "re-verify (renew, new commitment)", residents / year),
        Load(
            f"checks by banks, hotels, clinics ({checks} a resident a year)",
            "relying-party check with audit event",
            residents * checks / year,
        ),
        Load(
            "consents by relayed signature (2 a resident a year)",
            "grant consent by relayed signature (first consent)",
            2 * residents / year,
        ),
        Load(
            "lost phones: recovery requested (5% a year)",
            "recovery request (reserves the new wallet)",
            residents / 20 / year,
        ),
        Load("lost phones: recovery completed", "recovery completion", residents / 20 / year),
        Load("lost documents: suspended (1% a year)", "suspend", residents / 100 / year),
    ]


def port(items: int, per_container: int, container_steps: int, observations: int) -> list[Load]:
    """A port's day: ``items`` commissioned in batches of 100 and packed ``per_container`` to a
    container; ``container_steps`` lifecycle events per container (loading, departing, customs,
    receiving); ``observations`` anchored events per item (gate reads, sensor reports, scans)."""
    containers = items / per_container
    return [
        Load("passports commissioned (batches of 100)", "commission 100 in one batch, per passport", items),
        Load(f"items packed, {per_container:,} to a container", "pack into a container, per item", items),
        Load(
            f"container events ({container_steps} a container)",
            "event on a container of 1,000 items",
            containers * container_steps,
        ),
        Load(
            f"observations anchored ({observations} an item, batches of 10,000)",
            "anchor a batch of 10,000 events, per event",
            items * observations,
        ),
    ]


def recorded_instead(loads: list[Load], row: str, how: str) -> list[Load]:
    """The port's day with its observations recorded as lifecycle events (``row``) instead of anchored."""
    *kept, anchored = loads
    return [*kept, Load(f"the same observations recorded, {how}", row, anchored.per_day)]


def cost(loads: Sequence[Load], rows: dict[str, Row]) -> list[Costed]:
    costed = []
    for load in loads:
        row = rows[load.row]
        if row.footprint is None:
            raise SystemExit(f"bench_gas.py measures no size for {load.row!r}")
        costed.append(Costed(load, row.gas, row.footprint.size, row.footprint.logs))
    return costed


def _n(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value else "0"


def load_table(costed: Sequence[Costed]) -> str:
    lines = ["| work | a day | gas each | gas a day | bytes a day | logs a day |", "|---|---:|---:|---:|---:|---:|"]
    for c in costed:
        lines.append(f"| {c.load.what} | {_n(c.load.per_day)} | {_n(c.gas)} | {_n(c.gas_per_day)} | "
                     f"{_n(c.size * c.load.per_day)} | {_n(c.logs * c.load.per_day)} |")  # fmt: skip
    gas = sum(c.gas_per_day for c in costed)
    size = sum(c.size * c.load.per_day for c in costed)
    logs = sum(c.logs * c.load.per_day for c in costed)
    lines.append(f"| **in all** | | | **{_n(gas)}** | {_n(size)} | {_n(logs)} |")
    return "\n".join(lines)


def network_table(costed: Sequence[Costed], networks: Sequence[Network], eth_usd: float) -> str:
    gas = sum(c.gas_per_day for c in costed)
    size = sum(c.size * c.load.per_day for c in costed)
    lines = ["| network | full blocks a day | share of its capacity | fee a day | fee a year |",
             "|---|---:|---:|---:|---:|"]  # fmt: skip
    for net in networks:
        eth = (gas * net.gas_gwei + size * net.byte_gwei) / 1e9
        day, year = f"{_n(eth)} ETH (${_n(eth * eth_usd)})", f"{_n(365 * eth)} ETH (${_n(365 * eth * eth_usd)})"
        lines.append(f"| {net.name} | {_n(gas / net.block_gas)} | {gas / net.gas_per_day:.2%} | {day} | {year} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=12, help="checks a resident a year")
    parser.add_argument("--items", type=int, default=1_000_000, help="items through the port a day")
    parser.add_argument("--per-container", type=int, default=1_000)
    parser.add_argument("--container-steps", type=int, default=4)
    parser.add_argument("--observations", type=int, default=10, help="anchored events an item")
    parser.add_argument("--l1-block-gas", type=int, default=30_000_000)
    parser.add_argument("--l1-gwei", type=float, default=2.0, help="L1 base fee plus tip")
    parser.add_argument("--l2-block-gas", type=int, default=30_000_000)
    parser.add_argument("--l2-block-seconds", type=float, default=2.0)
    parser.add_argument("--l2-gwei", type=float, default=0.01, help="L2 execution gas price")
    parser.add_argument(
        "--blob-gwei", type=float, default=1.0, help="L1 blob base fee (a byte posted costs one blob gas)"
    )
    parser.add_argument("--eth-usd", type=float, default=3_000.0)
    parser.add_argument("--scans", type=float, default=1_000_000, help="shoppers' scans a day (the port's items)")
    parser.add_argument("--peak", type=float, default=10, help="the busiest second against the day's average")
    parser.add_argument(
        "--index-logs-per-second", type=float, default=8_716, help="make bench-trace: dense catch-up into PostgreSQL"
    )
    parser.add_argument("--fresh-page-ms", type=float, default=158, help="make bench-web: a page made fresh")
    parser.add_argument("--kept-pages-per-second", type=float, default=4_400,
                        help="make bench-web: pages a two-core machine serves from its cache")  # fmt: skip
    args = parser.parse_args()

    networks = [
        Network(
            f"L1 ({args.l1_block_gas / 1e6:g}M gas a block, 12 s, {args.l1_gwei:g} gwei)",
            args.l1_block_gas,
            12,
            args.l1_gwei,
        ),
        Network(
            f"L2 ({args.l2_block_gas / 1e6:g}M gas a block, {args.l2_block_seconds:g} s, {args.l2_gwei:g} gwei, "
            f"data in blobs at {args.blob_gwei:g} gwei a byte)",
            args.l2_block_gas,
            args.l2_block_seconds,
            args.l2_gwei,
            args.blob_gwei,
        ),
    ]
    rows = {row.operation: row for row in [*measure(), *measure_passports(), *measure_anchors()]}
    print(f"Assumed: ETH at ${args.eth_usd:,.0f}; every gas figure measured now (scripts/bench_gas.py).\n")
    the_port = port(args.items, args.per_container, args.container_steps, args.observations)
    the_county = county(args.residents, args.checks)
    scenarios = [
        (f"A county of {args.residents:,} residents (a steady year's day)", the_county),
        (f"A port of {args.items:,} items a day", the_port),
        ("The port, its observations recorded one event each instead of anchored",
         recorded_instead(the_port, "record one event (shipping, by the holder)", "one event each")),
        ("The port, its observations recorded 10 passports to an event instead of anchored",
         recorded_instead(the_port, "record a batch of 10 (one EPCIS event, 10 passports), per passport",
                          "10 passports to an event")),
    ]  # fmt: skip
    for title, loads in scenarios:
        costed = cost(loads, rows)
        print(f"### {title}\n\n{load_table(costed)}\n\n{network_table(costed, networks, args.eth_usd)}\n")
    logs = sum(c.logs * c.load.per_day for c in cost([*the_county, *the_port], rows))
    print(f"### The index and the web service (county and port together)\n\n{service_table(args, logs)}")
    return 0


def service_table(args: argparse.Namespace, logs_per_day: float) -> str:
    """What one machine of each service does, from the rates `make bench-trace` and `make
    bench-web` measured (the options), against the day's logs and the shoppers' scans."""
    catch_up = logs_per_day / args.index_logs_per_second
    peak_scans = args.scans / DAY * args.peak
    fresh_cores = peak_scans * args.fresh_page_ms / 1000
    lines = ["| service | load | one machine (measured) | what it means |", "|---|---:|---:|---|"]
    lines.append(
        f"| index sync, one process | {_n(logs_per_day)} logs a day ({_n(logs_per_day / DAY)}/s) | "
        f"{_n(args.index_logs_per_second)} logs/s catching up | a day's logs in {_n(catch_up)} s; a year's "
        f"history from scratch in {_n(365 * catch_up / 3600)} h |"
    )
    lines.append(
        f"| passport pages made fresh (each scan a new passport) | {_n(peak_scans)} scans/s at peak "
        f"({args.peak:g}x the day's {_n(args.scans / DAY)}/s) | one page in {args.fresh_page_ms:g} ms of a "
        f"core | {_n(fresh_cores)} cores busy at peak: {_n(fresh_cores / 2)} two-core machines |"
    )
    lines.append(f"| passport pages kept (read again within a block) | {_n(peak_scans)} scans/s at peak | "
                 f"{_n(args.kept_pages_per_second)} pages/s | {peak_scans / args.kept_pages_per_second:.1%} "
                 "of one machine |")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
