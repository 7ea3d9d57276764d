"""GS1 keys of a passport: GTINs, serial and lot numbers, GS1 Digital Link URIs and EPC URNs.

GTINs are validated with `biip`, a maintained GS1 barcode library, which also checks the
values of Digital Link data attributes and bundles GS1's table of GS1 Company Prefix
lengths. Serial (AI 21) and lot (AI 10) numbers are GS1 "X..20" strings: 1 to 20
characters of the GS1 AI encodable character set 82. On chain they are left-aligned
ASCII in a bytes32.

A passport's key has three spellings, all convertible into each other:

- the element string, ``(01)09506000134352(21)BAG-001`` (``(10)`` for a lot);
- the GS1 Digital Link URI (GS1 Digital Link Standard: URI Syntax, release 1.2),
  ``https://id.gs1.org/01/09506000134352/21/BAG-001``: :class:`DigitalLink`;
- the EPC pure identity URN (GS1 EPC Tag Data Standard), ``urn:epc:id:sgtin:
  {company prefix}.{indicator + item reference}.{serial}`` for an item or container,
  ``urn:epc:class:lgtin:...`` for a lot: :meth:`ProductKey.epc_urn`, :func:`parse_epc_urn`.

A logistic unit's SSCC (AI 00: ``urn:epc:id:sscc:...``, ``https://id.gs1.org/00/{sscc}``)
and an asset's GIAI (AI 8004: ``urn:epc:id:giai:...``, ``/8004/{giai}``) key passports too:
GTIN 0, and the AI with its value as the serial (:meth:`ProductKey.sscc`,
:meth:`ProductKey.giai`). A GSRN (AI 8018 or 8017) names a person and is refused.

:func:`parse_code` reads any of them, and a compressed Digital Link URI too
(``https://id.example.org/ARHKVAdpQkIKqwo``, as a phone's camera reads a QR code that carries
one: :mod:`chainpass.standards.dl_compression`), as the uncompressed link it stands for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from biip import ParseError
from biip import parse as biip_parse
from biip.checksums import gs1_standard_check_digit
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from biip.sscc import Sscc

from chainpass.enums import Kind
from chainpass.errors import InvalidInput
from chainpass.standards.dl_compression import decompress_digital_link, is_compressed_digital_link

#: GS1 AI encodable character set 82, which serial and lot numbers use.
_CSET82_CHARS = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")

#: GS1's own resolver: the domain of a canonical GS1 Digital Link URI.
DEFAULT_RESOLVER = "https://id.gs1.org"

#: The AIs that prefix the serial of a passport keyed by another GS1 key than a GTIN (GTIN 0).
SSCC_AI = "00"
GIAI_AI = "8004"
#: The tier of a logistic unit's container when nothing says otherwise: a pallet.
SSCC_TIER = 2


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


def company_prefix_length(gtin: str | int) -> int | None:
    """The length of the GS1 Company Prefix inside ``gtin``, from GS1's prefix-length table.

    The length (6 to 12 digits) cannot be worked out from the digits alone: GS1 and its
    member organisations allocate prefixes of different lengths, and publish which
    ranges have which length. biip bundles that table (a snapshot, as of its release).
    ``None`` where the table has no company prefix for the GTIN: a GTIN-8 (GS1-8
    prefixes are not company prefixes), restricted-circulation numbers (prefixes 02, 04,
    20-29) and unallocated ranges. A company that knows its own prefix length should pass
    it explicitly to :meth:`ProductKey.epc_urn`.
    """
    prefix = Gtin.parse(f"{parse_gtin(str(gtin)):014d}").company_prefix
    return len(prefix.value) if prefix is not None else None


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
        return cls(parse_gtin(gtin), Kind.CONTAINER, _checked(serial, "serial number"), _checked_tier(tier))

    @classmethod
    def sscc(cls, sscc: str, tier: int = SSCC_TIER) -> ProductKey:
        """A logistic unit's passport from its SSCC (18 digits, check digit validated): a
        container with GTIN 0 and serial ``00`` + the SSCC (see :attr:`other_key`)."""
        return cls(0, Kind.CONTAINER, SSCC_AI + parse_sscc(sscc), _checked_tier(tier))

    @classmethod
    def giai(cls, giai: str) -> ProductKey:
        """An individual asset's passport from its GIAI (a company prefix and an asset
        reference, GS1's character set, up to 28 characters here): an item with GTIN 0 and
        serial ``8004`` + the GIAI."""
        return cls(0, Kind.ITEM, GIAI_AI + parse_giai(giai))

    @property
    def other_key(self) -> tuple[str, str] | None:
        """For a passport keyed by another GS1 key than a GTIN (GTIN 0): its AI and value,
        ``("00", sscc)`` or ``("8004", giai)``; None for a GTIN's."""
        if self.gtin != 0:
            return None
        for ai in (SSCC_AI, GIAI_AI):
            if self.serial.startswith(ai):
                return ai, self.serial[len(ai) :]
        raise InvalidInput(f"Key {self.serial!r} has GTIN 0 but no SSCC (00) or GIAI (8004) in its serial.")

    @property
    def gtin14(self) -> str:
        return f"{self.gtin:014d}"

    @property
    def serial_bytes(self) -> bytes:
        if self.gtin == 0:  # another GS1 key (validated by sscc() and giai(); the chain checks its AI)
            if not (self.serial.isascii() and 0 < len(self.serial) <= 32):
                raise InvalidInput(f"The key {self.serial!r} must be 1 to 32 ASCII characters.")
            return self.serial.encode("ascii").ljust(32, b"\0")
        return parse_serial(self.serial)

    @property
    def row(self) -> tuple[int, int, int, bytes]:
        """The key as the contract takes it (``IProductPassport.Key``): GTIN, kind, tier, serial."""
        return (self.gtin, int(self.kind), self.tier, self.serial_bytes)

    def digital_link(self, base: str = DEFAULT_RESOLVER) -> str:
        """The GS1 Digital Link URI of this key, e.g. ``https://id.gs1.org/01/{gtin}/21/{serial}``.

        ``base`` is the resolver: ``https://`` (or ``http://``), a domain and optionally a
        path prefix (``https://example.org/products``). See :class:`DigitalLink`.
        """
        other = self.other_key
        if other is not None:
            return f"{check_resolver(base)}/{other[0]}/{quote(other[1], safe='')}"
        return str(DigitalLink.of(self, base))

    def epc_urn(self, company_prefix_length: int | None = None) -> str:
        """The EPC pure identity URN of this key (GS1 EPC Tag Data Standard).

        An item or a container is an SGTIN, ``urn:epc:id:sgtin:{CompanyPrefix}.
        {IndicatorDigit}{ItemReference}.{serial}``; a lot is an LGTIN, an EPC class,
        ``urn:epc:class:lgtin:{CompanyPrefix}.{IndicatorDigit}{ItemReference}.{lot}``. The
        GTIN's check digit is dropped (the URN carries none) and the serial or lot is
        escaped with :func:`epc_escape`.

        The URN splits the GTIN after its GS1 Company Prefix, whose length (6 to 12
        digits) is not in the GTIN. ``company_prefix_length`` gives it; left out, it comes
        from GS1's prefix-length table (:func:`company_prefix_length`), and a GTIN the
        table does not cover is refused rather than split at a guess: a URN split in the
        wrong place names a different company's product.
        """
        other = self.other_key
        if other is not None:
            return _other_epc_urn(other[0], other[1], company_prefix_length)
        length = _prefix_length(self.gtin14, company_prefix_length)
        scheme = "urn:epc:class:lgtin:" if self.kind is Kind.LOT else "urn:epc:id:sgtin:"
        digits = self.gtin14
        return f"{scheme}{digits[1 : 1 + length]}.{digits[0]}{digits[1 + length : 13]}.{epc_escape(self.serial)}"

    def __str__(self) -> str:
        other = self.other_key
        if other is not None:
            return f"({other[0]}){other[1]}"
        ai = "10" if self.kind is Kind.LOT else "21"
        return f"(01){self.gtin14}({ai}){self.serial}"


