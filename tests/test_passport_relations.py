"""Who may touch what: docs/passport-rules.md, cell by cell.

Two tables. Every business step (each value of ``BizStep``, plus the variants that behave
differently: ``inspecting`` and ``receiving`` under way, ``arriving`` + ``stolen``) by the
actor's relation to the passport; and the other acts (pack, unpack, transform, transfer,
custody offers, reclaim, repair, followMember, the brand registry) by the same relations.
An allowed cell changes exactly what the act should (and logs its actor); a refused cell
reverts with the named custom error, mines nothing and changes nothing.

The scene, built once per backend: passports whose producer, owner and holder are three
different organisations. The producer commissioned them, sold the title to the owner and
handed the goods to the holder. The owner, the holder and an unrelated organisation hold
every trade role (producer, carrier, retailer) and an identity in force (no licence), so
where they are refused it is for their relation, never for a missing role; the inspector,
customs and the food-safety authority hold their own role only; the unverified account
holds the trade roles and no identity. tests/test_passport_roles.py keeps the roles table.
A refusal mines nothing, so only the cells that mined something revert the chain (``cell``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from accounts import World, credential_for, fund
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak
from passport_world import CASE_GTIN, GTIN, Orgs, event, hand_over, last_receipt, recorded, ship
from support import assert_refused, logs
from web3.types import TxReceipt

from chainpass.chain import Chain, Sender, sender_address
from chainpass.custody import CustodyOffer, SignedOffer
from chainpass.enums import BizStep, Disposition, Level, Role, State
from chainpass.passport import ProductPassports, transformation_id
from chainpass.standards.gs1 import ProductKey

RULES_DOC = Path(__file__).resolve().parent.parent / "docs" / "passport-rules.md"
#: The roles of the owner, the holder, the unrelated organisation and the unverified account.
TRADE = Role.PRODUCER | Role.CARRIER | Role.RETAILER
#: The columns of both tables: the actor's relation to the passport.
RELATIONS = ("producer", "owner", "holder", "inspector", "customs", "food_safety", "unrelated", "unverified")
#: The prefix the registrar registers in the table (overlapping none of the fixtures').
NEW_PREFIX = "8712345"

OK = "allowed"
NH = "PassportNotHolder"
MR = "PassportMissingRole"
NV = "PassportActorNotVerified"
IT = "PassportInvalidTransition"
NP = "PassportNotItsProducer"
NOA = "PassportNotOwnerNorApproved"
IO = "PassportInvalidOffer"
AC = "PassportAlreadyCustodian"
NG = "PassportNotGovernor"
NB = "PassportNotBrand"
CF = "PassportCustodianInForce"


# ---------------------------------------------------------------------------- scene


@dataclass(frozen=True)
class Scene:
    """The actors by relation, and the passports they relate to."""

    actors: dict[str, Sender]
    #: A client for the module (the tests below share it: building one per test costs time).
    pp: ProductPassports
    #: An item, active: producer, owner and holder are three organisations.
    active: int
    #: An item in transit (the holder shipped it), the same three.
    travelling: int
    #: An empty case (tier 1), the same three: the holder may pack ``active`` into it.
    case: int
    #: An item packed (by the holder) in ``packed_case``, the same three for both.
    packed: int
    packed_case: int
    #: The wallet the holder's identity moves to when a cell rotates it.
    holder_successor: LocalAccount = field(repr=False)

    def address(self, name: str) -> ChecksumAddress:
        return sender_address(self.actors[name])


def local(name: str) -> LocalAccount:
    """A fixed local key per name: the same accounts on every backend."""
    account: LocalAccount = Account.from_key(keccak(text=f"chainpass tests: relations {name}"))
    return account


@pytest.fixture(scope="module")
def scene(orgs_setup: Orgs, world_session: World) -> Iterator[Scene]:
    world, orgs = world_session, orgs_setup
    chain = world.chain
    snapshot = chain.snapshot()
    pp = ProductPassports.from_deployment(chain, world.deployment)
    owner, holder, unrelated, unverified = (local(n) for n in ("owner", "holder", "unrelated", "unverified"))
    expires = chain.latest_timestamp() + 10**8
    for account in (owner, holder, unrelated, unverified):
        fund(chain, account.address)
        pp.set_roles(account.address, TRADE, sender=orgs.governor)
    for account in (owner, holder, unrelated):
        world.registry.verify(credential_for(account.address), Level.HIGH, expires, sender=world.roles.bureau)
    keys = [
        ProductKey.item(GTIN, "REL-ACTIVE"),
        ProductKey.item(GTIN, "REL-TRAVEL"),
        ProductKey.container(CASE_GTIN, "REL-CASE", 1),
        ProductKey.item(GTIN, "REL-PACKED"),
        ProductKey.container(CASE_GTIN, "REL-CASE-2", 1),
    ]
    ids = pp.commission(keys, sender=orgs.producer)
    for id_ in ids:
        pp.transfer(id_, owner.address, sender=orgs.producer)
        hand_over(pp, id_, orgs.producer, holder)
    active, travelling, case, packed, packed_case = ids
    ship(pp, orgs, travelling, by=holder)
    pp.pack(packed_case, [packed], sender=holder)
    actors: dict[str, Sender] = {
        "producer": orgs.producer,
        "owner": owner,
        "holder": holder,
        "inspector": orgs.inspector,
        "customs": orgs.customs,
        "food_safety": orgs.food_safety,
        "unrelated": unrelated,
        "unverified": unverified,
        "governor": orgs.governor,
        "registrar": orgs.registrar,
    }
    yield Scene(actors, pp, active, travelling, case, packed, packed_case, local("holder's new wallet"))
    chain.revert(snapshot)


@pytest.fixture
def cell(world_session: World, scene: Scene) -> Iterator[World]:
    """The world for one cell, returned to the scene afterwards if the cell mined anything.
    Most cells are refusals, which mine nothing (``assert_refused`` checks it): they skip
    the revert, which is most of a refusal's cost on the embedded EVM."""
    chain = world_session.chain
    snapshot = chain.snapshot()
    head = chain.w3.eth.block_number
    yield world_session
    if chain.w3.eth.block_number != head:
        chain.revert(snapshot)


