"""The local trace index (chainpass.index): it catches up with the chain and serves the
same traces as the node, resumes after an interruption with every log once, halves the
block range a provider refuses, waits for confirmations, and follows reorgs (Anvil's
``anvil_reorg``, and a chain reverted to a snapshot).

Most tests run on both backends with the organisations of ``passport_world`` and a
snapshot per test; the embedded chain is only ever asked for logs in small ranges.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from accounts import credential_for
from passport_world import (
    CASE_GTIN,
    GTIN,
    Orgs,
    commission_one,
    event,
    hand_over,
    recall,
    receive,
    sell,
    ship,
)
from web3 import Web3
from web_world import serving

from chainpass.backend import NoAnswer, Rpc, RpcError
from chainpass.chain import Chain
from chainpass.cli import main
from chainpass.deployment import Deployment, DeploymentStore, deploy, genesis_hash
from chainpass.enums import BizStep, Disposition, Level, Role, Sector
from chainpass.errors import IndexMismatch, IndexUnreachable, InvalidInput, LogQueryRefused
from chainpass.identity import IdentityRegistry
from chainpass.index import TraceIndex, index_path
from chainpass.index_store import is_postgres, schema_name
from chainpass.local_postgres import LocalPostgres
from chainpass.node import AnvilNode, free_port
from chainpass.passport import ProductPassports, transformation_id
from chainpass.standards.gs1 import ProductKey

PADDY_GTIN = "9506000134406"
RICE_GTIN = "9506000134413"


# ---------------------------------------------------------------------------- helpers


@pytest.fixture
def index(pp: ProductPassports, index_location: str) -> Iterator[TraceIndex]:
    with TraceIndex.for_client(pp, index_location) as trace_index:
        yield trace_index


def stored_logs(trace_index: TraceIndex) -> int:
    """Every log row the index holds, live or removed."""
    return len(trace_index.logs(include_removed=True))


def reading(pp: ProductPassports, trace_index: TraceIndex) -> ProductPassports:
    """The same contract, its logs read from ``trace_index``."""
    return ProductPassports(pp.chain, pp.address, first_block=pp.first_block, log_source=trace_index)


def node_logs(chain: Chain, address: str, first: int, step: int = 50) -> list[tuple[Any, ...]]:
    """Every log of ``address`` from block ``first`` on, asked in small ranges, as comparable rows."""
    head = chain.w3.eth.block_number
    rows = []
    for start in range(first, head + 1, step):
        params: Any = {"address": address, "fromBlock": start, "toBlock": min(start + step - 1, head)}
        rows += [_comparable(log) for log in chain.w3.eth.get_logs(params)]
    return rows


def indexed_logs(trace_index: TraceIndex) -> list[tuple[Any, ...]]:
    return [_comparable(log) for log in trace_index.get_logs([])]


def _comparable(log: Any) -> tuple[Any, ...]:
    return (
        int(log["blockNumber"]),
        bytes(log["blockHash"]),
        int(log["transactionIndex"]),
        int(log["logIndex"]),
        bytes(log["transactionHash"]),
        tuple(bytes(t) for t in log["topics"]),
        bytes(log["data"]),
    )


def _hex(value: Any) -> str:
    """A hash as JSON-RPC writes it, from its text or its bytes (the embedded chain's shape)."""
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


def mine(chain: Chain, blocks: int = 1) -> None:
    for _ in range(blocks):
        chain.advance_time(1)


@dataclass(frozen=True)
class Goods:
    """Two paddy lots milled into a lot, bagged into two bags, packed into a case that
    changes hands twice; one bag is sold, and one paddy lot is recalled."""

    paddy1: int
    paddy2: int
    milled: int
    bag1: int
    bag2: int
    case: int

    @property
    def ids(self) -> tuple[int, ...]:
        return (self.paddy1, self.paddy2, self.milled, self.bag1, self.bag2, self.case)


def goods(pp: ProductPassports, orgs: Orgs) -> Goods:
    producer = orgs.producer
    paddy1, paddy2 = pp.commission(
        [ProductKey.lot(PADDY_GTIN, "P-1"), ProductKey.lot(PADDY_GTIN, "P-2")], sender=producer
    )
    inspected = [event(lot, BizStep.INSPECTING, Disposition.CONFORMANT) for lot in (paddy1, paddy2)]
    pp.record(inspected, sender=orgs.inspector)
    (milled,) = pp.transform(transformation_id("mill-1"), [paddy2, paddy1], [ProductKey.lot(RICE_GTIN, "M-1")],
                             sender=producer)  # fmt: skip
    bags = [ProductKey.item(GTIN, "IDX-1"), ProductKey.item(GTIN, "IDX-2")]
    bag1, bag2 = pp.transform(transformation_id("bagging-1"), [milled], bags, sender=producer)
    case = commission_one(pp, orgs, ProductKey.container(CASE_GTIN, "IDX-CASE", 1))
    pp.pack(case, [bag1, bag2], sender=producer)
    hand_over(pp, case, producer, orgs.carrier)
    ship(pp, orgs, case, by=orgs.carrier)
    hand_over(pp, case, orgs.carrier, orgs.retailer)
    receive(pp, orgs, case, by=orgs.retailer)
    pp.unpack([bag1], sender=orgs.retailer)
    sell(pp, orgs, bag1)
    recall(pp, orgs, paddy2)
    return Goods(paddy1, paddy2, milled, bag1, bag2, case)


class LogQueries:
    """The chain's JSON-RPC connection with its log queries (``eth_getLogs``) answered by
    ``answer(params, ask)``, where ``ask()`` asks the node; every other request goes through."""

    def __init__(self, real: Rpc, answer: Callable[[dict[str, Any], Callable[[], Any]], Any]) -> None:
        self.real, self.answer = real, answer

    def call(self, method: str, params: list[Any]) -> Any:
        if method == "eth_getLogs":
            return self.answer(params[0], lambda: self.real.call(method, params))
        return self.real.call(method, params)

    def batch(self, requests_: list[tuple[str, list[Any]]]) -> list[Any]:
        return self.real.batch(requests_)


class Refusing:
    """A node that refuses log queries wider than ``widest`` blocks: with an RPC error, or a
    timeout for ranges at most ``timeout_above`` wider. Records every range asked. For the
    indexes made after it (each takes its connection from ``chain.backend.rpc()``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, chain: Chain, widest: int, timeout_above: int = 0) -> None:
        self.asked: list[tuple[int, int]] = []
        real = chain.backend.rpc()

        def get_logs(params: dict[str, Any], ask: Callable[[], Any]) -> Any:
            start, end = int(params["fromBlock"], 16), int(params["toBlock"], 16)
            self.asked.append((start, end))
            width = end - start + 1
            if width > widest:
                if width <= timeout_above:
                    raise NoAnswer("ReadTimeout", timed_out=True)
                raise RpcError("query returned more than 10000 results")
            return ask()

        monkeypatch.setattr(chain.backend, "rpc", lambda timeout=None: LogQueries(real, get_logs))


# -------------------------------------------------------------------------- catch-up


def test_the_index_catches_up_and_traces_as_the_node(chain: Chain, pp: ProductPassports, orgs: Orgs,
                                                     index: TraceIndex) -> None:  # fmt: skip
    g = goods(pp, orgs)

    report = index.sync()
    again = index.sync()

    head = chain.w3.eth.block_number
    assert (report.checkpoint, report.head, report.reorg, report.refused) == (head, head, None, ())
    assert report.ranges == ((pp.first_block, head),)
    assert (again.ranges, again.logs, again.checkpoint) == ((), 0, head)
    assert indexed_logs(index) == node_logs(chain, pp.address, pp.first_block)
    assert report.logs == len(indexed_logs(index))
    fast = reading(pp, index)
    for id_ in g.ids:
        assert fast.trace(id_) == pp.trace(id_), hex(id_)
    assert fast.verify(ProductKey.item(GTIN, "IDX-1")) == pp.verify(ProductKey.item(GTIN, "IDX-1"))
    journey = fast.trace(g.bag1)
    assert {e.via_container for e in journey} == {None, g.case}
    assert {e.via_input for e in journey} == {None, g.paddy1, g.paddy2, g.milled}
    assert [e.details.get("biz_step", e.event) for e in journey if e.via_container] == [
        "CustodyTransferred", "shipping", "CustodyTransferred", "receiving"
    ]  # fmt: skip
    # Topic matching: wildcards and alternatives, in chain order, removed logs never served.
    bag1_topic = "0x" + g.bag1.to_bytes(32, "big").hex()
    asked: Any = {"address": pp.address, "fromBlock": pp.first_block, "toBlock": head, "topics": [None, bag1_topic]}
    assert [_comparable(log) for log in index.get_logs([None, bag1_topic])] == [
        _comparable(log) for log in chain.w3.eth.get_logs(asked)
    ]
    bag2_topic = "0x" + g.bag2.to_bytes(32, "big").hex()
    either = index.get_logs([None, [bag1_topic, bag2_topic]])
    assert len(either) == len(index.get_logs([None, bag1_topic])) + len(index.get_logs([None, bag2_topic]))
    assert [_comparable(log) for log in either] == sorted(_comparable(log) for log in either)
    status = index.status()
    assert (status.checkpoint, status.behind, status.logs, status.removed_logs) == (head, 0, report.logs, 0)
    with pytest.raises(InvalidInput, match="32 bytes"):
        index.get_logs(["0x1234"])


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way handles it."""


def test_an_interrupted_sync_resumes_with_every_log_once(
    chain: Chain, pp: ProductPassports, orgs: Orgs, index_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = goods(pp, orgs)
    path = index_location
    commits = 0
    real = TraceIndex._set_checkpoint

    def crash_in_the_second_commit(self: TraceIndex, number: int) -> None:
        nonlocal commits
        commits += 1
        if commits == 2:  # the second range's logs are written, its checkpoint not yet
            raise Crash
        real(self, number)

    monkeypatch.setattr(TraceIndex, "_set_checkpoint", crash_in_the_second_commit)
    with TraceIndex.for_client(pp, path, max_range=8) as first, pytest.raises(Crash):
        first.sync()
    monkeypatch.undo()
    with TraceIndex.for_client(pp, path, max_range=8) as resumed:
        checkpoint = resumed.checkpoint
        partial = indexed_logs(resumed)
        report = resumed.sync()

        everything = node_logs(chain, pp.address, pp.first_block)
        assert checkpoint == pp.first_block + 7
        assert partial == [row for row in everything if row[0] <= checkpoint]
        assert report.ranges[0][0] == checkpoint + 1
        assert indexed_logs(resumed) == everything
        assert stored_logs(resumed) == len(everything)
        assert reading(pp, resumed).trace(g.bag2) == pp.trace(g.bag2)


def test_a_sync_killed_mid_way_resumes_with_every_log_once(anvil_node: AnvilNode, index_location: str) -> None:
    """A real crash: the syncing process is killed (SIGKILL) between two ranges, or in one."""
    chain = Chain.connect(anvil_node.url)
    accounts = chain.dev_accounts()
    deployment, _ = deploy(chain, accounts[0])
    registry = IdentityRegistry.from_deployment(chain, deployment)
    for account in accounts[1:]:  # a log in each of 9 blocks
        registry.appoint_relying_party(account, Sector.BANK, sender=accounts[0])
    path = index_location
    first = registry.first_block
    script = f"""
import time
from chainpass.chain import Chain
from chainpass.index import TraceIndex
index = TraceIndex({path!r}, Chain.connect({anvil_node.url!r}), {registry.address!r},
                   deployment_block={first}, max_range=1)
fetch = index._fetch
index._fetch = lambda start, end: (time.sleep(0.2), fetch(start, end))[1]
index.sync()
"""
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while (
            _checkpoint(path, chain, registry.address) < first + 3
            and time.monotonic() < deadline
            and child.poll() is None
        ):
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait()
    killed_at = _checkpoint(path, chain, registry.address)

    with TraceIndex(path, chain, registry.address, deployment_block=first) as trace_index:
        report = trace_index.sync()
        logs = indexed_logs(trace_index)

    assert first + 3 <= killed_at < chain.w3.eth.block_number
    assert report.ranges[0][0] == killed_at + 1
    assert logs == node_logs(chain, registry.address, first)
    assert len(set(logs)) == len(logs) >= 9


def _checkpoint(location: str, chain: Chain, address: str) -> int:
    """The checkpoint another process's index has committed, read without opening a
    TraceIndex (which would create the tables): -1 while there is none."""
    query = "SELECT value FROM meta WHERE key = 'checkpoint'"
    try:
        if is_postgres(location):
            schema = schema_name(chain.chain_id, genesis_hash(chain), address)
            with psycopg.connect(location) as db:
                row = db.execute(f"SELECT value FROM {schema}.meta WHERE key = 'checkpoint'").fetchone()
        else:
            with sqlite3.connect(f"file:{location}?mode=ro", uri=True) as lite:
                row = lite.execute(query).fetchone()
        return int(row[0]) if row else -1
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):  # not created yet
        return -1


# ----------------------------------------------------------------------- refusals


def test_a_refused_range_is_halved_and_grows_back(
    chain: Chain, pp: ProductPassports, orgs: Orgs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = goods(pp, orgs)
    provider = Refusing(monkeypatch, chain, widest=4, timeout_above=8)

    with TraceIndex.for_client(pp, tmp_path / "halving.sqlite", max_range=16) as halving:
        report = halving.sync()
        trace = reading(pp, halving).trace(g.bag1)
    monkeypatch.undo()

    widths = [end - start + 1 for start, end in provider.asked]
    head = chain.w3.eth.block_number
    # 16 and 8 are refused (an error, a timeout), 4 passes; it grows back to 8 after each success.
    assert widths[:4] == [16, 8, 4, 8]
    assert list(report.refused) == [r for r in provider.asked if r[1] - r[0] + 1 > 4]
    assert [r for r in provider.asked if r not in report.refused] == list(report.ranges)
    assert all(end - start + 1 <= 4 for start, end in report.ranges)
    # The ranges committed cover every block once, in order.
    assert [r[0] for r in report.ranges] == [pp.first_block] + [r[1] + 1 for r in report.ranges[:-1]]
    assert report.ranges[-1][1] == report.checkpoint == head
    assert trace == pp.trace(g.bag1)


def test_a_block_refused_alone_stops_the_sync_where_it_was(
    chain: Chain, pp: ProductPassports, orgs: Orgs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commission_one(pp, orgs, ProductKey.item(GTIN, "IDX-1"))
    provider = Refusing(monkeypatch, chain, widest=0)

    with TraceIndex.for_client(pp, tmp_path / "refused.sqlite", max_range=4) as trace_index:
        with pytest.raises(LogQueryRefused, match="more than 10000 results") as info:
            trace_index.sync()
        checkpoint = trace_index.checkpoint

    assert [end - start + 1 for start, end in provider.asked] == [4, 2, 1]
    assert f"block {pp.first_block} alone" in str(info.value)
    assert checkpoint == pp.first_block - 1


# ------------------------------------------------------------------- confirmations


def test_only_confirmed_blocks_are_indexed(chain: Chain, pp: ProductPassports, orgs: Orgs, index: TraceIndex) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "IDX-1"))
    ship(pp, orgs, item)
    receive(pp, orgs, item)
    fast = reading(pp, index)

    def steps() -> list[str]:
        return [e.details.get("biz_step", e.event) for e in fast.trace(item)]

    assert index.sync(until=pp.first_block).ranges == ((pp.first_block, pp.first_block),)
    index.sync(confirmations=2)
    before = steps()
    mine(chain)
    index.sync(confirmations=2)
    shipped = steps()
    mine(chain)
    report = index.sync(confirmations=2)

    assert before == ["PassportCommissioned"]
    assert shipped == ["PassportCommissioned", "shipping"]
    assert steps() == ["PassportCommissioned", "shipping", "receiving"]
    assert report.checkpoint == chain.w3.eth.block_number - 2
    assert fast.trace(item) == pp.trace(item)
    with pytest.raises(InvalidInput, match="0 or more"):
        index.sync(confirmations=-1)


# ------------------------------------------------------------------------ reorgs


def test_a_reorg_marks_the_orphaned_logs_removed_and_the_index_follows(
    backend: str, chain: Chain, pp: ProductPassports, orgs: Orgs, index: TraceIndex
) -> None:
    """On Anvil, ``anvil_reorg`` replaces the last two blocks (the shipping and the
    receiving) with an inspection and an empty block; on the embedded chain and Ganache
    (which has no reorg method), the chain is reverted to before them and the inspection
    mined instead."""
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "IDX-1"))
    fork_block = chain.w3.eth.block_number
    by_revert = backend != "anvil"
    before_fork = chain.snapshot() if by_revert else None
    orphaned = [ship(pp, orgs, item)["transactionHash"], receive(pp, orgs, item)["transactionHash"]]
    index.sync()
    inspection = event(item, BizStep.INSPECTING, Disposition.CONFORMANT)
    if by_revert:
        chain.revert(before_fork)
        pp.record([inspection], sender=orgs.inspector)
        mine(chain)
    else:
        data = pp.contract.encode_abi("recordEvents", [[inspection.as_tuple()]])
        tx = {"from": orgs.inspector, "to": pp.address, "data": data, "gas": 500_000}
        reply = chain.w3.provider.make_request(cast(Any, "anvil_reorg"), [2, [[tx, 0]]])
        assert "error" not in reply, reply
    assert chain.w3.eth.block_number == fork_block + 2

    report = index.sync()

    removed = index.removed_logs()
    assert report.reorg is not None
    assert (report.reorg.fork_block, report.reorg.old_checkpoint) == (fork_block, fork_block + 2)
    assert report.reorg.removed_logs == len(removed) > 0
    assert {log.transaction_hash for log in removed} == {"0x" + bytes(h).hex() for h in orphaned}
    assert all(log.removed and log.block_number > fork_block for log in removed)
    assert indexed_logs(index) == node_logs(chain, pp.address, pp.first_block)
    journey = reading(pp, index).trace(item)
    assert journey == pp.trace(item)
    assert [e.details.get("biz_step", e.event) for e in journey] == ["PassportCommissioned", "inspecting"]
    assert index.status().removed_logs == len(removed)