def _checked(text: str, what: str) -> str:
    parse_serial(text, what)
    return str(text)


def _checked_tier(tier: int) -> int:
    if isinstance(tier, bool) or tier not in (1, 2, 3):
        raise InvalidInput(f"Container tier {tier} must be 1 (case), 2 (pallet) or 3 (shipping container).")
    return tier


# ------------------------------------------------------------------- SSCC and GIAI

#: A GIAI must fit a passport's 32-byte serial with its AI.
_GIAI_MAX = 32 - len(GIAI_AI)
_GIAI = re.compile(r"[0-9]{6,12}[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,24}")
#: Keys that name a person, never a passport: their numbers would put personal data on chain.
PERSONAL_KEYS = {
    "8017": "a GSRN-P (a service provider: a person)",
    "8018": "a GSRN (a service recipient: a person, such as a patient)",
}


def parse_sscc(text: str) -> str:
    """An SSCC (Serial Shipping Container Code, AI 00): 18 digits with a valid check digit."""
    value = str(text).strip()
    if not (value.isascii() and value.isdigit() and len(value) == 18):
        raise InvalidInput(f"SSCC {text!r} must be 18 digits.")
    try:
        Sscc.parse(value)
    except ParseError as exc:
        raise InvalidInput(f"SSCC {text!r} is not valid: {exc}") from None
    return value


