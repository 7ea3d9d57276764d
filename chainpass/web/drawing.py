"""The passport page's drawings (docs/web.md, "The passport page"): the journey on a timeline,
the lineage as a tree of boxes, and the transactions behind the page's other facts.

Both drawings are HTML drawn by CSS (``base.html``), not pictures of text: a list whose
steps hang on a line, spaced by the time between them, and nested lists whose boxes are joined
by lines. So a phone wraps their words at any width and in any of the languages, a screen
reader reads them as the lists they are, every box and relation is a link, and no JavaScript
runs. Nothing is said by colour alone: each mark has its shape and each box its words.

What is read here is read in the service's worker thread, from the trace index (through the
passports client's log source) and one or two calls per passport drawn; the page is then kept
per chain head (:mod:`chainpass.web.cache`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from chainpass.enums import BizStep, Disposition, State
from chainpass.evidence import AnchoredEvent
from chainpass.passport import Brand, ProductPassports, Verdict
from chainpass.standards.gs1 import ProductKey
from chainpass.trace import TraceEntry
from chainpass.web.wording import Step, _, later, state_words

#: The passports drawn in one lineage at most (the scanned one included); the rest are counted.
MAX_NODES = 24
#: The widest gap the timeline draws (rem), and the rem per decade of minutes between steps.
MAX_SPACE = 3.0
SPACE_PER_DECADE = 0.6
#: Gaps shorter than this (seconds) are not written out between steps.
SHORTEST_GAP = 60

#: An event's position in the chain's order (block, transaction, log): a packing's window.
Position = tuple[int, int, int]
#: A stretch of the chain's order: from a packing until the unpacking (None: still packed).
Window = tuple[Position, Position | None]


def passport_path(key: ProductKey, root: str) -> str:
    """The path of the page of the passport under ``key`` on the service at ``root``."""
    return "/passport" + urlsplit(key.digital_link(root)).path


# ---------------------------------------------------------------------------------- timeline


@dataclass(frozen=True)
class Mark:
    """A step on the timeline: the step, its mark's shape (``own``: a disc; ``other``: a ring,
    the step of an input or a container; ``alert``: a square with "!", a recall or a failed
    inspection; ``evidence``: a hollow diamond, an anchored event), the time since the step
    before in words (None when under a minute, or when the declared times run backwards), and
    the space above it (rem)."""

    step: Step
    shape: str
    gap: str | None
    space: float


def timeline(journey: Sequence[TraceEntry | AnchoredEvent], steps: Sequence[Step]) -> list[Mark]:
    """The journey's steps as the timeline draws them (``steps[i]`` is ``journey[i]`` in words)."""
    marks: list[Mark] = []
    before: int | None = None
    for entry, step in zip(journey, steps, strict=True):
        gap = step.time - before if before is not None else 0
        space = min(MAX_SPACE, SPACE_PER_DECADE * math.log10(1 + max(gap, 0) / 60))
        marks.append(Mark(step, _shape(entry), later(gap) if gap >= SHORTEST_GAP else None, round(space, 2)))
        before = step.time
    return marks


def _shape(entry: TraceEntry | AnchoredEvent) -> str:
    if isinstance(entry, AnchoredEvent):  # evidence, even of a recall: it changed no state
        return "evidence"
    if _alarming(entry):
        return "alert"
    return "other" if entry.via_input is not None or entry.via_container is not None else "own"


def _alarming(entry: TraceEntry) -> bool:
    step, disposition = entry.details.get("biz_step"), entry.details.get("disposition")
    return step == BizStep.RECALLING.label or disposition in (
        Disposition.RECALLED.label,
        Disposition.NON_CONFORMANT.label,
    )


# ---------------------------------------------------------------------------------- lineage