def test_a_log_the_provider_marks_removed_is_kept_as_removed(
    chain: Chain, pp: ProductPassports, orgs: Orgs, index: TraceIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "IDX-1"))
    shipping = ship(pp, orgs, item)["transactionHash"]
    shipping_hex = "0x" + bytes(shipping).hex()

    def marking(_params: dict[str, Any], ask: Callable[[], Any]) -> Any:
        return [{**log, "removed": _hex(log["transactionHash"]) == shipping_hex} for log in ask()]

    monkeypatch.setattr(index, "rpc", LogQueries(index.rpc, marking))
    index.sync()
    monkeypatch.undo()

    removed = index.removed_logs()
    assert removed and {log.transaction_hash for log in removed} == {"0x" + bytes(shipping).hex()}
    assert [e.event for e in reading(pp, index).trace(item)] == ["PassportCommissioned"]
    assert len(index.get_logs([None], include_removed=True)) == len(index.get_logs([None])) + len(removed)


def test_a_chain_reverted_below_the_checkpoint_is_followed(
    chain: Chain, pp: ProductPassports, orgs: Orgs, index: TraceIndex
) -> None:
    """The second way to fork: back to a snapshot (a shorter chain), then other blocks."""
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "IDX-1"))
    fork_block = chain.w3.eth.block_number
    snapshot = chain.snapshot()
    ship(pp, orgs, item)
    receive(pp, orgs, item)
    sell(pp, orgs, item)
    index.sync()
    fast = reading(pp, index)
    sold = fast.trace(item)

    chain.revert(snapshot)
    shorter = index.sync()
    reverted = fast.trace(item)
    other = commission_one(pp, orgs, ProductKey.item(GTIN, "IDX-2"))
    ship(pp, orgs, item, other)
    longer = index.sync()

    assert [e.details["biz_step"] for e in sold if "biz_step" in e.details] == [
        "shipping", "receiving", "retail_selling"
    ]  # fmt: skip
    assert shorter.reorg is not None and shorter.reorg.fork_block == fork_block
    assert shorter.reorg.removed_logs == len(index.removed_logs()) > 0
    assert (shorter.checkpoint, shorter.ranges) == (fork_block, ())
    assert [e.event for e in reverted] == ["PassportCommissioned"]
    assert longer.reorg is None and longer.checkpoint == chain.w3.eth.block_number
    assert fast.trace(item) == pp.trace(item)
    assert [e.details.get("biz_step") for e in fast.trace(item)] == [None, "shipping"]
    assert fast.trace(other) == pp.trace(other)
    assert indexed_logs(index) == node_logs(chain, pp.address, pp.first_block)


