"""What the pages say, in words a shopper understands and in the reader's language: the verdict
for a scanned code and the steps of its journey, and the dates they happened.

Every sentence goes through :func:`_` (gettext) in the language of the request being answered
(:func:`speaking`): English, Chinese (Simplified or Traditional) or Korean, from the catalogues in
``chainpass/web/locale/<language>/LC_MESSAGES/chainpass.po``, read with Babel when first needed
(no compiled ``.mo`` files: ``make translations`` extracts and updates the ``.po`` files,
docs/web.md). Outside a request, and for a string a catalogue lacks, English."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gettext
import io
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from chainpass.enums import State
from chainpass.evidence import AnchoredEvent
from chainpass.passport import Verdict
from chainpass.trace import TraceEntry

#: The gettext domain of the catalogues.
DOMAIN = "chainpass"


@dataclass(frozen=True)
class Language:
    """A language the pages are written in."""

    #: Its short name in ``?lang=`` and the cookie that keeps the reader's choice.
    code: str
    #: Its BCP 47 tag: ``<html lang>``, ``Content-Language``.
    tag: str
    #: Its catalogue's folder under ``chainpass/web/locale`` (and Babel's name of its locale).
    folder: str
    #: Its name in itself, as the switcher shows it.
    name: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.folder)


ENGLISH = Language("en", "en", "en", "English")
#: Chinese in simplified characters (mainland China, Singapore): ``?lang=zh``, as before there
#: was a second Chinese. Named by its script in the switcher, so the two are told apart.
CHINESE = Language("zh", "zh-Hans", "zh_Hans", "简体中文")
#: Chinese in traditional characters, worded as in Taiwan (Hong Kong and Macau readers read it
#: too): ``?lang=zh-Hant``, a script, not a region, as the catalogue is for every such reader.
TRADITIONAL_CHINESE = Language("zh-Hant", "zh-Hant", "zh_Hant", "繁體中文")
KOREAN = Language("ko", "ko", "ko", "한국어")
#: The languages of the pages, in the switcher's order; the first is the default.
LANGUAGES = (ENGLISH, CHINESE, TRADITIONAL_CHINESE, KOREAN)
#: The regions whose Chinese is written in traditional characters when a tag names no script.
TRADITIONAL_REGIONS = frozenset({"tw", "hk", "mo"})
#: The BCP 47 tags of the languages the pages are in (``hreflang`` of the links to them).
TAGS = tuple(language.tag for language in LANGUAGES)
#: The time zone dates are shown in (and said to be in): the chain's clock, whatever the
#: reader's language (a language does not tell where its reader is).
TIME_ZONE = dt.UTC

_speaking: ContextVar[Language] = ContextVar("chainpass_web_language", default=ENGLISH)


def language_of(tag: str) -> Language | None:
    """The page language for a BCP 47 tag or a ``?lang=`` code (``zh``, ``zh-CN``, ``zh-TW``,
    ``zh-Hant-HK``, ``ko-KR``, ``en-GB`` …), by its primary subtag; ``None`` for a language
    without pages. A Chinese tag is read by its script first (``Hant`` traditional, ``Hans``
    simplified), then by its region (Taiwan, Hong Kong and Macau traditional); any other
    (``zh``, ``zh-CN``, ``zh-SG``) is Chinese (Simplified)."""
    subtags = tag.strip().replace("_", "-").lower().split("-")
    if subtags[0] == "zh":
        scripts = {"hans", "hant"}.intersection(subtags[1:])
        if scripts:
            return TRADITIONAL_CHINESE if scripts == {"hant"} else CHINESE
        return TRADITIONAL_CHINESE if TRADITIONAL_REGIONS.intersection(subtags[1:]) else CHINESE
    return next((language for language in LANGUAGES if language.code == subtags[0]), None)


def _primary(tag: str) -> str:
    """A BCP 47 tag's primary language subtag, lower case (``zh`` of ``zh-Hans-CN``)."""
    return tag.strip().replace("_", "-").partition("-")[0].lower()


