"""The contracts' enums, in one place: they read and print as lower-case names, and error
decoding (:mod:`chainpass.reverts`) takes its names for enum arguments from them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import IntEnum, IntFlag
from typing import Self

from chainpass.errors import InvalidInput


class NamedEnum(IntEnum):
    """An enum that parses from and prints as its lower-case name (``in_transit``)."""

    @classmethod
    def parse(cls, text: str | int) -> Self:
        if isinstance(text, int) or (isinstance(text, str) and text.isdigit()):
            try:
                return cls(int(text))
            except ValueError:
                pass
        else:
            for member in cls:
                if member.label == str(text).strip().lower().replace("-", "_").replace(" ", "_"):
                    return member
        choices = ", ".join(m.label for m in cls if m.value or not cls.zero_is_none())
        kind = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()  # SuspensionReason: "suspension reason"
        raise InvalidInput(f"{text!r} is not a valid {kind}: choose one of {choices}.")

    @classmethod
    def zero_is_none(cls) -> bool:
        """Whether the zero member means "none" and is left out of the choices offered."""
        return True

    @property
    def label(self) -> str:
        return self.name.lower()


# ------------------------------------------------------------ IdentityRegistry


class Level(NamedEnum):
    """Assurance level of a verification, as in eIDAS."""

    NONE = 0
    LOW = 1
    SUBSTANTIAL = 2
    HIGH = 3


class Sector(NamedEnum):
    """The sector a relying party is appointed for, which holders see in their history."""

    NONE = 0
    GOVERNMENT = 1
    BANK = 2
    HOSPITAL = 3
    HOTEL = 4
    COURIER = 5
    OTHER = 6


class Status(NamedEnum):
    """A verification's stored status (its :class:`Standing` also weighs expiry and the issuer)."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3
    MOVED = 4
    #: Holds nothing yet: the target of a pending recovery, which nobody else may move into.
    RESERVED = 5


#: How a registry status reads inside a sentence (error messages).
STATUS_PHRASES = {
    Status.NONE: "never verified",
    Status.ACTIVE: "active",
    Status.SUSPENDED: "suspended",
    Status.REVOKED: "revoked",
    Status.MOVED: "moved",
    Status.RESERVED: "reserved for a recovery",
}


class Standing(NamedEnum):
    """Whether a verification is in force now and, if not, why not."""

    @classmethod
    def zero_is_none(cls) -> bool:
        return False

    NEVER_VERIFIED = 0
    VALID = 1
    SUSPENDED = 2
    REVOKED = 3
    EXPIRED = 4
    ISSUER_REMOVED = 5
    #: The identity moved to another wallet (rotation or recovery): this one is spent.
    MOVED = 6
    #: The relying party has no consent in force: it learns nothing else.
    NO_CONSENT = 7


class SuspensionReason(NamedEnum):
    """Why an issuer suspends a holder. The reason never reaches the chain: the issuer keeps
    it (with a salt) in its case file, and the chain sees only a salted commitment to it."""

    LOST_DOCUMENT = 1
    SUSPECTED_FRAUD = 2
    HOLDER_REQUEST = 3
    UNDER_REVIEW = 4
    COURT_ORDER = 5
    OTHER = 255


# ------------------------------------------------------------- ProductPassport


class Kind(IntEnum):
    """What a passport stands for: an item (serial), a lot, or a container."""

    NONE = 0
    ITEM = 1
    LOT = 2
    CONTAINER = 3


#: The CBV 2.0 vocabulary's base URI.
CBV = "https://ref.gs1.org/cbv/"


class Role(IntFlag):
    """Roles of organisations acting on passports (a bit set, as the contract keeps them)."""

    PRODUCER = 1
    INSPECTOR = 2
    CARRIER = 4
    CUSTOMS = 8
    RETAILER = 16
    #: A GS1 member organisation: registers company prefixes to their brands.
    REGISTRAR = 32
    #: A food-safety authority: orders the recall of any product.
    FOOD_SAFETY = 64

    @classmethod
    def parse_many(cls, names: Iterable[str]) -> Role:
        roles = cls(0)
        for name in names:
            try:
                roles |= cls[name.strip().upper()]
            except KeyError:
                choices = ", ".join(m.name.lower() for m in cls if m.name)
                raise InvalidInput(f"{name!r} is not a role: choose from {choices}.") from None
        return roles

    @property
    def labels(self) -> list[str]:
        return [m.name.lower() for m in Role if m.name and m in self]


class State(NamedEnum):
    """Where a passport stands in its lifecycle (docs/passport-rules.md)."""

    NONE = 0
    ACTIVE = 1
    IN_TRANSIT = 2
    QUARANTINED = 3
    RECALLED = 4
    SOLD = 5
    DECOMMISSIONED = 6
    CONSUMED = 7


