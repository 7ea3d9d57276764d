"""The verification desk (issue 16, item 4; docs/web.md, "The verification desk"): where a
relying party's clerk (a hotel's front desk, a bank teller, a customs officer) reads a
resident's disclosure and, with one button, records an audited check as the relying party.

Mounted by :func:`chainpass.web.app.create_app` when given a :class:`Desk` (``chainpass serve
--desk-as ACCOUNT``); off otherwise. Only the relying party's operators reach it: each signs in
with their own secret (:mod:`chainpass.web.operators`) and gets a session cookie (``HttpOnly``,
``SameSite=Strict``, ``Secure`` behind an ``https`` resolver URL), held in memory only: a
restart signs everyone out. Every form carries the session's CSRF token.

A disclosure comes as a file (uploaded), as text (pasted, or typed into the box by a handheld
QR scanner), or in a link's fragment (``/desk#cpd1.…``, what ``chainpass identity disclose --qr
--desk URL`` encodes: a phone's camera opens it, a few lines of script in the page post it; a
browser never sends a fragment to a server, so it reaches no access log). It is read in memory,
answered, and forgotten: nothing is written to disk or logged, and every answer of the desk says
``Cache-Control: no-store``.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from chainpass.attributes import Disclosure, verify_proof
from chainpass.chain import Sender, parse_address, sender_address
from chainpass.enums import Level, Standing
from chainpass.errors import ChainpassError, DisclosureInvalid, InvalidInput
from chainpass.identity import CheckResult, IdentityRegistry, IdentityStatus
from chainpass.web.operators import Operators
from chainpass.web.wording import LANGUAGES, N_, _, iso, moment, speaking

if TYPE_CHECKING:
    from chainpass.web.app import Service

#: The session cookie, and how long a session lasts (a working shift).
SESSION_COOKIE = "chainpass_desk"
SESSION_SECONDS = 8 * 3600
#: The most a disclosure may weigh (a real one is 1 to 4 KB).
MAX_DISCLOSURE_BYTES = 64 * 1024
#: On every answer of the desk: kept by no cache (nor the browser's back button), sent to no
#: other site as a referrer, shown in no other site's frame.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}

#: Known attributes' names, for the clerk (others are shown by their key).
ATTRIBUTE_NAMES = {
    "name": N_("Name"),
    "date_of_birth": N_("Date of birth"),
    "national_id": N_("National ID number"),
    "address": N_("Address"),
    "age_over_18": N_("18 or older"),
}
STANDING_WORDS = {
    Standing.NEVER_VERIFIED: N_("never verified"),
    Standing.VALID: N_("verified"),
    Standing.SUSPENDED: N_("suspended by its issuer"),
    Standing.REVOKED: N_("revoked by its issuer"),
    Standing.EXPIRED: N_("expired"),
    Standing.ISSUER_REMOVED: N_("its issuer was removed"),
    Standing.MOVED: N_("moved to another wallet"),
    Standing.NO_CONSENT: N_("no consent"),
}
LEVEL_WORDS = {Level.LOW: N_("low"), Level.SUBSTANTIAL: N_("substantial"), Level.HIGH: N_("high")}


@dataclass
class Session:
    operator: str
    csrf: str
    ends: float


@dataclass
class Desk:
    """The desk of one relying party: its registry client, the account its checks are sent
    as, its operators, and the sessions signed in (in memory)."""

    registry: IdentityRegistry
    relying_party: Sender
    operators: Operators
    sessions: dict[str, Session] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return sender_address(self.relying_party)

    def session(self, http: Request) -> Session | None:
        """The signed-in session of ``http``, if any (and its operator still on the list)."""
        token = http.cookies.get(SESSION_COOKIE, "")
        session = self.sessions.get(token)
        if session is None:
            return None
        if session.ends < time.time() or session.operator not in self.operators.all():
            del self.sessions[token]
            return None
        return session

    def routes(self, service: Service) -> list[Route]:
        return _routes(self, service)


@dataclass(frozen=True)
class Reading:
    """What the desk found: the outcome (``accepted`` or why not), the disclosure's holder and
    revealed attributes, the holder's stored verification, and an audited check's result."""

    outcome: str
    holder: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    status: IdentityStatus | None = None
    consent_until: int = 0
    check: CheckResult | None = None
    #: The English detail of an unreadable disclosure or a refused transaction.
    detail: str | None = None
    #: The disclosure as compact text, for the audited check's form (accepted ones only).
    compact: str | None = None
    expected: str = ""


#: The outcomes, each with its headline and sentence (``%(holder)s`` the disclosure's wallet).
OUTCOMES: dict[str, tuple[str, str]] = {
    "accepted": (
        N_("Genuine disclosure"),
        N_("Every revealed attribute matches %(holder)s's verification on chain, and it is in force."),
    ),
    "altered": (
        N_("Refused: altered"),
        N_("A revealed attribute does not match the proof it came with: someone changed it. Accept none of it."),
    ),
    "another_holder": (
        N_("Refused: another holder"),
        N_(
            "This disclosure is not from the verification on chain of %(holder)s: it belongs to another "
            "holder, or to an earlier verification since replaced. Ask the resident for a new one."
        ),
    ),
    "not_expected": (
        N_("Refused: another holder"),
        N_("This disclosure is %(holder)s's, not the holder you expected (%(expected)s)."),
    ),
    "unverified": (
        N_("Refused: never verified"),
        N_("%(holder)s has no verified identity on chain."),
    ),
    "suspended": (
        N_("Refused: suspended"),
        N_("The attributes match, but %(holder)s's identity is suspended by its issuer: do not accept it."),
    ),
    "not_valid": (
        N_("Refused: not in force"),
        N_("The attributes match, but %(holder)s's identity is not in force: %(standing)s."),
    ),
    "no_consent": (
        N_("Refused: no consent"),
        N_(
            "%(holder)s has not consented to checks by this relying party, so the check learnt nothing. "
            "The attempt is in the holder's audit trail. Ask the resident to grant consent, then check again."
        ),
    ),
    "unreadable": (
        N_("Cannot read this"),
        N_("It is neither a chainpass disclosure's file nor its QR code's text."),
    ),
    "failed": (
        N_("The check was not sent"),
        N_("The chain refused the check or could not be reached; nothing was recorded."),
    ),
}


def read_disclosure(registry: IdentityRegistry, relying_party: str, disclosure: Disclosure, expected: str) -> Reading:
    """Check ``disclosure`` against the chain for ``relying_party`` (read only: no transaction,
    no audit trail); ``expected`` is the holder the clerk expects, if they named one."""
    holder = disclosure.holder
    if expected and parse_address(expected, "expected holder") != holder:
        return Reading("not_expected", holder, expected=expected)
    status = registry.status(holder)
    if status.issuer is None:
        return Reading("unverified", holder, status=status, expected=expected)
    if not all(verify_proof(a.proof, disclosure.commitment, a.leaf) for a in disclosure.attributes):
        return Reading("altered", holder, expected=expected)
    if disclosure.commitment != status.commitment:
        return Reading("another_holder", holder, status=status, expected=expected)
    if status.standing is not Standing.VALID:
        outcome = "suspended" if status.standing is Standing.SUSPENDED else "not_valid"
        return Reading(outcome, holder, status=status, expected=expected)
    return Reading(
        "accepted",
        holder,
        tuple(disclosure.values().items()),
        status,
        consent_until=registry.consent_until(holder, relying_party),
        compact=disclosure.to_compact(),
        expected=expected,
    )


def audited_check(desk: Desk, disclosure: Disclosure, expected: str) -> Reading:
    """Check the disclosure again, then, if it is accepted, record an audited check of its
    holder as the relying party (a transaction)."""
    reading = read_disclosure(desk.registry, desk.address, disclosure, expected)
    if reading.outcome != "accepted":
        return reading
    try:
        result = desk.registry.check(disclosure.holder, sender=desk.relying_party)
    except ChainpassError as exc:
        return replace(reading, outcome="failed", detail=str(exc), compact=None)
    if result.standing is Standing.NO_CONSENT:
        return replace(reading, outcome="no_consent", check=result, attributes=(), compact=None)
    if result.standing is not Standing.VALID:  # changed since it was read
        outcome = "suspended" if result.standing is Standing.SUSPENDED else "not_valid"
        return replace(reading, outcome=outcome, check=result, attributes=(), compact=None)
    return replace(reading, check=result)


def _routes(desk: Desk, service: Service) -> list[Route]:
    secure = service.root.startswith("https://")

    def page(template: str, http_status: int, headers: dict[str, str] | None = None, **values: Any) -> Response:
        language = speaking()
        switch = [(other, None if other == language else f"/desk?lang={other.code}") for other in LANGUAGES]
        html = service.templates.get_template(template).render(
            language=language, switch=switch, relying_party=desk.address, **values
        )
        return HTMLResponse(html, status_code=http_status, headers={**PRIVATE_HEADERS, **(headers or {})})

    def sign_in_page(status: int, wrong: bool = False) -> Response:
        return page("desk_signin.html", status, wrong=wrong)

    def desk_page(session: Session, reading: Reading | None = None, status: int = 200) -> Response:
        said = None
        if reading is not None:
            headline, sentence = OUTCOMES[reading.outcome]
            standing = reading.status.standing if reading.status else None
            if reading.check is not None:
                standing = reading.check.standing
            said = (
                _(headline),
                _(sentence)
                % {
                    "holder": reading.holder or "",
                    "expected": reading.expected,
                    "standing": _(STANDING_WORDS[standing]) if standing is not None else "",
                },
            )
        return page("desk.html", status, operator=session.operator, csrf=session.csrf, reading=reading,
                    said=said, facts=_facts(reading) if reading else [], attributes=_attributes(reading),
                    consent=moment(reading.consent_until) if reading and reading.consent_until else None)  # fmt: skip

    def signed_in(handler: Callable[[Request, Session], Any]) -> Callable[[Request], Any]:
        async def guarded(http: Request) -> Response:
            session = desk.session(http)
            if session is None:
                return sign_in_page(401)
            if http.method != "POST":
                response: Response = await handler(http, session)
                return response
            form = await _form(http)
            if form is None:
                return page("error.html", 413, status=413, headline=None,
                            sentence=_("The desk reads disclosures of at most 64 KB."))  # fmt: skip
            try:
                if not hmac.compare_digest(str(form.get("csrf", "")).encode(), session.csrf.encode()):
                    return page("error.html", 403, status=403, headline=_("This form has expired"),
                                sentence=_("Open the desk again and repeat what you did."))  # fmt: skip
                http.state.form = form
                response = await handler(http, session)
                return response
            finally:
                await form.close()  # an upload is held in memory (at most 64 KB): freed now

        return guarded

    async def home(_http: Request, session: Session) -> Response:
        return desk_page(session)

    async def sign_in(http: Request) -> Response:
        form = await _form(http)
        name = str(form.get("operator", "")).strip() if form else ""
        secret = str(form.get("secret", "")) if form else ""
        if form is not None:
            await form.close()
        if not await asyncio.to_thread(desk.operators.check, name, secret):
            return sign_in_page(401, wrong=True)
        now = time.time()
        for ended in [token for token, session in desk.sessions.items() if session.ends < now]:
            del desk.sessions[ended]  # sessions never used again do not pile up
        token = secrets.token_urlsafe(32)
        desk.sessions[token] = Session(name, secrets.token_urlsafe(32), time.time() + SESSION_SECONDS)
        response = RedirectResponse("/desk", status_code=303, headers=PRIVATE_HEADERS)
        response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_SECONDS, path="/desk", httponly=True,
                            samesite="strict", secure=secure)  # fmt: skip
        return response

    async def sign_out(http: Request, _session: Session) -> Response:
        desk.sessions.pop(http.cookies.get(SESSION_COOKIE, ""), None)
        response = RedirectResponse("/desk", status_code=303, headers=PRIVATE_HEADERS)
        response.delete_cookie(SESSION_COOKIE, path="/desk", httponly=True, samesite="strict", secure=secure)
        return response

    async def disclosure(http: Request, session: Session) -> Response:
        reading = await _reading(http, lambda d, expected: read_disclosure(desk.registry, desk.address, d, expected))
        return desk_page(session, reading, 400 if reading.outcome == "unreadable" else 200)

    async def check(http: Request, session: Session) -> Response:
        reading = await _reading(http, lambda d, expected: audited_check(desk, d, expected))
        return desk_page(session, reading, 400 if reading.outcome == "unreadable" else 200)

    async def _reading(http: Request, work: Callable[[Disclosure, str], Reading]) -> Reading:
        form = http.state.form
        text = str(form.get("text", ""))
        upload = form.get("file")
        if isinstance(upload, UploadFile):
            content = await upload.read()
            if content.strip():  # a file chosen: it, else the text
                text = content.decode("utf-8", "replace")
        expected = str(form.get("expected", "")).strip()
        try:
            if expected:
                parse_address(expected, "expected holder")
            parsed = Disclosure.from_text(text)
        except (DisclosureInvalid, InvalidInput) as exc:
            return Reading("unreadable", detail=str(exc), expected=expected)

        def in_worker() -> Reading:
            try:
                return work(parsed, expected)
            except InvalidInput as exc:
                return Reading("unreadable", detail=str(exc), expected=expected)

        return await service.run(in_worker)

    return [
        Route("/desk", signed_in(home), methods=["GET"]),
        Route("/desk/sign-in", sign_in, methods=["POST"]),
        Route("/desk/sign-out", signed_in(sign_out), methods=["POST"]),
        Route("/desk/disclosure", signed_in(disclosure), methods=["POST"]),
        Route("/desk/check", signed_in(check), methods=["POST"]),
    ]


async def _form(http: Request) -> Any:
    """The request's form, or None if it is larger than a disclosure may be."""
    if int(http.headers.get("content-length") or 0) > MAX_DISCLOSURE_BYTES + 4096:
        return None
    try:
        return await http.form(max_files=1, max_fields=8, max_part_size=MAX_DISCLOSURE_BYTES)
    except HTTPException:  # Starlette's 400: a part too large, too many, or a body that is no form
        return None