def parse_giai(text: str) -> str:
    """A GIAI (Global Individual Asset Identifier, AI 8004): a company prefix and an asset
    reference in GS1's character set, at most 28 characters here (GS1 allows 30)."""
    value = str(text).strip()
    if not _GIAI.fullmatch(value) or len(value) > _GIAI_MAX:
        raise InvalidInput(
            f"GIAI {text!r} must be a company prefix and an asset reference, {_GIAI_MAX} characters at most, "
            "of GS1's set."
        )
    return value


def _personal(ai: str, text: str) -> InvalidInput:
    return InvalidInput(
        f"{text!r} names {PERSONAL_KEYS[ai]}: a passport never carries it, since its number would put "
        "personal data on chain."
    )


def _other_epc_urn(ai: str, value: str, company_prefix_length: int | None) -> str:
    """The EPC URN of an SSCC (``urn:epc:id:sscc:CP.SerialRef``) or a GIAI
    (``urn:epc:id:giai:CP.AssetRef``); the company prefix length from GS1's table if not given."""
    if ai == SSCC_AI:
        length = company_prefix_length
        if length is None:
            prefix = Sscc.parse(value).company_prefix
            if prefix is None:
                raise InvalidInput(f"GS1's prefix table has no GS1 Company Prefix for SSCC {value}.")
            length = len(prefix.value)
        _prefix_length("0" * 14, length)
        return f"urn:epc:id:sscc:{value[1 : 1 + length]}.{value[0]}{value[1 + length : 17]}"
    if company_prefix_length is None:
        raise InvalidInput(f"GIAI {value} carries no GS1 Company Prefix length: give it explicitly.")
    length = _prefix_length("0" * 14, company_prefix_length)
    return f"urn:epc:id:giai:{value[:length]}.{epc_escape_long(value[length:])}"


def epc_escape_long(text: str) -> str:
    """:func:`epc_escape` for components longer than a serial (an asset reference)."""
    return "".join(_EPC_ESCAPES.get(c, c) for c in text)


# ------------------------------------------------------------------- Digital Link

