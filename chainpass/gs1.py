"""GS1 keys of a passport: GTIN validation (check digit included) and serial / lot numbers.

GTINs are parsed and validated with `biip`, a maintained GS1 barcode library. Serial
(AI 21) and lot (AI 10) numbers are GS1 "X..20" strings: up to 20 characters of the
GS1 AI encodable character set 82. On chain they are left-aligned ASCII in a bytes32.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from urllib.parse import quote

from biip import ParseError
from biip import parse as biip_parse
from biip.gtin import Gtin

from chainpass.errors import InvalidInput

#: GS1 AI encodable character set 82, which serial and lot numbers use.
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")


class Kind(IntEnum):
    """What a passport stands for (mirrors the contract's enum)."""

    NONE = 0
    ITEM = 1
    LOT = 2
    CONTAINER = 3


def parse_gtin(text: str) -> int:
    """A GTIN-8/12/13/14 as the GTIN-14 number, or :class:`InvalidInput` saying what is wrong."""
    value = str(text).strip()
    # ASCII only: str.isdigit() also takes other scripts' digits (e.g. full-width ones).
    if not (value.isascii() and value.isdigit()):
        raise InvalidInput(f"GTIN {text!r} must be digits 0-9 only (8, 12, 13 or 14 of them).")
    if len(value) not in (8, 12, 13, 14):
        raise InvalidInput(f"GTIN {text!r} has {len(value)} digits: a GTIN has 8, 12, 13 or 14.")
    if int(value) == 0:
        raise InvalidInput(f"GTIN {text!r} is all zeros, which is no product's GTIN: scan or copy it again.")
    try:
        gtin = Gtin.parse(value)
    except ParseError as exc:
        raise InvalidInput(f"GTIN {text!r} is not valid: {exc}") from None
    return int(gtin.as_gtin_14())


def parse_serial(text: str, what: str = "serial number") -> bytes:
    """A serial or lot number as the contract stores it: ASCII, left-aligned in 32 bytes."""
    value = str(text)
    # fullmatch: `$` in match() would also accept a trailing newline.
    if not _CSET82.fullmatch(value):
        raise InvalidInput(
            f"The {what} {text!r} must be 1 to 20 characters of GS1's set (letters, digits and !\"%&'()*+,-./:;<=>?_)."
        )
    return value.encode("ascii").ljust(32, b"\0")


@dataclass(frozen=True)
class ProductKey:
    """The GS1 keys that identify one passport."""

    gtin: int
    kind: Kind
    serial: str
    #: Container tier: 1 case, 2 pallet, 3 shipping container; 0 for goods.
    tier: int = 0

    @classmethod
    def item(cls, gtin: str, serial: str) -> ProductKey:
        return cls(parse_gtin(gtin), Kind.ITEM, _checked(serial, "serial number"))

    @classmethod
    def lot(cls, gtin: str, lot: str) -> ProductKey:
        return cls(parse_gtin(gtin), Kind.LOT, _checked(lot, "lot number"))

    @classmethod
    def container(cls, gtin: str, serial: str, tier: int) -> ProductKey:
        if isinstance(tier, bool) or tier not in (1, 2, 3):
            raise InvalidInput(f"Container tier {tier} must be 1 (case), 2 (pallet) or 3 (shipping container).")
        return cls(parse_gtin(gtin), Kind.CONTAINER, _checked(serial, "serial number"), tier)

    @property
    def gtin14(self) -> str:
        return f"{self.gtin:014d}"

    @property
    def serial_bytes(self) -> bytes:
        return parse_serial(self.serial)

    def digital_link(self, base: str = "https://id.gs1.org") -> str:
        """The GS1 Digital Link URI of this key, e.g. ``https://id.gs1.org/01/{gtin}/21/{serial}``."""
        ai = "10" if self.kind is Kind.LOT else "21"
        return f"{base.rstrip('/')}/01/{self.gtin14}/{ai}/{quote(self.serial, safe='')}"

    def __str__(self) -> str:
        ai = "10" if self.kind is Kind.LOT else "21"
        return f"(01){self.gtin14}({ai}){self.serial}"


def _checked(text: str, what: str) -> str:
    parse_serial(text, what)
    return str(text)


def parse_code(text: str, *, container_tier: int = 0) -> ProductKey:
    """The product key in a scanned code: a GS1 Digital Link URI
    (``https://id.example.org/01/{gtin}/21/{serial}`` or ``/10/{lot}``), a GS1 element
    string (``(01)...(21)...``) or its barcode form. With ``container_tier`` the code is
    read as a container's (GTIN + serial)."""
    value = str(text).strip()
    human = value.startswith("(")
    try:
        result = biip_parse(value.replace("(", "").replace(")", "") if human else value)
    except ParseError as exc:
        raise InvalidInput(f"{text!r} is not a GS1 code: {exc}") from None
    message = result.gs1_digital_link_uri or result.gs1_message
    if message is None:
        raise InvalidInput(f"{text!r} is not a GS1 Digital Link URI or element string with a GTIN and serial or lot.")
    fields = {element.ai.ai: element.value for element in message.element_strings}
    if "01" not in fields:
        raise InvalidInput(f"{text!r} carries no GTIN (AI 01).")
    if container_tier:
        if "21" not in fields:
            raise InvalidInput(f"{text!r} carries no serial (AI 21), which a container's code needs.")
        return ProductKey.container(fields["01"], fields["21"], container_tier)
    if "21" in fields:
        return ProductKey.item(fields["01"], fields["21"])
    if "10" in fields:
        return ProductKey.lot(fields["01"], fields["10"])
    raise InvalidInput(f"{text!r} carries neither a serial (AI 21) nor a lot (AI 10).")
