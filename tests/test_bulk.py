"""Bulk CSV work: every bad row named before anything is sent, batches, and resuming an
interrupted run to every passport and every event exactly once."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from accounts import World
from eth_account.signers.local import LocalAccount
from eth_utils import function_abi_to_4byte_selector
from passport_world import GTIN, PRODUCER_PREFIXES, Orgs, enlist_producer, hand_over
from rpc_proxy import node_without_batches
from web3.types import TxParams

from chainpass import bulk
from chainpass.artifacts import event_topic, load_artifact
from chainpass.chain import Chain, Sender
from chainpass.cli import main
from chainpass.enums import BizStep, Disposition, State
from chainpass.epcis_import import import_document
from chainpass.errors import ContractRevert
from chainpass.node import AnvilNode, free_port
from chainpass.passport import EpcisEvent, ProductPassports
from chainpass.rows import (
    BadRows,
    CsvRow,
    EventRow,
    commission_rows,
    document_rows,
    epcis_document,
    event_rows,
    read_csv,
)
from chainpass.sender import BulkSender, SenderFactory, SequentialSender
from chainpass.standards.gs1 import ProductKey

GTIN14 = "09506000134352"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def serial_csv(path: Path, count: int, prefix: str = "S") -> Path:
    return write(path, "gtin,serial\n" + "".join(f"{GTIN},{prefix}{i:05d}\n" for i in range(count)))


def factory(
    chain: Chain, sender: Sender, *, interrupt_after: int | None = None, pipelined: bool = False
) -> SenderFactory:
    """Senders one transaction at a time, or the pipelining BulkSender; with ``interrupt_after``,
    Ctrl-C strikes once that many transactions of a send are mined (as if the operator pressed it)."""

    def make(progress: bulk.Progress | None) -> bulk.TxSender:
        def report(done: int, total: int) -> None:
            if progress is not None:
                progress(done, total)
            if interrupt_after is not None and done >= interrupt_after:
                raise KeyboardInterrupt

        if pipelined:
            assert isinstance(sender, LocalAccount)
            return BulkSender(chain, sender, on_progress=report)
        return SequentialSender(chain, sender, report)

    return make


def commissioned_count(pp: ProductPassports, producer: str) -> int:
    """How many passports ``producer`` holds (ERC-721 balance): one per passport ever made."""
    return int(pp.contract.functions.balanceOf(producer).call())


# ---------------------------------------------------------------------------- validation (no chain)


def test_every_bad_commission_row_is_named_by_line(tmp_path: Path) -> None:
    csv = write(
        tmp_path / "bad.csv",
        "gtin,serial,lot,kind,tier\n"
        f"{GTIN},A1,,,\n"  # line 2: fine
        "9506000134353,A2,,,\n"  # line 3: wrong check digit
        f"{GTIN},A1,,,\n"  # line 4: the same as line 2
        f"{GTIN},A3,,box,\n"  # line 5: no such kind
        f"{GTIN},,,,\n"  # line 6: neither serial nor lot
        "\n"  # blank: skipped
        f"{GTIN},C1,,container,\n"  # line 8: a container without a tier
        f"{GTIN},,L1,,\n"  # line 9: a lot, fine
        f"{GTIN},C2,,,7\n"  # line 10: no such tier
        f"{GTIN},S9,L9,,\n",  # line 11: both
    )
    with pytest.raises(BadRows) as info:
        commission_rows(read_csv(csv), str(csv))
    by_line = {p.line: p for p in info.value.problems}
    assert sorted(by_line) == [3, 4, 5, 6, 8, 10, 11]
    assert by_line[3].column == "gtin" and "check digit" in by_line[3].reason.lower()
    assert "same passport as line 2" in by_line[4].reason
    assert by_line[5].column == "kind" and "'box'" in by_line[5].reason
    assert by_line[8].column == "tier" and by_line[10].column == "tier"
    message = str(info.value)
    assert message.startswith("7 bad row(s) in") and "nothing was sent" in message
    assert "line 3, gtin:" in message


def test_commission_rows_read_codes_kinds_and_tiers(tmp_path: Path) -> None:
    csv = write(
        tmp_path / "codes.csv",
        "Code;Kind;Tier\n"
        "https://id.gs1.org/01/09506000134352/21/DL1;;\n"
        "urn:epc:class:lgtin:9506000.013435.LOT7;lot;\n"
        "(01)09506000134352(21)CASE1;;1\n",
    )
    rows = commission_rows(read_csv(csv))
    assert [r.key for r in rows] == [
        ProductKey.item(GTIN, "DL1"),
        ProductKey.lot(GTIN, "LOT7"),
        ProductKey.container(GTIN, "CASE1", 1),
    ]
    assert [r.line for r in rows] == [2, 3, 4]


def test_every_bad_event_row_is_named_by_line(tmp_path: Path) -> None:
    csv = write(
        tmp_path / "events.csv",
        "code,bizStep,disposition,eventTime,readPoint\n"
        f"(01){GTIN14}(21)A1,shipping,,2026-11-27T09:30:00+08:00,urn:epc:id:sgln:9506000.00001.0\n"
        f"(01){GTIN14}(21)A1,dancing,,2026-11-27T09:30:00Z,\n"  # line 3: no such step
        f"(01){GTIN14}(21)A1,receiving,active,2026-11-27T09:30:00,\n"  # line 4: no time zone
        f"(01){GTIN14}(21)A1,inspecting,,2026-11-27T09:30:00Z,\n"  # line 5: needs a disposition
        f"(01){GTIN14}(21)A1,commissioning,active,2026-11-27T09:30:00Z,\n"  # line 6: not an event here
        f"(01){GTIN14}(21)A1,shipping,in_transit,2026-11-27T09:30:00+08:00,urn:epc:id:sgln:9506000.00001.0\n"  # line 7
        f"not-a-code,shipping,,2026-11-27T09:30:00Z,\n",  # line 8
    )
    with pytest.raises(BadRows) as info:
        event_rows(read_csv(csv))
    by_line = {p.line: p for p in info.value.problems}
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8]
    assert by_line[3].column == "bizStep"
    assert by_line[4].column == "eventTime" and "time zone" in by_line[4].reason
    assert by_line[5].column == "disposition"
    assert "bulk commission" in by_line[6].reason
    # The implied disposition of shipping is in_transit: line 7 is line 2's event again.
    assert "the same event as line 2" in by_line[7].reason
    assert by_line[8].column == "code"


def test_an_event_row_has_the_hash_id_of_its_epcis_equivalent(tmp_path: Path) -> None:
    """The id does not depend on how the CSV spells codes or vocabulary (URN or Digital Link,
    bare or CBV URI): it is the CBV 2.0 hash of the one ObjectEvent the row stands for."""
    head = "code,bizStep,disposition,eventTime,readPoint\n"
    spellings = [
        f"https://id.gs1.org/01/{GTIN}/21/A1,shipping,in_transit,2026-11-27T09:30:00+08:00,urn:epc:id:sgln:9506000.00001.0",
        "urn:epc:id:sgtin:9506000.013435.A1,https://ref.gs1.org/cbv/BizStep-shipping,"
        "https://ref.gs1.org/cbv/Disp-in_transit,2026-11-27T09:30:00+08:00,urn:epc:id:sgln:9506000.00001.0",
    ]
    ids = {event_rows(read_csv(write(tmp_path / "e.csv", head + s + "\n")))[0].event_id for s in spellings}
    assert len(ids) == 1


def test_an_epcis_documents_object_events_are_rows_with_the_same_ids(tmp_path: Path) -> None:
    rows = event_rows(read_csv(events_csv(tmp_path / "e.csv", ["D1", "D2"])))
    document = epcis_document(rows)
    aggregation = {"type": "AggregationEvent", "action": "ADD", "eventTime": "2026-11-27T09:30:00Z",
                   "eventTimeZoneOffset": "+00:00", "parentID": f"https://id.gs1.org/01/{GTIN14}/21/C1",
                   "childEPCs": [f"https://id.gs1.org/01/{GTIN14}/21/D1"]}  # fmt: skip
    commissioning = {**document["epcisBody"]["eventList"][0], "action": "ADD", "bizStep": "commissioning"}

    again = document_rows(document)
    with pytest.raises(BadRows) as info:
        document_rows({**document, "epcisBody": {"eventList": [*document["epcisBody"]["eventList"],
                                                                    aggregation, commissioning]}})  # fmt: skip

    assert [r.event_id for r in again] == [r.event_id for r in rows]
    assert [(p.unit, p.line, p.column) for p in info.value.problems] == [("event", 2, "type"), ("event", 3, "action")]
    assert str(info.value).startswith("2 bad event(s) in the document")


def test_dependent_rows_go_in_successive_waves() -> None:
    def planned(line: int, *ids: int) -> Any:
        row = EventRow(line, (), BizStep.SHIPPING, Disposition.IN_TRANSIT, 0, bytes(32), {}, bytes(32))
        return bulk._Planned(row, ids)

    waves = bulk._waves([planned(2, 1), planned(3, 2), planned(4, 1), planned(5, 3, 2), planned(6, 4)])
    assert [[p.row.line for p in wave] for wave in waves] == [[2, 3, 6], [4, 5]]


# ---------------------------------------------------------------------------- on both backends


@pytest.fixture
def producer_key(chain: Chain, orgs: Orgs) -> Sender:
    """The producer as a local account (its dev key is known on both backends)."""
    key = chain.local_key(orgs.producer)
    assert key is not None and key.address == orgs.producer
    return key


def test_commission_skips_what_exists_and_reruns_to_nothing(
    chain: Chain, pp: ProductPassports, orgs: Orgs, producer_key: Sender, tmp_path: Path
) -> None:
    rows = commission_rows(read_csv(serial_csv(tmp_path / "p.csv", 7)))
    pp.commission([rows[3].key], sender=orgs.producer)  # one exists already
    seen: list[tuple[int, int]] = []

    first = bulk.commission(pp, rows, sender=orgs.producer, make_sender=factory(chain, producer_key), batch_size=2,
                            on_progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    again = bulk.commission(pp, rows, sender=orgs.producer, make_sender=factory(chain, producer_key), batch_size=2)

    assert (first.done, first.already, first.transactions, first.refused) == (6, 1, 3, [])
    assert first.gas_used > 6 * 29_000 and len(set(first.tx_hashes)) == 3
    assert seen[0] == (1, 7) and seen[-1] == (7, 7)
    assert (again.done, again.already, again.transactions) == (0, 7, 0)
    assert commissioned_count(pp, orgs.producer) == 7
    assert all(pp.exists(r.id) for r in rows)


def test_an_interrupted_commission_resumes_to_every_passport_once(
    chain: Chain, pp: ProductPassports, orgs: Orgs, producer_key: Sender, tmp_path: Path
) -> None:
    rows = commission_rows(read_csv(serial_csv(tmp_path / "p.csv", 9)))
    with pytest.raises(KeyboardInterrupt):
        bulk.commission(pp, rows, sender=orgs.producer, batch_size=2,
                        make_sender=factory(chain, producer_key, interrupt_after=2))  # fmt: skip
    assert commissioned_count(pp, orgs.producer) == 4  # two batches of two went in

    resumed = bulk.commission(pp, rows, sender=orgs.producer, make_sender=factory(chain, producer_key), batch_size=2)

    assert (resumed.done, resumed.already) == (5, 4)
    assert commissioned_count(pp, orgs.producer) == 9


def test_an_interrupted_pipelined_commission_resumes_to_every_passport_once(
    chain: Chain, pp: ProductPassports, orgs: Orgs, producer_key: Sender, tmp_path: Path
) -> None:
    """The BulkSender has transactions in flight when Ctrl-C strikes: they may still be mined;
    the re-run settles them first, and counts them as there already."""
    rows = commission_rows(read_csv(serial_csv(tmp_path / "p.csv", 12)))
    with pytest.raises(KeyboardInterrupt):
        bulk.commission(pp, rows, sender=orgs.producer, batch_size=3,
                        make_sender=factory(chain, producer_key, interrupt_after=1, pipelined=True))  # fmt: skip

    resumed = bulk.commission(pp, rows, sender=orgs.producer, batch_size=3,
                              make_sender=factory(chain, producer_key, pipelined=True))  # fmt: skip

    assert resumed.done + resumed.already == 12 and resumed.already >= 3 and resumed.refused == []
    assert commissioned_count(pp, orgs.producer) == 12


def test_a_batch_that_races_another_run_is_replanned(
    chain: Chain, pp: ProductPassports, orgs: Orgs, producer_key: Sender, tmp_path: Path
) -> None:
    """A passport commissioned by someone else between the check and the send (another run
    still in flight): its batch is refused with PassportExists, re-checked and re-sent."""
    rows = commission_rows(read_csv(serial_csv(tmp_path / "p.csv", 4)))
    inner = factory(chain, producer_key)

    def racing(progress: bulk.Progress | None) -> bulk.TxSender:
        sender = inner(progress)

        class Racing:
            def send(self, calls: Sequence[TxParams]) -> Sequence[bulk.SentTx]:
                if not pp.exists(rows[1].id):
                    pp.commission([rows[1].key], sender=orgs.producer)
                return sender.send(calls)

        return Racing()

    result = bulk.commission(pp, rows, sender=orgs.producer, make_sender=racing, batch_size=4)

    assert (result.done, result.already, result.refused) == (3, 1, [])
    assert commissioned_count(pp, orgs.producer) == 4


def test_existence_is_read_in_batches_or_one_by_one_from_a_node_without_batches(
    pp: ProductPassports, orgs: Orgs
) -> None:
    keys = [ProductKey.item(GTIN, f"X{i}") for i in range(5)]
    pp.commission(keys[1:4], sender=orgs.producer)
    ids = [ProductPassports.passport_id(k) for k in keys]
    batched = bulk.existing(pp, ids)
    if pp.chain.is_embedded:
        assert batched == set(ids[1:4])  # the embedded chain answers one request at a time anyway
        return

    with node_without_batches(pp.chain.endpoint) as (url, refused):
        one_by_one = bulk.existing(ProductPassports(Chain.connect(url), pp.address), ids)

    assert batched == one_by_one == set(ids[1:4])
    assert refused == [5]


def test_rows_the_producer_may_not_commission_are_named_before_anything_is_sent(
    chain: Chain, world: World, pp: ProductPassports, orgs: Orgs, tmp_path: Path
) -> None:
    """A code under a prefix registered to no brand, and (for a second producer) codes of a
    brand that has not licensed it, are bad rows: nothing is sent. Once licensed for one
    GTIN, the rows of that GTIN go in; an SSCC and a GIAI take their prefix from their digits."""
    rival = enlist_producer(world, pp, orgs.stranger)
    csv = write(tmp_path / "brands.csv", "code\n"
                f"(01){GTIN14}(21)B1\n"  # line 2: the brand's (the producer's) GTIN
                "(01)04006381333931(21)B2\n"  # line 3: prefix 4006381, registered to no brand
                "(00)106141412345678908\n"  # line 4: an SSCC under 0614141 (the producer's)
                "(8004)4012345ASSET-1\n"  # line 5: a GIAI under 4012345 (the producer's)
                "(01)09506000134369(21)B3\n")  # fmt: skip  # line 6: another GTIN of the brand
    rows = commission_rows(read_csv(csv))
    head = chain.w3.eth.block_number

    with pytest.raises(BadRows) as by_brand:
        bulk.commission(pp, rows, sender=orgs.producer, make_sender=factory(chain, orgs.producer))
    with pytest.raises(BadRows) as by_rival:
        bulk.commission(pp, rows, sender=rival, make_sender=factory(chain, rival))
    unsent = chain.w3.eth.block_number
    pp.set_licence(PRODUCER_PREFIXES[0], rival, gtin=GTIN, sender=orgs.producer)
    licensed = bulk.commission(pp, rows[:1], sender=rival, make_sender=factory(chain, rival))

    assert unsent == head
    assert [(p.line, p.column) for p in by_brand.value.problems] == [(3, "")]
    assert "no brand is registered for the GS1 company prefix of (01)04006381333931(21)B2" in str(by_brand.value)
    assert "nothing was sent" in str(by_brand.value)
    assert [p.line for p in by_rival.value.problems] == [2, 3, 4, 5, 6]
    assert f"brand {orgs.producer} has not licensed {rival}" in by_rival.value.problems[0].reason
    assert "prefix 0614141" in by_rival.value.problems[2].reason
    assert "prefix 4012345" in by_rival.value.problems[3].reason
    assert (licensed.done, licensed.refused) == (1, [])
    assert pp.producer_of(rows[0].id) == rival
    with pytest.raises(BadRows) as other_gtin:  # the licence is for GTIN alone
        bulk.commission(pp, rows[4:], sender=rival, make_sender=factory(chain, rival))
    assert [p.line for p in other_gtin.value.problems] == [6]


def test_a_sender_without_the_role_is_refused_before_anything_is_sent(
    chain: Chain, pp: ProductPassports, orgs: Orgs, tmp_path: Path
) -> None:
    rows = commission_rows(read_csv(serial_csv(tmp_path / "p.csv", 3)))
    head = chain.w3.eth.block_number
    with pytest.raises(ContractRevert) as info:
        bulk.commission(pp, rows, sender=orgs.carrier, make_sender=factory(chain, orgs.carrier))
    assert info.value.error == "PassportMissingRole"
    assert chain.w3.eth.block_number == head


def events_csv(
    path: Path, serials: Sequence[str], step: str = "shipping", when: str = "2026-11-27T09:30:00+08:00", disp: str = ""
) -> Path:
    lines = [f"(01){GTIN14}(21){s},{step},{disp},{when},urn:epc:id:sgln:9506000.00001.0" for s in serials]
    return write(path, "code,bizStep,disposition,eventTime,readPoint\n" + "\n".join(lines) + "\n")


def to_the_carrier(pp: ProductPassports, orgs: Orgs, serials: Sequence[str]) -> None:
    """Commission an item per serial and hand its goods to the carrier, who then holds them
    (only the holder records physical steps)."""
    ids = pp.commission([ProductKey.item(GTIN, s) for s in serials], sender=orgs.producer)
    for id_ in ids:
        hand_over(pp, id_, orgs.producer, orgs.carrier)


def event_log_count(pp: ProductPassports, rows: Sequence[EventRow]) -> dict[bytes, int]:
    """How many PassportEventRecorded logs carry each row's event id."""
    topic = "0x" + event_topic(load_artifact("ProductPassport").abi, "PassportEventRecorded").hex()
    topics: list[Any] = [topic, None, None, ["0x" + r.event_id.hex() for r in rows]]
    logs = pp.logs(topics)
    counts = {r.event_id: 0 for r in rows}
    for log in logs:
        counts[bytes(log["topics"][3])] += 1
    return counts