#: The key qualifiers of a GTIN in the order the standard fixes for the path; the
#: convenience short names of releases 1.0 and 1.1 (deprecated since 1.2) are read too.
_QUALIFIERS = {"22": "consumer product variant", "10": "lot", "21": "serial"}
_PATH_NAMES = {"01": "01", "gtin": "01", "22": "22", "cpv": "22", "10": "10", "lot": "10", "21": "21", "ser": "21"}
#: The other GS1 identification keys a Digital Link path can start with.
_OTHER_KEYS = {
    "00": "an SSCC (a logistic unit)",
    "253": "a GDTI (a document)",
    "255": "a GCN (a coupon)",
    "401": "a GINC (a consignment)",
    "402": "a GSIN (a shipment)",
    "414": "a GLN (a location)",
    "417": "a party GLN",
    "8003": "a GRAI (a returnable asset)",
    "8004": "a GIAI (an individual asset)",
    "8006": "an ITIP (a piece of a trade item)",
    "8010": "a CPID (a component or part)",
    "8013": "a GMN (a model number)",
    "8017": "a GSRN-P (a service provider)",
    "8018": "a GSRN (a service recipient)",
}
#: AIs that identify (keys and key qualifiers, 235 being the GTIN's TPX): never data attributes.
_IDENTIFYING = {"01", "22", "10", "21", "235", *_OTHER_KEYS}
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class DigitalLink:
    """A GS1 Digital Link URI for a GTIN (GS1 Digital Link Standard: URI Syntax, 1.2).

    The path carries the primary key and its key qualifiers, in the order the standard
    fixes: ``/01/{gtin}`` then, each optional and at most once, ``/22/{consumer product
    variant}``, ``/10/{lot}``, ``/21/{serial}``. The GTIN is written with 14 digits (a
    GTIN-8, -12 or -13 is read and padded with zeros). Values are percent-encoded:
    everything but letters, digits and ``-._`` is written ``%XX`` (so ``/`` is ``%2F``
    and cannot split the path). The query string carries data attributes as
    ``AI=value`` (e.g. ``?17=261231``, an expiry date), written sorted by AI.

    The URI begins with a resolver, :attr:`resolver`: ``https://id.gs1.org`` (GS1's,
    the canonical one) or the brand's own domain, optionally with a path prefix
    (``https://example.org/products/01/...``).

    Reading is strict where the standard is: the GTIN's check digit, the qualifiers'
    order, GS1's character set and length for each value, well-formed percent-encoding,
    and each data attribute's format (via biip's AI table, dates included). A key or key
    qualifier in the query string (``?21=...``) or an AI given twice is refused rather
    than guessed at, and so is the GTIN's fourth qualifier, ``/235/`` (a third-party
    controlled serial extension), which no passport has. Query parameters that are not GS1 AIs (``linkType=...``,
    a campaign tag) are allowed by the standard and carry no GS1 data: they are dropped,
    as is a ``#fragment``, which never reaches a resolver.
    """

    gtin: int
    serial: str | None = None
    lot: str | None = None
    cpv: str | None = None
    #: Data attributes from the query string: (AI, value) pairs sorted by AI.
    attributes: tuple[tuple[str, str], ...] = ()
    resolver: str = DEFAULT_RESOLVER

    def __post_init__(self) -> None:
        """Every DigitalLink is a valid one: checked here however it was made."""
        if isinstance(self.gtin, bool) or not isinstance(self.gtin, int) or not 0 < self.gtin < 10**14:
            raise InvalidInput(f"GTIN {self.gtin!r} must be a number of at most 14 digits.")
        parse_gtin(self.gtin14)
        for ai, value in (("22", self.cpv), ("10", self.lot), ("21", self.serial)):
            if value is not None:
                parse_serial(value, f"{_QUALIFIERS[ai]} (AI {ai})")
        for ai, value in self.attributes:
            _check_attribute(ai, value, "A Digital Link")
        if len({ai for ai, _ in self.attributes}) != len(self.attributes):
            raise InvalidInput(f"A Digital Link's data attributes {self.attributes!r} give an AI twice.")
        object.__setattr__(self, "attributes", tuple(sorted(self.attributes)))
        object.__setattr__(self, "resolver", check_resolver(self.resolver))

    @property
    def gtin14(self) -> str:
        return f"{self.gtin:014d}"

    @classmethod
    def of(cls, key: ProductKey, base: str = DEFAULT_RESOLVER) -> DigitalLink:
        """The Digital Link of a passport's key on the resolver ``base``."""
        if key.kind is Kind.LOT:
            return cls(key.gtin, lot=key.serial, resolver=check_resolver(base))
        return cls(key.gtin, serial=key.serial, resolver=check_resolver(base))

    @classmethod
    def parse(cls, text: str) -> DigitalLink:
        """Read a GS1 Digital Link URI with a GTIN; :class:`InvalidInput` names what is wrong."""
        value = str(text).strip()
        if not value.isascii() or any(c.isspace() for c in value):
            raise InvalidInput(f"{text!r} is not a URI: spaces and non-ASCII characters must be percent-encoded.")
        try:
            parts = urlsplit(value)
        except ValueError as exc:
            raise InvalidInput(f"{text!r} is not a URI: {exc}.") from None
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise InvalidInput(f"{text!r} is not a GS1 Digital Link URI: it must start with https:// and a domain.")
        if (bad := _BAD_ESCAPE.search(parts.path + "?" + parts.query)) is not None:
            raise InvalidInput(
                f"{text!r} has a '%' that starts no percent-encoding ({bad.string[bad.start() : bad.start() + 3]!r}): "
                "write % itself as %25."
            )
        segments = parts.path.split("/")[1:]
        start = _key_start(segments, text)
        gtin = parse_gtin(unquote(segments[start + 1]))
        qualifiers = {_PATH_NAMES[segments[i]]: unquote(segments[i + 1]) for i in range(start + 2, len(segments), 2)}
        for ai, qualifier in qualifiers.items():
            parse_serial(qualifier, f"{_QUALIFIERS[ai]} (AI {ai})")
        prefix = "/".join(segments[:start])
        return cls(
            gtin,
            serial=qualifiers.get("21"),
            lot=qualifiers.get("10"),
            cpv=qualifiers.get("22"),
            attributes=_attributes(parts.query, text),
            resolver=f"{parts.scheme.lower()}://{parts.netloc.lower()}" + (f"/{prefix}" if prefix else ""),
        )

    def key(self, container_tier: int = 0) -> ProductKey:
        """The passport this link names: the GTIN with its serial (an item, or a container's
        with ``container_tier``), else with its lot. A consumer product variant and data
        attributes do not name a passport, and the lot of a serialised item is not part of
        its key (GTIN + serial is unique, as in an SGTIN)."""
        if container_tier:
            if self.serial is None:
                raise InvalidInput(f"{str(self)!r} carries no serial (AI 21), which a container's code needs.")
            return ProductKey.container(self.gtin14, self.serial, container_tier)
        if self.serial is not None:
            return ProductKey.item(self.gtin14, self.serial)
        if self.lot is not None:
            return ProductKey.lot(self.gtin14, self.lot)
        raise InvalidInput(
            f"{str(self)!r} carries neither a serial (AI 21) nor a lot (AI 10): it names a product, not one passport."
        )

    def epc_urn(self, company_prefix_length: int | None = None) -> str:
        """The EPC URN of :meth:`key` (see :meth:`ProductKey.epc_urn`)."""
        return self.key().epc_urn(company_prefix_length)

    def __str__(self) -> str:
        path = f"/01/{self.gtin14}" + "".join(
            f"/{ai}/{quote(value, safe='')}"
            for ai, value in (("22", self.cpv), ("10", self.lot), ("21", self.serial))
            if value is not None
        )
        query = "&".join(f"{ai}={quote(value, safe='')}" for ai, value in self.attributes)
        return self.resolver + path + (f"?{query}" if query else "")