def preferences(accept_language: str) -> list[str]:
    """The language tags of an ``Accept-Language`` header as the reader ranks them (RFC 9110: by
    quality, then order; ``q=0`` refuses a language and is left out; ``*`` stays, meaning any)."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _sep, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and 0 < quality <= 1:
            ranked.append((-quality, position, tag))
    return [tag for _quality, _position, tag in sorted(ranked)]


def negotiate(ranked: list[str]) -> Language:
    """The page language for the reader's tags (:func:`preferences`): the first with pages, ``*``
    taking the default; English when none has."""
    for tag in ranked:
        if tag == "*":
            return ENGLISH
        language = language_of(tag)
        if language is not None:
            return language
    return ENGLISH


def same_language(tag: str, other: str) -> bool:
    """Whether two BCP 47 tags name the same language: as the pages tell their languages apart
    (:func:`language_of`: ``zh-CN`` is ``zh-Hans``'s, ``zh-TW`` ``zh-Hant``'s, ``en-GB``
    ``en``'s), else by the primary subtag (``de-AT`` is ``de``'s); ``*`` is any."""
    if "*" in (tag, other):
        return True
    mine, theirs = language_of(tag), language_of(other)
    if mine is not None or theirs is not None:
        return mine == theirs  # zh-TW is zh-Hant's, zh-CN zh-Hans's
    return _primary(tag) == _primary(other)


@functools.cache
def translations(language: Language) -> gettext.NullTranslations:
    """``language``'s catalogue, read from its ``.po`` file (package data) and compiled in
    memory, once a process; fuzzy entries are left out (they read in English)."""
    po = resources.files(__package__).joinpath("locale", language.folder, "LC_MESSAGES", f"{DOMAIN}.po")
    with po.open("rb") as file:
        catalog = read_po(file, locale=language.folder, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def load_catalogues() -> None:
    """Read every language's catalogue now (the service does at start: a broken one fails it there)."""
    for language in LANGUAGES:
        translations(language)


def speaking() -> Language:
    """The language of the request being answered (English outside one)."""
    return _speaking.get()


def speak(language: Language) -> None:
    """Answer the rest of the current request (its context) in ``language``."""
    _speaking.set(language)


@contextlib.contextmanager
def spoken(language: Language) -> Iterator[None]:
    """The block's words in ``language``."""
    token = _speaking.set(language)
    try:
        yield
    finally:
        _speaking.reset(token)


def _(text: str) -> str:
    """``text`` in the reader's language."""
    return translations(_speaking.get()).gettext(text)


def pgettext(context: str, text: str) -> str:
    """``text`` in the reader's language, where ``context`` tells it from the same English words
    used elsewhere (the verdict "Recalled" from the journey's step)."""
    return translations(_speaking.get()).pgettext(context, text)


def N_(text: str) -> str:
    """Marks ``text`` for the catalogue where it is written; :func:`_` translates it where it is used."""
    return text


def moment(timestamp: int) -> str:
    """A time as the pages show it: in the reader's locale (CLDR's, through Babel), to the
    minute, with its time zone (:data:`TIME_ZONE`) named: "Jan 1, 2026, 3:30 PM UTC",
    "2026年1月1日 15:30 UTC", "2026年1月1日 下午3:30 UTC", "2026. 1. 1. 오후 3:30 UTC"."""
    when = dt.datetime.fromtimestamp(timestamp, TIME_ZONE)
    locale = _speaking.get().locale
    date = format_date(when, "medium", locale=locale)
    # The locale's short time with its day period written out (Korean: 오후, where CLDR's short
    # form is now PM), then the zone as the locale names it (UTC in all three).
    hours = _DAY_PERIOD.sub("aaaa", locale.time_formats["short"].pattern)
    time = format_time(when, hours + " z", tzinfo=TIME_ZONE, locale=locale)
    return str(locale.datetime_formats["medium"]).replace("'", "").replace("{0}", time).replace("{1}", date)


