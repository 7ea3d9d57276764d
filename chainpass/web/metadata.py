"""A passport's ERC-721 metadata JSON, where the contract's ``tokenURI`` points (docs/web.md).

``tokenURI(id)`` is the base URI the governor set (``chainpass deploy --metadata-base``,
``chainpass passport set-metadata-base``) followed by the id as ``0x`` and 64 hex digits;
``chainpass serve`` answers ``/metadata/{id}`` with :func:`metadata` (the id also in decimal,
as ERC-721 tools write token ids). The JSON follows the ERC-721 Metadata JSON Schema (``name``,
``description``, ``image``) and the ``external_url`` and ``attributes`` wallets and
marketplaces read. It names the product, never a person: the brand's company prefix and
account (an organisation's), the state, no owner or custodian (an owner may be a shopper).
English only, like the EPCIS export and the inspection record: programs read it, and the passport page
it links to is in the reader's language.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from chainpass.enums import Kind, State
from chainpass.errors import InvalidInput
from chainpass.passport import ProductPassports
from chainpass.standards.qr import render

#: An id as the service takes it: ``0x`` and 1 to 64 hex digits, or 1 to 78 decimal digits.
_ID = re.compile(r"0[xX][0-9a-fA-F]{1,64}|[0-9]{1,78}")

#: What each state tells a holder of the token, in the description.
_STATES = {
    State.ACTIVE: "genuine and in the trade",
    State.IN_TRANSIT: "genuine, in transit",
    State.QUARANTINED: "held for inspection",
    State.SOLD: "sold to a customer",
    State.RECALLED: "RECALLED: do not eat, use or sell it; see its page",
    State.CONSUMED: "made into other goods",
    State.DECOMMISSIONED: "taken out of the trade",
}


def read_id(text: str) -> int:
    """A passport id from a metadata path: ``0x`` hex (as ``tokenURI`` writes it) or decimal."""
    if not _ID.fullmatch(text):
        raise InvalidInput(
            f"{text[:80]!r} is not a passport id: 0x and up to 64 hex digits (as tokenURI writes it), or decimal."
        )
    value = int(text, 16) if text[:2].lower() == "0x" else int(text)
    if value >= 2**256:
        raise InvalidInput(f"{text[:80]!r} is not a passport id: it is larger than 256 bits.")
    return value


def metadata(passports: ProductPassports, id_: int, root: str) -> dict[str, Any] | None:
    """Passport ``id_``'s ERC-721 metadata, its links on the service at ``root``; None if no
    passport has that id. Reads the chain (the verdict) and the index (the code, the journey)."""
    key = passports.key_of(id_)
    if key is None:
        return None
    verdict = passports.verify(key)
    link = key.digital_link(root)
    page = root + "/passport" + link.removeprefix(root)
    serial_name = {Kind.LOT: "Lot", Kind.CONTAINER: "Serial (container)"}.get(key.kind, "Serial")
    attributes: list[dict[str, Any]] = []
    other = key.other_key
    if other is not None:
        attributes.append({"trait_type": {"00": "SSCC", "8004": "GIAI"}[other[0]], "value": other[1]})
    else:
        attributes += [{"trait_type": "GTIN", "value": key.gtin14}, {"trait_type": serial_name, "value": key.serial}]
    attributes += [
        {"trait_type": "Kind", "value": key.kind.name.lower()},
        {"trait_type": "State", "value": verdict.state.label},
        {"trait_type": "Genuine", "value": "yes" if verdict.genuine else "no"},
        {"trait_type": "Sold once", "value": "yes" if verdict.sold_once else "no"},
    ]
    if verdict.brand is not None:
        attributes += [
            {"trait_type": "Brand (GS1 company prefix)", "value": verdict.brand.prefix},
            {"trait_type": "Brand account", "value": verdict.brand.licensee},
        ]
    qr = render(link, "svg")
    return {
        "name": f"Product passport {key}",
        "description": (
            f"The chainpass product passport of {key}: {_STATES.get(verdict.state, verdict.state.label)}. "
            f"Its journey, and whether it is genuine, on its page: {page}"
        ),
        "image": "data:image/svg+xml;base64," + base64.b64encode(qr).decode("ascii"),
        "external_url": page,
        "attributes": attributes,
    }
