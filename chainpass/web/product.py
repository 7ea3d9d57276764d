"""The product level of the resolver (``/01/{gtin}`` alone; docs/web.md): the brand that owns
the GTIN's GS1 company prefix, and the passports commissioned under the GTIN that the trace
index knows, a page at a time.

The passports are found in the index by their commissioning logs (``PassportCommissioned``,
whose first data word is the GTIN), through an index of (event, first word): a page reads
:data:`PAGE_SIZE` logs, and the count stops at :data:`COUNT_CAP`, so a product with a million
passports costs a page what one with ten does.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainpass.enums import Kind
from chainpass.index import TraceIndex
from chainpass.passport import Brand, ProductPassports
from chainpass.standards.gs1 import ProductKey
from chainpass.web.drawing import brand_tx, effective_states, passport_path
from chainpass.web.wording import _, state_words

#: Passports listed on one page of a product.
PAGE_SIZE = 20
#: The most passports a product page counts (beyond: "more than").
COUNT_CAP = 10_000
#: The last page a product page offers.
LAST_PAGE = COUNT_CAP // PAGE_SIZE


@dataclass(frozen=True)
class Listed:
    """A passport of the product: its code, kind and state in words, its page, and the
    transaction that commissioned it."""

    code: str
    kind: str
    state: str
    href: str
    tx_hash: str


@dataclass(frozen=True)
class Product:
    """A product page: the GTIN's code, its brand and the transaction that registered the brand's
    prefix, one page of its passports, how many there are (up to :data:`COUNT_CAP`: ``capped``
    when there are more), and which page this is of how many."""

    code: str
    brand: Brand
    brand_tx: str | None
    passports: tuple[Listed, ...]
    count: int
    capped: bool
    page: int
    pages: int

    @property
    def first(self) -> int:
        """The number of the page's first passport in the whole list."""
        return (self.page - 1) * PAGE_SIZE + 1


def read_page(text: str | None) -> int:
    """``?page=`` as a page number (1 when not given); :class:`ValueError` for anything that is
    not a whole number from 1 to :data:`LAST_PAGE`."""
    if text is None:
        return 1
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= LAST_PAGE:
        raise ValueError(text)
    return int(text)


def product(passports: ProductPassports, index: TraceIndex, gtin: int, root: str, page: int) -> Product | None:
    """Page ``page`` of the product ``gtin`` (its passports' pages on the service at ``root``), or
    None if no brand owns its company prefix (an unknown product)."""
    brand = passports.brand_of(gtin)
    if brand is None:
        return None
    logs, count = index.logs_with_first_word(
        passports.topic("PassportCommissioned"),
        gtin.to_bytes(32, "big"),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        count_up_to=COUNT_CAP + 1,
    )
    ids = [int.from_bytes(bytes(log["topics"][1]), "big") for log in logs]
    states = effective_states(passports, ids)  # one batch of calls
    listed = []
    for id_, state, log in zip(ids, states, logs, strict=True):
        key = passports.key_of(id_)
        if key is None:
            continue
        tx_hash = "0x" + bytes(log["transactionHash"]).hex()
        listed.append(Listed(str(key), _kind(key), state_words(state), passport_path(key, root), tx_hash))
    shown = min(count, COUNT_CAP)
    return Product(
        code=f"(01){gtin:014d}",
        brand=brand,
        brand_tx=brand_tx(passports, brand),
        passports=tuple(listed),
        count=shown,
        capped=count > COUNT_CAP,
        page=page,
        pages=max(1, -(-shown // PAGE_SIZE)),
    )


def _kind(key: ProductKey) -> str:
    return _("A lot") if key.kind is Kind.LOT else _("A package") if key.kind is Kind.CONTAINER else _("An item")
