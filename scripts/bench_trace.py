"""Trace latency, index catch-up and EPCIS import throughput on Anvil; prints a markdown table.

Run with `make bench-trace`. Starts its own Anvil on a free loopback port, builds a history
(1,000 items, cases of 10 in pallets of 10 in a shipping container, a transformation chain,
about 10,000 passport events), then times a trace from the node (cold) and from the local
index (warm), the index's catch-up from scratch on that dense history (logs a second) and
then over 10,000 empty blocks mined after it (a sparse chain: blocks a second), into a SQLite
file and into a PostgreSQL server (a throwaway one, :mod:`chainpass.local_postgres`, when
Debian's postgresql is installed), and EPCIS 2.0 imports: the event hash alone, recorded, anchored.
Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainpass.anchor import EventAnchors
from chainpass.attributes import Credential
from chainpass.chain import Chain
from chainpass.deployment import Deployment, deploy
from chainpass.enums import BizStep, Disposition, Level, Role
from chainpass.epcis_import import import_document
from chainpass.errors import ChainpassError
from chainpass.identity import IdentityRegistry
from chainpass.index import TraceIndex
from chainpass.local_postgres import start_postgres
from chainpass.node import AnvilNode, free_port
from chainpass.passport import EpcisEvent, ProductPassports, transformation_id
from chainpass.standards.epcis import event_hash
from chainpass.standards.gs1 import ProductKey

PERSON = {"name": "A. Person", "date_of_birth": "1980-01-01", "national_id": "X", "address": "Y"}
YEAR = 365 * 24 * 3600
GTIN = "09506000134352"
#: GTIN's GS1 company prefix, registered to the producer.
PREFIX = "9506000"
ITEMS = 1_000
BATCH = 100
CASE_SIZE = 10
PALLET_SIZE = 10
BAGGED = 100  # of the 1,000 items, made by the transformation chain rather than commissioned
EVENT_WIDTH = 100  # passports per EPCIS event
PASSPORT_EVENTS = 10_000
IMPORT_EVENTS = 500
IMPORT_RUNS = 3
SPARSE_BLOCKS = 10_000
COLD_RUNS = 5
WARM_RUNS = 20
CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


@dataclass(frozen=True)
class Row:
    measure: str
    value: str
    target: str = ""
    ok: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("ok" if self.ok else "MISSED")


@dataclass
class History:
    deployment: Deployment
    traced: int
    items: list[ProductKey]
    passport_events: int
    blocks: int
    seconds: float
    notes: list[str]


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def build(chain: Chain) -> History:
    started = time.perf_counter()
    governor, bureau, producer, inspector, registrar = chain.dev_accounts()[:5]
    deployment, _ = deploy(chain, governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    pp = ProductPassports.from_deployment(chain, deployment)
    registry.appoint_authority(bureau, Level.HIGH, sender=governor)
    expires = chain.latest_timestamp() + 10 * YEAR
    for org, role in [(producer, Role.PRODUCER), (inspector, Role.INSPECTOR), (registrar, Role.REGISTRAR)]:
        registry.verify(Credential.issue(org, PERSON), Level.HIGH, expires, sender=bureau)
        pp.set_roles(org, role, sender=governor)
    pp.register_prefix(PREFIX, producer, sender=registrar)  # the brand's codes: before any commission

    items = [ProductKey.item(GTIN, f"S{n:08d}") for n in range(ITEMS)]
    for start in range(0, ITEMS - BAGGED, BATCH):
        pp.commission(items[start : start + BATCH], sender=producer)
    # Transformation chain: 3 paddy lots -> milled lot -> polished lot -> the last 100 items.
    paddy = pp.commission([ProductKey.lot(GTIN, f"PADDY-{n}") for n in range(3)], sender=producer)
    milled = pp.transform(transformation_id("bench-milling"), paddy, [ProductKey.lot(GTIN, "MILLED")], sender=producer)
    polished = pp.transform(
        transformation_id("bench-polishing"), milled, [ProductKey.lot(GTIN, "POLISHED")], sender=producer
    )
    pp.transform(transformation_id("bench-bagging"), polished, items[ITEMS - BAGGED :], sender=producer)
    ids = [pp.passport_id(k) for k in items]

    # Containers three levels deep: cases of 10 items, pallets of 10 cases, one shipping container,
    # packed by the producer, which holds the goods.
    cases = [ProductKey.container(GTIN, f"CASE{n:05d}", 1) for n in range(ITEMS // CASE_SIZE)]
    pallets = [ProductKey.container(GTIN, f"PALLET{n:04d}", 2) for n in range(len(cases) // PALLET_SIZE)]
    shipping = ProductKey.container(GTIN, "SHIP0001", 3)
    containers = [*cases, *pallets, shipping]
    for start in range(0, len(containers), BATCH):
        pp.commission(containers[start : start + BATCH], sender=producer)
    case_ids = [pp.passport_id(k) for k in cases]
    pallet_ids = [pp.passport_id(k) for k in pallets]
    for n, case in enumerate(case_ids):
        pp.pack(case, ids[n * CASE_SIZE : (n + 1) * CASE_SIZE], sender=producer)
    for n, pallet in enumerate(pallet_ids):
        pp.pack(pallet, case_ids[n * PALLET_SIZE : (n + 1) * PALLET_SIZE], sender=producer)
    pp.pack(pp.passport_id(shipping), pallet_ids, sender=producer)

    # Passport events: inspecting/conformant (keeps the state), 100 passports per EPCIS event,
    # one event per transaction, round-robin over the 1,000 items.
    now = chain.latest_timestamp()
    recorded = 0
    round_ = 0
    while recorded < PASSPORT_EVENTS:
        for start in range(0, ITEMS, EVENT_WIDTH):
            group = tuple(ids[start : start + EVENT_WIDTH])
            event = EpcisEvent(group, BizStep.INSPECTING, Disposition.CONFORMANT, now + round_)
            pp.record([event], sender=inspector)
            recorded += len(group)
        round_ += 1
    # An event on the shipping container (conformant too, so the items can still be inspected by the import).
    at_port = EpcisEvent((pp.passport_id(shipping),), BizStep.INSPECTING, Disposition.CONFORMANT, now + round_)
    pp.record([at_port], sender=inspector)
    seconds = time.perf_counter() - started
    notes = [
        f"{ITEMS - BAGGED:,} items commissioned in batches of {BATCH}, {BAGGED} made by the last of 3 "
        "transformations (3 paddy lots -> milled lot -> polished lot -> 100 items)",
        f"{len(cases)} cases of {CASE_SIZE}, {len(pallets)} pallets of {PALLET_SIZE} cases, 1 shipping container",
        f"{recorded:,} passport events in {recorded // EVENT_WIDTH} EPCIS events of {EVENT_WIDTH} passports "
        f"({round_} per item), plus 1 inspecting event on the shipping container",
    ]
    return History(deployment, ids[-1], items, recorded, chain.w3.eth.block_number, seconds, notes)


def epcis_document(items: list[ProductKey], count: int) -> dict[str, Any]:
    events = [
        {
            "type": "ObjectEvent",
            "eventTime": f"2026-02-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}+08:00",
            "eventTimeZoneOffset": "+08:00",
            "epcList": [items[n % len(items)].epc_urn(7)],
            "action": "OBSERVE",
            "bizStep": "inspecting",
            "disposition": "conformant",
        }
        for n in range(count)
    ]
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-02-02T00:00:00Z", "epcisBody": {"eventList": events}}  # fmt: skip


def measure(workdir: Path) -> tuple[list[Row], list[str]]:
    node = AnvilNode(port=free_port(), history_on_disk=False).start()  # no gigabytes of old states on disk
    try:
        chain = Chain.connect(node.url)
        history = build(chain)
        notes = [f"history built in {history.seconds:.1f} s, {history.blocks:,} blocks", *history.notes]
        rows: list[Row] = []

        def cold() -> float:
            client = ProductPassports.from_deployment(Chain.connect(node.url), history.deployment)
            return timed(lambda: client.trace(history.traced))

        cold_s = statistics.median(cold() for _ in range(COLD_RUNS))
        entries = len(ProductPassports.from_deployment(chain, history.deployment).trace(history.traced))
        notes.append(f"traced item: {entries} journey entries (case, pallet, container, 3 transformations back)")
        rows.append(Row(f"trace one item, cold (node, median of {COLD_RUNS})", f"{cold_s * 1000:,.0f} ms", "≤ 1 s",
                        cold_s <= 1.0))  # fmt: skip

        pp = ProductPassports.from_deployment(chain, history.deployment)
        with TraceIndex.for_client(pp, workdir / "trace.sqlite") as index:
            index.sync()
            warm_pp = ProductPassports.from_deployment(chain, history.deployment, log_source=index)
            assert warm_pp.trace(history.traced) == pp.trace(history.traced), "index and node traces differ"
            warm_s = statistics.median(timed(lambda: warm_pp.trace(history.traced)) for _ in range(WARM_RUNS))
        rows.append(Row(f"trace one item, warm (index, median of {WARM_RUNS})", f"{warm_s * 1000:,.1f} ms", "≤ 50 ms",
                        warm_s <= 0.05))  # fmt: skip
        rows += catch_up(pp, workdir, notes)

        rows += epcis_imports(pp, EventAnchors.from_deployment(chain, history.deployment), history, notes)
        return rows, notes
    finally:
        node.stop()


def epcis_imports(pp: ProductPassports, anchors: EventAnchors, history: History, notes: list[str]) -> list[Row]:
    """EPCIS import rates, each the median of IMPORT_RUNS documents of IMPORT_EVENTS new events
    (another day each): the CBV 2.0 hash alone, the import recording them (lifecycle events),
    and the import anchoring them (``anchor_only``: one transaction)."""
    inspector = pp.chain.dev_accounts()[3]
    day = iter(range(2, 28))

    def document() -> dict[str, Any]:
        doc, date = epcis_document(history.items, IMPORT_EVENTS), f"2026-02-{next(day):02d}"
        for event in doc["epcisBody"]["eventList"]:
            event["eventTime"] = event["eventTime"].replace("2026-02-01", date, 1)
        return doc

    def hashed() -> None:
        doc = document()
        for event in doc["epcisBody"]["eventList"]:
            event_hash(event, doc["@context"])

    def imported(anchor_only: bool) -> Callable[[], None]:
        def run() -> None:
            result = import_document(pp, document(), sender=inspector, anchors=anchors, anchor_only=anchor_only)
            done = result.anchored if anchor_only else result.recorded
            if done != IMPORT_EVENTS:
                raise SystemExit(
                    f"import sent {done} of {IMPORT_EVENTS} events: {result.summary()}; "
                    + "; ".join(o.describe() for o in result.outcomes if o.status == "refused")
                )

        return run

    rows = []
    for what, action, target in [
        ("the CBV 2.0 event hash alone", hashed, None),
        ("EPCIS import, recorded (50 per tx)", imported(False), 500),
        ("EPCIS import, anchored (--anchor-only: one tx)", imported(True), 500),
    ]:
        seconds = statistics.median(timed(action) for _ in range(IMPORT_RUNS))
        rate = IMPORT_EVENTS / seconds
        label = f"{what}, {IMPORT_EVENTS} ObjectEvents (median of {IMPORT_RUNS})"
        goal = f"≥ {target} events/s" if target else ""
        rows.append(Row(label, f"{rate:,.0f} events/s", goal, rate >= target if target else None))
    notes.append(f"load average while measuring the imports: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return rows


def catch_up(pp: ProductPassports, workdir: Path, notes: list[str]) -> list[Row]:
    """The index's catch-up from scratch over the dense history, then over SPARSE_BLOCKS empty
    blocks mined after it, into each store: SQLite, and PostgreSQL when it is installed."""
    stores: list[tuple[str, Path | str]] = [("SQLite", workdir / "catch-up.sqlite")]
    server = None
    try:
        server = start_postgres()
        stores.append(("PostgreSQL", server.database()))
    except ChainpassError as exc:
        notes.append(f"PostgreSQL not measured: {exc}")
    dense: dict[str, tuple[float, int, int]] = {}
    try:
        indexes = {name: TraceIndex.for_client(pp, location) for name, location in stores}
        for name, index in indexes.items():
            started = time.perf_counter()
            report = index.sync()
            dense[name] = (time.perf_counter() - started, report.logs, report.checkpoint - pp.first_block + 1)
        started = time.perf_counter()
        pp.chain.backend.rpc(timeout=600).call("anvil_mine", [hex(SPARSE_BLOCKS)])
        notes.append(f"{SPARSE_BLOCKS:,} empty blocks mined in {time.perf_counter() - started:.1f} s")
        sparse = {name: timed(index.sync) for name, index in indexes.items()}
        for index in indexes.values():
            index.close()
    finally:
        if server is not None:
            server.stop()
    rows = []
    for name in dense:
        seconds, logs, blocks = dense[name]
        rows.append(Row(f"index catch-up, dense ({blocks:,} blocks, {logs:,} logs), {name}",
                        f"{logs / seconds:,.0f} logs/s", "≥ 5,000 logs/s", logs / seconds >= 5_000))  # fmt: skip
        rate = SPARSE_BLOCKS / sparse[name]
        rows.append(Row(f"index catch-up, sparse ({SPARSE_BLOCKS:,} empty blocks), {name}",
                        f"{rate:,.0f} blocks/s", "≥ 1,000 blocks/s", rate >= 1_000))  # fmt: skip
    return rows


def table(rows: list[Row]) -> str:
    lines = ["| measure | value | target | verdict |", "|---|---:|---|---|"]
    lines += [f"| {r.measure} | {r.value} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        rows, notes = measure(Path(workdir))
    print(table(rows))
    print()
    for note in [*notes, f"whole run: {time.perf_counter() - started:.1f} s"]:
        print(f"- {note}")
    return 1 if any(r.ok is False for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
