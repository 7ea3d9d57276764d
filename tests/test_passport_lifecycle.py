"""Stateful property test: product passports against a plain-Python model of them.

Hypothesis drives random sequences of passport actions through the client
(`chainpass.passport.ProductPassports`) on a small pool of passports, so that actions
meet: commissioning items, lots and containers (tiers 1-3), by the brand (the producer,
licensee of the GTINs' GS1 company prefix) or by a second producer, the "mill", whose
licence the brand grants and revokes; EPCIS events (inspecting conformant /
non-conformant / under way, shipping, receiving, customs release and hold, retail
selling, recalling by the producer or by a food-safety authority, decommissioning,
destroying, and observations such as arriving, storing or goods reported stolen) on one
or more passports, by the org the step is meant for (whoever holds the goods, a
regulator, the producer) or by any org; packing into containers and unpacking;
transformations that consume goods and produce new ones, and later calls that extend an
earlier transformation, so that lineage runs several levels deep; custody handed over
by signed offer (valid, forged, voided by the holder first, expired, replayed); ERC-721
transfers between the orgs (owners who are not holders); and key rotations: an org moves
its identity to a new wallet in the registry, and anyone follows it here
(``follow_member``) at once or some steps later.

Each action may be legal or not in the current state. The model predicts, before the
call, either success or the exact refusal (the contract's custom error, or the client's
``InvalidInput``); a refusal must mine nothing, and so change nothing. After every step
that mined a block, the chain's view of every passport is read in one call (through a
small lens contract compiled here) and compared with the model, which keeps its own
account of each passport (owner, holder, own state, container, producer, the
transformation that made it and the one that consumed it, whether it was sold, the
wallets it was written with) and of each org (its wallet here, a move not yet followed),
and derives the rest, such as effective states, lineage and recalls, from that: it never
reads the chain's answers back.

The rules it holds (issue 11; docs/cbv.md): physical steps and observations only by
whoever holds the goods (the custodian, else the owner; for packed goods the holder of
the outermost container), with the step's role; inspecting (under way too) by an
inspector and the customs steps by customs, on any passport; recalling by the passport's
producer or a food-safety authority; observations compute the next state from the
passport's own state; packing by the holder of the container and of the goods, unpacking
by the holder of the container (a container's recall reaches only goods of its own
producer); transformations consume goods their maker owns and holds; consumed and
decommissioned passports are not transferred; an org whose identity moved acts only once
followed, and what it holds cannot change hands until then.

Invariants (checked after every step, for every passport):

1. One owner and one holder: ``ownerOf`` and the custodian (``goodsOf``) are org wallets (never
   zero) equal to the model's (an org at its wallet now, the stored records at the wallet
   they were written with); the custody record (custodian and offer nonce) matches; each
   wallet's ``balanceOf`` equals the number of passports the model gives its org there
   (none at a wallet the org moved on from), and the balances add up to the number of
   passports, so nothing else was minted.
2. No event after decommissioning: every event on a decommissioned passport is refused
   (and, as for every refusal, nothing changes).
3. A recall reaches everything it should: the effective state equals the model's, which
   is, in this order: decommissioned or recalled if the passport's own state is; recalled
   if any input it descends from, through any number of transformations, was recalled
   once consumed; otherwise the highest of its own state and the states of every
   container around it, with recalled > quarantined > sold > in transit > active. Goods
   unpacked from a container take its effective state when that ranks higher than their
   own (a recall only if the container's producer is theirs). ``lineageOf`` reports the
   same recall and lists the transformations upstream (the first MAX_LINEAGE; beyond them
   ``grouped``, exactly when more are upstream). Beyond the list the model keeps the
   contract's recall groups (union by rank) and checks both ways: a recalled ancestor
   always shows, and a recall not upstream shows only where the lineage overflowed.
   Paddings (``pad``: a chain of MAX_LINEAGE + 2 trivial transformations) make it overflow.
4. Consumed passports accept only a recall: once consumed by a transformation, a
   passport accepts no other event, no custody handover and no transfer, even after it
   has been recalled or one of its own ancestors has; packed goods follow their container
   (its state, and its holder).
5. Sold once stays a fact (flag bit 1), and custody moved (bit 0) as the model has it.
6. A genuine passport never turns not genuine: every passport's verdict is genuine,
   through its producer's key changes; the verdict's producer is at its wallet now, and
   stands verified unless it moved and was not followed yet.
7. Who may touch what: a passport's record (own state, owner, container, custody, flags)
   changes only through an action whose actor held the relation to it that the table
   asks for, judged before the action from the relations alone (`Model.may_record` and
   the like), not from the model's prediction.

The machine runs on Anvil: 15 examples of up to 20 steps (``ANVIL_EXAMPLES`` says why
not on the embedded EVM), from the passport orgs (`tests/passport_world.py`) plus the mill;
each example starts from a snapshot and is reverted after it. The plain tests at the end
pin what the machine found, on every backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import pytest
import solcx
from accounts import World, credential_for, fund
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from passport_world import (
    CASE_GTIN,
    GTIN,
    T0,
    WAREHOUSE,
    Orgs,
    commission_one,
    enlist_producer,
    event,
    hand_over,
    states,
)
from support import assert_refused
from web3.contract import Contract

from chainpass import compiler
from chainpass.artifacts import COMPILER_SETTINGS
from chainpass.chain import Chain, Sender
from chainpass.custody import CustodyOffer, SignedOffer
from chainpass.enums import BizStep, Disposition, Kind, Level, Role, Standing, State
from chainpass.errors import ContractRevert, InvalidInput
from chainpass.passport import EpcisEvent, ProductPassports, transformation_id
from chainpass.standards.gs1 import ProductKey

DAY = 24 * 60 * 60
ZERO = "0x" + "00" * 20

# ---------------------------------------------------------------------------- the orgs

#: Every org that acts, with its roles; "mill" is a second producer (so that recalls,
#: transformations and lineage cross producers), licensed by the producer (the brand) for
#: its prefix now and then; "food_safety" recalls any product; "stranger" has no role and
#: no identity.
ROLES: dict[str, Role] = {
    "producer": Role.PRODUCER,
    "mill": Role.PRODUCER,
    "inspector": Role.INSPECTOR,
    "carrier": Role.CARRIER,
    "customs": Role.CUSTOMS,
    "retailer": Role.RETAILER,
    "food_safety": Role.FOOD_SAFETY,
    "stranger": Role(0),
}
ORG_NAMES = tuple(ROLES)
PRODUCERS = ("producer", "mill")
#: Orgs with an identity in force in the registry.
VERIFIED = frozenset(ORG_NAMES) - {"stranger"}
#: The brand's GS1 company prefix (POOL's GTINs are under it), registered to the producer.
BRAND_PREFIX = "9506000"

# ------------------------------------------------------------------------ the passports

#: The pool of keys to commission: items, lots and containers of every tier.
POOL: tuple[ProductKey, ...] = (
    ProductKey.item(GTIN, "ITEM0"),
    ProductKey.item(GTIN, "ITEM1"),
    ProductKey.item(GTIN, "ITEM2"),
    ProductKey.lot(GTIN, "LOT0"),
    ProductKey.lot(GTIN, "LOT1"),
    ProductKey.container(CASE_GTIN, "CASE0", 1),
    ProductKey.container(CASE_GTIN, "CASE1", 1),
    ProductKey.container(CASE_GTIN, "PALLET0", 2),
    ProductKey.container(CASE_GTIN, "SHIP0", 3),
)
#: New transformations stop here (then they extend the first): the model's work stays small.
MAX_TRANSFORMATIONS = 48
#: The ancestors a transformation lists (the contract's MAX_LINEAGE); beyond them, its recall group.
MAX_LINEAGE = 16
#: How many trivial transformations a padding seller chains: the last one's lineage overflows.
PAD_LEVELS = MAX_LINEAGE + 2
#: Paddings per example (each is PAD_LEVELS transactions).
MAX_PADS = 2
#: Examples (of up to 20 steps) on Anvil, the one backend the machine runs on: the
#: invariant's read of every passport through the lens contract is two thirds of a step's
#: cost, and Anvil runs that EVM code natively where the embedded EVM (py-evm) interprets it
#: in Python (one example took 31 s there, fifteen take 20 s on Anvil: conftest.ANVIL_ONLY).
ANVIL_EXAMPLES = 15

#: Effective-state precedence among the states a container passes on to its contents.
RANK = {State.ACTIVE: 0, State.IN_TRANSIT: 1, State.SOLD: 2, State.QUARANTINED: 3, State.RECALLED: 4}
CARRIED = frozenset(s for s, r in RANK.items() if r > 0)

# ------------------------------------------------------------------------------ events

#: Who a step is meant for: whoever holds the goods, a regulator in its own step, or (None)
#: the passport's producer.
HOLDER = "holder"


@dataclass(frozen=True)
class Step:
    biz_step: BizStep
    disposition: Disposition
    #: Who the step is meant for: HOLDER, an org, or None (the producer of the passport).
    org: str | None
    #: A disposition the step does not take.
    wrong: Disposition


STEPS: dict[str, Step] = {
    "inspect_ok": Step(BizStep.INSPECTING, Disposition.CONFORMANT, "inspector", Disposition.SELLABLE),
    "inspect_bad": Step(BizStep.INSPECTING, Disposition.NON_CONFORMANT, "inspector", Disposition.RECALLED),
    "ship": Step(BizStep.SHIPPING, Disposition.IN_TRANSIT, HOLDER, Disposition.ACTIVE),
    "receive": Step(BizStep.RECEIVING, Disposition.SELLABLE, HOLDER, Disposition.IN_TRANSIT),
    "receive_active": Step(BizStep.RECEIVING, Disposition.ACTIVE, HOLDER, Disposition.CONFORMANT),
    "release": Step(BizStep.CUSTOMS_RELEASING, Disposition.IN_TRANSIT, "customs", Disposition.ACTIVE),
    "hold": Step(BizStep.CUSTOMS_HOLDING, Disposition.NON_CONFORMANT, "customs", Disposition.IN_TRANSIT),
    "sell": Step(BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD, HOLDER, Disposition.SELLABLE),
    "recall": Step(BizStep.RECALLING, Disposition.RECALLED, None, Disposition.INACTIVE),
    "order_recall": Step(BizStep.RECALLING, Disposition.RECALLED, "food_safety", Disposition.NON_CONFORMANT),
    "decommission": Step(BizStep.DECOMMISSIONING, Disposition.INACTIVE, HOLDER, Disposition.RECALLED),
    "destroy": Step(BizStep.DESTROYING, Disposition.DESTROYED, HOLDER, Disposition.INACTIVE),
    # Observations: the holder's, in any role; the state follows the disposition's class.
    "arrive": Step(BizStep.ARRIVING, Disposition.IN_TRANSIT, HOLDER, Disposition.RETAIL_SOLD),
    "store": Step(BizStep.STORING, Disposition.SELLABLE, HOLDER, Disposition.RECALLED),
    "stolen": Step(BizStep.STORING, Disposition.STOLEN, HOLDER, Disposition.DESTROYED),
    "receive_under_way": Step(BizStep.RECEIVING, Disposition.IN_PROGRESS, HOLDER, Disposition.INACTIVE),
    # A regulator's observation: an inspection under way, on any passport.
    "inspect_under_way": Step(BizStep.INSPECTING, Disposition.IN_PROGRESS, "inspector", Disposition.SELLABLE),
    # Steps with functions of their own are refused as events.
    "pack_event": Step(BizStep.PACKING, Disposition.ACTIVE, HOLDER, Disposition.ACTIVE),
}
#: How much more often than others the machine picks these steps where they fit.
STEP_WEIGHTS = {"sell": 4, "ship": 2, "receive": 2}
#: Steps that move goods as a consignment: refused on goods inside a container.
MOVES_GOODS = frozenset(
    {
        BizStep.SHIPPING,
        BizStep.RECEIVING,
        BizStep.RETAIL_SELLING,
        BizStep.CUSTOMS_RELEASING,
        BizStep.CUSTOMS_HOLDING,
    }
)
#: Regulators' steps, and the role each takes: recorded on any passport, held or not.
REGULATED = {BizStep.INSPECTING: Role.INSPECTOR, BizStep.CUSTOMS_RELEASING: Role.CUSTOMS,
             BizStep.CUSTOMS_HOLDING: Role.CUSTOMS}  # fmt: skip
#: Steps that, with disposition in_progress, are observations (the step under way).
UNDER_WAY = frozenset({BizStep.INSPECTING, BizStep.RECEIVING})
#: The classes of the dispositions the machine uses (docs/cbv.md): what an observation does.
USABLE, TRANSIT, QUARANTINING, CONFORMANT, OWN_STEP_ONLY = "usable", "transit", "quarantining", "conformant", "own"
CLASS = {
    Disposition.ACTIVE: USABLE,
    Disposition.SELLABLE: USABLE,
    Disposition.IN_PROGRESS: USABLE,
    Disposition.IN_TRANSIT: TRANSIT,
    Disposition.NON_CONFORMANT: QUARANTINING,
    Disposition.STOLEN: QUARANTINING,
    Disposition.CONFORMANT: CONFORMANT,
    Disposition.RECALLED: OWN_STEP_ONLY,
    Disposition.RETAIL_SOLD: OWN_STEP_ONLY,
    Disposition.INACTIVE: OWN_STEP_ONLY,
    Disposition.DESTROYED: OWN_STEP_ONLY,
}
LIFECYCLE = frozenset(
    {
        BizStep.COMMISSIONING,
        BizStep.INSPECTING,
        BizStep.PACKING,
        BizStep.UNPACKING,
        BizStep.SHIPPING,
        BizStep.RECEIVING,
        BizStep.CUSTOMS_RELEASING,
        BizStep.CUSTOMS_HOLDING,
        BizStep.RETAIL_SELLING,
        BizStep.RECALLING,
        BizStep.DECOMMISSIONING,
        BizStep.DESTROYING,
    }
)


def is_observation(step: BizStep, disposition: Disposition) -> bool:
    return step not in LIFECYCLE or (step in UNDER_WAY and disposition is Disposition.IN_PROGRESS)


def observed(own: State, disposition: Disposition) -> State:
    """The state an observation with ``disposition`` leaves a passport in, from its own state."""
    kind = CLASS[disposition]
    if kind == OWN_STEP_ONLY:
        raise Refused("PassportInvalidDisposition")
    if kind == USABLE and own is State.IN_TRANSIT:
        return State.ACTIVE
    if kind == TRANSIT and own is State.ACTIVE:
        return State.IN_TRANSIT
    if kind == QUARANTINING and own in (State.ACTIVE, State.IN_TRANSIT, State.SOLD):
        return State.QUARANTINED
    return own


# ------------------------------------------------------------------------------- model


class Refused(Exception):
    """The model's prediction that an action is refused, with this error."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass
