"""Who may act on passports: the organisations' roles, the governor's, and governance in
two steps; the table of who may take each action on which goods; and identity gating (an
actor's identity must stand in force in the registry).

Chain tests run on the embedded EVM, Anvil and Ganache (see conftest.py), from the
organisations of ``passport_world`` (producer, inspector, carrier, customs, retailer,
registrar, a food-safety authority), verified and given their roles once per backend
(``orgs_setup``); each test is isolated by the per-test snapshot of the ``world`` fixture.

Physical steps and observations are recorded by whoever holds the goods, with the step's
role, so where another party acts the tests hand the goods over first (``hand_over``);
inspecting and customs steps are the regulators' on any passport; a passport's producer, or
a food-safety authority, recalls it (issue 11).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from accounts import World
from passport_world import (
    CASE_GTIN,
    CERTIFICATE,
    GTIN,
    ORG_ROLES,
    PORT,
    ZERO_ADDRESS,
    Orgs,
    commission_one,
    event,
    hand_over,
    item_keys,
    last_receipt,
    ship,
    shown,
    states,
)
from support import assert_refused, logs

from chainpass.chain import Chain, Sender, sender_address
from chainpass.enums import BizStep, Disposition, Role, Standing, State
from chainpass.errors import InvalidInput
from chainpass.identity import IdentityRegistry
from chainpass.passport import ProductPassports
from chainpass.standards.gs1 import ProductKey

# ------------------------------------------------------------------ roles and governance


def test_orgs_hold_their_role_and_an_identity_in_force(
    pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs
) -> None:
    for name, role in ORG_ROLES.items():
        org = orgs.by_name(name)
        assert pp.roles_of(org) == role, name
        assert registry.status(org).standing is Standing.VALID, name
    assert pp.roles_of(orgs.stranger) == Role(0)
    assert registry.status(orgs.stranger).standing is Standing.NEVER_VERIFIED
    assert pp.registry.address == registry.address


def test_governor_sets_roles_as_a_bit_set(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    roles = Role.parse_many(["carrier", "Retailer "])

    receipt = pp.set_roles(orgs.stranger, roles, sender=orgs.governor)

    assert receipt["status"] == 1
    assert logs(pp, "RolesSet", receipt) == [{"account": orgs.stranger, "roles": 4 | 16}]
    assert pp.roles_of(orgs.stranger) == Role.CARRIER | Role.RETAILER
    assert pp.roles_of(orgs.stranger).labels == ["carrier", "retailer"]
    removed = pp.set_roles(orgs.stranger, Role(0), sender=orgs.governor)
    assert logs(pp, "RolesSet", removed) == [{"account": orgs.stranger, "roles": 0}]
    assert pp.roles_of(orgs.stranger) == Role(0)
    with pytest.raises(InvalidInput, match="'shipper' is not a role"):
        Role.parse_many(["shipper"])
    assert_refused(
        chain, lambda: pp.set_roles(ZERO_ADDRESS, Role.PRODUCER, sender=orgs.governor), "PassportZeroAddress"
    )


def test_governance_moves_in_two_steps(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    c = pp.contract.functions

    offer = chain.transact(c.transferGovernance(orgs.stranger), orgs.governor)
    assert_refused(chain, lambda: chain.transact(c.acceptGovernance(), orgs.producer), "PassportNotPendingGovernor")
    acceptance = chain.transact(c.acceptGovernance(), orgs.stranger)

    assert logs(pp, "GovernanceTransferStarted", offer) == [
        {"previousGovernor": orgs.governor, "newGovernor": orgs.stranger}
    ]
    assert logs(pp, "GovernanceTransferred", acceptance) == [
        {"previousGovernor": orgs.governor, "newGovernor": orgs.stranger}
    ]
    assert c.governor().call() == orgs.stranger
    assert_refused(
        chain,
        lambda: pp.set_roles(orgs.carrier, Role.RETAILER, sender=orgs.governor),
        "PassportNotGovernor",
        account=orgs.governor,
    )
    pp.set_roles(orgs.carrier, Role.RETAILER, sender=orgs.stranger)
    assert pp.roles_of(orgs.carrier) == Role.RETAILER


# ------------------------------------------------------------------ who may touch what


@dataclass(frozen=True)
class Scene:
    """Passports ready for each action of the table, all the producer's (commissioned and
    owned by it), held by different parties."""

    own: int  # an item, active, held by the producer
    carried: int  # an item, active, held by the carrier (custody handed over)
    shelved: int  # an item, active, held by the retailer
    moving: int  # an item, in transit, held by the producer
    moving_carried: int  # an item, in transit, held by the carrier
    packed: int  # an item, packed in `case`
    case: int  # a case, active, held by the producer


def scene(pp: ProductPassports, orgs: Orgs) -> Scene:
    keys = [*item_keys(6, "SCENE"), ProductKey.container(CASE_GTIN, "SCENECASE", 1)]
    own, carried, shelved, moving, moving_carried, packed, case = pp.commission(keys, sender=orgs.producer)
    hand_over(pp, carried, orgs.producer, orgs.carrier)
    hand_over(pp, shelved, orgs.producer, orgs.retailer)
    ship(pp, orgs, moving)
    hand_over(pp, moving_carried, orgs.producer, orgs.carrier)
    ship(pp, orgs, moving_carried, by=orgs.carrier)
    pp.pack(case, [packed], sender=orgs.producer)
    return Scene(own, carried, shelved, moving, moving_carried, packed, case)


NEW_KEY = ProductKey.item(GTIN, "NEW1")
NEW_ACCOUNT = "0x" + "00" * 19 + "01"


def step(bizstep: BizStep, disposition: Disposition) -> Callable[[ProductPassports, Scene, int, Sender], object]:
    return lambda pp, s, target, who: pp.record([event(target, bizstep, disposition)], sender=who)


#: Each action of the table, on passport ``target`` of the scene, by caller ``who``.
ACTIONS: dict[str, Callable[[ProductPassports, Scene, int, Sender], object]] = {
    "commission": lambda pp, s, target, who: pp.commission([NEW_KEY], sender=who),
    "inspect": lambda pp, s, target, who: pp.record(
        [event(target, BizStep.INSPECTING, Disposition.NON_CONFORMANT, document=CERTIFICATE)], sender=who
    ),
    "ship": step(BizStep.SHIPPING, Disposition.IN_TRANSIT),
    "receive": step(BizStep.RECEIVING, Disposition.ACTIVE),
    "customs_release": lambda pp, s, target, who: pp.record(
        [event(target, BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT, read_point=PORT)], sender=who
    ),
    "customs_hold": lambda pp, s, target, who: pp.record(
        [event(target, BizStep.CUSTOMS_HOLDING, Disposition.NON_CONFORMANT, read_point=PORT)], sender=who
    ),
    "sell": step(BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD),
    "recall": step(BizStep.RECALLING, Disposition.RECALLED),
    "decommission": step(BizStep.DECOMMISSIONING, Disposition.INACTIVE),
    "destroy": step(BizStep.DESTROYING, Disposition.DESTROYED),
    # An observation (any role): goods reported stolen on arrival are quarantined.
    "observe": step(BizStep.ARRIVING, Disposition.STOLEN),
    "pack": lambda pp, s, target, who: pp.pack(s.case, [target], sender=who),
    "unpack": lambda pp, s, target, who: pp.unpack([target], sender=who),
    "set_roles": lambda pp, s, target, who: pp.set_roles(NEW_ACCOUNT, Role.CARRIER, sender=who),
}


def effect(pp: ProductPassports, action: str, target: int) -> object:
    """What the action changes, read back from the chain: the roles it sets, or the
    (own state, container) of the passport it acts on."""
    if action == "set_roles":
        return pp.roles_of(NEW_ACCOUNT)
    record = pp.passport(ProductPassports.passport_id(NEW_KEY) if action == "commission" else target)
    return None if record is None else (record.state, record.container)


#: The action's effect on its target, and the event that names its actor.
EXPECTED: dict[str, tuple[Callable[[Scene], object], str]] = {
    "commission": (lambda s: (State.ACTIVE, None), "BatchCommissioned"),
    "inspect": (lambda s: (State.QUARANTINED, None), "PassportEventRecorded"),
    "ship": (lambda s: (State.IN_TRANSIT, None), "PassportEventRecorded"),
    "receive": (lambda s: (State.ACTIVE, None), "PassportEventRecorded"),
    "customs_release": (lambda s: (State.IN_TRANSIT, None), "PassportEventRecorded"),
    "customs_hold": (lambda s: (State.QUARANTINED, None), "PassportEventRecorded"),
    "sell": (lambda s: (State.SOLD, None), "PassportEventRecorded"),
    "recall": (lambda s: (State.RECALLED, None), "PassportEventRecorded"),
    "decommission": (lambda s: (State.DECOMMISSIONED, None), "PassportEventRecorded"),
    "destroy": (lambda s: (State.DECOMMISSIONED, None), "PassportEventRecorded"),
    "observe": (lambda s: (State.QUARANTINED, None), "PassportEventRecorded"),
    "pack": (lambda s: (State.ACTIVE, s.case), "PassportPacked"),
    "unpack": (lambda s: (State.ACTIVE, None), "PassportUnpacked"),
    "set_roles": (lambda s: Role.CARRIER, "RolesSet"),
}

ALL_THREE = "producer, carrier or retailer"
#: A refusal: the custom error and the arguments it shows. Values of ``holder``,
#: ``containerHolder`` and ``producer`` name an organisation, of ``id`` and ``container``
#: a passport of the scene; ``account`` is always the caller (when the error names one).
Refusal = tuple[str, dict[str, str]]


def missing(role: str) -> Refusal:
    return ("PassportMissingRole", {"role": role})


def not_holder(holder: str, id_: str) -> Refusal:
    return ("PassportNotHolder", {"holder": holder, "id": id_})


#: (action, the scene's passport it acts on, caller) -> None if allowed, else the refusal.
#: Physical steps and observations: whoever holds the goods, with the step's role (its
#: producer and owner too are refused once they handed the goods over); inspecting: an
#: inspector, customs steps: customs, on any passport; recalling: the passport's producer
#: or a food-safety authority; packing: the holder of the container and the goods.
ROLE_TABLE: list[tuple[str, str, str, Refusal | None]] = [
    ("commission", "own", "producer", None),
    ("commission", "own", "inspector", missing("producer")),
    ("commission", "own", "retailer", missing("producer")),
    ("commission", "own", "food_safety", missing("producer")),
    ("commission", "own", "stranger", missing("producer")),
    ("inspect", "own", "inspector", None),
    ("inspect", "carried", "inspector", None),
    ("inspect", "own", "producer", missing("inspector")),
    ("inspect", "carried", "carrier", missing("inspector")),
    ("inspect", "own", "customs", missing("inspector")),
    ("inspect", "own", "stranger", missing("any role")),
    ("ship", "own", "producer", None),
    ("ship", "carried", "carrier", None),
    ("ship", "shelved", "retailer", None),
    ("ship", "carried", "producer", not_holder("carrier", "carried")),
    ("ship", "own", "carrier", not_holder("producer", "own")),
    ("ship", "own", "retailer", not_holder("producer", "own")),
    ("ship", "own", "customs", missing(ALL_THREE)),
    ("ship", "own", "inspector", missing(ALL_THREE)),
    ("receive", "moving", "producer", None),
    ("receive", "moving_carried", "carrier", None),
    ("receive", "moving_carried", "retailer", not_holder("carrier", "moving_carried")),
    ("receive", "moving_carried", "producer", not_holder("carrier", "moving_carried")),
    ("receive", "moving", "customs", missing(ALL_THREE)),
    ("customs_release", "moving_carried", "customs", None),
    ("customs_release", "moving", "customs", None),
    ("customs_release", "moving_carried", "carrier", missing("customs")),
    ("customs_release", "moving", "retailer", missing("customs")),
    ("customs_hold", "moving", "customs", None),
    ("customs_hold", "moving", "producer", missing("customs")),
    ("customs_hold", "moving", "inspector", missing("customs")),
    ("sell", "shelved", "retailer", None),
    ("sell", "own", "retailer", not_holder("producer", "own")),
    ("sell", "carried", "retailer", not_holder("carrier", "carried")),
    ("sell", "carried", "carrier", missing("retailer")),
    ("sell", "own", "producer", missing("retailer")),
    ("recall", "own", "producer", None),
    ("recall", "carried", "producer", None),
    ("recall", "shelved", "food_safety", None),
    ("recall", "carried", "food_safety", None),
    ("recall", "shelved", "retailer", missing("producer")),
    ("recall", "carried", "carrier", missing("producer")),
    ("recall", "own", "inspector", missing("producer")),
    ("recall", "own", "stranger", missing("any role")),
    ("decommission", "own", "producer", None),
    ("decommission", "shelved", "retailer", None),
    ("decommission", "shelved", "producer", not_holder("retailer", "shelved")),
    ("decommission", "own", "retailer", not_holder("producer", "own")),
    ("decommission", "carried", "carrier", missing("producer or retailer")),
    ("destroy", "shelved", "retailer", None),
    ("destroy", "own", "retailer", not_holder("producer", "own")),
    ("destroy", "own", "food_safety", missing("producer or retailer")),
    ("observe", "own", "producer", None),
    ("observe", "carried", "carrier", None),
    ("observe", "carried", "customs", not_holder("carrier", "carried")),
    ("observe", "own", "retailer", not_holder("producer", "own")),
    ("observe", "own", "inspector", not_holder("producer", "own")),
    ("observe", "own", "food_safety", not_holder("producer", "own")),
    ("observe", "own", "stranger", missing("any role")),
    ("pack", "own", "producer", None),
    ("pack", "carried", "carrier", not_holder("producer", "case")),
    ("pack", "carried", "producer", ("PassportHeldElsewhere", {"id": "carried", "holder": "carrier",
                                                               "container": "case", "containerHolder": "producer"})),
    ("pack", "own", "stranger", missing("producer, carrier or retailer")),
    ("pack", "own", "retailer", not_holder("producer", "case")),
    ("unpack", "packed", "producer", None),
    ("unpack", "packed", "carrier", not_holder("producer", "case")),
    ("unpack", "packed", "retailer", not_holder("producer", "case")),
    ("unpack", "packed", "inspector", missing(ALL_THREE)),
    ("unpack", "packed", "customs", missing(ALL_THREE)),
    ("set_roles", "own", "governor", None),
    ("set_roles", "own", "producer", ("PassportNotGovernor", {})),
    ("set_roles", "own", "stranger", ("PassportNotGovernor", {})),
]  # fmt: skip
#: The organisations the shown arguments of a refusal name.
NAMED_ORGS = {"holder", "containerHolder", "producer"}


class TestRolesTable:
    """Each action by each kind of caller on passports it holds or not, from one scene
    prepared once per backend."""

    @pytest.fixture(scope="class")
    def prepared(self, orgs_setup: Orgs, world_session: World) -> Iterator[Scene]:
        chain = world_session.chain
        snapshot = chain.snapshot()
        yield scene(ProductPassports.from_deployment(chain, world_session.deployment), orgs_setup)
        chain.revert(snapshot)

    @pytest.mark.parametrize(
        ("action", "target", "caller", "expected"),
        ROLE_TABLE,
        ids=[f"{a}-{t}-by-{c}" for a, t, c, _ in ROLE_TABLE],
    )
    def test_roles_table(
        self,
        chain: Chain,
        pp: ProductPassports,
        orgs: Orgs,
        prepared: Scene,
        action: str,
        target: str,
        caller: str,
        expected: Refusal | None,
    ) -> None:
        s = prepared
        who: Sender = orgs.food_safety if caller == "food_safety" else orgs.by_name(caller)
        address = sender_address(who)
        id_ = getattr(s, target)
        before = effect(pp, action, id_)
        run = ACTIONS[action]

        if expected is None:
            result = run(pp, s, id_, who)
            receipt = last_receipt(chain)
            effect_of, event_name = EXPECTED[action]
            assert effect(pp, action, id_) == effect_of(s)
            if action != "customs_release":  # the only allowed step that leaves the state as it was
                assert effect_of(s) != before
            (emitted,) = logs(pp, event_name, receipt)
            assert emitted.get("actor", emitted.get("producer", emitted.get("account"))) == (
                NEW_ACCOUNT if action == "set_roles" else address
            )
            assert receipt["from"] == address
            if action == "commission":
                assert pp.producer_of(ProductPassports.passport_id(NEW_KEY)) == address
            elif action not in ("set_roles", "pack", "unpack"):
                assert emitted["id"] == id_
            assert result == ([ProductPassports.passport_id(NEW_KEY)] if action == "commission" else receipt)
        else:
            error, shown_args = expected
            revert = assert_refused(chain, lambda: run(pp, s, id_, who), error)
            if "account" in revert.error_args:
                assert revert.error_args["account"] == address
            for name, value in shown_args.items():
                if name in NAMED_ORGS:
                    assert revert.error_args[name] == orgs.by_name(value), name
                elif name in ("id", "container"):
                    assert revert.error_args[name] == shown(getattr(s, value)), name
                else:
                    assert revert.error_args[name] == value, name
            assert effect(pp, action, id_) == before


# ---------------------------------------------------------------------- identity gating


def test_a_suspended_producer_cannot_commission_until_reinstated(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, world: World
) -> None:
    bureau = world.roles.bureau
    first = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    key = ProductKey.item(GTIN, "BAG2")

    registry.suspend(orgs.producer, "under_review", sender=bureau)

    assert_refused(
        chain,
        lambda: pp.commission([key], sender=orgs.producer),
        "PassportActorNotVerified",
        account=orgs.producer,
        standing="suspended",
    )
    # Its other acts are refused too, and what it made before is untouched.
    assert_refused(
        chain,
        lambda: pp.record([event(first, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer),
        "PassportActorNotVerified",
    )
    assert pp.passport(ProductPassports.passport_id(key)) is None
    assert states(pp, first) == [(State.ACTIVE, State.ACTIVE)]
    assert pp.roles_of(orgs.producer) == Role.PRODUCER  # the role stays; the identity is what is missing

    registry.reinstate(orgs.producer, sender=bureau)
    ids = pp.commission([key], sender=orgs.producer)

    assert ids == [ProductPassports.passport_id(key)]
    assert logs(pp, "Transfer", last_receipt(chain)) == [{"from": ZERO_ADDRESS, "to": orgs.producer, "tokenId": ids[0]}]
    assert states(pp, *ids) == [(State.ACTIVE, State.ACTIVE)]


def test_a_role_without_an_identity_or_a_revoked_one_is_refused(
    chain: Chain, pp: ProductPassports, registry: IdentityRegistry, orgs: Orgs, world: World
) -> None:
    pp.set_roles(orgs.stranger, Role.PRODUCER, sender=orgs.governor)

    assert_refused(
        chain,
        lambda: pp.commission([ProductKey.item(GTIN, "BAG1")], sender=orgs.stranger),
        "PassportActorNotVerified",
        account=orgs.stranger,
        standing="never_verified",
    )

    # The carrier holds the goods when its identity is revoked: it can no longer move them.
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    hand_over(pp, item, orgs.producer, orgs.carrier)
    registry.revoke(orgs.carrier, sender=world.roles.bureau)
    assert_refused(
        chain,
        lambda: ship(pp, orgs, item, by=orgs.carrier),
        "PassportActorNotVerified",
        account=orgs.carrier,
        standing="revoked",
    )
    assert states(pp, item) == [(State.ACTIVE, State.ACTIVE)]
    assert pp.custodian_of(item) == orgs.carrier