def test_the_scene_separates_the_relations(scene: Scene, cell: World) -> None:
    """The premise of every cell: three organisations, and who holds what."""
    s, pp, world = scene, scene.pp, cell
    for id_ in (s.active, s.travelling, s.case, s.packed, s.packed_case):
        record = pp.passport(id_)
        assert record is not None
        assert (record.producer, record.owner, record.custodian) == (
            s.address("producer"),
            s.address("owner"),
            s.address("holder"),
        )
    assert states_of(pp, s.active, s.travelling, s.packed) == [State.ACTIVE, State.IN_TRANSIT, State.ACTIVE]
    assert pp.passport(s.packed).container == s.packed_case  # type: ignore[union-attr]
    for name in ("owner", "holder", "unrelated", "unverified"):
        assert pp.roles_of(s.address(name)) == TRADE
    assert world.registry.status(s.address("unverified")).standing.label == "never_verified"
    assert world.registry.status(s.address("unrelated")).standing.label == "valid"


def states_of(pp: ProductPassports, *ids: int) -> list[State]:
    records = [pp.passport(i) for i in ids]
    return [r.state if r else State.NONE for r in records]


# ---------------------------------------------------------------------------- steps

#: How each kind of step answers each relation (columns: RELATIONS).
OWN_FUNCTION = (IT, IT, IT, IT, IT, IT, IT, NV)
OBSERVATION = (NH, NH, OK, NH, NH, NH, NH, NV)
HOLDER_STEP = (NH, NH, OK, MR, MR, MR, NH, NV)
SELLING = (MR, NH, OK, MR, MR, MR, NH, NV)
INSPECTOR_STEP = (MR, MR, MR, OK, MR, MR, MR, NV)
#: An inspection under way: the inspector's on any passport, or the holder's own quality check.
INSPECTION_UNDER_WAY = (NH, NH, OK, OK, NH, NH, NH, NV)
CUSTOMS_STEP = (MR, MR, MR, MR, OK, MR, MR, NV)
RECALL = (OK, NP, NP, MR, MR, OK, NP, NV)


@dataclass(frozen=True)
class StepRow:
    """One row of the steps table: the event recorded, on which passport of the scene, the
    state it leaves when allowed, and each relation's answer."""

    label: str
    step: BizStep
    disposition: Disposition
    #: "active" or "travelling": a state the step is recorded from.
    passport: str
    #: The passport's own state once the step is allowed (None: the step never is).
    next_state: State | None
    outcomes: tuple[str, ...]


