"""Constants and helpers shared by the ape suite's fixtures and tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

#: IIdentityRegistry.Level and Sector; IProductPassport roles (uint8 bit set).
LEVEL_SUBSTANTIAL, LEVEL_HIGH = 2, 3
SECTOR_BANK = 2
PRODUCER, CARRIER, REGISTRAR = 1, 4, 32
#: The cooperative's GS1 company prefix (its GTIN 09506000134352), as registerPrefix takes it.
COOP_PREFIX, COOP_PREFIX_LENGTH = 9506000, 7
#: Seconds a holder's old key has to object to a recovery (chainpass's default: 3 days).
RECOVERY_DELAY = 3 * 24 * 3600
TEN_YEARS = 10 * 365 * 24 * 3600


def commitment(label: str) -> bytes:
    """A stand-in Merkle root: a hash of a label, never of anybody's data."""
    return keccak(text=f"chainpass ape suite: {label}")


@dataclass(frozen=True)
class Actors:
    """The suite's cast, by role: ape test accounts."""

    governor: Any
    bureau: Any
    bank: Any
    holder: Any
    coop: Any
    carrier: Any
    outsider: Any
    #: A GS1 member organisation: registers company prefixes to their brands.
    registrar: Any