# -------------------------------------------------------------------------- files


def test_a_file_for_another_chain_or_contract_is_refused(tmp_path: Path) -> None:
    chain = Chain.embedded()
    contract, other_contract = "0x" + "11" * 20, "0x" + "22" * 20
    path = tmp_path / "trace.sqlite"
    TraceIndex(path, chain, contract, deployment_block=5).close()

    with pytest.raises(IndexMismatch) as another_chain:
        TraceIndex(path, Chain(chain.backend, _chain_id=1), contract, deployment_block=5)
    with pytest.raises(IndexMismatch, match="contract"):
        TraceIndex(path, chain, other_contract, deployment_block=5)
    with pytest.raises(IndexMismatch, match="block"):
        TraceIndex(path, chain, contract, deployment_block=6)
    (tmp_path / "junk.sqlite").write_text("not a database, " * 100)
    with pytest.raises(IndexMismatch, match="not a chainpass trace index"):
        TraceIndex(tmp_path / "junk.sqlite", chain, contract)
    with pytest.raises(InvalidInput, match="chainpass index sync"):
        TraceIndex(tmp_path / "missing.sqlite", chain, contract, create=False)
    with TraceIndex(path, chain, contract, deployment_block=5) as reopened:
        assert (reopened.checkpoint, reopened.logs()) == (4, [])

    message = str(another_chain.value)
    assert f"chain {chain.chain_id}, not chain 1" in message and str(path) in message
    assert not (tmp_path / "missing.sqlite").exists()
    assert index_path(tmp_path, 31337, contract) == tmp_path / "index" / f"31337-{contract}.sqlite"


