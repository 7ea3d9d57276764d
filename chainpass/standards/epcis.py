"""EPCIS 2.0 as the standard defines it, with no chain in sight: event hash ids, the CBV
vocabulary, and the events of a document.

An event's CBV 2.0 event hash (``ni:///sha-256;…?ver=CBV2.0``) is computed with GS1's
reference implementation, `epcis-event-hash-generator` (:func:`event_hash`); bizStep and
disposition take the whole CBV 2.0 vocabulary (short names, ``https://ref.gs1.org/cbv/``
URIs or the old ``urn:epcglobal:cbv:`` URNs; :func:`parse_biz_step`,
:func:`parse_disposition`); :func:`events_of` reads the events of an EPCISDocument or a
query document. :mod:`chainpass.epcis_import` puts documents on passports,
:mod:`chainpass.epcis_export` writes a passport's history as one.

JSON-LD contexts are never fetched: GS1's EPCIS 2.0 context is bundled with the hash
generator, and any other remote context is refused (inline contexts are fine).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import importlib.resources
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The hash generator installs a document loader that falls back to the internet: import
# it first, then install ours (see _offline_loader), which never leaves the process.
from epcis_event_hash_generator import hash_generator, json_to_py
from epcis_event_hash_generator import json_xml_model_mismatch_correction as _correction
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from chainpass.enums import CBV, BizStep, Disposition
from chainpass.errors import InvalidInput

#: GS1's EPCIS 2.0 JSON-LD context, as published.
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
_BUNDLED = "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"
_CONTEXT_FILES = {
    EPCIS_CONTEXT: _BUNDLED,
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld": _BUNDLED,
    "https://gs1.github.io/EPCIS/epcis-context.jsonld": (
        "14b10c9d3e92d35f577bfc610fe5ec15aa2941124987919389d7cd9998516861.jsonld"
    ),
}
_OLD_BIZSTEP = "urn:epcglobal:cbv:bizstep:"
_OLD_DISP = "urn:epcglobal:cbv:disp:"
#: The disposition a bizStep implies when the event gives none (the contract requires these).
IMPLIED_DISPOSITION = {
    BizStep.SHIPPING: Disposition.IN_TRANSIT,
    BizStep.CUSTOMS_RELEASING: Disposition.IN_TRANSIT,
    BizStep.CUSTOMS_HOLDING: Disposition.NON_CONFORMANT,
    BizStep.RETAIL_SELLING: Disposition.RETAIL_SOLD,
    BizStep.RECALLING: Disposition.RECALLED,
    BizStep.DECOMMISSIONING: Disposition.INACTIVE,
    BizStep.DESTROYING: Disposition.DESTROYED,
}
#: Lifecycle steps whose next state their disposition decides: they need one.
NEEDS_DISPOSITION = (BizStep.INSPECTING, BizStep.RECEIVING)
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent")
#: EPCIS 2.0's other event type, which passports do not model (its events can be anchored).
OTHER_EVENT_TYPES = ("AssociationEvent",)


def _offline_loader(url: str, options: Any = None) -> dict[str, Any]:
    """Serve GS1's EPCIS context from the bundled copy; refuse any other remote document."""
    name = _CONTEXT_FILES.get(url)
    if name is None:
        raise jsonld.JsonLdError(
            f"Remote JSON-LD context {url} is not fetched (offline): use GS1's EPCIS context or an inline one.",
            "jsonld.LoadDocumentError",
            code="loading document failed",
        )
    text = importlib.resources.files("epcis_event_hash_generator").joinpath(name).read_text(encoding="utf-8")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(text),
        # "static": pyld keeps the resolved context between calls instead of re-reading
        # (and canonicalising, to key its cache) the whole context for every expansion.
        "tag": "static",
    }


jsonld.set_document_loader(_offline_loader)


# ---------------------------------------------------------------------------- hashing


def hash_uri(digest: bytes) -> str:
    return f"ni:///sha-256;{digest.hex()}?ver=CBV2.0"