class Passport:
    """The model of one passport: what the actions gave it, nothing derived."""

    key: ProductKey
    owner: str
    producer: str
    #: The owner's wallet (its generation, see Model.generation) the contract stored: a
    #: wallet the organisation moved on from still names it.
    owner_wallet: int = 0
    state: State = State.ACTIVE
    #: The container it is packed in, if any.
    container: int | None = None
    #: Who took custody of the goods by the last handover; None: the owner holds them.
    custodian: str | None = None
    #: The custodian's wallet (generation) as stored.
    custodian_wallet: int = 0
    #: Custody changes so far (and voided offers): an offer is good for this nonce only.
    nonce: int = 0
    #: The transformation that produced it (an index into Model.transformations).
    origin: int | None = None
    #: The transformation that consumed it.
    consumed_by: int | None = None
    #: Whether a recall was recorded on it while it was consumed.
    recalled_as_input: bool = False
    #: Whether it was ever sold (a fact no later step erases).
    sold_once: bool = False
    #: Whether its recall was ordered by a food-safety authority (not its producer): such a
    #: container's recall reaches everything unpacked from it.
    ordered_recall: bool = False


@dataclass
class Transformation:
    name: str
    producer: str
    #: Every passport it consumed, over all the calls that made it.
    inputs: list[int] = field(default_factory=list)
    #: The ancestors it lists, in the contract's order (the first MAX_LINEAGE).
    listed: list[int] = field(default_factory=list)
    #: A member of the recall group that holds the ancestors it could not list.
    group: int | None = None
    #: As a member of a recall group: the one it was merged under; as a root, its rank.
    parent: int | None = None
    rank: int = 0

    @property
    def id(self) -> bytes:
        return transformation_id(self.name)


