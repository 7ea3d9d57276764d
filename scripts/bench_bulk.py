"""Bulk CSV work on a fresh Anvil: commission passports from a CSV (pipelined BulkSender and
one transaction at a time), re-run it (all there already), and record events from a CSV.
The producer's GS1 company prefix is registered first (a second producer holds its licence),
and the events are recorded by the goods' holder, as the contract requires.

    .venv/bin/python scripts/bench_bulk.py [--passports 10000] [--events 2000]

Prints a table; nothing is asserted (speed goals are measured here, not in the tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from eth_account.signers.local import LocalAccount

from chainpass import bulk
from chainpass.attributes import Credential
from chainpass.chain import Chain
from chainpass.deployment import deploy
from chainpass.enums import Level, Role
from chainpass.identity import IdentityRegistry
from chainpass.node import AnvilNode, free_port
from chainpass.passport import ProductPassports
from chainpass.rows import commission_rows, event_rows, read_csv
from chainpass.sender import BulkSender, SenderFactory, SequentialSender

GTIN = "9506000134352"
#: GTIN's GS1 company prefix: registered to the producer before anything is commissioned.
PREFIX = "9506000"
ORG = {"name": "Coop", "date_of_birth": "2001-05-01", "national_id": "91410225MA0001", "address": "Lankao"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passports", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=2_000)
    args = parser.parse_args()
    rows_out: list[tuple[str, bulk.BulkResult]] = []
    with tempfile.TemporaryDirectory() as tmp, AnvilNode(port=free_port()) as node:
        chain = Chain.connect(node.url)
        accounts = chain.dev_accounts()
        deployment, _ = deploy(chain, accounts[0])
        registry = IdentityRegistry.from_deployment(chain, deployment)
        pp = ProductPassports.from_deployment(chain, deployment)
        registry.appoint_authority(accounts[1], Level.HIGH, sender=accounts[0])
        for index, role in ((3, Role.PRODUCER), (5, Role.PRODUCER), (6, Role.REGISTRAR)):
            credential = Credential.issue(accounts[index], ORG, on=dt.date(2026, 1, 1))
            registry.verify(credential, Level.HIGH, chain.latest_timestamp() + 10**8, sender=accounts[1])
            pp.set_roles(accounts[index], role, sender=accounts[0])
        # The brand (3) owns GTIN's company prefix and licenses the second producer (5).
        pp.register_prefix(PREFIX, accounts[3], sender=accounts[6])
        pp.set_licence(PREFIX, accounts[5], sender=accounts[3])

        def make(key: LocalAccount | None, pipelined: bool) -> SenderFactory:
            assert key is not None  # Anvil's dev keys are known
            if pipelined:
                return lambda progress: BulkSender(chain, key, on_progress=progress)
            return lambda progress: SequentialSender(chain, key, progress)

        for label, producer, pipelined in (("BulkSender", 3, True), ("one at a time", 5, False)):
            csv = Path(tmp) / f"{producer}.csv"
            csv.write_text("gtin,serial\n" + "".join(f"{GTIN},P{producer}-{i:06d}\n" for i in range(args.passports)))
            started = time.monotonic()
            rows = commission_rows(read_csv(csv))
            key = chain.local_key(accounts[producer])
            result = bulk.commission(pp, rows, sender=accounts[producer], make_sender=make(key, pipelined))
            result.seconds = time.monotonic() - started  # the file read and checked too
            rows_out.append((f"commission {args.passports:,} from CSV, {label}", result))
        started = time.monotonic()
        again = bulk.commission(pp, rows, sender=accounts[5], make_sender=make(key, True))
        again.seconds = time.monotonic() - started
        rows_out.append((f"re-run: {args.passports:,} there already", again))

        count = min(args.events, args.passports)
        csv = Path(tmp) / "events.csv"
        csv.write_text("code,bizStep,eventTime,readPoint\n" + "".join(
            f"(01)0{GTIN}(21)P3-{i:06d},shipping,2026-11-27T09:30:00+08:00,urn:epc:id:sgln:9506000.00001.0\n"
            for i in range(count)
        ))  # fmt: skip
        started = time.monotonic()
        events = event_rows(read_csv(csv))
        hashed = time.monotonic() - started
        # Recorded by whoever holds the goods: the producer (3), which commissioned them.
        holder = chain.local_key(accounts[3])
        result = bulk.record_events(pp, events, sender=accounts[3], make_sender=make(holder, True))
        result.seconds += hashed
        rows_out.append((f"events {count:,} from CSV by the holder (hashing {hashed:.1f} s), BulkSender", result))

    print("| run | items sent | there already | transactions | gas | seconds | items/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, r in rows_out:
        print(f"| {label} | {r.done:,} | {r.already:,} | {r.transactions} | {r.gas_used:,} | {r.seconds:.1f} | "
              f"{r.rate:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
