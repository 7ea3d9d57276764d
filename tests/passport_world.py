"""Shared set-up for the passport tests: five verified organisations with their roles,
the passport client, and helpers to record events and assert refusals.

conftest.py loads this module as a plugin, so its fixtures (``orgs_setup``, ``orgs``, ``pp``)
are there for every test module; import the helpers. The organisations are set up once per
backend and kept from one passport module to the next (``OrgsLayer``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from accounts import World, credential_for, fund
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from web3.types import TxReceipt

from chainpass.chain import Chain, Sender, sender_address
from chainpass.enums import BizStep, Disposition, Level, Role, State
from chainpass.passport import EpcisEvent, ProductPassports, location_id
from chainpass.standards.gs1 import ProductKey

GTIN = "9506000134352"
CASE_GTIN = "19506000134359"
#: The GS1 company prefixes the fixtures register to the producer (GS1's example
#: prefixes, and those of the other GTINs the tests use).
PRODUCER_PREFIXES = ("9506000", "0614141", "4012345", "0036000")
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
    #: A GS1 member organisation (role registrar): registered PRODUCER_PREFIXES to the producer.
    registrar: ChecksumAddress
    #: A food-safety authority (role food_safety): may order the recall of any product.
    #: A local key (the dev accounts are all taken), funded and verified like the others.
    food_safety: LocalAccount

    def by_name(self, name: str) -> ChecksumAddress:
        address: ChecksumAddress = getattr(self, name)
        return address


ORG_ROLES = {
    "producer": Role.PRODUCER,
    "inspector": Role.INSPECTOR,
    "carrier": Role.CARRIER,
    "customs": Role.CUSTOMS,
    "retailer": Role.RETAILER,
    "registrar": Role.REGISTRAR,
}
#: The food-safety authority's key: fixed, so every module and backend sees the same one.
FOOD_SAFETY_KEY = keccak(text="chainpass tests: food-safety authority")


def set_up_orgs(world: World) -> Orgs:
    """The organisations, verified by the bureau (level high) and given their roles, the
    food-safety authority funded too, and PRODUCER_PREFIXES registered to the producer."""
    chain, registry, roles = world.chain, world.registry, world.roles
    accounts = chain.dev_accounts()
    orgs = Orgs(
        producer=accounts[8],
        inspector=roles.holder,
        carrier=roles.other_holder,
        customs=roles.hotel,
        retailer=roles.bank,
        stranger=roles.stranger,
        governor=roles.governor,
        registrar=accounts[9],
        food_safety=Account.from_key(FOOD_SAFETY_KEY),
    )
    passports = ProductPassports.from_deployment(chain, world.deployment)
    expires = chain.latest_timestamp() + 10**8
    for name, role in ORG_ROLES.items():
        org = orgs.by_name(name)
        registry.verify(credential_for(org), Level.HIGH, expires, sender=roles.bureau)
        passports.set_roles(org, role, sender=roles.governor)
    authority = orgs.food_safety.address
    fund(chain, authority)
    registry.verify(credential_for(authority), Level.HIGH, expires, sender=roles.bureau)
    passports.set_roles(authority, Role.FOOD_SAFETY, sender=roles.governor)
    for prefix in PRODUCER_PREFIXES:
        passports.register_prefix(prefix, orgs.producer, sender=orgs.registrar)
    return orgs


class OrgsLayer:
    """The organisations set up on one backend's world, kept on its chain from one module
    that uses them to the next (the passport modules follow one another), and taken away
    before a module that does not: each module returns the chain to the state right after
    the set-up, so each starts from that state, as if the organisations were set up for it
    alone (some 2 s a module on the three backends, most of it on Ganache).

    The layer does not take that on trust: a module's own snapshot older than the set-up (a
    module-scoped fixture on the node, set up before the first test that uses the
    organisations), reverted after it, takes the organisations away, and the snapshot taken
    before them too. So it asks the chain: are the organisations there (the food-safety
    authority, the set-up's last role, holds its role)? If not, they are set up anew on the
    chain as it is, instead of being assumed (a producer without its role) or taken away by a
    revert to a snapshot the node no longer has. Blocks added on top of them (a test on the
    node outside the snapshots) change nothing."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.orgs: Orgs | None = None
        self._before: Any = None  # the chain's snapshot before the set-up, while it stands

    def enter(self) -> Orgs:
        """The organisations, set up first unless they stand on the chain already."""
        if self.orgs is None or not self._standing(self.orgs):
            self._before = self.world.chain.snapshot()
            self.orgs = set_up_orgs(self.world)
        return self.orgs

    def leave(self) -> None:
        """The chain back to the world without the organisations (if they stand)."""
        if self.orgs is not None and self._standing(self.orgs):
            self.world.chain.revert(self._before)
        self.orgs = None

    def _standing(self, orgs: Orgs) -> bool:
        passports = ProductPassports.from_deployment(self.world.chain, self.world.deployment)
        return passports.roles_of(orgs.food_safety.address) == Role.FOOD_SAFETY


#: Each backend's layer, once made (``orgs_layer``): kept for the session, like the world.
_LAYERS = pytest.StashKey[dict[str, OrgsLayer]]()
#: Whether a module (by its path in node ids) uses the organisations, once known.
_MODULES_USING_ORGS = pytest.StashKey[dict[str, bool]]()


@pytest.fixture(scope="session")
def orgs_layer(world_session: World, backend: str, request: pytest.FixtureRequest) -> OrgsLayer:
    layers = request.session.stash.setdefault(_LAYERS, {})
    if backend not in layers:
        layers[backend] = OrgsLayer(world_session)
    return layers[backend]


@pytest.fixture(scope="module")
def orgs_setup(orgs_layer: OrgsLayer) -> Iterator[Orgs]:
    """The organisations (``set_up_orgs``) on this backend's chain for this module, which
    starts from their set-up's state and returns the chain to it at its end. A module
    fixture that changes the chain builds on this one, so that its changes go too."""
    orgs = orgs_layer.enter()
    chain = orgs_layer.world.chain
    snapshot = chain.snapshot()
    yield orgs
    chain.revert(snapshot)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a test of a module that does not use the organisations (``orgs_setup``), and
    before its fixtures: the organisations taken away from each chain it may use (its
    backend's, or a node it uses directly, as the CLI tests do)."""
    layers = item.session.stash.get(_LAYERS, {})
    if all(layer.orgs is None for layer in layers.values()) or _uses_orgs(item):
        return
    callspec = getattr(item, "callspec", None)
    backend = callspec.params.get("backend") if callspec is not None else None
    for name, layer in layers.items():
        if name == backend or f"{name}_node" in getattr(item, "fixturenames", ()):
            layer.leave()


def _uses_orgs(item: pytest.Item) -> bool:
    """Whether a test of ``item``'s module (among those that run) uses the organisations."""
    known: dict[str, bool] = item.session.stash.setdefault(_MODULES_USING_ORGS, {})
    module = item.nodeid.partition("::")[0]
    if module not in known:
        known[module] = any(
            i.nodeid.partition("::")[0] == module and "orgs_setup" in getattr(i, "fixturenames", ())
            for i in item.session.items
        )
    return known[module]


@pytest.fixture
def orgs(orgs_setup: Orgs, world: World) -> Orgs:
    return orgs_setup


@pytest.fixture
def pp(world: World) -> ProductPassports:
    return ProductPassports.from_deployment(world.chain, world.deployment)


# ---------------------------------------------------------------------------- helpers


def last_receipt(chain: Chain) -> TxReceipt:
    """The receipt of the latest block's (only) transaction: `commission` returns ids, not its receipt."""
    (tx_hash,) = chain.w3.eth.get_block("latest")["transactions"]
    return chain.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]


def shown(id_: int) -> str:
    """A passport id as refusals show it: its first 8 and last 4 hex digits."""
    digits = f"{id_:x}"
    return f"{digits[:8]}…{digits[-4:]}"


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


def hand_over(pp: ProductPassports, id_: int, holder: Sender, receiver: Sender, *, deadline: int = 2**40 - 1) -> None:
    """``holder`` offers the goods of ``id_`` to ``receiver``, who accepts: custody moves."""
    offer = pp.custody_offer(id_, sender_address(receiver), deadline=deadline)
    pp.accept_custody(pp.sign_offer(offer, signer=holder), sender=receiver)


def ship(pp: ProductPassports, orgs: Orgs, *ids: int, by: Sender | None = None) -> TxReceipt:
    """Ship ``ids``, by whoever holds them (the producer unless ``by`` says otherwise)."""
    events = [event(i, BizStep.SHIPPING, Disposition.IN_TRANSIT) for i in ids]
    return pp.record(events, sender=by or orgs.producer)


def receive(pp: ProductPassports, orgs: Orgs, *ids: int, by: Sender | None = None) -> TxReceipt:
    """Receive ``ids``, by whoever holds them (the producer unless ``by`` says otherwise)."""
    events = [event(i, BizStep.RECEIVING, Disposition.SELLABLE) for i in ids]
    return pp.record(events, sender=by or orgs.producer)


def sell(pp: ProductPassports, orgs: Orgs, id_: int) -> TxReceipt:
    """The retailer sells ``id_``: it takes custody from whoever holds the goods first, if need be."""
    holder = pp.custodian_of(id_)
    if holder != orgs.retailer:
        hand_over(pp, id_, holder, orgs.retailer)
    return pp.record([event(id_, BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD)], sender=orgs.retailer)


def retail_sale(pp: ProductPassports, id_: int, by: Sender) -> TxReceipt:
    """``by`` records the retail sale of ``id_`` as it is (no hand-over first, unlike ``sell``)."""
    return pp.record([event(id_, BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD)], sender=by)


@dataclass(frozen=True)
class Load:
    """Items packed in a case, packed in a pallet (``load``)."""

    items: list[int]
    case: int
    pallet: int


def load(pp: ProductPassports, orgs: Orgs, count: int = 3) -> Load:
    """``count`` items packed in a case (tier 1), packed in a pallet (tier 2), all held by the producer."""
    keys = [
        *item_keys(count),
        ProductKey.container(CASE_GTIN, "CASE1", 1),
        ProductKey.container(CASE_GTIN, "PAL1", 2),
    ]
    *items, case, pallet = pp.commission(keys, sender=orgs.producer)
    pp.pack(case, items, sender=orgs.producer)
    pp.pack(pallet, [case], sender=orgs.producer)
    return Load(items, case, pallet)


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


def enlist_producer(
    world: World, pp: ProductPassports, account: str, *, licensed_by: str | None = None
) -> ChecksumAddress:
    """Make ``account`` a second producer: verified by the bureau (level high) and given the
    producer role; with ``licensed_by`` (the producer), licensed for the whole of GTIN's
    prefix. Returns its checksummed address."""
    chain, roles = world.chain, world.roles
    world.registry.verify(credential_for(account), Level.HIGH, chain.latest_timestamp() + 10**8, sender=roles.bureau)
    pp.set_roles(account, Role.PRODUCER, sender=roles.governor)
    if licensed_by is not None:
        pp.set_licence(PRODUCER_PREFIXES[0], account, sender=licensed_by)
    return to_checksum_address(account)