def check_resolver(base: str) -> str:
    """``base`` checked as a Digital Link resolver: ``https://`` (or ``http://``), a domain,
    optionally a path prefix; no query, fragment or credentials. Without a trailing ``/``."""
    value = str(base).strip()
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise InvalidInput(f"Resolver {base!r} is not a URL: {exc}.") from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
        or "?" in value
        or "#" in value
        or not value.isascii()
        or any(c.isspace() for c in value)
        or "//" in parts.path
    ):
        raise InvalidInput(
            f"Resolver {base!r} must be https:// and a domain, optionally with a path (https://id.example.org/p), "
            "and nothing else."
        )
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def resolver_of(code: str) -> str | None:
    """The resolver of ``code`` if it is a GS1 Digital Link URI, else ``None``."""
    value = str(code).strip()
    if not value.lower().startswith(("http://", "https://")):
        return None
    value = _uncompressed(value)
    other = _other_key_link(value, 0)
    return other[1] if other is not None else DigitalLink.parse(value).resolver


def _uncompressed(uri: str) -> str:
    """``uri`` itself, or the uncompressed Digital Link URI it stands for if it is compressed."""
    return decompress_digital_link(uri) if is_compressed_digital_link(uri) else uri


def _key_start(segments: list[str], text: str) -> int:
    """The index of ``01`` in the path: the first one after which the path is a valid
    GTIN key with qualifiers. A path prefix before it is the resolver's."""
    starts = [i for i, segment in enumerate(segments) if _PATH_NAMES.get(segment) == "01"]
    problems = [_key_problem(segments[i:]) for i in starts]
    for start, problem in zip(starts, problems, strict=True):
        if problem is None:
            return start
    if problems:
        raise InvalidInput(f"{text!r} is not a valid GS1 Digital Link URI: {problems[0]}")
    others = [f"{_OTHER_KEYS[s]}, AI {s}" for s in segments if s in _OTHER_KEYS]
    if others:
        raise InvalidInput(f"{text!r} names {others[0]}, not a trade item: a passport's link has /01/{{gtin}}.")
    raise InvalidInput(f"{text!r} is not a GS1 Digital Link URI for a product: its path has no /01/{{gtin}}.")


def _key_problem(path: list[str]) -> str | None:
    """What is wrong with ``01/{gtin}/{AI}/{value}...``, or ``None``."""
    if len(path) % 2:
        if path[-1] == "":
            return "the path must not end with '/'."
        return f"after /01/ the path must be pairs /AI/value, but /{path[-1]} has no value."
    if "" in path:
        return "the path has an empty segment (//)."
    order = list(_QUALIFIERS)
    last = -1
    for name in path[2::2]:
        ai = _PATH_NAMES.get(name)
        if ai is None or ai not in _QUALIFIERS:
            if name == "235":
                where = "a TPX (AI 235) names no chainpass passport"
            elif name in _IDENTIFYING:
                where = "it is a key of its own"
            elif _is_ai(name):
                where = f"data attributes go in the query string (?{name}=...)"
            else:
                where = "it is no key qualifier"
            return f"/{name}/ cannot follow a GTIN in the path: {where}; the qualifiers are 22, 10 and 21."
        if order.index(ai) <= last:
            return (
                f"key qualifiers go in the order /22/ (consumer product variant), /10/ (lot), /21/ (serial), "
                f"each at most once, but /{name}/ comes after /{order[last]}/."
            )
        last = order.index(ai)
    return None


def _is_ai(name: str) -> bool:
    if not (name.isascii() and name.isdigit()):
        return False
    try:
        return GS1ApplicationIdentifier.extract(name).ai == name
    except ParseError:
        return False


