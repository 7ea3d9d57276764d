"""The resolver's logic, with no chain: a request read as a GS1 Digital Link, its links, the
RFC 9264 linkset, and which link a request is redirected to (GS1-Conformant Resolver
Standard 1.2; docs/web.md lists what it asks and what is done).

A request path is a Digital Link path on this resolver (``/01/{gtin}/21/{serial}``, ``/10/``
for a lot, ``/22/`` for a variant; ``/00/{sscc}`` and ``/8004/{giai}`` for logistic units and
assets), read by :mod:`chainpass.standards.gs1`: what it refuses is a syntax error (400). A
compressed Digital Link (``/{compressed}``, or ``/01/{gtin}/{compressed}``; GS1 Digital Link
compression, :mod:`chainpass.standards.dl_compression`) is decompressed first and read as the
uncompressed one; a compressed path that does not decompress is a syntax error too. A
trailing slash is tolerated. The links of a passport, each on this service, are
:data:`LINK_TYPES`; the default one is the passport page. A redirect goes to the link of the
requested link type (else of the default's), and among several such links to the one in the
reader's language (:func:`chosen`), as the standard selects by link type, then language.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from chainpass.errors import InvalidInput
from chainpass.standards.dl_compression import decompress_path, is_compressed_path
from chainpass.standards.gs1 import DigitalLink, ProductKey, check_resolver, parse_code
from chainpass.web.wording import TAGS, same_language

#: The media type of an RFC 9264 linkset in JSON.
LINKSET_TYPE = "application/linkset+json"
#: The GS1 Web Vocabulary: the namespace of GS1's link types (CURIE prefix ``gs1:``).
GS1_VOC = "https://gs1.org/voc/"
#: The link type of the default link, in a linkset.
DEFAULT_LINK = GS1_VOC + "defaultLink"
#: The ``linkType`` values that ask for the linkset: ``linkset`` (1.2) and ``all`` (before it).
LINKSET_REQUESTS = frozenset({"linkset", "all"})
#: The primary keys this resolver answers for (GS1 AIs): GTIN, SSCC and GIAI.
PRIMARY_KEYS = ("01", "00", "8004")


@dataclass(frozen=True)
class LinkType:
    """A GS1 link type this service serves for every passport: where (a path prefix on this
    service, followed by the passport's Digital Link path), what (a media type), and in which
    languages (BCP 47 tags: ``hreflang``)."""

    name: str
    prefix: str
    media_type: str
    languages: tuple[str, ...]

    @property
    def uri(self) -> str:
        return GS1_VOC + self.name

    @property
    def curie(self) -> str:
        return "gs1:" + self.name


#: The link types of every passport; the first is the default.
#: The passport page is in every language of the pages (it answers in the reader's); the JSON
#: answers in English (their keys, and the few words among their values).
PIP = LinkType("pip", "/passport", "text/html", TAGS)
TRACEABILITY = LinkType("traceability", "/epcis", "application/ld+json", ("en",))
CERTIFICATION = LinkType("certificationInfo", "/certification", "application/json", ("en",))
LINK_TYPES = (PIP, TRACEABILITY, CERTIFICATION)


@dataclass(frozen=True)
class Level:
    """One level of a request, from the key it names up to its primary key: the Digital Link
    path of that level, and the passport it names."""

    path: str
    key: ProductKey


@dataclass(frozen=True)
class ProductLevel:
    """The GTIN level of a request (``/01/{gtin}``): the product, above its lots and items. It
    resolves when a brand owns the GTIN's company prefix; its one link is the product page."""

    path: str
    gtin: int


@dataclass(frozen=True)
class Request:
    """A request read as a Digital Link: its canonical, uncompressed path (with its GS1 data
    attributes as query), and the levels that may name passports, most specific first."""

    #: The canonical Digital Link path and GS1 query, e.g. ``/01/09506000134352/21/BAG-001``.
    uri_path: str
    #: The passport levels: the key of the request, then a serialised item's lot.
    levels: tuple[Level, ...]
    #: The query string's pairs that are not GS1 data and not ``linkType``: passed on.
    passed_on: tuple[tuple[str, str], ...]
    #: The ``linkType`` asked for, if any.
    link_type: str | None
    #: Whether the request came compressed (its answers then say which URI it is the same as).
    compressed: bool = False
    #: The product level above the passport levels (a GTIN's request), the top one.
    product: ProductLevel | None = None

    def same_as(self, root: str) -> str | None:
        """The ``Link`` header value that names the uncompressed URI on the resolver ``root``
        (``rel="owl:sameAs"``) for a compressed request; None for an uncompressed one."""
        return f'<{check_resolver(root)}{self.uri_path}>; rel="owl:sameAs"' if self.compressed else None


def read_request(root: str, raw_path: str, query: str) -> Request:
    """``raw_path`` (percent-encoded, as it came) and ``query`` read as a Digital Link on the
    resolver ``root``; :class:`InvalidInput` (a sentence) for anything that is not one."""
    root = check_resolver(root)
    path = raw_path.rstrip("/") or "/"
    pairs = parse_qsl(query, keep_blank_values=True)
    link_types = [value for name, value in pairs if name == "linkType"]
    if len(link_types) > 1:
        raise InvalidInput("The query string gives linkType more than once: give one link type.")
    link_type = link_types[0] if link_types else None
    if is_compressed_path(path):
        uncompressed, _, inner = decompress_path(path).partition("?")
        both = "&".join(q for q in (inner, query) if q)
        return dataclasses.replace(read_request(root, uncompressed, both), compressed=True)
    segments = path.split("/")
    if len(segments) > 1 and segments[1] in ("00", "8004"):
        if len(segments) != 3:
            raise InvalidInput(f"{path!r} is not a Digital Link of one key: /{segments[1]}/ takes one value.")
        key = parse_code(root + path)
        uri_path = urlsplit(key.digital_link(root)).path
        return Request(uri_path, (Level(uri_path, key),), _passed_on(pairs), link_type)
    if len(segments) < 3 or segments[1] not in ("01", "gtin"):
        raise InvalidInput(
            f"{path!r} is not a GS1 Digital Link path: it must start with /01/ and a GTIN, /00/ and an SSCC or "
            "/8004/ and a GIAI, or be a compressed Digital Link."
        )
    link = DigitalLink.parse(root + path + (f"?{query}" if query else ""))
    uri = str(link)
    uri_path = uri[len(link.resolver) :]
    levels: list[Level] = []
    if link.serial is not None or link.lot is not None:
        levels.append(Level(urlsplit(uri).path, link.key()))
    if link.serial is not None and link.lot is not None:
        lot = DigitalLink(link.gtin, lot=link.lot, cpv=link.cpv, resolver=link.resolver)
        levels.append(Level(urlsplit(str(lot)).path, lot.key()))
    product = DigitalLink(link.gtin, resolver=link.resolver)
    top = ProductLevel(urlsplit(str(product)).path, int(link.gtin))
    return Request(uri_path, tuple(levels), _passed_on(pairs), link_type, product=top)


def _passed_on(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The query's pairs a redirect passes on: all but ``linkType``."""
    return tuple((name, value) for name, value in pairs if name != "linkType")


@dataclass(frozen=True)
class Link:
    """One link of a passport: its target, GS1 link type, human-readable title (in the reader's
    language), and the languages of the target (BCP 47 tags)."""

    link_type: LinkType
    href: str
    title: str
    languages: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"href": self.href, "title": self.title, "type": self.link_type.media_type,
                "hreflang": list(self.languages)}  # fmt: skip

    def speaks(self, tag: str) -> bool:
        """Whether the target is in the language of ``tag`` (``*``: any)."""
        return any(same_language(tag, mine) for mine in self.languages)


def links_of(root: str, level: Level, titles: dict[str, str]) -> tuple[Link, ...]:
    """The links of the passport at ``level`` on the service at ``root``, titled by ``titles``
    (link type name to title, in the reader's language)."""
    base = check_resolver(root)
    return tuple(Link(t, f"{base}{t.prefix}{level.path}", titles[t.name], t.languages) for t in LINK_TYPES)


def product_links(root: str, product: ProductLevel, title: str) -> tuple[Link, ...]:
    """The links of the product level: its page (``gs1:pip``, the default), titled ``title``."""
    return (Link(PIP, f"{check_resolver(root)}{PIP.prefix}{product.path}", title, PIP.languages),)


def linkset(anchors: Sequence[tuple[str, Sequence[Link]]]) -> dict[str, object]:
    """The RFC 9264 linkset (JSON) of ``anchors``: (anchor URI, its links) each, the first
    link of each anchor its default."""
    entries: list[dict[str, object]] = []
    for anchor, links in anchors:
        by_type: dict[str, list[dict[str, object]]] = {}
        for link in links:
            by_type.setdefault(link.link_type.uri, []).append(link.to_json())
        if links:
            by_type[DEFAULT_LINK] = [links[0].to_json()]
        entries.append({"anchor": anchor, **by_type})
    return {"linkset": entries}


def wants_linkset(link_type: str | None, accept: str) -> bool:
    """Whether a request asks for the linkset: ``linkType=linkset`` (or ``all``), or an Accept
    header that names the linkset's media type."""
    if link_type is not None:
        return link_type in LINKSET_REQUESTS
    return any(part.split(";")[0].strip().lower() == LINKSET_TYPE for part in accept.split(","))


def chosen(links: Sequence[Link], link_type: str | None, languages: Sequence[str] = ()) -> Link:
    """The link a request is redirected to (the standard: the default link unless the request
    matches a better one, by link type, then language): among the links of the requested link
    type (as a CURIE, ``gs1:pip``, or in full, ``https://gs1.org/voc/pip``), else those of the
    default's type (the first link's), the first in the reader's most wanted language
    (``languages``, BCP 47 tags best first: :func:`chainpass.web.wording.preferences`), else the
    first of them (a language the reader did not ask for beats no answer)."""
    asked = [link for link in links if link_type in (link.link_type.curie, link.link_type.uri)]
    candidates = asked or [link for link in links if link.link_type == links[0].link_type]
    for tag in languages:
        for link in candidates:
            if link.speaks(tag):
                return link
    return candidates[0]


def redirect_target(link: Link, passed_on: Sequence[tuple[str, str]]) -> str:
    """Where a redirect goes: the link, with the request's query string passed on."""
    return link.href + (f"?{urlencode(passed_on)}" if passed_on else "")