@dataclass
class Model:
    passports: dict[int, Passport] = field(default_factory=dict)
    transformations: list[Transformation] = field(default_factory=list)
    #: Whether the brand (the producer) has licensed the mill for its prefix.
    mill_licensed: bool = True
    #: Each org's wallet as the passports know it: 0 its first, +1 per key rotation followed.
    generation: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORG_NAMES, 0))
    #: Orgs whose identity moved to a new wallet in the registry, not yet followed here.
    pending: set[str] = field(default_factory=set)

    def copy(self) -> Model:
        return Model(
            {i: replace(p) for i, p in self.passports.items()},
            [replace(t, inputs=list(t.inputs), listed=list(t.listed)) for t in self.transformations],
            self.mill_licensed,
            dict(self.generation),
            set(self.pending),
        )

    # ------------------------------------------------------------ derived views

    def get(self, id_: int) -> Passport:
        if id_ not in self.passports:
            raise Refused("PassportUnknown")
        return self.passports[id_]

    def enclosing(self, id_: int) -> list[int]:
        """The containers around passport ``id_``, innermost first."""
        chain: list[int] = []
        container = self.passports[id_].container
        while container is not None:
            chain.append(container)
            container = self.passports[container].container
        return chain

    def recall_reaches(self, container: int, producer: str) -> bool:
        """Whether the recall ``container`` carries (its own, or an outer container's) reaches
        goods of ``producer`` unpacked from it: the recalling producer's own, or all if ordered."""
        for at in [container, *self.enclosing(container)]:
            box = self.passports[at]
            if box.state is State.RECALLED:
                return box.producer == producer or box.ordered_recall
        return True

    def sold_once(self, id_: int) -> bool:
        """Sold once: the passport's own fact, or one of its containers' while it is inside."""
        return self.passports[id_].sold_once or any(self.passports[c].sold_once for c in self.enclosing(id_))

    def holder(self, id_: int) -> str:
        """Who holds the goods: whoever holds the outermost container, else the custodian, else the owner."""
        outermost = self.passports[(self.enclosing(id_) or [id_])[-1]]
        return outermost.custodian or outermost.owner

    def upstream(self, transformation: int) -> set[int]:
        """Every transformation whose outputs went, directly or through others, into ``transformation``."""
        seen: set[int] = set()
        todo = [transformation]
        while todo:
            for input_id in self.transformations[todo.pop()].inputs:
                origin = self.passports[input_id].origin
                if origin is not None and origin not in seen:
                    seen.add(origin)
                    todo.append(origin)
        return seen

    def sealed(self, transformation: int) -> bool:
        """Whether something made from ``transformation`` was consumed: then it takes no more
        inputs (they could not reach what was made from its outputs)."""
        return any(p.origin == transformation and p.consumed_by is not None for p in self.passports.values())

    def ancestry(self, id_: int) -> set[int]:
        """The transformations passport ``id_`` descends from: its origin and all upstream of it."""
        origin = self.passports[id_].origin
        return set() if origin is None else {origin} | self.upstream(origin)

    def exactly_recalled(self, id_: int) -> bool:
        """Whether any input that passport ``id_`` descends from was recalled."""
        return any(self.flagged(t) for t in self.ancestry(id_))

    def flagged(self, transformation: int) -> bool:
        """Whether an input of ``transformation`` was recalled (after it was consumed)."""
        return any(self.passports[i].recalled_as_input for i in self.transformations[transformation].inputs)

    def overflowed(self, transformation: int) -> bool:
        """Whether ``transformation`` descends from more transformations than it lists."""
        return len(self.upstream(transformation)) > MAX_LINEAGE

    def root(self, transformation: int) -> int:
        while (parent := self.transformations[transformation].parent) is not None:
            transformation = parent
        return transformation

    def lineage_recalled(self, id_: int) -> bool:
        """Whether passport ``id_`` shows recalled through its lineage, as the contract keeps
        it: its origin's flag, those of the ancestors it lists, and, if its lineage
        overflowed, whether any member of its recall group is flagged (docs/passport-rules.md,
        "Lineage beyond the list"). Never less than `exactly_recalled` (checked)."""
        origin = self.passports[id_].origin
        if origin is None:
            return False
        t = self.transformations[origin]
        if self.flagged(origin) or any(self.flagged(a) for a in t.listed):
            return True
        if t.group is None:
            return False
        root = self.root(t.group)
        return any(self.flagged(m) for m in range(len(self.transformations)) if self.root(m) == root)

    def inherit(self, target: int, origin: int) -> None:
        """``target`` consumed an output of ``origin``: the contract's lineage bookkeeping."""
        t, before = self.transformations[target], self.transformations[origin]
        for ancestor in [origin, *before.listed]:
            if ancestor in t.listed:
                continue
            if len(t.listed) < MAX_LINEAGE:
                t.listed.append(ancestor)
            else:
                self.join(t, ancestor)
        if before.group is not None:
            self.join(t, before.group)

    def join(self, t: Transformation, member: int) -> None:
        """Put ``member``'s recall group into ``t``'s (union by rank)."""
        if t.group is None:
            t.group = member
            return
        a, b = self.root(t.group), self.root(member)
        if a == b:
            return
        if self.transformations[a].rank < self.transformations[b].rank:
            a, b = b, a
        elif self.transformations[a].rank == self.transformations[b].rank:
            self.transformations[a].rank += 1
        self.transformations[b].parent = a

    def effective(self, id_: int) -> State:
        passport = self.passports[id_]
        if passport.state in (State.DECOMMISSIONED, State.RECALLED):
            return passport.state
        if self.lineage_recalled(id_):
            return State.RECALLED
        state = passport.state
        for container in self.enclosing(id_):
            outer = self.passports[container].state
            if outer in CARRIED and RANK[outer] > RANK[state]:
                state = outer
        return state

    def consumable(self, id_: int) -> bool:
        passport = self.passports[id_]
        return (
            passport.key.kind is not Kind.CONTAINER
            and passport.container is None
            and self.effective(id_) is State.ACTIVE
        )

    def finished(self, id_: int) -> bool:
        """Decommissioned, or consumed: no more goods to act on."""
        passport = self.passports[id_]
        return passport.state is State.DECOMMISSIONED or passport.consumed_by is not None

    # ---------------------------------------------------- who may touch what

    def may_record(self, actor: str, id_: int, step: BizStep) -> bool:
        """The table of docs/passport-rules.md, for the relation alone: a regulator in its
        own step, the producer or a food-safety authority to recall, else the holder."""
        if actor in self.pending:
            return False
        if step in REGULATED:
            return bool(ROLES[actor] & REGULATED[step])
        if step is BizStep.RECALLING:
            return actor == self.passports[id_].producer or bool(ROLES[actor] & Role.FOOD_SAFETY)
        return actor == self.holder(id_)

    # ------------------------------------------------------------------ actions

    def authorize(self, actor: str, any_of: Role) -> None:
        # An org whose identity moved acts from its new wallet, unknown here until followed.
        roles = Role(0) if actor in self.pending else ROLES[actor]
        if not roles or (any_of and not roles & any_of):
            raise Refused("PassportMissingRole")
        if actor not in VERIFIED:
            raise Refused("PassportActorNotVerified")

    def licensed(self, actor: str) -> bool:
        return actor == "producer" or (actor == "mill" and self.mill_licensed)

    def mint(self, actor: str, keys: list[ProductKey], origin: int | None) -> None:
        for key in keys:
            if not self.licensed(actor):
                raise Refused("PassportNotLicensed")
            id_ = ProductPassports.passport_id(key)
            if id_ in self.passports:
                raise Refused("PassportExists")
            wallet = self.generation[actor]
            self.passports[id_] = Passport(key, owner=actor, producer=actor, owner_wallet=wallet, origin=origin)

    def commission(self, actor: str, keys: list[ProductKey]) -> None:
        self.authorize(actor, Role.PRODUCER)
        self.mint(actor, keys, None)

    def rule(
        self, passport: Passport, current: State, step: BizStep, disposition: Disposition
    ) -> tuple[Role, State, Disposition | None]:
        """The lifecycle table: which roles may record ``step`` on a passport in effective state
        ``current``, the state it leaves, and the one disposition it takes (None: checked here)."""
        # A consumed input lives on in its outputs: nothing but a recall reaches it, ever.
        if passport.consumed_by is not None and step is not BizStep.RECALLING:
            raise Refused("PassportInvalidTransition")
        if current is State.DECOMMISSIONED:
            raise Refused("PassportInvalidTransition")
        if is_observation(step, disposition):
            # Any role; the next state from the passport's own state.
            needed = REGULATED.get(step, Role(0))
            return needed, observed(passport.state, disposition), None
        movers = Role.PRODUCER | Role.CARRIER | Role.RETAILER
        if step is BizStep.RECALLING:
            if current is State.RECALLED:
                raise Refused("PassportInvalidTransition")
            return Role.PRODUCER, State.RECALLED, Disposition.RECALLED
        if step is BizStep.INSPECTING:
            if current not in (State.ACTIVE, State.QUARANTINED):
                raise Refused("PassportInvalidTransition")
            if CLASS[disposition] == CONFORMANT:
                return Role.INSPECTOR, State.ACTIVE, None
            if CLASS[disposition] == QUARANTINING:
                return Role.INSPECTOR, State.QUARANTINED, None
            raise Refused("PassportInvalidDisposition")
        # The state each remaining step starts from, and what it makes of it.
        table: dict[BizStep, tuple[State | None, Role, State, Disposition | None]] = {
            BizStep.SHIPPING: (State.ACTIVE, movers, State.IN_TRANSIT, Disposition.IN_TRANSIT),
            BizStep.RECEIVING: (State.IN_TRANSIT, movers, State.ACTIVE, None),
            BizStep.CUSTOMS_RELEASING: (State.IN_TRANSIT, Role.CUSTOMS, State.IN_TRANSIT, Disposition.IN_TRANSIT),
            BizStep.CUSTOMS_HOLDING: (State.IN_TRANSIT, Role.CUSTOMS, State.QUARANTINED, Disposition.NON_CONFORMANT),
            BizStep.RETAIL_SELLING: (State.ACTIVE, Role.RETAILER, State.SOLD, Disposition.RETAIL_SOLD),
            BizStep.DECOMMISSIONING: (None, Role.PRODUCER | Role.RETAILER, State.DECOMMISSIONED, Disposition.INACTIVE),
            BizStep.DESTROYING: (None, Role.PRODUCER | Role.RETAILER, State.DECOMMISSIONED, Disposition.DESTROYED),
        }
        if step not in table:  # commissioning, packing and unpacking have functions of their own
            raise Refused("PassportInvalidTransition")
        start, roles, next_state, expected = table[step]
        if start is not None and current is not start:
            raise Refused("PassportInvalidTransition")
        if step is BizStep.RECEIVING and CLASS.get(disposition) != USABLE:
            raise Refused("PassportInvalidDisposition")
        return roles, next_state, expected

    def record(self, actor: str, events: list[tuple[Step, Disposition, list[int]]]) -> None:
        self.authorize(actor, Role(0))
        roles = ROLES[actor]
        for step, disposition, ids in events:
            biz_step = step.biz_step
            for id_ in ids:
                passport = self.get(id_)
                needed, next_state, expected = self.rule(passport, self.effective(id_), biz_step, disposition)
                observation = is_observation(biz_step, disposition)
                as_regulator = biz_step in REGULATED and bool(roles & REGULATED[biz_step])
                if biz_step in REGULATED and observation and not as_regulator:
                    needed = Role(0)  # the step under way is also the holder's own check
                if biz_step is BizStep.RECALLING and roles & Role.FOOD_SAFETY:
                    needed = Role(0)  # a food-safety authority recalls any product
                # Packed goods travel with their container, and a regulator moves no goods it does
                # not hold: usable and in-transit observations leave their own state.
                if (
                    observation
                    and CLASS.get(disposition) in (USABLE, TRANSIT)
                    and (passport.container is not None or as_regulator)
                ):
                    next_state = passport.state
                if needed and not roles & needed:
                    raise Refused("PassportMissingRole")
                if expected is not None and disposition is not expected:
                    raise Refused("PassportInvalidDisposition")
                if passport.container is not None and biz_step in MOVES_GOODS:
                    raise Refused("PassportInContainer")
                if biz_step is BizStep.RECALLING:
                    if passport.producer != actor and not roles & Role.FOOD_SAFETY:
                        raise Refused("PassportNotItsProducer")
                    if passport.state is State.CONSUMED:
                        passport.recalled_as_input = True
                elif not as_regulator and self.holder(id_) != actor:
                    raise Refused("PassportNotHolder")
                if biz_step is BizStep.RECALLING and passport.producer != actor:
                    passport.ordered_recall = True
                passport.state = next_state
                passport.sold_once |= next_state is State.SOLD

    def pack(self, actor: str, container: int, ids: list[int]) -> None:
        self.authorize(actor, Role.PRODUCER | Role.CARRIER | Role.RETAILER)
        outer = self.get(container)
        if self.effective(container) is not State.ACTIVE:
            raise Refused("PassportInvalidTransition")
        if self.holder(container) != actor:
            raise Refused("PassportNotHolder")
        for id_ in ids:
            inner = self.get(id_)
            if inner.key.tier >= outer.key.tier or outer.key.kind is not Kind.CONTAINER:
                raise Refused("PassportCannotHold")
            if inner.container is not None:
                raise Refused("PassportInContainer")
            if self.effective(id_) is not State.ACTIVE:
                raise Refused("PassportInvalidTransition")
            # Packing never moves goods between holders.
            if self.holder(id_) != actor:
                raise Refused("PassportHeldElsewhere")
            inner.container = container

    def unpack(self, actor: str, ids: list[int]) -> None:
        self.authorize(actor, Role.PRODUCER | Role.CARRIER | Role.RETAILER)
        for id_ in ids:
            inner = self.get(id_)
            if inner.container is None:
                raise Refused("PassportNotPacked")
            container = inner.container
            # Only the container's holder unpacks it, and the goods come out with it.
            holder = self.holder(container)
            if holder != actor:
                raise Refused("PassportNotHolder")
            # What comes out of a quarantined, sold or travelling container is so too, unless
            # its own state ranks higher; a recall only to the container's producer's goods.
            outer = self.effective(container)
            if outer is State.RECALLED and not self.recall_reaches(container, inner.producer):
                outer = State.ACTIVE
            if outer in CARRIED and inner.state in RANK and RANK[outer] > RANK[inner.state]:
                inner.state = outer
                inner.sold_once |= outer is State.SOLD
            inner.container = None
            if holder != (inner.custodian or inner.owner):
                inner.custodian, inner.custodian_wallet = holder, self.generation[holder]
                inner.nonce += 1

    def transform(
        self, actor: str, target: int | None, name: str, inputs: list[int], outputs: list[ProductKey]
    ) -> None:
        if not inputs and not outputs:
            raise Refused("InvalidInput")
        if any(k.kind is Kind.CONTAINER for k in outputs):
            raise Refused("InvalidInput")
        self.authorize(actor, Role.PRODUCER)
        if target is None:
            if not inputs:
                raise Refused("PassportNoInputs")
            target = len(self.transformations)
            self.transformations.append(Transformation(name, actor))
        elif self.transformations[target].producer != actor:
            raise Refused("PassportNotItsTransformer")
        elif inputs and self.sealed(target):
            raise Refused("PassportTransformationSealed")
        transformation = self.transformations[target]
        for id_ in inputs:
            passport = self.get(id_)
            if passport.owner != actor:
                raise Refused("PassportNotOwnerNorApproved")
            if not self.consumable(id_):
                raise Refused("PassportNotConsumable")
            if self.holder(id_) != actor:
                raise Refused("PassportNotHolder")
            if passport.origin == target:
                raise Refused("PassportOwnOutput")
            passport.state = State.CONSUMED
            passport.consumed_by = target
            transformation.inputs.append(id_)
            if passport.origin is not None:
                self.inherit(target, passport.origin)
        self.mint(actor, outputs, target)

    def transfer(self, by: str, id_: int, to: str) -> None:
        passport = self.get(id_)
        if by != passport.owner or by in self.pending:
            raise Refused("PassportNotOwnerNorApproved")
        if self.finished(id_):
            raise Refused("PassportInactive")
        # The title moves; the goods stay with the seller until someone accepts custody.
        if passport.container is None and passport.custodian is None:
            passport.custodian, passport.custodian_wallet = passport.owner, self.generation[passport.owner]
        passport.owner, passport.owner_wallet = to, self.generation[to]

    def offer(self, id_: int, receiver: str) -> str:
        """What the client checks before the holder signs an offer; returns the holder."""
        passport = self.get(id_)
        if passport.container is not None:
            raise Refused("InvalidInput")
        holder = self.holder(id_)
        # The client compares wallets: an org that moved, unfollowed, offers to its new one.
        if receiver == holder and receiver not in self.pending:
            raise Refused("InvalidInput")
        return holder

    def cancel_offers(self, id_: int, actor: str) -> None:
        passport = self.get(id_)
        if passport.container is not None:
            raise Refused("PassportInContainer")
        if actor != (passport.custodian or passport.owner) or actor in self.pending:
            raise Refused("PassportNotOwnerNorApproved")
        passport.nonce += 1

    def accept_custody(self, receiver: str, id_: int, *, signer: str, nonce: int, expired: bool) -> None:
        self.authorize(receiver, Role(0))
        passport = self.get(id_)
        if passport.container is not None:
            raise Refused("PassportInContainer")
        # Decommissioned goods, and consumed ones (recalled or not), are no goods to hand over.
        if self.finished(id_):
            raise Refused("PassportInactive")
        holder = passport.custodian or passport.owner
        if expired:
            raise Refused("PassportOfferExpired")
        if holder == receiver:
            raise Refused("PassportAlreadyCustodian")
        # A holder whose identity moved must be followed first; one never verified cannot offer.
        if holder in self.pending or holder not in VERIFIED:
            raise Refused("PassportActorNotVerified")
        if signer != holder or nonce != passport.nonce:
            raise Refused("PassportInvalidOffer")
        passport.custodian, passport.custodian_wallet = receiver, self.generation[receiver]
        passport.nonce += 1

    def license(self, brand: str, granted: bool) -> None:
        self.authorize(brand, Role(0))
        if brand != "producer":
            raise Refused("PassportNotBrand")
        self.mill_licensed = granted

    def rotate(self, org: str) -> None:
        """``org`` moves its identity to a new wallet in the registry (the passports do not know yet)."""
        self.pending.add(org)

    def follow(self, org: str) -> None:
        """Anyone follows ``org`` to its new wallet: its roles, products and custody go with it."""
        if org not in self.pending:
            raise Refused("PassportNotMoved")
        self.pending.discard(org)
        self.generation[org] += 1