def parse_hash_uri(text: str) -> bytes | None:
    """The 32-byte digest of a ``ni:///sha-256;…`` event id, or None if it is not one."""
    head = "ni:///sha-256;"
    if not isinstance(text, str) or not text.startswith(head):
        return None
    hexdigits = text[len(head) :].split("?", 1)[0]
    try:
        digest = bytes.fromhex(hexdigits)
    except ValueError:
        return None
    return digest if len(digest) == 32 else None


def event_hash(event: Mapping[str, Any], context: Any = None) -> bytes:
    """The CBV 2.0 event hash (sha-256 digest) of one EPCIS event, read with ``context``
    (the document's ``@context``; GS1's EPCIS context if None). The event's own eventID
    is ignored. :class:`InvalidInput` if the event cannot be canonicalised."""
    return EventHasher.of(context).digest(event)[0]


@dataclass(frozen=True)
class EventHasher:
    """The CBV 2.0 event hashes of the events of documents with one ``@context``, computed as
    GS1's reference implementation computes them, with what it needs from the context worked
    out once (see :meth:`of`) rather than per event.

    The algorithm reads two things from a context: the CBV vocabulary URIs that bare values
    (``"bizStep": "shipping"``) expand to (JSON-LD expansion with GS1's EPCIS context) and the
    namespaces of extension fields (the string-valued entries of inline context objects). A
    context the JSON-LD library cannot expand (a remote context other than GS1's, which is
    never fetched; an inline one it refuses) is replaced, for the expansion only, by its
    canonical form: GS1's EPCIS context and the inline namespaces (``canonical``); the
    namespaces are read from the document's context as always, so the ids are those the
    reference implementation computes from the same document wherever it can expand it
    (tests/test_epcis_conformance.py shows it with GS1's examples)."""

    #: The document's ``@context`` (a list), which the namespaces are read from.
    context: tuple[Any, ...]
    #: The context the events are expanded with: the document's, or its canonical form.
    expand_with: tuple[Any, ...]
    #: Why the document's context was replaced by its canonical form (None: it was not).
    fallback: str | None = None
    #: The JSON-LD context resolver its expansions share.
    resolver: _ContextResolver = field(default_factory=lambda: _ContextResolver(), compare=False, repr=False)

    @classmethod
    def of(cls, context: Any = None) -> EventHasher:
        """The hasher of documents whose ``@context`` is ``context`` (GS1's if None)."""
        contexts = tuple(context if isinstance(context, list) else [context if context is not None else EPCIS_CONTEXT])
        try:
            key = json.dumps(contexts, sort_keys=True)
        except (TypeError, ValueError):
            return cls._probe(contexts)
        return _hashers(key)

    @classmethod
    def _probe(cls, contexts: tuple[Any, ...]) -> EventHasher:
        try:
            _expand({"@context": list(contexts), "type": "EPCISDocument"})
        except jsonld.JsonLdError as exc:
            reason = _jsonld_reason(exc)
            canonical = canonical_context(contexts)
            return cls(contexts, canonical, f"its @context cannot be expanded ({reason}): hashed with its canonical "
                       f"form, GS1's EPCIS context and its namespaces")  # fmt: skip
        return cls(contexts, contexts)

    def digest(self, event: Mapping[str, Any]) -> tuple[bytes, str | None]:
        """The event's CBV 2.0 hash (its own eventID ignored), and why it was computed with the
        canonical context (None if with the document's). :class:`InvalidInput` if the event
        cannot be canonicalised."""
        body = {k: v for k, v in _copy(event).items() if k != "eventID"}
        fallback = self.fallback
        try:
            doc = _bare_strings_expanded(self.expand_with, body, self.resolver)
        except jsonld.JsonLdError as exc:
            canonical = canonical_context(self.context)
            if canonical == self.expand_with:
                raise InvalidInput(f"its CBV 2.0 event hash cannot be computed: {_jsonld_reason(exc)}") from None
            fallback = f"its @context cannot expand it ({_jsonld_reason(exc)}): hashed with the canonical context"
            try:
                doc = _bare_strings_expanded(canonical, body, self.resolver)
            except jsonld.JsonLdError as again:
                raise InvalidInput(f"its CBV 2.0 event hash cannot be computed: {_jsonld_reason(again)}") from None
        return _digest_of(doc, self.context), fallback