def _attributes(query: str, text: str) -> tuple[tuple[str, str], ...]:
    """The GS1 data attributes of a Digital Link's query string, validated by biip."""
    found: dict[str, str] = {}
    for pair in query.split("&") if query else ():
        name, _, raw = pair.partition("=")
        name = unquote(name)
        if name not in _IDENTIFYING and not _is_ai(name):
            continue  # not GS1 data, e.g. linkType: allowed, and ignored
        if name in found:
            raise InvalidInput(f"{text!r} gives AI {name} twice in its query string.")
        found[name] = _check_attribute(name, unquote(raw), repr(text))
    return tuple(sorted(found.items()))


def _check_attribute(ai: str, value: str, where: str) -> str:
    """``value`` if it is valid for the data attribute ``ai`` (biip knows each AI's format)."""
    if ai in _IDENTIFYING:
        raise InvalidInput(
            f"{where} has AI {ai} in its query string: keys and key qualifiers belong in the path "
            "(/01/{gtin}/22/.../10/.../21/...)."
        )
    if not _is_ai(ai):
        raise InvalidInput(f"{where} has a data attribute {ai!r}, which is no GS1 Application Identifier.")
    try:
        element = GS1ElementString.parse(ai + value)
    except ParseError as exc:
        raise InvalidInput(f"{where} has an invalid data attribute {ai}={value!r}: {exc}") from None
    if (element.ai.ai, element.value) != (ai, value):
        raise InvalidInput(f"{where} has an invalid data attribute {ai}={value!r}: it reads as ({element.ai.ai}).")
    return value


# ------------------------------------------------------------------------ EPC URNs

#: The characters of GS1's set 82 that an EPC URI escapes (Tag Data Standard, table A-1,
#: "Characters Permitted in Alphanumeric Serial Numbers"): the rest stand as they are.
_EPC_ESCAPES = {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}
#: One character of an EPC URI component (the TDS's GS3A3Char): a plain one or %XX.
_EPC_CHAR = re.compile(r"[0-9A-Za-z!'()*+,\-.:;=_]|%[0-9A-Fa-f]{2}")
_SGTIN = "urn:epc:id:sgtin:"
_LGTIN = "urn:epc:class:lgtin:"


def epc_escape(text: str, what: str = "serial number") -> str:
    """``text`` (GS1 character set 82) as an EPC URI component: ``" % & / < > ?`` become
    ``%22 %25 %26 %2F %3C %3E %3F`` (uppercase hex), as the Tag Data Standard writes them;
    all other characters of the set stand for themselves."""
    parse_serial(text, what)
    return "".join(_EPC_ESCAPES.get(c, c) for c in text)


def epc_unescape(text: str, what: str = "serial number") -> str:
    """An EPC URI component back to its characters: the inverse of :func:`epc_escape`.

    As the Tag Data Standard's grammar allows, any character may come escaped (``%41``
    is ``A``, hex in either case) as long as it is one of GS1's 82; the seven above must
    be. The result is checked as a serial or lot (1 to 20 characters).
    """
    value = str(text)
    chars = []
    position = 0
    while position < len(value):
        match = _EPC_CHAR.match(value, position)
        if match is None:
            bad = value[position]
            hint = "starts no escape %XX" if bad == "%" else "must be escaped as %XX"
            raise InvalidInput(f"The EPC URN's {what} {value!r} has {bad!r} at position {position + 1}, which {hint}.")
        token = match.group()
        char = chr(int(token[1:], 16)) if token.startswith("%") else token
        if char not in _CSET82_CHARS:
            raise InvalidInput(f"The EPC URN's {what} {value!r} has {token}, which is no character of GS1's set.")
        chars.append(char)
        position = match.end()
    return _checked("".join(chars), what)