_DAY_PERIOD = re.compile(r"(?<!a)a(?!a)")


@dataclass(frozen=True)
class Said:
    """A verdict in words: its tone (``good``, ``warning`` or ``danger``: the page's colour),
    a headline, what to do, and why when the reason is on another passport (a paragraph each)."""

    tone: str
    headline: str
    advice: str
    cause: str | None = None


def verdict_words(verdict: Verdict, recall_source: str | None) -> Said:
    """The verdict a shopper reads first; ``recall_source`` names the passport a recall was
    recorded on when it is another than the scanned one (an input or a container)."""
    if verdict.state is State.NONE:
        return Said(
            "danger",
            _("Unknown code: possibly counterfeit"),
            _(
                "No product was ever registered under this code. Do not buy or use it, and tell the shop "
                "or the brand where you found it."
            ),
        )
    if not verdict.genuine:
        return Said(
            "danger",
            _("Not genuine"),
            _("This code was registered by a producer the brand never licensed. Do not buy or use it."),
        )
    if verdict.recalled:
        advice = _("Do not eat or use it. Take it back to the shop where you bought it, or contact the brand.")
        cause = None
        if recall_source is not None:
            cause = _("The recall was recorded on %(source)s, which this product was made from or packed in.") % {
                "source": recall_source
            }
        return Said("danger", pgettext("verdict", "Recalled"), advice, cause)
    if verdict.state is State.QUARANTINED:
        return Said(
            "danger",
            _("Held for inspection"),
            _("It failed an inspection and may not be sold until it passes again. Do not buy or use it."),
        )
    if verdict.returned:
        return Said(
            "warning",
            _("Genuine, sold once and returned"),
            _("It was sold to a customer before and came back into the trade."),
        )
    if verdict.sold:
        return Said(
            "warning",
            _("Already sold: this code may be a copy"),
            _(
                "This code was already sold to a customer. If you are buying it now, the package may carry "
                "a copied code: ask the shop."
            ),
        )
    if verdict.state in (State.DECOMMISSIONED, State.CONSUMED):
        return Said(
            "warning",
            _("Genuine, but taken out of the trade"),
            _("This passport was closed (used up or decommissioned): the product should not be on sale."),
        )
    return Said("good", _("Genuine"), _("Made by a producer the brand licensed, and registered since."))


#: CBV business steps in words (those a shopper meets most); the rest read as their label.
_STEPS = {
    "commissioning": N_("Registered"),
    "inspecting": N_("Inspected"),
    "packing": N_("Packed"),
    "unpacking": N_("Unpacked"),
    "shipping": N_("Shipped"),
    "receiving": N_("Received"),
    "customs_releasing": N_("Cleared by customs"),
    "customs_holding": N_("Held by customs"),
    "retail_selling": N_("Sold in a shop"),
    "recalling": N_("Recalled"),
    "decommissioning": N_("Taken out of the trade"),
    "arriving": N_("Arrived"),
    "departing": N_("Departed"),
    "destroying": N_("Destroyed"),
}
_EVENTS = {
    "PassportCommissioned": N_("Registered by its producer"),
    "PassportPacked": N_("Packed into a case or container"),
    "PassportUnpacked": N_("Unpacked from its case or container"),
    "PassportConsumed": N_("Processed into another product"),
    "PassportProduced": N_("Made from the lots before it"),
    "CustodyTransferred": N_("Handed over to a new holder"),
    "CustodyOffersCancelled": N_("Hand-over offers cancelled"),
    "CustodyReassigned": N_("Holder corrected by the governor"),
    "PassportStateInherited": N_("Took on the state of its container"),
}


def event_words(event: str, biz_step: str | None) -> str:
    """A passport's log ``event`` in words: its business step's for a recorded EPCIS event."""
    if event == "PassportEventRecorded" and biz_step is not None:
        return _(_STEPS[biz_step]) if biz_step in _STEPS else biz_step.replace("_", " ").capitalize()
    return _(_EVENTS.get(event, event))