# ------------------------------------------------------------------------ the lens

LENS_SOURCE = """
// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

interface IPassports {
    struct Passport {
        address owner; uint8 kind; uint8 state; uint8 tier; bool packed; uint24 producer; uint32 origin; uint8 flags;
    }
    struct Custody { address custodian; uint32 nonce; }
    struct Verdict {
        bool genuine; uint8 state; bool soldOnce; address producer; uint8 producerStanding; address custodian;
    }
    function passportOf(uint256 id) external view returns (Passport memory);
    function ownerOf(uint256 id) external view returns (address);
    function effectiveState(uint256 id) external view returns (uint8);
    function goodsOf(uint256[] calldata ids) external view returns (bytes32[] memory);
    function custodyOf(uint256 id) external view returns (Custody memory);
    function producerOf(uint256 id) external view returns (address);
    function containerOf(uint256 id) external view returns (uint256);
    function lineageOf(uint256 id) external view returns (bytes32, bool, bytes32[] memory, bool);
    function verdictOf(uint256 id) external view returns (Verdict memory);
    function balanceOf(address owner) external view returns (uint256);
}

/// Everything the lifecycle test compares after a step, read in one call (test-only).
contract PassportLens {
    struct Row {
        IPassports.Passport stored;
        address ownerOf;
        uint8 effective;
        address custodian;
        IPassports.Custody custody;
        uint256 container; // read only when packed
        bytes32 origin; // the lineage, read only for the outputs of transformations
        bool recalled;
        bytes32[] ancestors;
        bool grouped;
        address producer;
        IPassports.Verdict verdict;
    }

    function read(IPassports passports, uint256[] calldata ids, address[] calldata accounts)
        external
        view
        returns (Row[] memory rows, uint256[] memory balances)
    {
        rows = new Row[](ids.length);
        bytes32[] memory goods = passports.goodsOf(ids);
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 id = ids[i];
            Row memory row = rows[i];
            row.stored = passports.passportOf(id);
            row.ownerOf = passports.ownerOf(id);
            row.effective = passports.effectiveState(id);
            row.custodian = address(uint160(uint256(goods[i])));
            require(uint8(uint256(goods[i]) >> 160) == row.effective, "goodsOf's state is effectiveState");
            row.custody = passports.custodyOf(id);
            if (row.stored.packed) row.container = passports.containerOf(id);
            if (row.stored.origin != 0) {
                (row.origin, row.recalled, row.ancestors, row.grouped) = passports.lineageOf(id);
            }
            row.producer = passports.producerOf(id);
            row.verdict = passports.verdictOf(id);
        }
        balances = new uint256[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            balances[i] = passports.balanceOf(accounts[i]);
        }
    }
}
"""