@dataclass(frozen=True)
class Node:
    """A passport in the lineage: its code and state in words, its page, how it relates to the
    box above it (None for the scanned passport) and the transaction that made it so, whether
    the recall was recorded on it (and in which transaction), what is drawn below it, and how
    many passports below it are not drawn (beyond :data:`MAX_NODES`)."""

    code: str
    state: str
    href: str | None
    relation: str | None = None
    relation_tx: str | None = None
    recall_tx: str | None = None
    children: tuple[Node, ...] = ()
    hidden: int = 0


def lineage(
    passports: ProductPassports, verdict: Verdict, root: str, keys: dict[int, ProductKey | None] | None = None
) -> Node:
    """The scanned passport of ``verdict`` and what it is made from (transformation inputs,
    back to the field) and packed in (cases, pallets, containers: those it was in, and theirs
    while it was inside), the passport the recall was recorded on marked, each linked to its
    page on the service at ``root``; ``keys`` are the keys of passports already read.

    The scanned passport's events and its inputs' are in its journey already (a trace holds
    each input's whole trace); only the containers' own events are read (their packings into
    other containers are not in the journey)."""
    return _Drawer(passports, verdict, root, keys or {}).draw()


def _recall_tx(verdict: Verdict) -> str | None:
    """The transaction of the recall that made the verdict (the last one on its way)."""
    if verdict.recall_source is None:
        return None
    recalls = [e for e in verdict.journey if e.details.get("biz_step") == BizStep.RECALLING.label]
    return recalls[-1].tx_hash if recalls else None


@dataclass
class _Box:
    """A box being drawn: its passport, how it hangs from the box above, and the boxes below."""

    id: int
    relation: str | None
    relation_tx: str | None
    below: list[_Box]
    hidden: int = 0


class _Drawer:
    def __init__(
        self, passports: ProductPassports, verdict: Verdict, root: str, keys: dict[int, ProductKey | None]
    ) -> None:
        self.passports = passports
        self.verdict = verdict
        self.root = root
        self.keys = {**keys, verdict.id: verdict.key}
        self.recall_tx = _recall_tx(verdict)
        self.drawn: set[int] = set()

    def draw(self) -> Node:
        """The tree, then every box's state in one batch of calls, then the boxes in words."""
        top = self.box(self.verdict.id, None, None, None, in_journey=True)
        others = [id_ for id_ in self.drawn if id_ != self.verdict.id]
        states = dict(zip(others, effective_states(self.passports, others), strict=True))
        states[self.verdict.id] = self.verdict.state
        return self.node(top, states)

    def box(self, id_: int, relation: str | None, tx: str | None, window: Window | None, *, in_journey: bool) -> _Box:
        """The box of ``id_`` and those below it; ``in_journey``: its own events are in the
        scanned passport's journey (itself, and the inputs back to the field)."""
        self.drawn.add(id_)
        journey = self.verdict.journey
        own = [e for e in journey if e.passport == id_] if in_journey else self.passports.tracer.own(id_, PACKINGS)
        below: list[tuple[int, str, str, Window | None, bool]] = []
        for packed in (e for e in own if e.event == "PassportPacked"):
            start = packed.position
            end = next((e.position for e in own if e.event == "PassportUnpacked" and e.position > start), None)
            if window is not None and not _overlap(window, (start, end)):
                continue
            words = _("Packed in") if end is None else _("Was packed in")
            container = int(packed.details["container"], 16)
            below.append((container, words, packed.tx_hash, _within(window, (start, end)), False))
        for produced in (e for e in own if e.event == "PassportProduced"):
            transformation = bytes.fromhex(produced.details["transformation_id"][2:])
            for input_id in self.passports.inputs_of(transformation):
                below.append((input_id, _("Made from"), produced.tx_hash, None, in_journey))
        box = _Box(id_, relation, tx, [])
        for child, words, child_tx, child_window, child_in_journey in below:
            if child in self.drawn:
                continue
            if len(self.drawn) >= MAX_NODES:
                box.hidden += 1
                continue
            box.below.append(self.box(child, words, child_tx, child_window, in_journey=child_in_journey))
        return box

    def node(self, box: _Box, states: dict[int, State]) -> Node:
        if box.id not in self.keys:
            self.keys[box.id] = self.passports.key_of(box.id)
        key = self.keys[box.id]
        return Node(
            code=str(key) if key is not None else hex(box.id),
            state=state_words(states[box.id]),
            href=passport_path(key, self.root) if key is not None else None,
            relation=box.relation,
            relation_tx=box.relation_tx,
            recall_tx=self.recall_tx if box.id == self.verdict.recall_source else None,
            children=tuple(self.node(child, states) for child in box.below),
            hidden=box.hidden,
        )