def parse_epc_urn(text: str, *, container_tier: int = 0) -> ProductKey:
    """The key in an EPC pure identity URN: ``urn:epc:id:sgtin:...`` (an item, or a
    container's with ``container_tier``) or ``urn:epc:class:lgtin:...`` (a lot).

    The URN carries the split after the GS1 Company Prefix (6 to 12 digits; with the
    indicator digit and item reference, 13 digits in all), so no prefix length is
    needed. The GTIN's check digit, which the URN leaves out, is computed again.
    """
    value = str(text).strip()
    lower = value.lower()
    if lower.startswith(_SGTIN):
        scheme, body = "sgtin", value[len(_SGTIN) :]
    elif lower.startswith(_LGTIN):
        scheme, body = "lgtin", value[len(_LGTIN) :]
    elif lower.startswith("urn:epc:id:sscc:"):
        return _sscc_from_urn(value, container_tier or SSCC_TIER)
    elif lower.startswith("urn:epc:id:giai:"):
        return _giai_from_urn(value)
    elif lower.startswith(("urn:epc:id:gsrn:", "urn:epc:id:gsrnp:")):
        raise _personal("8018" if lower.startswith("urn:epc:id:gsrn:") else "8017", value)
    elif lower.startswith("urn:epc:tag:"):
        raise InvalidInput(f"{text!r} is an EPC tag URI (RFID encoding): give the pure identity URN, urn:epc:id:...")
    elif lower.startswith("urn:epc:idpat:"):
        raise InvalidInput(f"{text!r} is an EPC pattern, which names many objects: give one, urn:epc:id:sgtin:...")
    else:
        raise InvalidInput(
            f"{text!r} is not an EPC URN of an item (urn:epc:id:sgtin:...), a lot (urn:epc:class:lgtin:...), "
            "a logistic unit (urn:epc:id:sscc:...) or an asset (urn:epc:id:giai:...)."
        )
    parts = body.split(".", 2)
    if len(parts) != 3:
        raise InvalidInput(
            f"{text!r} must have three parts after '{scheme}:', separated by '.': the company prefix, "
            "the indicator digit + item reference, and the " + ("lot." if scheme == "lgtin" else "serial.")
        )
    prefix, reference, escaped = parts
    if not (prefix.isascii() and prefix.isdigit() and 6 <= len(prefix) <= 12):
        raise InvalidInput(f"{text!r}: the GS1 Company Prefix {prefix!r} must be 6 to 12 digits.")
    if not (reference.isascii() and reference.isdigit() and len(prefix) + len(reference) == 13):
        raise InvalidInput(
            f"{text!r}: the indicator digit + item reference {reference!r} must be {13 - len(prefix)} digits, "
            f"so that with the {len(prefix)}-digit company prefix they make 13."
        )
    body13 = reference[0] + prefix + reference[1:]
    gtin14 = body13 + str(gs1_standard_check_digit(body13))
    if scheme == "lgtin":
        if container_tier:
            raise InvalidInput(f"{text!r} is a lot (LGTIN): a container's code has a serial (urn:epc:id:sgtin:...).")
        return ProductKey.lot(gtin14, epc_unescape(escaped, "lot number"))
    serial = epc_unescape(escaped, "serial number")
    if container_tier:
        return ProductKey.container(gtin14, serial, container_tier)
    return ProductKey.item(gtin14, serial)


def _sscc_from_urn(value: str, tier: int) -> ProductKey:
    body = value[len("urn:epc:id:sscc:") :]
    prefix, _, reference = body.partition(".")
    if not (
        prefix.isascii() and prefix.isdigit() and reference.isascii() and reference.isdigit()
        and 6 <= len(prefix) <= 12 and len(prefix) + len(reference) == 17
    ):  # fmt: skip
        raise InvalidInput(
            f"{value!r} must be urn:epc:id:sscc:{{company prefix}}.{{extension digit + serial reference}}, "
            "17 digits in all."
        )
    payload = reference[0] + prefix + reference[1:]
    return ProductKey.sscc(payload + str(gs1_standard_check_digit(payload)), tier)


def _giai_from_urn(value: str) -> ProductKey:
    body = value[len("urn:epc:id:giai:") :]
    prefix, dot, reference = body.partition(".")
    if not (dot and prefix.isascii() and prefix.isdigit() and 6 <= len(prefix) <= 12 and reference):
        raise InvalidInput(f"{value!r} must be urn:epc:id:giai:{{company prefix}}.{{asset reference}}.")
    chars = []
    position = 0
    while position < len(reference):
        match = _EPC_CHAR.match(reference, position)
        if match is None:
            raise InvalidInput(f"{value!r}: the asset reference has {reference[position]!r}, which must be escaped.")
        token = match.group()
        chars.append(chr(int(token[1:], 16)) if token.startswith("%") else token)
        position = match.end()
    return ProductKey.giai(prefix + "".join(chars))