def test_events_are_recorded_once_and_an_epcis_import_of_the_same_events_adds_nothing(
    chain: Chain, pp: ProductPassports, orgs: Orgs, tmp_path: Path
) -> None:
    serials = ["E1", "E2", "E3"]
    to_the_carrier(pp, orgs, serials)
    rows = event_rows(read_csv(events_csv(tmp_path / "e.csv", serials)))
    carrier = chain.local_key(orgs.carrier)
    assert carrier is not None

    first = bulk.record_events(pp, rows, sender=orgs.carrier, make_sender=factory(chain, carrier, pipelined=True))
    again = bulk.record_events(pp, rows, sender=orgs.carrier, make_sender=factory(chain, carrier, pipelined=True))
    imported = import_document(pp, epcis_document(rows), sender=orgs.carrier)

    assert (first.done, first.already, first.transactions, first.refused) == (3, 0, 1, [])
    assert (again.done, again.already, again.transactions) == (0, 3, 0)
    assert imported.already_on_chain == 3 and imported.recorded == 0
    assert set(event_log_count(pp, rows).values()) == {1}
    assert all(pp.passport(ProductPassports.passport_id(r.keys[0])).state is State.IN_TRANSIT for r in rows)  # type: ignore[union-attr]


def test_an_interrupted_event_run_resumes_and_keeps_each_passports_order(
    chain: Chain, pp: ProductPassports, orgs: Orgs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shipping then receiving of the same goods in one file: the receiving waits for the
    shipping (a later wave); Ctrl-C after the first transaction, then a re-run."""
    monkeypatch.setattr(bulk, "RECORD_BATCH", 2)
    serials = ["W1", "W2", "W3"]
    to_the_carrier(pp, orgs, serials)
    shipping = events_csv(tmp_path / "s.csv", serials).read_text()
    receiving = events_csv(tmp_path / "r.csv", serials, "receiving", "2026-11-28T10:00:00Z", "active").read_text()
    both = write(tmp_path / "both.csv", shipping + "".join(receiving.splitlines(keepends=True)[1:]))
    rows = event_rows(read_csv(both))
    carrier = chain.local_key(orgs.carrier)
    assert carrier is not None

    with pytest.raises(KeyboardInterrupt):
        bulk.record_events(pp, rows, sender=orgs.carrier, make_sender=factory(chain, carrier, interrupt_after=1))
    partial = event_log_count(pp, rows)
    resumed = bulk.record_events(pp, rows, sender=orgs.carrier, make_sender=factory(chain, carrier))

    assert sum(partial.values()) == 2  # one batch of two shippings went in
    assert (resumed.done, resumed.already, resumed.refused) == (4, 2, [])
    assert set(event_log_count(pp, rows).values()) == {1}
    for s in serials:
        assert pp.passport(ProductPassports.passport_id(ProductKey.item(GTIN, s))).state is State.ACTIVE  # type: ignore[union-attr]


def test_a_refused_event_row_is_named_and_the_others_go_in(
    chain: Chain, pp: ProductPassports, orgs: Orgs, tmp_path: Path
) -> None:
    to_the_carrier(pp, orgs, ["R1", "R2", "R3"])
    pp.commission([ProductKey.item(GTIN, "R4")], sender=orgs.producer)  # still in the producer's hands
    pp.record([EpcisEvent((ProductPassports.passport_id(ProductKey.item(GTIN, "R2")),), BizStep.RECALLING,
                          Disposition.RECALLED, 1)], sender=orgs.producer)  # fmt: skip
    rows = event_rows(read_csv(events_csv(tmp_path / "e.csv", ["R1", "R2", "R3", "R4"])))
    carrier = chain.local_key(orgs.carrier)
    assert carrier is not None

    result = bulk.record_events(pp, rows, sender=orgs.carrier, make_sender=factory(chain, carrier))

    assert result.done == 2 and [line for line, _ in result.refused] == [3, 5]
    assert "recalled" in result.refused[0][1].lower()
    assert f"Only {orgs.producer}, who holds the goods" in result.refused[1][1]


def test_an_event_on_a_code_without_a_passport_is_refused_by_line(
    chain: Chain, pp: ProductPassports, orgs: Orgs, tmp_path: Path
) -> None:
    pp.commission([ProductKey.item(GTIN, "K1")], sender=orgs.producer)
    rows = event_rows(read_csv(events_csv(tmp_path / "e.csv", ["K1", "K2"])))
    with pytest.raises(BadRows) as info:
        bulk.plan_events(pp, rows)
    assert [(p.line, p.column) for p in info.value.problems] == [(3, "code")]


# ---------------------------------------------------------------------------- the CLI, on Anvil


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], rpc: str, home: Path) -> None:
        self.capsys, self.rpc, self.home = capsys, rpc, home

    def run(self, *args: str) -> tuple[int, str, str]:
        try:
            main(["--rpc", self.rpc, "--home", str(self.home), *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str) -> str:
        code, out, err = self.run(*args)
        assert code == 0, err + out
        return out


@pytest.fixture
def cli(anvil_node: AnvilNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """A fresh deployment on the session's Anvil (see ``deployed``)."""
    return deployed(Cli(capsys, anvil_node.url, tmp_path / "home"), tmp_path)


def deployed(op: Cli, tmp_path: Path) -> Cli:
    """Deploy on ``op``'s node: account 1 the bureau, account 3 a verified producer (GS1
    company prefixes PRODUCER_PREFIXES registered to it), account 5 the registrar."""
    accounts = [row["address"] for row in json.loads(op.ok("accounts", "--json"))]
    op.ok("deploy")
    op.ok("identity", "appoint-authority", accounts[1], "--max-level", "high")
    org = {"name": "Coop", "date_of_birth": "2001-05-01", "national_id": "91410225MA0001", "address": "Lankao"}
    person = write(tmp_path / "org.json", json.dumps(org))
    for index in (3, 5):
        op.ok("identity", "verify", accounts[index], "--attributes", str(person), "--level", "high",
              "--credential-out", str(tmp_path / f"cred{index}.json"), "--account", "1")  # fmt: skip
    op.ok("passport", "set-roles", accounts[3], "--role", "producer")
    op.ok("passport", "set-roles", accounts[5], "--role", "registrar")
    # The registrar registers the producer's GS1 company prefixes (through the library: the
    # CLI's brand commands are not on this branch).
    chain = Chain.connect(op.rpc)
    pp = ProductPassports.from_deployment(chain, _deployment(op, chain))
    for prefix in PRODUCER_PREFIXES:
        pp.register_prefix(prefix, accounts[3], sender=accounts[5])
    return op


def test_cli_commissions_1200_passports_and_a_rerun_sends_nothing(cli: Cli, tmp_path: Path) -> None:
    csv = serial_csv(tmp_path / "big.csv", 1200)
    first = json.loads(cli.ok("bulk", "commission", str(csv), "--account", "3", "--json"))
    second = json.loads(cli.ok("bulk", "commission", str(csv), "--account", "3", "--json"))
    human = cli.ok("bulk", "commission", str(csv), "--account", "3")

    assert (first["done"], first["already"], first["transactions"], first["refused"]) == (1200, 0, 12, [])
    assert first["gas_used"] < 1200 * 31_000
    assert (second["done"], second["already"], second["transactions"]) == (0, 1200, 0)
    assert human.startswith("1200 row(s): 0 passport(s) commissioned, 1200 already on chain")


def test_cli_names_bad_rows_and_sends_nothing(cli: Cli, tmp_path: Path) -> None:
    csv = write(tmp_path / "bad.csv", f"gtin,serial\n{GTIN},OK1\n9506000134353,X\n{GTIN},OK1\n")
    code, out, err = cli.run("bulk", "commission", str(csv), "--account", "3")
    as_json = cli.run("bulk", "commission", str(csv), "--account", "3", "--json")
    dry = json.loads(cli.ok("bulk", "commission", str(serial_csv(tmp_path / "ok.csv", 3)), "--dry-run", "--json"))

    assert code == 1 and out == "" and "Traceback" not in err
    assert err.startswith("error: 2 bad row(s) in") and "line 3, gtin:" in err and "line 4:" in err
    assert as_json[0] == 1 and [p["line"] for p in json.loads(as_json[1])["problems"]] == [3, 4]
    assert dry == {"rows": 3, "already": 0, "to_commission": 3}


def test_cli_ctrl_c_says_how_far_it_got_and_a_rerun_finishes(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chainpass.cli.bulk as cli_bulk

    real = cli_bulk._sender_factory

    def interrupting(*args: Any) -> SenderFactory:
        make = real(*args)

        def wrapped(progress: bulk.Progress | None) -> bulk.TxSender:
            def report(done: int, total: int) -> None:
                if progress is not None:
                    progress(done, total)
                if done >= 3:
                    raise KeyboardInterrupt

            return make(report)

        return wrapped

    csv = serial_csv(tmp_path / "p.csv", 50)
    monkeypatch.setattr(cli_bulk, "_sender_factory", interrupting)
    code, out, err = cli.run("bulk", "commission", str(csv), "--account", "3", "--batch-size", "10")
    monkeypatch.setattr(cli_bulk, "_sender_factory", real)
    resumed = json.loads(cli.ok("bulk", "commission", str(csv), "--account", "3", "--json"))

    interrupted = re.fullmatch(
        r"interrupted: (\d+) of 50 passport\(s\) are on chain now(?:; (\d+) transaction\(s\) sent are not mined yet "
        r"\(the same command waits for them first\))?; (?:re-run the same command to commission the other (\d+) "
        r"\(nothing is recorded twice\)|all of them: nothing is left to do|re-run the same command to check .*)",
        err.strip(),
    )
    assert code == 130 and out == "" and interrupted is not None, err
    on_chain, pending = int(interrupted[1]), int(interrupted[2] or 0)
    assert 50 - on_chain == int(interrupted[3] or 0)
    assert "this run saw" not in err
    # Asked of the chain: what was in flight when Ctrl-C struck counts, or is named as pending.
    assert 30 <= on_chain <= resumed["already"] <= on_chain + pending * 10
    assert resumed["done"] + resumed["already"] == 50 and resumed["refused"] == []


@pytest.mark.parametrize("how", ["interrupt", "timeout"])
@pytest.mark.parametrize("command", ["commission", "events"])
def test_a_stop_while_waiting_for_confirmations_counts_what_was_mined(
    cli: Cli, tmp_path: Path, command: str, how: str
) -> None:
    """Every batch is mined, and the run stops while it waits for the confirmations (Ctrl-C,
    or ``--wait`` running out): the summary counts what the chain holds, not only what this
    run saw confirmed, and says what to run next."""
    csv = serial_csv(tmp_path / "p.csv", 40, "CF")
    if command == "events":
        cli.ok("bulk", "commission", str(csv), "--account", "3")
        csv = events_csv(tmp_path / "e.csv", [f"CF{i:05d}" for i in range(40)])
    noun = "passport(s)" if command == "commission" else "event(s)"
    watcher = Chain.connect(cli.rpc)
    producer = watcher.dev_accounts()[3]
    expected = watcher.w3.eth.get_transaction_count(producer) + (4 if command == "commission" else 1)

    batches = ["--batch-size", "10"] if command == "commission" else []
    args = ["bulk", command, str(csv), "--account", "3", *batches, "--confirmations", "2"]
    if how == "interrupt":
        # A real Ctrl-C (SIGINT) to the command's own process once the chain shows every batch
        # mined: it is then waiting for confirmations (no block comes: Anvil mines on demand).
        process = subprocess.Popen(
            [sys.executable, "-c", "from chainpass.cli import main; main()", "--rpc", cli.rpc, "--home",
             str(cli.home), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while watcher.w3.eth.get_transaction_count(producer) < expected and process.poll() is None:
                assert time.monotonic() < deadline, "the batches were not mined in 2 minutes"
                time.sleep(0.05)
            time.sleep(0.5)  # into the wait for confirmations
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
        code = process.returncode
    else:
        code, out, err = cli.run(*args, "--wait", "3")
    again = json.loads(cli.ok("bulk", command, str(csv), "--account", "3", "--json"))

    assert out == "" and "Traceback" not in err, err
    assert code == (130 if how == "interrupt" else 1)
    counted = re.search(
        rf"40 of 40 {re.escape(noun)} are on chain now \((\d+) of them mined but not yet 2 blocks deep\); all of "
        r"them: run the same command again once they are 2 blocks deep",
        err,
    )
    assert counted is not None, err
    # What the chain holds less than two blocks deep: the producer's transactions in the head
    # block and the one before it (Anvil mines a transaction a block, or two sent together
    # in one), ten passports each, or all forty events in one.
    chain = Chain.connect(cli.rpc)
    head = chain.w3.eth.block_number
    (abi,) = [f for f in load_artifact("ProductPassport").abi if f.get("name") == ("commission" if command ==
              "commission" else "recordEvents")]  # fmt: skip
    selector = function_abi_to_4byte_selector(abi)
    shallow = sum(
        tx["from"] == producer and bytes(tx["input"])[:4] == selector
        for number in (head - 1, head)
        for tx in chain.w3.eth.get_block(number, full_transactions=True)["transactions"]
    )
    assert shallow >= 1 and int(counted[1]) == shallow * (10 if command == "commission" else 40)
    assert (again["done"], again["already"]) == (0, 40)


class _Terminal(io.StringIO):
    """stdout and stderr of one terminal: the progress bar is drawn, and what follows it must
    start a line of its own."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stop", [False, True])
def test_the_summary_starts_a_line_of_its_own_after_the_progress_bar(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop: bool
) -> None:
    import chainpass.cli.bulk as cli_bulk

    csv = serial_csv(tmp_path / "t.csv", 30, "TTY")
    if stop:  # Ctrl-C once the first batch is mined
        real = cli_bulk._sender_factory

        def interrupting(*args: Any) -> SenderFactory:
            make = real(*args)

            def report_then_stop(progress: bulk.Progress | None) -> bulk.TxSender:
                def report(done: int, total: int) -> None:
                    if progress is not None:
                        progress(done, total)
                    if done >= 1:
                        raise KeyboardInterrupt

                return make(report)

            return report_then_stop

        monkeypatch.setattr(cli_bulk, "_sender_factory", interrupting)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(sys, "stderr", terminal)
    try:
        main(["--rpc", cli.rpc, "--home", str(cli.home), "bulk", "commission", str(csv), "--account", "3",
              "--batch-size", "10"])  # fmt: skip
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    monkeypatch.undo()

    screen = terminal.getvalue()
    assert "commissioning" in screen  # the bar was drawn
    last = "interrupted: " if stop else "30 row(s): 30 passport(s) commissioned"
    assert code == (130 if stop else 0) and last in screen, screen
    before = screen[: screen.index(last)]
    assert before.endswith("\n"), repr(before[-80:])  # not on the bar's line


def test_cli_events_rerun_records_nothing(cli: Cli, tmp_path: Path) -> None:
    """The producer ships what it commissioned (it holds the goods), then the same rows again."""
    cli.ok("bulk", "commission", str(serial_csv(tmp_path / "p.csv", 60, "EV")), "--account", "3")
    csv = events_csv(tmp_path / "e.csv", [f"EV{i:05d}" for i in range(60)])
    document = tmp_path / "e.jsonld"

    first = json.loads(cli.ok("bulk", "events", str(csv), "--account", "3", "--json", "--epcis-out", str(document)))
    second = json.loads(cli.ok("bulk", "events", str(csv), "--account", "3", "--json"))
    imported = json.loads(cli.ok("epcis", "import", str(document), "--account", "3", "--json"))
    as_document = json.loads(cli.ok("bulk", "events", str(document), "--account", "3", "--json"))

    assert (first["done"], first["already"], first["transactions"]) == (60, 0, 2)
    assert (second["done"], second["already"], second["transactions"]) == (0, 60, 0)
    assert imported["recorded"] == 0 and imported["already_on_chain"] == 60
    assert (as_document["done"], as_document["already"]) == (0, 60)


def test_a_killed_commission_process_reruns_to_every_passport_once(cli: Cli, tmp_path: Path) -> None:
    """The process is killed (SIGKILL) mid-run, with transactions possibly in flight."""
    # 600 transactions of 5 passports: more than the sender's window, so that the kill lands mid-run.
    csv = serial_csv(tmp_path / "k.csv", 3000, "KILL")
    args = ["--rpc", cli.rpc, "--home", str(cli.home), "bulk", "commission", str(csv), "--account", "3",
            "--batch-size", "5", "--quiet"]  # fmt: skip
    producer = json.loads(cli.ok("accounts", "--json"))[3]["address"]
    chain = Chain.connect(cli.rpc)
    pp = ProductPassports.from_deployment(chain, _deployment(cli, chain))
    process = subprocess.Popen([sys.executable, "-c", "from chainpass.cli import main; main()", *args],
                               env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while commissioned_count(pp, producer) < 200 and process.poll() is None:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = commissioned_count(pp, producer)
    resumed = json.loads(cli.ok("bulk", "commission", str(csv), "--account", "3", "--json"))

    assert 200 <= before < 3000
    assert resumed["done"] + resumed["already"] == 3000 and resumed["refused"] == []
    assert commissioned_count(pp, producer) == 3000


def _deployment(cli: Cli, chain: Chain) -> Any:
    from chainpass.deployment import DeploymentStore, load_deployment

    return load_deployment(chain, DeploymentStore(cli.home / "deployments"))


def test_the_dev_keys_are_found(world: World) -> None:
    chain = world.chain
    for address in chain.dev_accounts():  # all ten: a wrong key in the table would go unnoticed
        key = chain.local_key(address)
        assert key is not None and key.address == address


def test_a_node_killed_mid_run_and_restarted_reruns_to_every_passport_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The node is SIGKILLed mid-run (it loses what it mined since its last state write): the
    command stops with a clear error; the node restarts from its state file, and the same
    command again ends with every passport exactly once."""
    import chainpass.cli.bulk as cli_bulk

    node = AnvilNode(port=free_port(), state_file=tmp_path / "state.json").start()
    try:
        op = deployed(Cli(capsys, node.url, tmp_path / "home"), tmp_path)
        node.restart()  # a clean stop writes the state: the deployment survives the crash to come
        producer = json.loads(op.ok("accounts", "--json"))[3]["address"]
        csv = serial_csv(tmp_path / "n.csv", 2000, "NODE")

        def crashing(chain: Chain, sender: Sender, *_args: Any) -> SenderFactory:
            key = chain.local_key(sender)
            assert key is not None

            def make(progress: bulk.Progress | None) -> bulk.TxSender:
                def report(done: int, total: int) -> None:
                    if progress is not None:
                        progress(done, total)
                    if done >= 5:
                        node.kill()

                # a small window: when the node dies, most batches are still to be sent
                return BulkSender(chain, key, window=4, retry_for=0.5, on_progress=report)

            return make

        monkeypatch.setattr(cli_bulk, "_sender_factory", crashing)
        code, out, err = op.run("bulk", "commission", str(csv), "--account", "3", "--batch-size", "50")
        monkeypatch.undo()
        node.start()
        chain = Chain.connect(node.url)
        pp = ProductPassports.from_deployment(chain, _deployment(op, chain))
        survived = commissioned_count(pp, producer)
        resumed = json.loads(op.ok("bulk", "commission", str(csv), "--account", "3", "--json"))
        final = commissioned_count(pp, producer)
    finally:
        node.kill()

    assert code == 1 and out == "" and "Traceback" not in err
    assert re.fullmatch(r"error: The node stopped answering after \d+ passport\(s\): start it again, then re-run "
                        r"the same command to resume \(nothing is recorded twice\)\.", err.strip())  # fmt: skip
    assert survived < 2000
    assert (resumed["already"], resumed["done"], resumed["refused"]) == (survived, 2000 - survived, [])
    assert final == 2000


def test_cli_without_a_node_says_so_and_ctrl_c_before_sending_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import chainpass.cli.bulk as cli_bulk

    op = Cli(capsys, f"http://127.0.0.1:{free_port()}", tmp_path / "home")
    csv = serial_csv(tmp_path / "p.csv", 3)

    no_node = op.run("bulk", "commission", str(csv), "--account", "3")

    def pressed(_path: Path) -> list[CsvRow]:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_bulk, "read_csv", pressed)  # Ctrl-C while the file is read
    early = op.run("bulk", "commission", str(csv), "--account", "3")

    assert no_node[0] == 1 and no_node[2].startswith("error: No Ethereum node answers at")
    assert early == (130, "", "interrupted: nothing was sent: run the same command again to start\n")


def wait_until_saved(node: AnvilNode, state: Path, timeout: float = 10.0) -> None:
    """Until Anvil's state file holds the node's head block (it writes every state interval)."""
    head = Chain.connect(node.url).w3.eth.block_number
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        with contextlib.suppress(OSError, ValueError):  # absent, or caught mid-write
            best = json.loads(state.read_text())["best_block_number"]
            if (int(best, 16) if isinstance(best, str) else int(best)) >= head:
                return
        time.sleep(0.05)
    raise AssertionError(f"Anvil never saved block {head} to {state}")


def test_an_epcis_import_with_its_node_killed_reruns_to_every_event_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chainpass epcis import` while the node is SIGKILLed after a few transactions: the
    command stops with a clear error; the node restarts from its state file (losing what it
    mined since its last write), and the same import again ends with every event once."""

    items = [f"urn:epc:id:sgtin:9506000.013435.K{i:03d}" for i in range(60)]
    events = [
        {"type": "ObjectEvent", "eventTime": "2026-02-01T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
         "epcList": items[i : i + 10], "action": "ADD", "bizStep": "commissioning"}
        for i in range(0, 60, 10)
    ] + [
        {"type": "ObjectEvent", "eventTime": f"2026-02-02T{8 + i // 60:02d}:{i % 60:02d}:00+08:00",
         "eventTimeZoneOffset": "+08:00", "epcList": [items[i % 60]], "action": "OBSERVE", "bizStep": "storing"}
        for i in range(240)
    ]  # fmt: skip
    document = {"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
                "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-02-03T00:00:00Z",
                "epcisBody": {"eventList": events}}  # fmt: skip
    path = write(tmp_path / "scans.jsonld", json.dumps(document))
    node = AnvilNode(port=free_port(), state_file=tmp_path / "state.json").start()
    original = Chain.transact
    sends: list[Any] = []

    def crashing(self: Chain, call: Any, sender: Sender) -> Any:
        sends.append(call)
        if len(sends) == 7:  # the commissioning done, a run of events in
            wait_until_saved(node, tmp_path / "state.json")  # what was mined so far is on disk
            node.kill()
        return original(self, call, sender)

    try:
        op = deployed(Cli(capsys, node.url, tmp_path / "home"), tmp_path)
        node.restart()  # a clean stop writes the state: the deployment survives the crash to come
        monkeypatch.setattr(Chain, "transact", crashing)
        code, out, err = op.run("epcis", "import", str(path), "--account", "3")
        monkeypatch.undo()
        node.start()
        resumed = json.loads(op.ok("epcis", "import", str(path), "--account", "3", "--json"))
        again = json.loads(op.ok("epcis", "import", str(path), "--account", "3", "--json"))
        chain = Chain.connect(node.url)
        pp = ProductPassports.from_deployment(chain, _deployment(op, chain))
        recorded = pp.contract.events.PassportEventRecorded().get_logs(from_block=0)
        commissioned = pp.contract.events.PassportCommissioned().get_logs(from_block=0)
    finally:
        node.kill()

    assert code != 0 and out == "" and "Traceback" not in err, err
    assert err.startswith("error: The node stopped answering") and "resume without recording anything twice" in err
    assert len(sends) >= 7
    event_ids = [bytes(log["args"]["eventId"]) for log in recorded]
    assert len(event_ids) == len(set(event_ids)) == 240  # every observation once
    assert len(commissioned) == len({log["args"]["id"] for log in commissioned}) == 60
    assert resumed["recorded"] > 0  # it resumed: what the node lost went in again
    assert resumed["recorded"] + resumed["already_on_chain"] == 246 and resumed["refused"] == 0
    assert again["nothing_new"] and again["already_on_chain"] == 246
