"""What the pages say, in words a shopper understands: the verdict for a scanned code and the
steps of its journey. Every sentence goes through :func:`_` (gettext): English is the only
catalogue for now; Babel's catalogues plug in here (docs/web.md)."""

from __future__ import annotations

import datetime as dt
import gettext
from dataclasses import dataclass

from chainpass.enums import State
from chainpass.passport import Verdict
from chainpass.trace import TraceEntry

#: The service's translations: none yet, so every string reads as written (English).
TRANSLATIONS = gettext.NullTranslations()
#: The language of :data:`TRANSLATIONS` (``hreflang`` of the links, ``lang`` of the pages).
LANGUAGE = "en"


def _(text: str) -> str:
    return TRANSLATIONS.gettext(text)


def N_(text: str) -> str:
    """Marks ``text`` for the catalogue where it is written; :func:`_` translates it where it is used."""
    return text


@dataclass(frozen=True)
class Said:
    """A verdict in words: its tone (``good``, ``warning`` or ``danger``: the page's colour),
    a headline and what to do."""

    tone: str
    headline: str
    advice: str


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
        if recall_source is not None:
            cause = _("The recall was recorded on %(source)s, which this product was made from or packed in.")
            advice += " " + cause % {"source": recall_source}
        return Said("danger", _("Recalled"), advice)
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
    """One step of the journey on the page: when, what, who, and the transaction behind it."""

    when: str
    what: str
    actor: str
    tx_hash: str


def step_words(entry: TraceEntry, block_time: int, names: dict[int, str]) -> Step:
    """``entry`` in words; ``block_time`` dates it unless the event declares its own time;
    ``names`` gives the codes of the passports it may reach this one through."""
    details = entry.details
    step = details.get("biz_step")
    what = event_words(entry.event, step if isinstance(step, str) else None)
    if entry.via_input is not None:
        what += " " + _("(of %(code)s, which it was made from)") % {"code": names.get(entry.via_input, "?")}
    elif entry.via_container is not None:
        what += " " + _("(of %(code)s, which it was in)") % {"code": names.get(entry.via_container, "?")}
    declared = details.get("event_time")
    if isinstance(declared, str):
        when = int(dt.datetime.fromisoformat(declared.replace("Z", "+00:00")).timestamp())
    else:
        when = block_time
    return Step(iso_minutes(when), what, entry.actor, entry.tx_hash)


def iso_minutes(timestamp: int) -> str:
    """A time as the pages show it (UTC, to the minute) until dates follow the reader's locale."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