#: The lifecycle steps and the variants, with their own rows.
NAMED_ROWS = [
    StepRow("none", BizStep.NONE, Disposition.ACTIVE, "active", None, OWN_FUNCTION),
    StepRow("commissioning", BizStep.COMMISSIONING, Disposition.ACTIVE, "active", None, OWN_FUNCTION),
    StepRow("packing", BizStep.PACKING, Disposition.ACTIVE, "active", None, OWN_FUNCTION),
    StepRow("unpacking", BizStep.UNPACKING, Disposition.ACTIVE, "active", None, OWN_FUNCTION),
    StepRow("inspecting", BizStep.INSPECTING, Disposition.NON_CONFORMANT, "active", State.QUARANTINED, INSPECTOR_STEP),
    # An inspection under way is the inspector's (a regulator's step) on any passport, or the
    # holder's own quality check (an observation).
    StepRow(
        "inspecting (in_progress)",
        BizStep.INSPECTING,
        Disposition.IN_PROGRESS,
        "active",
        State.ACTIVE,
        INSPECTION_UNDER_WAY,
    ),
    StepRow("shipping", BizStep.SHIPPING, Disposition.IN_TRANSIT, "active", State.IN_TRANSIT, HOLDER_STEP),
    StepRow("receiving", BizStep.RECEIVING, Disposition.SELLABLE, "travelling", State.ACTIVE, HOLDER_STEP),
    StepRow(
        "receiving (in_progress)", BizStep.RECEIVING, Disposition.IN_PROGRESS, "travelling", State.ACTIVE, OBSERVATION
    ),
    StepRow(
        "customs_releasing",
        BizStep.CUSTOMS_RELEASING,
        Disposition.IN_TRANSIT,
        "travelling",
        State.IN_TRANSIT,
        CUSTOMS_STEP,
    ),
    StepRow(
        "customs_holding",
        BizStep.CUSTOMS_HOLDING,
        Disposition.NON_CONFORMANT,
        "travelling",
        State.QUARANTINED,
        CUSTOMS_STEP,
    ),
    StepRow("retail_selling", BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD, "active", State.SOLD, SELLING),
    StepRow("recalling", BizStep.RECALLING, Disposition.RECALLED, "active", State.RECALLED, RECALL),
    StepRow(
        "decommissioning", BizStep.DECOMMISSIONING, Disposition.INACTIVE, "active", State.DECOMMISSIONED, HOLDER_STEP
    ),
    StepRow("destroying", BizStep.DESTROYING, Disposition.DESTROYED, "active", State.DECOMMISSIONED, HOLDER_STEP),
    # The case: any role could quarantine anything (an observation, like arriving's own row).
    StepRow("arriving (stolen)", BizStep.ARRIVING, Disposition.STOLEN, "active", State.QUARANTINED, OBSERVATION),
]
_NAMED = {row.step for row in NAMED_ROWS if row.label == row.step.label}
#: Every other step is an observation: recorded on the active item with disposition
#: in_transit (a journey starts: active -> in transit).
OBSERVATION_STEPS = tuple(step for step in BizStep if step not in _NAMED)
STEP_ROWS = NAMED_ROWS + [
    StepRow(step.label, step, Disposition.IN_TRANSIT, "active", State.IN_TRANSIT, OBSERVATION)
    for step in OBSERVATION_STEPS
]
STEP_CELLS = [(row, relation, row.outcomes[i]) for row in STEP_ROWS for i, relation in enumerate(RELATIONS)]


def footprint(pp: ProductPassports, id_: int) -> dict[str, Any]:
    """Everything the chain keeps about passport ``id_`` that an act could change."""
    functions = pp.contract.functions
    owner, kind, state, tier, packed, producer, origin, flags = functions.passportOf(id_).call()
    return {
        "stored": {
            "owner": owner,
            "kind": kind,
            "state": state,
            "tier": tier,
            "packed": packed,
            "producer": producer,
            "origin": origin,
            "flags": flags,
        },
        "custody": tuple(functions.custodyOf(id_).call()),
        "container": functions.containerOf(id_).call(),
        "holder": functions.goodsOf([id_]).call()[0][12:],  # the word's custodian
    }