def _copy(event: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``event`` the canonicalisation may change: through JSON, five times faster
    than ``copy.deepcopy`` (an event read from a document is JSON), else deep-copied."""
    try:
        copied: dict[str, Any] = json.loads(json.dumps(event))
    except (TypeError, ValueError):
        return copy.deepcopy(dict(event))
    return copied


@functools.lru_cache(maxsize=64)
def _hashers(key: str) -> EventHasher:
    return EventHasher._probe(tuple(json.loads(key)))


def canonical_context(contexts: tuple[Any, ...] | list[Any]) -> tuple[Any, ...]:
    """The canonical form of a ``@context`` for the event hash: GS1's EPCIS context, and the
    namespace prefixes of its inline objects (string-valued entries that are absolute IRIs,
    under names GS1's context does not define: its terms are protected)."""
    terms = _epcis_terms()
    namespaces = {
        key: value
        for c in contexts
        if isinstance(c, dict)
        for key, value in c.items()
        if isinstance(key, str) and not key.startswith("@") and ":" not in key and key not in terms
        and isinstance(value, str) and ":" in value and not value.startswith(("@", "_:"))
    }  # fmt: skip
    return (EPCIS_CONTEXT, namespaces) if namespaces else (EPCIS_CONTEXT,)


@functools.cache
def _epcis_terms() -> frozenset[str]:
    """The terms GS1's EPCIS context defines."""
    context = _offline_loader(EPCIS_CONTEXT)["document"]["@context"]
    return frozenset(k for c in (context if isinstance(context, list) else [context]) if isinstance(c, dict) for k in c)


def _jsonld_reason(exc: jsonld.JsonLdError) -> str:
    return str(getattr(exc, "code", None) or getattr(exc, "type", None) or exc).split("\n", 1)[0]


class _ContextResolver(ContextResolver):  # type: ignore[misc]  # pyld is untyped
    """pyld's context resolver for the expansions of one :class:`EventHasher`: the inline
    contexts of GS1's context (the bare values of bizStep and disposition, say) are known by
    the object, where pyld keys them by their canonical JSON, which it computed again for
    every event (a fifth of the hash's time)."""

    def __init__(self) -> None:
        super().__init__({}, _offline_loader)
        self._inline: dict[int, tuple[Any, Any]] = {}

    def resolve(self, active_ctx: Any, context: Any, base: Any, cycles: Any = None) -> Any:
        if not isinstance(context, Mapping) or "@context" in context:
            return super().resolve(active_ctx, context, base, cycles)
        known = self._inline.get(id(context))
        if known is not None and known[0] is context:  # the very object: not another at its address
            return [known[1]]
        resolved = super().resolve(active_ctx, context, base, cycles)
        self._inline[id(context)] = (context, resolved[0])
        return resolved


def _expand(doc: Any, resolver: _ContextResolver | None = None) -> Any:
    jsonld.set_document_loader(_offline_loader)
    if resolver is None:
        return jsonld.expand(doc)
    return jsonld.expand(doc, {"documentLoader": _offline_loader, "contextResolver": resolver})


def _bare_strings_expanded(contexts: tuple[Any, ...], body: dict[str, Any], resolver: _ContextResolver) -> Any:
    """The one-event document with its bare vocabulary values replaced by the CBV URIs they
    expand to: the reference implementation's ``_bare_string_pre_preocessing``, without its
    debug logging, which serialised the whole document three times per event."""
    doc = {"@context": list(contexts), "type": "EPCISDocument", "epcisBody": {"eventList": [body]}}
    values: list[str] = []
    json_to_py._find_expanded_values(_expand(doc, resolver), values)
    vocabulary = {v for v in values if v.startswith(("https://ref.gs1.org/cbv", "https://gs1.org/voc"))}
    return json_to_py._replace_bare_string_values(doc, vocabulary)


def _digest_of(doc: Any, contexts: tuple[Any, ...]) -> bytes:
    try:
        json_to_py._namespaces.clear()
        # The library reads namespace prefixes from string-valued context entries only.
        named = [c if isinstance(c, str) else {k: v for k, v in c.items() if isinstance(v, str)} for c in contexts]
        json_to_py._collect_namespaces_from_jsonld_context(named)
        py_event = _correction.deep_structure_correction(
            _pad_single_lists(json_to_py._json_to_py(doc["epcisBody"]["eventList"][0]))
        )
        prehashes = hash_generator.derive_prehashes_from_events(("EventList", "", [py_event]))
    except Exception as exc:  # the reference implementation raises anything on odd input
        raise InvalidInput(f"its CBV 2.0 event hash cannot be computed: {type(exc).__name__}: {exc}") from None
    if len(prehashes) != 1:
        raise InvalidInput("its CBV 2.0 event hash cannot be computed (the canonicalisation failed).")
    uri = hash_generator.calculate_hashes_from_pre_hashes(prehashes)[0]
    digest = parse_hash_uri(uri)
    assert digest is not None
    return digest


#: Lists whose elements the reference implementation reads as (type, value) pairs.
_PAIRED_LISTS = ("bizTransactionList", "sourceList", "destinationList")


def _pad_single_lists(py_event: Any) -> Any:
    """A bizTransaction with no type (allowed: the type is optional) reaches the reference
    implementation as one child where it expects two, and it fails; an empty second child
    adds nothing to the pre-hash string (``bizTransactionListbizTransaction=...``)."""
    name, value, children = py_event
    padded = [
        (c[0], c[1], [c[2][0], ("", "", [])]) if c[0] in _PAIRED_LISTS and len(c[2]) == 1 else c for c in children
    ]
    return (name, value, padded)


def events_of(document: Any) -> list[Any]:
    """The events of an EPCISDocument or EPCISQueryDocument."""
    if not isinstance(document, dict) or not isinstance(document.get("epcisBody"), dict):
        raise InvalidInput("Not an EPCIS 2.0 document: it has no epcisBody.")
    body = document["epcisBody"]
    if "eventList" in body:
        events = body["eventList"]
    elif "event" in body:
        events = [body["event"]]
    elif isinstance(body.get("queryResults"), dict):
        events = body["queryResults"].get("resultsBody", {}).get("eventList", [])
    else:
        raise InvalidInput("The EPCIS document's epcisBody has no eventList, event or queryResults.")
    if not isinstance(events, list):
        raise InvalidInput("The EPCIS document's eventList is not a list.")
    return events


# ---------------------------------------------------------------------------- vocabulary


class _Extension(InvalidInput):
    """A URI outside the CBV: a private vocabulary."""


def _vocab(value: Any, prefixes: tuple[str, ...], enum: type[BizStep] | type[Disposition]) -> Any:
    text = str(value).strip()
    for prefix in prefixes:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    else:
        if ":" in text:  # a URI outside the CBV: a private vocabulary
            raise _Extension(f"{value!r} is not a CBV value")
    label = "".join(f"_{c.lower()}" if c.isupper() else c for c in text).lstrip("_")  # camelCase or snake_case
    try:
        return enum.parse(label)
    except (InvalidInput, KeyError, ValueError):
        raise InvalidInput(f"{value!r} is not a CBV value this contract records") from None


def parse_biz_step(value: Any) -> BizStep:
    """A bizStep in short, URI or URN form; a URI outside the CBV (an extension) is ``other``."""
    try:
        step: BizStep = _vocab(value, (f"{CBV}BizStep-", _OLD_BIZSTEP, "cbv:BizStep-"), BizStep)
    except _Extension:
        return BizStep.OTHER
    return step


def parse_disposition(value: Any) -> Disposition:
    """A disposition in short, URI or URN form; one outside the CBV is refused (the chain's
    rules depend on what a disposition means)."""
    try:
        disposition: Disposition = _vocab(value, (f"{CBV}Disp-", _OLD_DISP, "cbv:Disp-"), Disposition)
    except _Extension:
        raise InvalidInput(f"{value!r} is not a CBV disposition, which the chain's rules need") from None
    return disposition


def event_time(event: Mapping[str, Any]) -> int:
    raw = event.get("eventTime")
    try:
        moment = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{raw!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{raw!r} has no time zone")
    return int(moment.timestamp())