@cache
def lens_artifact() -> tuple[list[dict[str, Any]], bytes]:
    """The lens's ABI and bytecode, compiled once with the package's pinned compiler."""
    output = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": {"PassportLens.sol": {"content": LENS_SOURCE}},
            "settings": {
                "evmVersion": COMPILER_SETTINGS["evmVersion"],
                "optimizer": COMPILER_SETTINGS["optimizer"],
                "viaIR": True,
                "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
            },
        },
        solc_binary=compiler.SOLC_SHIM,
        allow_empty=False,
    )
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e.get("severity") == "error"]
    assert not errors, "\n".join(errors)
    compiled = output["contracts"]["PassportLens.sol"]["PassportLens"]
    return compiled["abi"], bytes.fromhex(compiled["evm"]["bytecode"]["object"])


# ------------------------------------------------------------------------ the world


@dataclass(frozen=True)
class Lifecycle:
    chain: Chain
    pp: ProductPassports
    lens: Contract
    #: Each org's first wallet.
    senders: dict[str, Sender]


def mill_account() -> LocalAccount:
    """The second producer: a deterministic key (Hypothesis replays examples), funded here."""
    account: LocalAccount = Account.from_key(keccak(text="chainpass passport lifecycle mill"))
    return account


def rotated_wallet(org: str, generation: int) -> LocalAccount:
    """The wallet ``org`` rotates its identity to, the ``generation``-th time: deterministic
    (Hypothesis replays examples), fresh in every example (each is reverted)."""
    account: LocalAccount = Account.from_key(keccak(text=f"chainpass passport lifecycle {org} wallet {generation}"))
    return account


def lifecycle_world(world: World, pp: ProductPassports, orgs: Orgs) -> Lifecycle:
    """The orgs of `passport_world` plus the mill, verified, with its role and the brand's
    licence for its prefix, and the lens."""
    chain, roles = world.chain, world.roles
    mill = mill_account()
    fund(chain, mill.address)
    world.registry.verify(
        credential_for(mill.address), Level.HIGH, chain.latest_timestamp() + 10**8, sender=roles.bureau
    )
    pp.set_roles(mill.address, Role.PRODUCER, sender=orgs.governor)
    pp.set_licence(BRAND_PREFIX, mill.address, sender=orgs.producer)
    abi, bytecode = lens_artifact()
    receipt = chain.transact(chain.w3.eth.contract(abi=abi, bytecode=bytecode).constructor(), orgs.governor)
    lens = chain.w3.eth.contract(address=receipt["contractAddress"], abi=abi)
    senders: dict[str, Sender] = {n: orgs.by_name(n) for n in ORG_NAMES if n not in ("mill", "food_safety")}
    senders["mill"] = mill
    senders["food_safety"] = orgs.food_safety
    return Lifecycle(chain, pp, lens, senders)


# ---------------------------------------------------------------------- strategies

#: Indexes into whatever list a rule picks from (taken modulo its length).
picks = st.integers(0, 255)
#: Who acts: mostly (None) the org the action is meant for, so that most actions can go
#: through; else any org.
actors = st.sampled_from((None,) * 50 + ORG_NAMES)
producers = st.sampled_from(PRODUCERS)
#: An event's step: mostly (None) one that fits the passport's state now; else any step.
step_names = st.sampled_from((None,) * 30 + tuple(STEPS))
#: Now and then (WILD) a rule reaches past what fits: any passport, a wrong disposition.
wild = st.integers(0, 5)
WILD = 5
#: What to produce: an item or a lot; now and then a key that exists, or a container (refused).
output_kinds = st.sampled_from(("item", "lot", "item", "lot", "item", "lot", "clash", "container"))
offer_modes = st.sampled_from(("valid", "valid", "valid", "replay", "forged", "voided", "expired"))
#: The keys commissioned before the first step: two items, a lot, two cases and a pallet.
STARTER = (0, 1, 3, 5, 6, 7)
#: Orgs that may rotate their key (an identity to move), and how often each at most.
ROTATING = tuple(sorted(VERIFIED))
MAX_ROTATIONS = 2


def pick(items: list[int], index: int) -> int:
    return items[index % len(items)]


def pick_many(items: list[int], indexes: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(pick(items, i) for i in indexes))


def address_of(sender: Sender) -> ChecksumAddress:
    return sender.address if isinstance(sender, LocalAccount) else sender


# ------------------------------------------------------------------- state machine