def refusal_args(error: str, who: str, scene: Scene) -> dict[str, object]:
    """The arguments a refusal names: the caller, and the relation that was missing."""
    holder = scene.address("holder")
    return {
        NH: {"account": who, "holder": holder},
        MR: {"account": who},
        NV: {"account": who, "standing": "never_verified"},
        NP: {"producer": scene.address("producer")},
        NOA: {"account": who},
        IO: {"custodian": holder, "signer": who},
        AC: {"account": who},
        NG: {"account": who},
        NB: {"account": who, "brand": scene.address("producer")},
        CF: {"custodian": holder},
    }.get(error, {})


@pytest.mark.parametrize(
    ("row", "relation", "outcome"), STEP_CELLS, ids=[f"{r.label}-by-{rel}" for r, rel, _ in STEP_CELLS]
)
def test_who_may_record_each_step(cell: World, scene: Scene, row: StepRow, relation: str, outcome: str) -> None:
    chain, pp = cell.chain, scene.pp
    id_ = getattr(scene, row.passport)
    who = scene.actors[relation]
    address = sender_address(who)
    recorded_event = event(id_, row.step, row.disposition)
    if outcome == OK:
        before = footprint(pp, id_)
        receipt = pp.record([recorded_event], sender=who)

        assert row.next_state is not None
        expected = {**before, "stored": {**before["stored"], "state": int(row.next_state)}}
        if row.next_state is State.SOLD:
            expected["stored"]["flags"] |= 2  # sold once: a fact no later step erases
        if row.step is BizStep.RECALLING and relation != "producer":
            expected["stored"]["flags"] |= 4  # a recall ordered by an authority: it reaches all unpacked
        assert footprint(pp, id_) == expected
        assert logs(pp, "PassportEventRecorded", receipt) == [recorded(id_, address, row.step, row.disposition)]
    else:
        # Refused: nothing mined, so nothing changed.
        assert_refused(
            chain,
            lambda: pp.record([recorded_event], sender=who),
            outcome,
            **refusal_args(outcome, address, scene),
        )


def test_the_steps_table_covers_every_step_once_as_a_kind() -> None:
    """Each BizStep has one row of its kind (two more for a step under way, one for stolen
    goods arriving), and every row has an answer for every relation."""
    assert {row.step for row in STEP_ROWS} == set(BizStep)
    assert len(STEP_ROWS) == len(BizStep) + 3
    assert all(len(row.outcomes) == len(RELATIONS) for row in STEP_ROWS)
    # The owner without the goods, and an unrelated organisation, record nothing; the
    # unverified account is refused for its identity before anything else.
    for relation in ("owner", "unrelated"):
        assert OK not in {row.outcomes[RELATIONS.index(relation)] for row in STEP_ROWS}, relation
    assert {row.outcomes[-1] for row in STEP_ROWS} == {NV}


# ---------------------------------------------------------------------------- acts


@dataclass(frozen=True)
class Ctx:
    chain: Chain
    pp: ProductPassports
    world: World
    orgs: Orgs
    scene: Scene


def signed_offer(ctx: Ctx, to: str, signer: Sender) -> SignedOffer:
    """An offer of the active item's goods from its holder to ``to``, signed by ``signer``
    (whoever it is: the client would refuse to sign for another holder)."""
    s = ctx.scene
    _, nonce = ctx.pp.contract.functions.custodyOf(s.active).call()
    typed = CustodyOffer(
        ctx.chain.chain_id,
        ctx.pp.address,
        s.active,
        s.address("holder"),
        sender_address(to),  # type: ignore[arg-type]
        int(nonce),
        ctx.chain.latest_timestamp() + 3600,
    )
    if isinstance(signer, LocalAccount):
        signature = bytes(Account.sign_typed_data(signer.key, full_message=typed.to_json()).signature)
    else:
        signature = ctx.chain.sign_typed_data(signer, typed.to_json())
    return SignedOffer(typed, signature)


def raw_accept(ctx: Ctx, signed: SignedOffer, sender: Sender) -> TxReceipt:
    """The raw ``acceptCustody``: no client check in the way."""
    call = ctx.pp.contract.functions.acceptCustody(signed.offer.passport, signed.offer.deadline, signed.signature)
    return ctx.chain.transact(call, sender)


