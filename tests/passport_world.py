"""Shared set-up for the passport tests: five verified organisations with their roles,
the passport client, and helpers to record events and assert refusals.

conftest.py loads this module as a plugin, so its fixtures (``orgs_setup``, ``orgs``, ``pp``)
are there for every test module; import the helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import World, assert_readable, credential_for
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from web3.logs import DISCARD
from web3.types import TxReceipt

from chainpass.chain import Chain
from chainpass.errors import ContractRevert
from chainpass.gs1 import ProductKey
from chainpass.identity import Level
from chainpass.passport import BizStep, Disposition, EpcisEvent, ProductPassports, Role, State, location_id

GTIN = "9506000134352"
CASE_GTIN = "19506000134359"
#: When the events happened, as the actors declare it (2026-01-01T00:00:00Z).
T0 = 1_767_225_600
WAREHOUSE = location_id("urn:epc:id:sgln:9506000.00001.0")
PORT = location_id("urn:epc:id:sgln:9506000.00002.0")
CERTIFICATE = keccak(text="inspection certificate 2026-001")
METADATA_HASH = keccak(text='{"product": "coffee beans, 1 kg"}')
METADATA_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
ZERO_ADDRESS = "0x" + "00" * 20
ERC165 = bytes.fromhex("01ffc9a7")
ERC721 = bytes.fromhex("80ac58cd")


# ---------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Orgs:
    producer: ChecksumAddress
    inspector: ChecksumAddress
    carrier: ChecksumAddress
    customs: ChecksumAddress
    retailer: ChecksumAddress
    #: No identity, no role.
    stranger: ChecksumAddress
    governor: ChecksumAddress

    def by_name(self, name: str) -> ChecksumAddress:
        address: ChecksumAddress = getattr(self, name)
        return address


ORG_ROLES = {
    "producer": Role.PRODUCER,
    "inspector": Role.INSPECTOR,
    "carrier": Role.CARRIER,
    "customs": Role.CUSTOMS,
    "retailer": Role.RETAILER,
}


@pytest.fixture(scope="module")
def orgs_setup(world_session: World) -> Iterator[Orgs]:
    """The five organisations, verified (level high) and given their role, on this backend's
    chain for this module; the chain returns to its state before at the module's end."""
    chain, registry, roles = world_session.chain, world_session.registry, world_session.roles
    snapshot = chain.snapshot()
    accounts = chain.dev_accounts()
    orgs = Orgs(
        producer=accounts[8],
        inspector=roles.holder,
        carrier=roles.other_holder,
        customs=roles.hotel,
        retailer=roles.bank,
        stranger=roles.stranger,
        governor=roles.governor,
    )
    passports = ProductPassports.from_deployment(chain, world_session.deployment)
    for name, role in ORG_ROLES.items():
        org = orgs.by_name(name)
        registry.verify(credential_for(org), Level.HIGH, chain.latest_timestamp() + 10**8, sender=roles.bureau)
        passports.set_roles(org, role, sender=roles.governor)
    yield orgs
    chain.revert(snapshot)


@pytest.fixture
def orgs(orgs_setup: Orgs, world: World) -> Orgs:
    return orgs_setup


@pytest.fixture
def pp(world: World) -> ProductPassports:
    return ProductPassports.from_deployment(world.chain, world.deployment)


# ---------------------------------------------------------------------------- helpers


def logs(pp: ProductPassports, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
    """The arguments of every ``name`` event of the passport contract in ``receipt``."""
    processed = getattr(pp.contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return [dict(e["args"]) for e in processed]


def last_receipt(chain: Chain) -> TxReceipt:
    """The receipt of the latest block's (only) transaction: `commission` returns ids, not its receipt."""
    (tx_hash,) = chain.w3.eth.get_block("latest")["transactions"]
    return chain.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]


def shown(id_: int) -> str:
    """A passport id as refusals show it: its first 8 and last 4 hex digits."""
    digits = f"{id_:x}"
    return f"{digits[:8]}…{digits[-4:]}"


def assert_refused(chain: Chain, call: Callable[[], object], error: str, **args: object) -> ContractRevert:
    """``call`` is refused with custom error ``error`` (whose shown arguments include ``args``),
    a readable sentence, and nothing mined."""
    head = chain.w3.eth.get_block("latest")
    with pytest.raises(ContractRevert) as info:
        call()
    after = chain.w3.eth.get_block("latest")
    assert info.value.error == error, str(info.value)
    for name, value in args.items():
        assert info.value.error_args[name] == value, (name, info.value.error_args)
    assert_readable(info.value)
    assert (after["number"], after["hash"]) == (head["number"], head["hash"])
    return info.value


def event(
    id_: int,
    step: BizStep,
    disposition: Disposition,
    *,
    read_point: bytes = WAREHOUSE,
    document: bytes = bytes(32),
    at: int = T0,
    event_id: bytes = bytes(32),
) -> EpcisEvent:
    return EpcisEvent((id_,), step, disposition, at, read_point, document, event_id)


def item_keys(count: int, prefix: str = "BAG") -> list[ProductKey]:
    return [ProductKey.item(GTIN, f"{prefix}{i:05d}") for i in range(count)]


def states(pp: ProductPassports, *ids: int) -> list[tuple[State, State]]:
    """(own state, effective state) of each passport."""
    records = [pp.passport(i) for i in ids]
    return [(r.state, r.effective_state) if r else (State.NONE, State.NONE) for r in records]


def commission_one(pp: ProductPassports, orgs: Orgs, key: ProductKey) -> int:
    (id_,) = pp.commission([key], sender=orgs.producer)
    return id_


def ship(pp: ProductPassports, orgs: Orgs, *ids: int) -> TxReceipt:
    return pp.record([event(i, BizStep.SHIPPING, Disposition.IN_TRANSIT) for i in ids], sender=orgs.carrier)


def receive(pp: ProductPassports, orgs: Orgs, *ids: int) -> TxReceipt:
    return pp.record([event(i, BizStep.RECEIVING, Disposition.SELLABLE) for i in ids], sender=orgs.retailer)


def sell(pp: ProductPassports, orgs: Orgs, id_: int) -> TxReceipt:
    return pp.record([event(id_, BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD)], sender=orgs.retailer)


def recorded(
    id_: int,
    actor: str,
    step: BizStep,
    disposition: Disposition,
    read_point: bytes = WAREHOUSE,
    *,
    event_id: bytes = bytes(32),
) -> dict[str, Any]:
    """A PassportEventRecorded event's arguments, as web3 decodes them."""
    return {
        "id": id_,
        "actor": actor,
        "eventId": event_id,
        "bizStep": int(step),
        "disposition": int(disposition),
        "eventTime": T0,
        "readPoint": read_point,
        "documentHash": bytes(32),
    }


def recall(pp: ProductPassports, orgs: Orgs, id_: int, *, by: str | None = None) -> TxReceipt:
    """Record a recall of ``id_``, by the producer unless ``by`` says otherwise."""
    return pp.record([event(id_, BizStep.RECALLING, Disposition.RECALLED)], sender=by or orgs.producer)


def enlist_producer(world: World, pp: ProductPassports, account: str) -> ChecksumAddress:
    """Make ``account`` a second producer: verified by the bureau (level high) and given the
    producer role. Returns its checksummed address."""
    chain, roles = world.chain, world.roles
    world.registry.verify(credential_for(account), Level.HIGH, chain.latest_timestamp() + 10**8, sender=roles.bureau)
    pp.set_roles(account, Role.PRODUCER, sender=roles.governor)
    return to_checksum_address(account)