#: The events of a container that the tree reads: its packings into other containers.
PACKINGS = ("PassportPacked", "PassportUnpacked")


def effective_states(passports: ProductPassports, ids: Sequence[int]) -> list[State]:
    """Each passport's effective state (``effectiveState``: recalled through a container or an
    input too), read in one JSON-RPC batch (one call at a time on the embedded chain)."""
    return [State(int.from_bytes(word, "big")) for word in passports.views("effectiveState", ids)]


def _overlap(one: Window, other: Window) -> bool:
    """Whether two windows of the chain's order (from, until; None: still) overlap."""
    (start, end), (other_start, other_end) = one, other
    return (end is None or other_start < end) and (other_end is None or start < other_end)


def _within(window: Window | None, inner: Window) -> Window:
    """The part of ``inner`` inside ``window`` (all of it when there is no window)."""
    if window is None:
        return inner
    start = max(window[0], inner[0])
    ends = [end for end in (window[1], inner[1]) if end is not None]
    return start, min(ends) if ends else None


# ---------------------------------------------------------------------------- other facts


@dataclass(frozen=True)
class Facts:
    """The transactions behind the page's facts besides its steps: the brand's registration of
    its GS1 company prefix, the producer's licence from the brand (None when the producer is
    the brand), the passport's commissioning, and the recall."""

    brand_tx: str | None
    licence_tx: str | None
    commissioned_tx: str | None
    recall_tx: str | None


def facts(passports: ProductPassports, verdict: Verdict) -> Facts:
    """The transactions behind ``verdict``'s facts, from the logs (the trace index)."""
    commissioned = next(
        (e.tx_hash for e in verdict.journey if e.event == "PassportCommissioned" and e.passport == verdict.id), None
    )
    brand = verdict.brand
    licence = None
    if brand is not None and verdict.producer is not None and verdict.producer != brand.licensee:
        licence = licence_tx(passports, brand, verdict.producer, verdict.key.gtin)
    return Facts(brand_tx(passports, brand), licence, commissioned, _recall_tx(verdict))


def brand_tx(passports: ProductPassports, brand: Brand | None) -> str | None:
    """The transaction that registered ``brand``'s GS1 company prefix to it (the last one)."""
    if brand is None:
        return None
    logs = passports.logs([passports.topic("PrefixRegistered"), _word(int(brand.prefix))])
    event = passports.contract.events.PrefixRegistered()
    # The topic is the prefix's number: 614141 is also 0614141's; its length tells them apart.
    logs = [log for log in logs if int(event.process_log(log)["args"]["length"]) == len(brand.prefix)]
    return "0x" + bytes(logs[-1]["transactionHash"]).hex() if logs else None


def licence_tx(passports: ProductPassports, brand: Brand, producer: str, gtin: int) -> str | None:
    """The transaction of the brand's last licence to ``producer`` for the prefix or ``gtin``."""
    topic = passports.topic("LicenceGranted")
    logs = passports.logs([topic, _word(int(brand.prefix)), "0x" + bytes.fromhex(producer[2:]).rjust(32, b"\0").hex()])
    event = passports.contract.events.LicenceGranted()
    granted = [
        log
        for log in logs
        if (args := event.process_log(log)["args"])["length"] == len(brand.prefix) and int(args["gtin"]) in (0, gtin)
    ]
    return "0x" + bytes(granted[-1]["transactionHash"]).hex() if granted else None


def _word(number: int) -> str:
    return "0x" + number.to_bytes(32, "big").hex()