def custody_nonce(ctx: Ctx) -> int:
    return int(ctx.pp.contract.functions.custodyOf(ctx.scene.active).call()[1])


def revoke_holder(ctx: Ctx) -> None:
    ctx.world.registry.revoke(ctx.scene.address("holder"), sender=ctx.world.roles.bureau)


def rotate_holder(ctx: Ctx) -> None:
    ctx.world.registry.rotate(ctx.scene.holder_successor.address, sender=ctx.scene.actors["holder"])


def owner_approves_holder(ctx: Ctx) -> None:
    call = ctx.pp.contract.functions.approve(ctx.scene.address("holder"), ctx.scene.active)
    ctx.chain.transact(call, ctx.scene.actors["owner"])


@dataclass(frozen=True)
class Act:
    """One row of the acts table: how to perform it, what it may change (``look``), what
    that shows once it is allowed, and the event that names its actor."""

    run: Callable[[Ctx, Sender], object]
    look: Callable[[Ctx], object]
    #: What ``look`` shows after the allowed act, from the caller's address and ``look`` before.
    after: Callable[[Ctx, str, Any], object]
    #: The event, and its argument naming the actor.
    logged: tuple[str, str]
    outcomes: tuple[str, ...]
    #: Set-up the act needs first (done before the footprint is taken).
    prepare: Callable[[Ctx], None] | None = None
    #: Whom the event's argument names, if not the caller.
    logged_names: Callable[[Ctx], str] | None = None


def _holder_after(ctx: Ctx, who: str, before: Any) -> object:
    return (ctx.scene.case, ctx.scene.address("holder"))