class BizStep(NamedEnum):
    """Business steps: the CBV 2.0 standard vocabulary, chainpass's customs and recall
    steps, and ``other`` (also any step outside the CBV). Numbers 0-11 never move."""

    NONE = 0
    COMMISSIONING = 1
    INSPECTING = 2
    PACKING = 3
    UNPACKING = 4
    SHIPPING = 5
    RECEIVING = 6
    CUSTOMS_RELEASING = 7
    CUSTOMS_HOLDING = 8
    RETAIL_SELLING = 9
    RECALLING = 10
    DECOMMISSIONING = 11
    ACCEPTING = 12
    ARRIVING = 13
    ASSEMBLING = 14
    COLLECTING = 15
    CONSIGNING = 16
    CREATING_CLASS_INSTANCE = 17
    CYCLE_COUNTING = 18
    DEPARTING = 19
    DESTROYING = 20
    DISASSEMBLING = 21
    DISPENSING = 22
    ENCODING = 23
    ENTERING_EXITING = 24
    HOLDING = 25
    INSTALLING = 26
    KILLING = 27
    LOADING = 28
    OTHER = 29
    PICKING = 30
    REMOVING = 31
    REPACKAGING = 32
    REPAIRING = 33
    REPLACING = 34
    RESERVING = 35
    SAMPLING = 36
    SENSOR_REPORTING = 37
    STAGING_OUTBOUND = 38
    STOCK_TAKING = 39
    STOCKING = 40
    STORING = 41
    TRANSPORTING = 42
    UNLOADING = 43
    VOID_SHIPPING = 44

    @property
    def uri(self) -> str:
        return f"{CBV}BizStep-{self.label}"

    @property
    def is_cbv(self) -> bool:
        """Whether the step is a CBV 2.0 standard value (customs and recall steps are chainpass's own)."""
        return self not in (BizStep.NONE, BizStep.CUSTOMS_RELEASING, BizStep.CUSTOMS_HOLDING, BizStep.RECALLING)


class Disposition(NamedEnum):
    """Dispositions: the CBV 2.0 standard vocabulary and chainpass's ``sellable``. Numbers 0-8 never move."""

    NONE = 0
    ACTIVE = 1
    IN_TRANSIT = 2
    CONFORMANT = 3
    NON_CONFORMANT = 4
    RECALLED = 5
    SELLABLE = 6
    RETAIL_SOLD = 7
    INACTIVE = 8
    AVAILABLE = 9
    COMPLETENESS_INFERRED = 10
    COMPLETENESS_VERIFIED = 11
    CONTAINER_CLOSED = 12
    CONTAINER_OPEN = 13
    DAMAGED = 14
    DESTROYED = 15
    DISPENSED = 16
    DISPOSED = 17
    ENCODED = 18
    EXPIRED = 19
    IN_PROGRESS = 20
    MISMATCH_CLASS = 21
    MISMATCH_INSTANCE = 22
    MISMATCH_QUANTITY = 23
    NEEDS_REPLACEMENT = 24
    NO_PEDIGREE_MATCH = 25
    NON_SELLABLE_OTHER = 26
    PARTIALLY_DISPENSED = 27
    RESERVED = 28
    RETURNED = 29
    SELLABLE_ACCESSIBLE = 30
    SELLABLE_NOT_ACCESSIBLE = 31
    STOLEN = 32
    UNAVAILABLE = 33
    UNKNOWN = 34

    @property
    def uri(self) -> str:
        return f"{CBV}Disp-{self.label}"

    @property
    def is_cbv(self) -> bool:
        """Whether the disposition is a CBV 2.0 standard value (``sellable`` is chainpass's own)."""
        return self not in (Disposition.NONE, Disposition.SELLABLE)


# ---------------------------------------------------------------- TradeFinance


class LineState(NamedEnum):
    """Where one line of an order stands (docs/finance.md)."""

    NONE = 0
    OPEN = 1
    DELIVERED = 2
    DISPUTED = 3
    SETTLED = 4
    REFUNDED = 5


class RefundReason(NamedEnum):
    """Why a line of an order was refunded."""

    RECALLED = 0
    QUARANTINED = 1
    OVERDUE = 2
    CANCELLED = 3
    ARBITRATED = 4

    @classmethod
    def zero_is_none(cls) -> bool:
        return False


class ReceivableKind(NamedEnum):
    """What a receivable is a right to: an order's escrowed payment, or an accepted invoice."""

    NONE = 0
    ORDER = 1
    INVOICE = 2