class PassportLifecycle(RuleBasedStateMachine):
    def __init__(self, world: Lifecycle) -> None:
        super().__init__()
        self.world = world
        self.pp = world.pp
        self.snapshot = world.chain.snapshot()
        self.model = Model()
        self.serial = 0
        #: Paddings run so far (see `pad`).
        self.pads = 0
        #: Every wallet each org has had, first to latest (key rotations add one).
        self.wallets: dict[str, list[Sender]] = {n: [s] for n, s in world.senders.items()}
        #: The block the chain was last compared with the model at.
        self.checked_block = -1
        #: Steps taken so far (counted by the invariant, which runs after each).
        self.steps = 0
        #: What each passport's record held at the last comparison (see `relations_held`).
        self.records: dict[int, tuple[Any, ...]] = {}
        #: The passports the actions since then were entitled to change (by the relation
        #: table, computed before each action).
        self.entitled: set[int] = set()
        #: Calls name their sender, which spares web3 asking the node for its accounts each time.
        self.reader: dict[str, Any] = {"from": address_of(world.senders["inspector"])}

    def teardown(self) -> None:
        self.world.chain.revert(self.snapshot)

    # ---------------------------------------------------------------- wallets

    def sender(self, org: str) -> Sender:
        """The wallet ``org`` acts from: its identity's in the registry (a new one after a
        rotation, even before the passports followed it)."""
        return self.wallets[org][self.model.generation[org] + (org in self.model.pending)]

    def address(self, org: str, generation: int | None = None) -> ChecksumAddress:
        """``org``'s wallet as the passports know it (or its ``generation``-th one)."""
        wallet = self.model.generation[org] if generation is None else generation
        return address_of(self.wallets[org][wallet])

    def sign(self, signer: Sender, offer: CustodyOffer) -> SignedOffer:
        """``offer`` signed by ``signer``, whoever the offer names (a wallet signs what it is given)."""
        return SignedOffer(offer, self.world.chain.sign_typed_data(signer, offer.to_json()))

    # ---------------------------------------------------------------- helpers

    def predict(self, action: Callable[[Model], object]) -> tuple[str | None, Model]:
        """What ``action`` does to a copy of the model: (None, the new model) or (the refusal, the model as is)."""
        after = self.model.copy()
        try:
            action(after)
        except Refused as refusal:
            return refusal.error, self.model
        return None, after

    def attempt(self, label: str, expected: str | None, call: Callable[[], object]) -> bool:
        """Run ``call``: True if it went through as predicted, False if refused with the
        predicted error (the client's ``InvalidInput``, or the contract's), nothing mined."""
        if expected is None:
            call()
            return True
        head = self.world.chain.w3.eth.block_number
        if expected == "InvalidInput":
            with pytest.raises(InvalidInput):
                call()
        else:
            with pytest.raises(ContractRevert) as info:
                call()
            assert info.value.error == expected, f"{label}: {info.value}"
        assert self.world.chain.w3.eth.block_number == head
        return False

    def run(
        self, label: str, action: Callable[[Model], object], call: Callable[[], object], entitled: Iterable[int] = ()
    ) -> bool:
        """``call``, as the model predicts it; ``entitled``: the passports whose records the
        actor's relation to them (the table in docs/passport-rules.md) lets the action change."""
        expected, after = self.predict(action)
        done = self.attempt(label, expected, call)
        if done:
            self.model = after
            self.entitled |= set(entitled)
        return done

    def ids(self, where: Callable[[int], bool] | None = None) -> list[int]:
        return [i for i in self.model.passports if where is None or where(i)]

    def fresh_key(self, kind: str) -> ProductKey:
        self.serial += 1
        if kind == "container":
            return ProductKey.container(CASE_GTIN, f"OUTC{self.serial}", 1)
        if kind == "lot":
            return ProductKey.lot(GTIN, f"OUTL{self.serial}")
        return ProductKey.item(GTIN, f"OUT{self.serial}")

    def natural_actor(self, step: Step, id_: int) -> str:
        if id_ not in self.model.passports:
            return "producer"
        if step.org == HOLDER:
            return self.model.holder(id_)
        if step.org is not None:
            return step.org
        return self.model.passports[id_].producer

    def focus(self, index: int, where: Callable[[int], bool] | None = None) -> int:
        """A passport (one for which ``where`` holds, if any does), picked by kind of
        situation first (its effective state, whether it is packed, a container, consumed),
        then within it: so that passports in rare situations get as much attention as
        those in common ones."""
        groups: dict[tuple[int, bool, bool, bool], list[int]] = {}
        for i in self.ids(where) or self.ids():
            p = self.model.passports[i]
            kind = (p.container is not None, p.key.kind is Kind.CONTAINER, p.consumed_by is not None)
            groups.setdefault((int(self.model.effective(i)), *kind), []).append(i)
        index += self.steps
        group = groups[sorted(groups)[index % len(groups)]]
        return group[(index // len(groups)) % len(group)]

    def fits(self, step: Step, actor: str, id_: int) -> bool:
        """Whether ``actor`` may record ``step`` on ``id_`` now."""
        expected, _ = self.predict(lambda m: m.record(actor, [(step, step.disposition, [id_])]))
        return expected is None

    def fitting_step(self, id_: int, index: int) -> Step:
        """A step that the org it is meant for may record on ``id_`` now (any step if none)."""
        # Sales and journeys weigh more: among a dozen observations they would be rare.
        weighted = [step for name, step in STEPS.items() for _ in range(STEP_WEIGHTS.get(name, 1))]
        fits = [step for step in weighted if self.fits(step, self.natural_actor(step, id_), id_)]
        index += self.steps  # the first examples Hypothesis tries pick 0 everywhere: vary it by step
        # Nothing fits (a finished passport, say): try what still might, or anything.
        fallback = [STEPS["recall"], STEPS["decommission"], *STEPS.values()]
        return fits[index % len(fits)] if fits else fallback[index % len(fallback)]

    def events_call(self, actor: str, events: list[tuple[Step, Disposition, list[int]]]) -> Callable[[], object]:
        epcis = [EpcisEvent(tuple(ids), s.biz_step, d, T0, WAREHOUSE) for s, d, ids in events]
        return lambda: self.pp.record(epcis, sender=self.sender(actor))

    # ------------------------------------------------------------------ rules

    @initialize(makers=st.lists(producers, min_size=len(STARTER), max_size=len(STARTER)))
    def starter_stock(self, makers: list[str]) -> None:
        for maker in PRODUCERS:
            keys = [POOL[k] for k, m in zip(STARTER, makers, strict=True) if m == maker]
            if keys:
                assert self.run(
                    "commission",
                    lambda m, maker=maker, keys=keys: m.commission(maker, keys),
                    lambda maker=maker, keys=keys: self.pp.commission(keys, sender=self.sender(maker)),
                )

    @precondition(lambda self: any(ProductPassports.passport_id(k) not in self.model.passports for k in POOL))
    @rule(
        keys=st.lists(st.integers(0, len(POOL) - 1), min_size=1, max_size=2, unique=True),
        actor=actors,
        maker=producers,
    )
    def commission(self, keys: list[int], actor: str | None, maker: str) -> None:
        who, chosen = actor or maker, [POOL[k] for k in keys]
        self.run(
            "commission",
            lambda m: m.commission(who, chosen),
            lambda: self.pp.commission(chosen, sender=self.sender(who)),
        )

    @precondition(lambda self: self.model.passports)
    @rule(
        plan=st.lists(
            st.tuples(step_names, picks, st.lists(picks, min_size=1, max_size=2), wild), min_size=1, max_size=2
        )
    )
    def record(self, plan: list[tuple[str | None, int, list[int], int]]) -> None:
        """One or two EPCIS events in one transaction, each on one or two passports, by the
        org the first is meant for (or, when wild, by the first org the picks name)."""
        everything = self.ids()
        events: list[tuple[Step, Disposition, list[int]]] = []
        for name, choice, indexes, w in plan:
            first = self.focus(indexes[0])
            step = STEPS[name] if name is not None else self.fitting_step(first, choice)
            targets = [first]
            if len(indexes) > 1:
                # Another passport the step fits, so that multi-passport events go through too.
                actor = self.natural_actor(step, first)
                others = [i for i in everything if i != first and (w == WILD or self.fits(step, actor, i))]
                targets += [pick(others, indexes[1])] if others else []
            # Now and then a disposition the step does not take.
            events.append((step, step.wrong if w == WILD and not events else step.disposition, targets))
        w = plan[0][3]
        who = ORG_NAMES[plan[0][1] % len(ORG_NAMES)] if w == WILD else self.natural_actor(events[0][0], events[0][2][0])
        # The model itself keeps invariants 2 and 4: nothing but a recall of a consumed
        # passport reaches a decommissioned or consumed one.
        finished = [
            i
            for s, _, ids in events
            for i in ids
            if self.model.finished(i)
            and not (s.biz_step is BizStep.RECALLING and self.model.passports[i].state is State.CONSUMED)
        ]
        label = "record " + "+".join(e[0].biz_step.label for e in events)
        if finished:
            label += " (on a finished passport)"
            assert self.predict(lambda m: m.record(who, events))[0] is not None, "the model lets it move on"
        entitled = {i for s, _, ids in events for i in ids if self.model.may_record(who, i, s.biz_step)}
        self.run(label, lambda m: m.record(who, events), self.events_call(who, events), entitled)

    @precondition(lambda self: any(p.key.kind is Kind.CONTAINER for p in self.model.passports.values()))
    @rule(container=picks, inner=st.lists(picks, min_size=1, max_size=2), actor=actors, w=wild)
    def consign(self, container: int, inner: list[int], actor: str | None, w: int) -> None:
        """Pack goods (or containers) into a container."""
        self.pack(container, inner, actor, w)

    @precondition(lambda self: any(p.container is not None for p in self.model.passports.values()))
    @rule(chosen=st.lists(picks, min_size=1, max_size=2), actor=actors, w=wild)
    def deconsign(self, chosen: list[int], actor: str | None, w: int) -> None:
        """Unpack goods from their containers."""
        self.unpack(chosen, actor, w)

    def pack(self, container: int, inner: list[int], actor: str | None, w: int) -> None:
        model = self.model

        def fits(outer: int, i: int) -> bool:
            p, tier = model.passports[i], model.passports[outer].key.tier
            return (
                p.key.tier < tier
                and p.container is None
                and model.effective(i) is State.ACTIVE
                and model.holder(i) == model.holder(outer)
            )

        # Mostly an active container and goods that fit in it, held by its holder; when
        # wild (or if nothing fits), any passports.
        candidates = {
            c: [i for i in self.ids() if fits(c, i)]
            for c in self.ids(lambda c: model.passports[c].key.kind is Kind.CONTAINER)
            if model.effective(c) is State.ACTIVE
        }
        candidates = {c: ids for c, ids in candidates.items() if ids}
        if candidates and w != WILD:
            outer = pick(list(candidates), container + self.steps)
            ids = pick_many(candidates[outer], inner)
        else:
            outer, ids = pick(self.ids(), container), pick_many(self.ids(), inner)
        who = actor or model.holder(outer)
        entitled = [i for i in ids if model.holder(outer) == who == model.holder(i) and who not in model.pending]
        self.run(
            "pack",
            lambda m: m.pack(who, outer, ids),
            lambda: self.pp.pack(outer, ids, sender=self.sender(who)),
            entitled,
        )

    def unpack(self, chosen: list[int], actor: str | None, w: int) -> None:
        model = self.model
        packed = self.ids(lambda i: model.passports[i].container is not None)
        ids = pick_many(packed if w != WILD else self.ids(), chosen)
        first = model.passports[ids[0]].container
        who = actor or (model.holder(first) if first is not None else "carrier")
        entitled = [
            i
            for i in ids
            if (c := model.passports[i].container) is not None and model.holder(c) == who not in model.pending
        ]
        self.run("unpack", lambda m: m.unpack(who, ids), lambda: self.pp.unpack(ids, sender=self.sender(who)), entitled)

    @precondition(lambda self: self.model.passports)
    @rule(
        extend=st.one_of(st.none(), picks),
        inputs=st.lists(picks, min_size=1, max_size=2),
        outputs=st.lists(output_kinds, max_size=2),
        actor=actors,
        maker=producers,
        w=wild,
    )
    def transform(
        self, extend: int | None, inputs: list[int], outputs: list[str], actor: str | None, maker: str, w: int
    ) -> None:
        """A new transformation, or more of an earlier one: inputs consumed, outputs produced."""
        model = self.model
        target = None
        if extend is not None and model.transformations:
            target = extend % len(model.transformations)
        elif len(model.transformations) >= MAX_TRANSFORMATIONS:
            target = 0
        # Goods a producer may consume: the natural maker of a new transformation owns and holds some.
        goods = self.ids(
            lambda i: (
                ROLES[model.passports[i].owner] & Role.PRODUCER
                and model.consumable(i)
                and model.holder(i) == model.passports[i].owner
            )
        )
        if target is not None:
            who = actor or model.transformations[target].producer
        else:
            who = actor or (model.passports[pick(goods, inputs[0])].owner if goods else maker)
        usable = [i for i in goods if model.passports[i].owner == who]
        # When wild: any passports, or none (outputs only, which only an earlier transformation takes).
        chosen = pick_many(usable or self.ids(), inputs) if w != WILD else pick_many(self.ids(), inputs[1:])
        keys = []
        for kind in outputs:
            keys.append(model.passports[pick(self.ids(), len(keys))].key if kind == "clash" else self.fresh_key(kind))
        keys = list({ProductPassports.passport_id(k): k for k in keys}.values())
        name = model.transformations[target].name if target is not None else f"run-{self.serial}"
        self.serial += 1
        entitled = [
            i for i in chosen if model.passports[i].owner == who == model.holder(i) and who not in model.pending
        ]
        self.run(
            "transform" if target is None else "transform (extend)",
            lambda m: m.transform(who, target, name, chosen, keys),
            lambda: self.pp.transform(transformation_id(name), chosen, keys, sender=self.sender(who)),
            entitled,
        )

    @precondition(lambda self: self.pads < MAX_PADS)
    @rule(index=picks)
    def pad(self, index: int) -> None:
        """A seller pads a lot (issue 11): PAD_LEVELS trivial transformations in a row, each
        consuming the lot the one before made, so that the last one's lineage overflows into
        a recall group; transformations after it inherit the group (and merge groups)."""
        model = self.model
        goods = self.ids(
            lambda i: (
                ROLES[model.passports[i].owner] & Role.PRODUCER
                and model.consumable(i)
                and model.holder(i) == model.passports[i].owner
                and model.passports[i].owner not in model.pending
            )
        )
        if not goods:
            return
        self.pads += 1
        lot = pick(goods, index)
        who = model.passports[lot].owner
        for _ in range(PAD_LEVELS):
            key = self.fresh_key("lot")
            name = f"pad-{self.serial}"
            done = self.run(
                "pad",
                lambda m, name=name, lot=lot, key=key: m.transform(who, None, name, [lot], [key]),  # type: ignore[misc]
                lambda name=name, lot=lot, key=key: self.pp.transform(  # type: ignore[misc]
                    transformation_id(name), [lot], [key], sender=self.sender(who)
                ),
                [lot],
            )
            if not done:  # refused as the model predicted (never for lineage: it has no such refusal)
                return
            lot = ProductPassports.passport_id(key)

    @precondition(lambda self: self.model.passports)
    @rule(index=picks, receiver=picks, mode=offer_modes, forger=st.sampled_from(ORG_NAMES), w=wild)
    def hand_over(self, index: int, receiver: int, mode: str, forger: str, w: int) -> None:
        """The holder signs a custody offer to another org, which accepts it."""
        model = self.model
        id_ = self.focus(index, lambda i: model.passports[i].container is None or w == WILD)
        holder = model.holder(id_)
        # Mostly another verified org, the carrier twice and the retailer four times as often
        # (they move and sell goods); when wild, any org (the holder itself, the stranger).
        others = [n for n in (*ORG_NAMES, "carrier", *["retailer"] * 3) if w == WILD or (n != holder and n in VERIFIED)]
        to = others[receiver % len(others)]
        receiver_wallet = address_of(self.sender(to))
        expected, _ = self.predict(lambda m: m.offer(id_, to))
        deadline = self.world.chain.latest_timestamp() + (-1 if mode == "expired" else DAY)
        make_offer = lambda: self.pp.custody_offer(id_, receiver_wallet, deadline=deadline)  # noqa: E731
        if expected is not None:
            self.attempt("custody offer", expected, make_offer)
            return
        offer = make_offer()
        signer = holder
        if mode == "forged" and forger != holder:
            signer = forger
            signed = self.sign(self.sender(forger), offer)
        else:
            # The holder signs from the wallet the passports know it by (which, if its identity
            # moved and was not followed yet, the registry no longer stands for).
            signed = self.sign(self.wallets[holder][model.generation[holder]], offer)
        nonce = model.passports[id_].nonce
        if mode == "voided":
            self.run(
                "cancel offers",
                lambda m: m.cancel_offers(id_, holder),
                lambda: self.pp.cancel_custody_offers(id_, sender=self.sender(holder)),
                [id_] if model.holder(id_) == holder not in model.pending else [],
            )
        accept = lambda: self.pp.accept_custody(signed, sender=self.sender(to))  # noqa: E731
        action = lambda m: m.accept_custody(to, id_, signer=signer, nonce=nonce, expired=mode == "expired")  # noqa: E731
        entitled = [id_] if signer == holder not in model.pending else []
        if self.run(f"accept custody ({mode})", action, accept, entitled) and mode == "replay":
            self.run("accept custody (again)", action, accept)

    @precondition(lambda self: self.model.passports)
    @rule(index=picks)
    def shop(self, index: int) -> None:
        """The retailer takes goods from whoever holds them (a valid offer), and sells them."""
        model = self.model
        id_ = self.focus(index, lambda i: model.passports[i].container is None and not model.finished(i))
        holder = model.holder(id_)
        if holder != "retailer" and self.predict(lambda m: m.offer(id_, "retailer"))[0] is None:
            offer = self.pp.custody_offer(
                id_, address_of(self.sender("retailer")), deadline=self.world.chain.latest_timestamp() + DAY
            )
            signed = self.sign(self.wallets[holder][model.generation[holder]], offer)
            self.run(
                "accept custody (shop)",
                lambda m: m.accept_custody(
                    "retailer", id_, signer=holder, nonce=model.passports[id_].nonce, expired=False
                ),
                lambda: self.pp.accept_custody(signed, sender=self.sender("retailer")),
                [id_] if holder not in model.pending else [],
            )
        sale = STEPS["sell"]
        self.run(
            "record retail_selling (shop)",
            lambda m: m.record("retailer", [(sale, sale.disposition, [id_])]),
            self.events_call("retailer", [(sale, sale.disposition, [id_])]),
            [id_] if self.model.may_record("retailer", id_, BizStep.RETAIL_SELLING) else [],
        )

    @precondition(lambda self: self.model.passports)
    @rule(index=picks, to=st.sampled_from(ORG_NAMES), by=actors)
    def transfer(self, index: int, to: str, by: str | None) -> None:
        id_ = self.focus(index)
        owner = self.model.passports[id_].owner
        who = by or owner
        self.run(
            "transfer",
            lambda m: m.transfer(who, id_, to),
            lambda: self.pp.transfer(id_, self.address(to), sender=self.sender(who)),
            [id_] if who == owner not in self.model.pending else [],
        )

    @rule(granted=st.booleans(), actor=actors)
    def license(self, granted: bool, actor: str | None) -> None:
        """The brand (the producer) grants or revokes the mill's licence for its prefix."""
        who = actor or "producer"
        self.run(
            "licence" if granted else "licence revoked",
            lambda m: m.license(who, granted),
            lambda: self.pp.set_licence(BRAND_PREFIX, self.address("mill"), granted=granted, sender=self.sender(who)),
        )

    @precondition(lambda self: any(len(self.wallets[o]) <= MAX_ROTATIONS for o in ROTATING))
    @rule(org=st.sampled_from(ROTATING), follow=st.booleans(), by=st.sampled_from(ORG_NAMES))
    def rotate_key(self, org: str, follow: bool, by: str) -> None:
        """``org`` moves its identity to a new wallet in the registry; anyone follows it
        here (now, or in a later step: until then its new wallet is nobody here, and what
        it holds cannot change hands)."""
        if org not in self.model.pending and len(self.wallets[org]) <= MAX_ROTATIONS:
            new = rotated_wallet(org, len(self.wallets[org]))
            fund(self.world.chain, new.address)
            self.pp.registry.rotate(new.address, sender=self.sender(org))
            self.wallets[org].append(new)
            self.model.rotate(org)
        if follow or org not in self.model.pending:
            old = self.address(org)
            self.run(
                "follow member",
                lambda m: m.follow(org),
                lambda: self.pp.follow_member(old, sender=self.sender(by)),
            )

    # -------------------------------------------------------------- invariants

    @invariant()
    def chain_matches_model(self) -> None:
        # Only a mined block changes the chain: after a refusal (nothing mined, see
        # `attempt`) it still matches the model, which a refusal leaves as it was.
        self.steps += 1
        block = self.world.chain.w3.eth.block_number
        if block == self.checked_block:
            return
        self.checked_block = block
        model = self.model
        known = list(model.passports)
        wallets = [(n, g, address_of(s)) for n in ORG_NAMES for g, s in enumerate(self.wallets[n])]
        rows, balances = self.world.lens.functions.read(self.pp.address, known, [a for *_, a in wallets]).call(
            self.reader
        )
        by_tid = {t.id: n for n, t in enumerate(model.transformations)}
        records: dict[int, tuple[Any, ...]] = {}
        for id_, row in zip(known, rows, strict=True):
            stored, owner_of, effective, holder = row[:4]
            (custodian, nonce), container, origin, recalled, ancestors, grouped, producer, verdict = row[4:]
            owner, kind, state, tier, packed, _number, origin_number, flags = stored
            p = model.passports[id_]
            where = f"passport {p.key} ({hex(id_)[:10]})"
            records[id_] = (owner, state, packed, container, custodian, nonce, flags)
            # 1. One owner, one holder, both orgs at the wallets the model has (an org's
            # old wallet still stored where it was written), the producer at its wallet now.
            assert owner == self.address(p.owner, p.owner_wallet), where
            assert owner_of == self.address(p.owner), where
            assert holder == self.address(model.holder(id_)) != ZERO, where
            stored_custodian = self.address(p.custodian, p.custodian_wallet) if p.custodian else ZERO
            assert (custodian, nonce) == (stored_custodian, p.nonce), where
            assert (Kind(kind), tier) == (p.key.kind, p.key.tier), where
            assert producer == self.address(p.producer), where
            # 2-4. Own and effective states, containers, lineage.
            assert State(state) is p.state, (where, State(state), p.state)
            assert State(effective) is model.effective(id_), (where, State(effective), model.effective(id_))
            assert (packed, container or None) == (p.container is not None, p.container), where
            assert (origin_number != 0) == (p.origin is not None), where
            expected_origin = model.transformations[p.origin].id if p.origin is not None else bytes(32)
            assert bytes(origin) == expected_origin, where
            assert recalled == model.lineage_recalled(id_), where
            # A recalled ancestor always shows; a recall it does not descend from shows only
            # downstream of a lineage that overflowed into a recall group.
            assert recalled or not model.exactly_recalled(id_), where
            overflowed = p.origin is not None and model.overflowed(p.origin)
            assert not recalled or model.exactly_recalled(id_) or overflowed, where
            assert grouped == overflowed, where
            listed = [by_tid[bytes(a)] for a in ancestors]
            upstream = model.ancestry(id_) - {p.origin}
            assert listed == (model.transformations[p.origin].listed if p.origin is not None else []), where
            assert set(listed) <= upstream and (overflowed or set(listed) == upstream), (where, listed, upstream)
            assert len(listed) == min(len(upstream), MAX_LINEAGE) == len(set(listed)), where
            # 5. Custody moved once (flag bit 0) and sold once (bit 1), kept as facts.
            assert flags == (p.custodian is not None) | p.sold_once << 1 | p.ordered_recall << 2, (where, flags)
            # 6. The verdict: genuine, always (an origin fact, through key changes too); sold
            # once; the producer at its wallet now, standing verified unless it moved unfollowed.
            genuine, verdict_state, sold_once, verdict_producer, standing, verdict_holder = verdict
            assert genuine, where
            assert (State(verdict_state), verdict_holder, verdict_producer) == (model.effective(id_), holder, producer)
            assert sold_once == (model.sold_once(id_) or model.effective(id_) is State.SOLD), where
            moved = p.producer in model.pending
            assert Standing(standing) is (Standing.MOVED if moved else Standing.VALID), where
        # 7. Who may touch what: no passport's record changed but by an action whose actor
        # held the relation to it that the table asks for.
        changed = {i for i, r in records.items() if i in self.records and self.records[i] != r}
        assert changed <= self.entitled, (
            f"changed without the relation: {[hex(i)[:10] for i in changed - self.entitled]}"
        )
        self.records, self.entitled = records, set()
        # Balances: each org's at the wallet the passports know, none at the others.
        owned = {n: sum(p.owner == n for p in model.passports.values()) for n in ORG_NAMES}
        for (org, generation, wallet), balance in zip(wallets, balances, strict=True):
            expected = owned[org] if generation == model.generation[org] else 0
            assert balance == expected, (org, generation, wallet)
        # Every passport is owned by one of the orgs: nothing else was minted.
        assert sum(balances) == len(model.passports)


def in_fresh_thread(run: Callable[[], None]) -> None:
    """Run ``run`` in a worker thread, and raise what it raised.

    CPython 3.11 keeps its frames in 16 KiB chunks and frees a chunk as soon as the stack
    shrinks back out of it. Under pytest and Hypothesis, py-evm's interpreter loop runs
    right at such a boundary and maps and unmaps a chunk on almost every call, which
    doubles the run time (as system time). A new thread starts its frames afresh.
    """
    raised: list[BaseException] = []

    def target() -> None:
        try:
            run()
        except BaseException as exc:  # handed to the test's own thread
            raised.append(exc)

    worker = threading.Thread(target=target, name="passport-lifecycle", daemon=True)
    worker.start()
    worker.join()
    if raised:
        raise raised[0]


def test_passports_follow_their_model(world: World, pp: ProductPassports, orgs: Orgs) -> None:
    lifecycle = lifecycle_world(world, pp, orgs)
    in_fresh_thread(lambda: run_lifecycle(lifecycle))


def run_lifecycle(lifecycle: Lifecycle) -> None:
    run_state_machine_as_test(
        lambda: PassportLifecycle(lifecycle),
        settings=settings(
            max_examples=ANVIL_EXAMPLES,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


# ------------------------------------------------- what the state machine found, pinned


def test_goods_quarantined_inside_a_recalled_container_come_out_recalled(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    """What comes out of a recalled container is recalled, whatever its own state said:
    an item found non-conformant while packed must not shed the container's recall when
    it is unpacked (it could then be inspected conformant and sold)."""
    item, case = pp.commission(
        [ProductKey.item(GTIN, "QBAG1"), ProductKey.container(CASE_GTIN, "QCASE1", 1)], sender=orgs.producer
    )
    pp.pack(case, [item], sender=orgs.producer)
    pp.record([event(item, BizStep.INSPECTING, Disposition.NON_CONFORMANT)], sender=orgs.inspector)
    pp.record([event(case, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer)
    assert states(pp, item) == [(State.QUARANTINED, State.RECALLED)]

    pp.unpack([item], sender=orgs.producer)  # by the case's holder

    assert states(pp, item)[0][1] is State.RECALLED
    conformant = event(item, BizStep.INSPECTING, Disposition.CONFORMANT)
    assert_refused(chain, lambda: pp.record([conformant], sender=orgs.inspector), "PassportInvalidTransition")


def test_a_consumed_input_takes_no_event_but_a_recall_even_when_its_lot_is_recalled(
    chain: Chain, pp: ProductPassports, orgs: Orgs
) -> None:
    """A consumed input whose own ancestor was recalled is effectively recalled, but it is
    still consumed: decommissioning it must be refused like any other step but a recall."""
    lot = commission_one(pp, orgs, ProductKey.lot(GTIN, "PADDY1"))
    (flour,) = pp.transform(transformation_id("mill-1"), [lot], [ProductKey.lot(GTIN, "FLOUR1")], sender=orgs.producer)
    pp.transform(transformation_id("bake-1"), [flour], [ProductKey.item(GTIN, "BREAD1")], sender=orgs.producer)
    pp.record([event(lot, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer)
    assert states(pp, flour) == [(State.CONSUMED, State.RECALLED)]

    decommission = event(flour, BizStep.DECOMMISSIONING, Disposition.INACTIVE)
    assert_refused(chain, lambda: pp.record([decommission], sender=orgs.producer), "PassportInvalidTransition")
    assert states(pp, flour) == [(State.CONSUMED, State.RECALLED)]


def test_a_consumed_input_stays_consumed_after_its_own_recall(chain: Chain, pp: ProductPassports, orgs: Orgs) -> None:
    """Once consumed, a recall is the last thing that reaches an input: the recall does not
    make it a live passport again, so no decommissioning and no custody handover."""
    lot = commission_one(pp, orgs, ProductKey.lot(GTIN, "PADDY2"))
    pp.transform(transformation_id("mill-2"), [lot], [ProductKey.lot(GTIN, "FLOUR2")], sender=orgs.producer)
    pp.record([event(lot, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer)
    offer = pp.custody_offer(lot, orgs.carrier, deadline=chain.latest_timestamp() + DAY)
    signed = pp.sign_offer(offer, signer=orgs.producer)

    assert_refused(chain, lambda: pp.accept_custody(signed, sender=orgs.carrier), "PassportInactive")
    decommission = event(lot, BizStep.DECOMMISSIONING, Disposition.INACTIVE)
    assert_refused(chain, lambda: pp.record([decommission], sender=orgs.producer), "PassportInvalidTransition")
    assert states(pp, lot) == [(State.RECALLED, State.RECALLED)]
    assert pp.custodian_of(lot) == orgs.producer


def test_a_recall_of_another_producers_pallet_does_not_depend_on_the_order_of_unpacking(
    chain: Chain, world: World, pp: ProductPassports, orgs: Orgs
) -> None:
    """The mill recalls its pallet; inside it, the producer's case holds the producer's bag.
    A container's recall reaches only goods of the container's own producer, so the bag
    comes out active whichever is unpacked first: the case from the pallet, or the bag
    from the case while the case is still on the pallet."""
    mill = enlist_producer(world, pp, orgs.stranger, licensed_by=orgs.producer)
    bag, case = pp.commission(
        [ProductKey.item(GTIN, "XBAG1"), ProductKey.container(CASE_GTIN, "XCASE1", 1)], sender=orgs.producer
    )
    (pallet,) = pp.commission([ProductKey.container(CASE_GTIN, "XPAL1", 2)], sender=mill)
    pp.pack(case, [bag], sender=orgs.producer)
    hand_over(pp, case, orgs.producer, mill)
    pp.pack(pallet, [case], sender=mill)
    pp.record([event(pallet, BizStep.RECALLING, Disposition.RECALLED)], sender=mill)
    assert states(pp, bag, case) == [(State.ACTIVE, State.RECALLED), (State.ACTIVE, State.RECALLED)]
    before = chain.snapshot()

    pp.unpack([case], sender=mill)
    pp.unpack([bag], sender=mill)
    case_first = states(pp, bag)
    chain.revert(before)
    pp.unpack([bag], sender=mill)
    bag_first = states(pp, bag)

    assert case_first == [(State.ACTIVE, State.ACTIVE)]
    assert bag_first == case_first