ACTS: dict[str, Act] = {
    "pack": Act(
        run=lambda c, who: c.pp.pack(c.scene.case, [c.scene.active], sender=who),
        look=lambda c: (c.pp.contract.functions.containerOf(c.scene.active).call(), c.pp.custodian_of(c.scene.active)),
        after=_holder_after,
        logged=("PassportPacked", "actor"),
        outcomes=(NH, NH, OK, MR, MR, MR, NH, NV),
    ),
    "unpack": Act(
        run=lambda c, who: c.pp.unpack([c.scene.packed], sender=who),
        look=lambda c: (c.pp.contract.functions.containerOf(c.scene.packed).call(), c.pp.custodian_of(c.scene.packed)),
        after=lambda c, who, before: (0, c.scene.address("holder")),
        logged=("PassportUnpacked", "actor"),
        outcomes=(NH, NH, OK, MR, MR, MR, NH, NV),
    ),
    "transform": Act(
        run=lambda c, who: c.pp.transform(transformation_id("relations: milling"), [c.scene.active], [], sender=who),
        look=lambda c: states_of(c.pp, c.scene.active),
        after=lambda c, who, before: [State.CONSUMED],
        logged=("PassportConsumed", "producer"),
        outcomes=(NOA, NH, NOA, MR, MR, MR, NOA, NV),
    ),
    "transfer": Act(
        run=lambda c, who: c.pp.transfer(c.scene.active, c.orgs.retailer, sender=who),
        look=lambda c: (c.pp.contract.functions.ownerOf(c.scene.active).call(), c.pp.custodian_of(c.scene.active)),
        after=lambda c, who, before: (c.orgs.retailer, c.scene.address("holder")),
        logged=("Transfer", "from"),
        outcomes=(NOA, OK, NOA, NOA, NOA, NOA, NOA, NOA),
    ),
    "custody offer (signed by)": Act(
        run=lambda c, who: raw_accept(c, signed_offer(c, c.orgs.carrier, who), c.orgs.carrier),
        look=lambda c: c.pp.custodian_of(c.scene.active),
        after=lambda c, who, before: c.orgs.carrier,
        logged=("CustodyTransferred", "from"),
        outcomes=(IO, IO, OK, IO, IO, IO, IO, IO),
    ),
    "custody accept (offer made out to)": Act(
        run=lambda c, who: raw_accept(c, signed_offer(c, who, c.scene.actors["holder"]), who),
        look=lambda c: c.pp.custodian_of(c.scene.active),
        after=lambda c, who, before: who,
        logged=("CustodyTransferred", "to"),
        outcomes=(OK, OK, AC, OK, OK, OK, OK, NV),
    ),
    "custody cancel offers": Act(
        run=lambda c, who: c.pp.cancel_custody_offers(c.scene.active, sender=who),
        look=custody_nonce,
        after=lambda c, who, before: before + 1,
        logged=("CustodyOffersCancelled", "custodian"),
        outcomes=(NOA, NOA, OK, NOA, NOA, NOA, NOA, NOA),
    ),
    "reclaim (holder revoked)": Act(
        run=lambda c, who: c.pp.reclaim_custody(c.scene.active, sender=who),
        look=lambda c: c.pp.custodian_of(c.scene.active),
        after=lambda c, who, before: c.scene.address("owner"),
        logged=("CustodyReassigned", "by"),
        outcomes=(NOA, OK, NOA, NOA, NOA, NOA, NOA, NOA),
        prepare=revoke_holder,
    ),
    "repair": Act(
        run=lambda c, who: c.pp.repair_custody(c.scene.active, c.orgs.carrier, reason="decision 2026/7", sender=who),
        look=lambda c: c.pp.custodian_of(c.scene.active),
        after=lambda c, who, before: c.orgs.carrier,
        logged=("CustodyReassigned", "by"),
        outcomes=(NG,) * 8,
    ),
    "followMember (holder rotated)": Act(
        run=lambda c, who: c.pp.follow_member(c.scene.address("holder"), sender=who),
        look=lambda c: (
            c.pp.current_wallet_of(c.scene.address("holder")),
            c.pp.custodian_of(c.scene.active),
            c.pp.roles_of(c.scene.holder_successor.address),
        ),
        after=lambda c, who, before: (c.scene.holder_successor.address,) * 2 + (TRADE,),
        logged=("MemberFollowed", "from"),
        outcomes=(OK,) * 8,
        prepare=rotate_holder,
        logged_names=lambda c: c.scene.address("holder"),
    ),
    "registerPrefix": Act(
        run=lambda c, who: c.pp.register_prefix(NEW_PREFIX, c.orgs.retailer, sender=who),
        look=lambda c: c.pp.is_licensed(NEW_PREFIX, c.orgs.retailer),
        after=lambda c, who, before: True,
        logged=("PrefixRegistered", "registrar"),
        outcomes=(MR,) * 8,
    ),
    "revokePrefix": Act(
        run=lambda c, who: c.pp.revoke_prefix("9506000", sender=who),
        look=lambda c: c.pp.is_licensed("9506000", c.orgs.producer),
        after=lambda c, who, before: False,
        logged=("PrefixRevoked", "registrar"),
        outcomes=(MR,) * 8,
    ),
    "setLicence": Act(
        run=lambda c, who: c.pp.set_licence("9506000", c.orgs.retailer, sender=who),
        look=lambda c: c.pp.is_licensed("9506000", c.orgs.retailer),
        after=lambda c, who, before: True,
        logged=("LicenceGranted", "brand"),
        outcomes=(OK, NB, NB, NB, NB, NB, NB, NV),
    ),
}
#: Cells beside the relations: (act, label, actor, set-up instead of the act's, answer).
EXTRA_CELLS: list[tuple[str, str, str, Callable[[Ctx], None] | None, str]] = [
    ("transform", "holder approved by the owner", "holder", owner_approves_holder, OK),
    ("reclaim (holder revoked)", "owner, holder still in force", "owner", None, CF),
    ("repair", "governor", "governor", None, OK),
    ("registerPrefix", "registrar", "registrar", None, OK),
    ("revokePrefix", "registrar", "registrar", None, OK),
]
ACT_CELLS = [
    (name, relation, relation, act.prepare, act.outcomes[i])
    for name, act in ACTS.items()
    for i, relation in enumerate(RELATIONS)
] + EXTRA_CELLS