# ---------------------------------------------------------------------------- CLI


def milled_bag(anvil_node: AnvilNode, home: Path) -> tuple[Chain, ProductPassports, Deployment, int, str]:
    """A fresh deployment on Anvil recorded in ``home``, a paddy lot milled into the bag
    (01)09506000134352(21)CLI-1: the chain, the passports, the deployment, the paddy lot's
    passport and its producer."""
    chain = Chain.connect(anvil_node.url)
    governor, bureau, producer, registrar = chain.dev_accounts()[:4]
    deployment, _ = deploy(chain, governor, DeploymentStore(home / "deployments"))
    registry = IdentityRegistry.from_deployment(chain, deployment)
    registry.appoint_authority(bureau, Level.HIGH, sender=governor)
    pp = ProductPassports.from_deployment(chain, deployment)
    for org, role in ((producer, Role.PRODUCER), (registrar, Role.REGISTRAR)):
        registry.verify(credential_for(org), Level.HIGH, chain.latest_timestamp() + 10**8, sender=bureau)
        pp.set_roles(org, role, sender=governor)
    pp.register_prefix("9506000", producer, sender=registrar)
    (paddy,) = pp.commission([ProductKey.lot(PADDY_GTIN, "P-1")], sender=producer)
    pp.transform(transformation_id("mill-1"), [paddy], [ProductKey.item(GTIN, "CLI-1")], sender=producer)
    return chain, pp, deployment, paddy, producer