def _attributes(reading: Reading | None) -> list[tuple[str, str]]:
    """The revealed attributes as the clerk reads them: known names and yes/no translated."""
    if reading is None:
        return []
    shown = []
    for key, value in reading.attributes:
        name = _(ATTRIBUTE_NAMES[key]) if key in ATTRIBUTE_NAMES else key
        if value in ("true", "false") and key.startswith(("age_over_", "is_", "has_")):
            value = _("yes") if value == "true" else _("no")
        shown.append((name, value))
    return shown


def _facts(reading: Reading) -> list[tuple[str, str, str | None]]:
    """The holder's verification as the clerk reads it: (label, text, ISO time or None)."""
    facts: list[tuple[str, str, str | None]] = []
    if reading.holder:
        facts.append((_("Holder's wallet"), reading.holder, None))
    status = reading.status
    standing = reading.check.standing if reading.check else status.standing if status else None
    if standing is not None:
        facts.append((_("Standing"), _(STANDING_WORDS[standing]), None))
    if status is not None and status.issuer is not None and standing is not Standing.NO_CONSENT:
        if status.level in LEVEL_WORDS:
            facts.append((_("Assurance level"), _(LEVEL_WORDS[status.level]), None))
        facts.append((_("Issued by"), status.issuer, None))
        facts.append((_("Expires"), moment(status.expires_at), iso(status.expires_at)))
    return facts


__all__ = ["Desk", "Reading", "audited_check", "read_disclosure"]