@pytest.mark.parametrize(
    ("name", "label", "actor", "prepare", "outcome"), ACT_CELLS, ids=[f"{n}-by-{lbl}" for n, lbl, *_ in ACT_CELLS]
)
def test_who_may_act(
    cell: World,
    orgs_setup: Orgs,
    scene: Scene,
    name: str,
    label: str,
    actor: str,
    prepare: Callable[[Ctx], None] | None,
    outcome: str,
) -> None:
    chain, pp = cell.chain, scene.pp
    ctx = Ctx(chain, pp, cell, orgs_setup, scene)
    act = ACTS[name]
    who = scene.actors[actor]
    address = sender_address(who)
    if prepare is not None:
        prepare(ctx)
    before = act.look(ctx)

    if outcome == OK:
        untouched = pp.contract.functions.passportOf(scene.travelling).call()
        act.run(ctx, who)
        receipt = last_receipt(chain)

        assert act.look(ctx) == act.after(ctx, address, before) != before
        event_name, argument = act.logged
        named = act.logged_names(ctx) if act.logged_names else address
        assert [e[argument] for e in logs(pp, event_name, receipt)] == [named], event_name
        # Nothing else moved: the item in transit is in none of the acts.
        assert pp.contract.functions.passportOf(scene.travelling).call() == untouched
    else:
        assert_refused(chain, lambda: act.run(ctx, who), outcome, **refusal_args(outcome, address, scene))
        assert act.look(ctx) == before


def test_the_acts_table_has_an_answer_for_every_relation() -> None:
    assert all(len(act.outcomes) == len(RELATIONS) for act in ACTS.values())
    assert {name for name, *_ in EXTRA_CELLS} <= set(ACTS)


# ---------------------------------------------------------------------------- the document


def documented_rows() -> dict[str, tuple[str, ...]]:
    """The rows of docs/passport-rules.md's two tables, by their first cell: each answer
    as ``allowed`` or the error's name."""
    rows: dict[str, tuple[str, ...]] = {}
    for line in RULES_DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != len(RELATIONS) + 1 or not line.startswith("|"):
            continue
        answers = tuple(re.sub(r"[`*]|\s*\(.*\)$", "", c).strip() for c in cells[1:])
        if all(a == OK or a.startswith("Passport") for a in answers):
            rows[re.sub(r"[`*]", "", cells[0]).strip()] = answers
    return rows


def test_the_document_states_the_tested_table() -> None:
    """docs/passport-rules.md is the table this module tests: every row, every answer.
    Observations share one row there (the test records each of them)."""
    documented = documented_rows()
    expected = {row.label: row.outcomes for row in NAMED_ROWS}
    expected["every other step (observations)"] = OBSERVATION
    expected.update({name: act.outcomes for name, act in ACTS.items()})
    assert documented == expected


def test_the_document_lists_every_observation() -> None:
    text = RULES_DOC.read_text(encoding="utf-8")
    listed = re.search(r"Observations are:(.*?)\n\n", text, re.S)
    assert listed is not None
    assert re.findall(r"`(\w+)`", listed.group(1)) == [s.label for s in OBSERVATION_STEPS]


# ---------------------------------------------------------------------------- packed goods


def test_packed_goods_are_held_by_whoever_holds_the_outermost_container(cell: World, scene: Scene) -> None:
    """The holder hands the case (with an item inside) to the unrelated organisation: the
    item's goods are now its to record on and to unpack, not the item's former holder's."""
    chain, pp, s = cell.chain, scene.pp, scene
    holder, unrelated = s.address("holder"), s.address("unrelated")
    hand_over(pp, s.packed_case, s.actors["holder"], s.actors["unrelated"])
    assert pp.custodian_of(s.packed) == unrelated
    assert pp.contract.functions.custodyOf(s.packed).call()[0] != unrelated  # its own record is untouched

    assert_refused(
        chain,
        lambda: pp.record([event(s.packed, BizStep.STORING, Disposition.SELLABLE)], sender=s.actors["holder"]),
        NH,
        account=holder,
        holder=unrelated,
    )
    receipt = pp.record([event(s.packed, BizStep.STORING, Disposition.SELLABLE)], sender=s.actors["unrelated"])
    assert [e["actor"] for e in logs(pp, "PassportEventRecorded", receipt)] == [unrelated]
    # A consignment step goes on the container, whoever holds it.
    assert_refused(
        chain,
        lambda: pp.record([event(s.packed, BizStep.SHIPPING, Disposition.IN_TRANSIT)], sender=s.actors["unrelated"]),
        "PassportInContainer",
    )
    assert_refused(chain, lambda: pp.unpack([s.packed], sender=s.actors["holder"]), NH, holder=unrelated)

    receipt = pp.unpack([s.packed], sender=s.actors["unrelated"])

    assert [(e["from"], e["to"]) for e in logs(pp, "CustodyTransferred", receipt)] == [(holder, unrelated)]
    assert pp.custodian_of(s.packed) == unrelated