def _other_key_link(text: str, container_tier: int) -> tuple[ProductKey, str] | None:
    """The key of a Digital Link whose primary key is an SSCC (/00/) or a GIAI (/8004/), and
    its resolver (with any path prefix); None for any other link. A GSRN (/8018/, /8017/) is
    refused: it names a person."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    segments = [unquote(x) for x in parts.path.split("/")[1:]]
    for i, segment in enumerate(segments[:-1]):
        if _PATH_NAMES.get(segment) == "01":
            return None  # a trade item's link: a key after /01/ is refused there
        if segment in PERSONAL_KEYS:
            raise _personal(segment, text)
        if segment in (SSCC_AI, GIAI_AI) and i + 2 == len(segments):
            value = segments[i + 1]
            key = ProductKey.sscc(value, container_tier or SSCC_TIER) if segment == SSCC_AI else ProductKey.giai(value)
            prefix = "/".join(parts.path.split("/")[: i + 1])
            return key, check_resolver(f"{parts.scheme}://{parts.netloc}{prefix}")
    return None


def _prefix_length(gtin14: str, given: int | None) -> int:
    if given is None:
        known = company_prefix_length(gtin14)
        if known is None:
            raise InvalidInput(
                f"GS1's prefix table has no GS1 Company Prefix for GTIN {gtin14}: give its length (6 to 12) explicitly."
            )
        return known
    if isinstance(given, bool) or not isinstance(given, int) or not 6 <= given <= 12:
        raise InvalidInput(f"A GS1 Company Prefix has 6 to 12 digits, not {given!r}.")
    return given


# ---------------------------------------------------------------------- any code


def parse_code(text: str, *, container_tier: int = 0) -> ProductKey:
    """The product key in a scanned code: a GS1 Digital Link URI
    (``https://id.example.org/01/{gtin}/21/{serial}`` or ``/10/{lot}``, see
    :class:`DigitalLink`), an EPC URN (``urn:epc:id:sgtin:...``, ``urn:epc:class:lgtin:...``),
    a GS1 element string (``(01)...(21)...``) or its barcode form. A compressed Digital Link
    URI (``https://id.example.org/{compressed}`` or ``…/01/{gtin}/{compressed}``) is read as the
    uncompressed one it stands for; one that does not decompress is refused with a sentence that
    says where its data goes wrong. With ``container_tier`` the code is read as a container's
    (GTIN + serial)."""
    value = str(text).strip()
    lower = value.lower()
    if lower.startswith("urn:"):
        return parse_epc_urn(value, container_tier=container_tier)
    if lower.startswith(("http://", "https://")):
        value = _uncompressed(value)
        other = _other_key_link(value, container_tier)
        return other[0] if other is not None else DigitalLink.parse(value).key(container_tier)
    fields = _element_strings(value, text)
    for ai in PERSONAL_KEYS:
        if ai in fields:
            raise _personal(ai, text)
    if SSCC_AI in fields and "01" not in fields:
        return ProductKey.sscc(fields[SSCC_AI], container_tier or SSCC_TIER)
    if GIAI_AI in fields and "01" not in fields:
        return ProductKey.giai(fields[GIAI_AI])
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


def _element_strings(value: str, text: str) -> dict[str, str]:
    """The AIs of a GS1 element string: human-readable ``(01)...`` or barcode data."""
    try:
        if value.startswith("("):
            message = GS1Message.parse_hri(value)
            # Parentheses are in GS1's character set, so "(21)AB(C)" could be serial "AB(C)"
            # or "AB" and garbage; refuse what does not read back exactly.
            if "".join(f"({e.ai.ai}){e.value}" for e in message.element_strings) != value:
                raise InvalidInput(
                    f"{text!r} is ambiguous: a value contains parentheses; use its Digital Link URI, "
                    "which percent-encodes them, or the barcode data."
                )
        else:
            result = biip_parse(value)
            if result.gs1_message is None:
                raise InvalidInput(f"{text!r} is not a GS1 element string with a GTIN and serial or lot.")
            message = result.gs1_message
    except ParseError as exc:
        raise InvalidInput(f"{text!r} is not a GS1 code: {_parse_error_sentence(exc)}") from None
    return {element.ai.ai: element.value for element in message.element_strings}


#: What each application identifier's value must be, for refusals people read.
_AI_RULES = {
    "00": "an SSCC (00) is exactly 18 digits",
    "01": "a GTIN (01) is exactly 14 digits",
    "10": "a lot (10) is 1 to 20 characters of GS1's character set 82",
    "21": "a serial (21) is 1 to 20 characters of GS1's character set 82",
    "22": "a consumer product variant (22) is 1 to 20 characters of GS1's character set 82",
}
_BIIP_MISMATCH = re.compile(r"Failed to match '(?P<data>[^']*)' with GS1 AI \((?P<ai>\d+)\)")


def _parse_error_sentence(exc: Exception) -> str:
    """The barcode parser's refusal as a sentence: which value, and what it must be (its own
    message quotes a regular expression)."""
    found = _BIIP_MISMATCH.search(str(exc))
    if found is None:
        return str(exc)
    ai, data = found["ai"], found["data"]
    value = data[len(ai) :] if data.startswith(ai) else data
    rule = _AI_RULES.get(ai, f"its value does not fit application identifier ({ai})")
    return f"({ai}) {value!r} is not valid: {rule}."