@dataclass(frozen=True)
class Step:
    """One step of the journey on the page: when (in words, and as ISO 8601 for ``<time>``),
    what, who, and the transaction behind it (an anchored event's: its anchor's)."""

    when: str
    at: str
    what: str
    actor: str
    tx_hash: str
    #: When, as a Unix time (the timeline spaces its steps by it).
    time: int = 0
    #: An anchored event: evidence that ``actor`` declared it, not a step that changed the passport.
    evidence: bool = False


#: EPCIS event types in words, for an anchored event that names no business step.
_EVENT_TYPES = {
    "ObjectEvent": N_("Observed"),
    "AggregationEvent": N_("Packed or unpacked"),
    "TransactionEvent": N_("Part of a business transaction"),
    "TransformationEvent": N_("Transformed"),
    "AssociationEvent": N_("Associated with an asset"),
}


def _via(what: str, via_input: int | None, via_container: int | None, names: dict[int, str]) -> str:
    """``what`` of the step, saying which input or container it happened to."""
    if via_input is not None:
        return _("%(what)s (of %(code)s, which it was made from)") % {"what": what, "code": names.get(via_input, "?")}
    if via_container is not None:
        return _("%(what)s (of %(code)s, which it was in)") % {"what": what, "code": names.get(via_container, "?")}
    return what


def _declared(text: object, fallback: int) -> int:
    """The time an event declares (ISO 8601), else ``fallback``."""
    if isinstance(text, str):
        with contextlib.suppress(ValueError):
            return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    return fallback


def step_words(entry: TraceEntry, block_time: int, names: dict[int, str]) -> Step:
    """``entry`` in words; ``block_time`` dates it unless the event declares its own time;
    ``names`` gives the codes of the passports it may reach this one through."""
    details = entry.details
    step = details.get("biz_step")
    what = _via(
        event_words(entry.event, step if isinstance(step, str) else None), entry.via_input, entry.via_container, names
    )
    when = _declared(details.get("event_time"), block_time)
    return Step(moment(when), iso(when), what, entry.actor, entry.tx_hash, when)


def evidence_words(event: AnchoredEvent, block_time: int, names: dict[int, str]) -> Step:
    """An anchored event in words: its business step (else its type), dated by the time it
    declares (else its anchor's block time), by the organisation that declared it."""
    if event.biz_step is not None:
        what = event_words("PassportEventRecorded", event.biz_step)
    else:
        what = _(_EVENT_TYPES[event.event_type]) if event.event_type in _EVENT_TYPES else event.event_type
    when = _declared(event.event_time, block_time)
    what = _via(what, event.via_input, event.via_container, names)
    return Step(moment(when), iso(when), what, event.organisation, event.tx_hash, when, evidence=True)


def iso(timestamp: int) -> str:
    """A time as ISO 8601 in UTC, to the second (``<time datetime>``)."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def later(seconds: int) -> str:
    """How long after the step before a step came, in the reader's words: "3 days later"
    (CLDR's rounded durations, through Babel)."""
    duration = format_timedelta(dt.timedelta(seconds=seconds), threshold=1, locale=_speaking.get().locale)
    return _("%(duration)s later") % {"duration": duration}


#: A passport's state in words, as the lineage and the product page label each passport
#: (recalled: :func:`state_words`).
_STATES = {
    State.ACTIVE: N_("In the trade"),
    State.IN_TRANSIT: N_("On its way"),
    State.QUARANTINED: N_("Held for inspection"),
    State.SOLD: N_("Sold"),
    State.DECOMMISSIONED: N_("Taken out of the trade"),
    State.CONSUMED: N_("Processed into another product"),
}


def state_words(state: State) -> str:
    """``state`` (a passport's effective state) in words (recalled as the verdict says it, not
    as the journey's step); "Unknown" for one never commissioned."""
    if state is State.RECALLED:
        return pgettext("verdict", "Recalled")
    return _(_STATES[state]) if state in _STATES else _("Unknown")