def test_cli_index_sync_status_and_trace(
    anvil_node: AnvilNode, tmp_path: Path, index_location: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through the CLI: in HOME/index by default, on PostgreSQL with ``--index-db``."""
    on_server = ["--index-db", index_location] if is_postgres(index_location) else []
    home = tmp_path / "home"
    chain, pp, _deployment, paddy, producer = milled_bag(anvil_node, home)
    pp.record([event(paddy, BizStep.RECALLING, Disposition.RECALLED)], sender=producer)
    bag = "(01)09506000134352(21)CLI-1"

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main(["--rpc", anvil_node.url, "--home", str(home), *on_server, *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    no_index = run("passport", "trace", bag, "--index")
    synced = run("index", "sync", "--json")
    status = run("index", "status", "--json")
    from_index = run("passport", "trace", bag, "--index", "--json")
    from_node = run("passport", "trace", bag, "--json")
    mine(chain, 3)
    waiting = run("index", "sync", "--confirmations", "2")
    human_status = run("index", "status")

    head = chain.w3.eth.block_number
    genesis = genesis_hash(chain)
    if on_server:
        port = urlsplit(index_location).port
        where = f"postgresql://chainpass@127.0.0.1:{port}/{urlsplit(index_location).path[1:]}#"
        where += schema_name(chain.chain_id, genesis, pp.address)
    else:
        where = str(index_path(home, chain.chain_id, pp.address, genesis))
    assert no_index[0] == 1 and "run `chainpass index sync` first" in no_index[2]
    assert synced[0] == 0 and json.loads(synced[1])["location"] == where
    assert json.loads(synced[1])["checkpoint"] == head - 3
    state = json.loads(status[1])
    assert (state["checkpoint"], state["behind"], state["removed_logs"]) == (head - 3, 0, 0)
    assert state["logs"] > 0 and state["address"] == pp.address
    assert from_index[0] == 0 and json.loads(from_index[1]) == json.loads(from_node[1])
    assert [e.get("biz_step") for e in json.loads(from_index[1])][-1] == "recalling"
    assert waiting[0] == 0 and f"Indexed blocks {head - 2}-{head - 2}: 0 log(s)" in waiting[1]
    assert f"Checkpoint block {head - 2}; head {head}, 2 confirmation(s)" in waiting[1]
    assert "2 block(s) behind" in human_status[1] and f"Trace index {where}" in human_status[1]


# ------------------------------------------------------------------- a shared server


def test_syncs_at_once_on_a_shared_server_store_every_log_once(
    chain: Chain, pp: ProductPassports, orgs: Orgs, postgres_server: LocalPostgres
) -> None:
    """Three processes' indexes (each its own connection) sync one schema at the same time:
    they take turns, and the index holds each log once, as the node has them."""
    goods(pp, orgs)
    url = postgres_server.database()
    indexes = [TraceIndex.for_client(pp, url, max_range=4) for _ in range(3)]
    try:
        with ThreadPoolExecutor(len(indexes)) as pool:
            reports = list(pool.map(lambda trace_index: trace_index.sync(), indexes))
        everything = node_logs(chain, pp.address, pp.first_block)
        assert all(indexed_logs(trace_index) == everything for trace_index in indexes)
        assert stored_logs(indexes[0]) == len(everything)
        assert sum(report.logs for report in reports) == len(everything)  # no range indexed twice
        assert {report.checkpoint for report in reports} == {chain.w3.eth.block_number}
    finally:
        for trace_index in indexes:
            trace_index.close()


def test_a_server_keeps_each_chain_and_contract_apart(
    pp: ProductPassports, orgs: Orgs, postgres_server: LocalPostgres
) -> None:
    goods(pp, orgs)
    url = postgres_server.database()
    other = "0x" + "22" * 20
    with TraceIndex.for_client(pp, url) as passports_index, TraceIndex(url, pp.chain, other) as other_index:
        passports_index.sync()
        other_index.sync()
        assert passports_index.logs() and other_index.logs() == []
        assert passports_index.location != other_index.location
    with psycopg.connect(url) as db:
        comments = db.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname LIKE 'chainpass%'"
        ).fetchall()
    assert sorted(comment for (comment,) in comments) == sorted(
        f"chainpass trace index: chain {pp.chain.chain_id} (genesis {genesis_hash(pp.chain)}), contract {address}"
        for address in (pp.address, Web3.to_checksum_address(other))
    )


def test_an_unreachable_server_or_an_unknown_store_is_one_sentence() -> None:
    chain, address, port = Chain.embedded(), "0x" + "11" * 20, free_port()
    with pytest.raises(IndexUnreachable) as unreachable:
        TraceIndex(f"postgresql://me:secret@127.0.0.1:{port}/index", chain, address)
    with pytest.raises(InvalidInput, match="a SQLite file or a postgresql:// URL, not mysql://"):
        TraceIndex("mysql://127.0.0.1/index", chain, address)
    with pytest.raises(InvalidInput, match="not an empty value"):
        TraceIndex("", chain, address)
    message = str(unreachable.value)
    assert message.startswith(
        f"The trace index's PostgreSQL server at postgresql://me@127.0.0.1:{port}/index#chainpass_"
    )
    assert "did not answer" in message and "Connection refused" in message and "secret" not in message


def test_serve_workers_and_a_following_sync_share_one_server(
    anvil_node: AnvilNode, tmp_path: Path, postgres_server: LocalPostgres
) -> None:
    """The set-up docs/operations.md describes: one `index sync --follow` process and two
    `serve` workers over one PostgreSQL index. The follower indexes a recall nobody asked
    for yet; both workers' pages then show it; the index holds each log once."""
    home = tmp_path / "home"
    chain, pp, deployment, paddy, producer = milled_bag(anvil_node, home)
    url = postgres_server.database()
    follower = subprocess.Popen(
        [sys.executable, "-c", "from chainpass.cli import main; main()", "--rpc", anvil_node.url, "--home", str(home),
         "--index-db", url, "index", "sync", "--follow", "0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

    def until(done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not done():
            assert follower.poll() is None and time.monotonic() < deadline, follower.communicate()
            time.sleep(0.05)

    try:
        until(lambda: _checkpoint(url, chain, pp.address) >= chain.w3.eth.block_number)
        with (
            serving(chain, deployment, tmp_path, index_location=url) as first,
            serving(chain, deployment, tmp_path, index_location=url) as second,
            TraceIndex.for_client(pp, url, create=False) as reader,
        ):
            recalled = pp.record([event(paddy, BizStep.RECALLING, Disposition.RECALLED)], sender=producer)
            tx = "0x" + bytes(recalled["transactionHash"]).hex()
            until(lambda: tx in {log.transaction_hash for log in reader.logs()})  # the follower's sync alone
            pages = [
                requests.get(f"{base}/passport/01/09506000134352/21/CLI-1", timeout=60) for base in (first, second)
            ]
            logs = indexed_logs(reader)
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=30)
    assert all(page.status_code == 200 and f"/tx/{tx}" in page.text for page in pages)
    assert logs == node_logs(chain, pp.address, pp.first_block)
    assert follower.returncode == 0 and "Stopped following" in err, err
    assert out.count("Indexed blocks") == 2, out  # the deployment's blocks, then the recall's
