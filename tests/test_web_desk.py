"""The verification desk (issue 16, item 4; docs/web.md, "The verification desk"), over real
HTTP to the service with the desk mounted (``web_world.serving``), on the module's chain (Anvil
runs them all, the embedded EVM every second one): a hotel's operator signs in, reads a
resident's disclosure (uploaded, pasted, or the text of its QR code) and records an audited
check as the hotel; altered, another holder's, suspended and unconsented disclosures are
refused; only signed-in operators get in; every answer says ``no-store``, and nothing of a
disclosure is logged or written. The ``chainpass desk`` commands, ``identity disclose --qr`` and
``serve --desk-as`` are in tests/test_cli_desk.py (on the session's Anvil node directly, whose
module set-up is reverted at the module's end: it cannot share a module with a world's tests).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from accounts import PERSON, YEAR, Roles, World, credential_for, grant_consents
from web_world import serving

from chainpass.attributes import Credential
from chainpass.enums import Level, Standing, SuspensionReason
from chainpass.identity import IdentityRegistry
from chainpass.web.desk import SESSION_COOKIE, Desk
from chainpass.web.operators import Operators, operators_path
from chainpass.web.wording import ENGLISH, moment, spoken

OPERATOR = "ana"
#: What every answer of the desk must say.
NO_STORE = "no-store"


@dataclass(frozen=True)
class Site:
    base: str
    secret: str
    home: Path
    folder: Path
    desk: Desk


@pytest.fixture(scope="module")
def site(world_session: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The service with the hotel's desk (its checks sent as ``roles.hotel``), one operator."""
    home = tmp_path_factory.mktemp("home")
    operators = Operators(operators_path(home))
    secret = operators.add(OPERATOR)
    desk = Desk(world_session.registry, world_session.roles.hotel, operators)
    folder = tmp_path_factory.mktemp("web")
    with serving(world_session.chain, world_session.deployment, folder, desk=desk) as base:
        yield Site(base, secret, home, folder, desk)


@pytest.fixture
def web(site: Site, world: World) -> Site:
    """The site, for a test isolated by the world's snapshot."""
    return site


@dataclass
class Clerk:
    """A signed-in operator's browser: its cookies and the page's CSRF token."""

    base: str
    http: requests.Session
    csrf: str

    def read(self, text: str = "", *, file: bytes | None = None, expected: str = "") -> requests.Response:
        # As a browser sends the form: the file's part with no name and nothing in it when none is chosen.
        files = {"file": ("disclosure.json", file, "application/json") if file else ("", b"")}
        data = {"csrf": self.csrf, "text": text, "expected": expected}
        return self.http.post(self.base + "/desk/disclosure", data=data, files=files, timeout=60)

    def check(self, page: requests.Response) -> requests.Response:
        """Press the page's audited-check button (its form's hidden fields, as a browser sends them)."""
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', _form(page, "/desk/check")))
        return self.http.post(self.base + "/desk/check", data=fields, timeout=60)


def _form(page: requests.Response, action: str) -> str:
    found = re.search(rf'<form method="post" action="{action}".*?</form>', page.text, re.S)
    assert found is not None, f"no form to {action}"
    return found[0]


def sign_in(site: Site, name: str = OPERATOR, secret: str | None = None) -> requests.Response:
    return requests.post(
        site.base + "/desk/sign-in",
        data={"operator": name, "secret": site.secret if secret is None else secret},
        allow_redirects=False,
        timeout=60,
    )


def clerk(site: Site) -> Clerk:
    http = requests.Session()
    signed = sign_in(site)
    assert signed.status_code == 303, signed.text
    http.cookies.update(signed.cookies)
    page = http.get(site.base + "/desk", timeout=60)
    assert page.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    return Clerk(site.base, http, token[1])


def outcome(page: requests.Response) -> str | None:
    found = re.search(r'data-outcome="(\w+)"', page.text)
    return found[1] if found else None


def verified(
    registry: IdentityRegistry, roles: Roles, holder: str, *, consent: bool = True, **changes: str
) -> Credential:
    """``holder`` verified by the bureau at level high for a year; consenting to the hotel."""
    credential = credential_for(holder, **changes)
    expires = registry.chain.latest_timestamp() + YEAR
    registry.verify(credential, Level.HIGH, expires, sender=roles.bureau)
    if consent:
        grant_consents(registry, holder, [roles.hotel])
    return credential


def disclosed(credential: Credential, *keys: str) -> str:
    return json.dumps(credential.disclose(keys or ("name", "age_over_18")).to_json())


# ------------------------------------------------------------------------------- readings


def test_a_genuine_disclosure_shows_its_attributes_and_the_holders_verification(web: Site, world: World) -> None:
    registry, roles = world.registry, world.roles
    credential = verified(registry, roles, roles.holder)
    status = registry.status(roles.holder)
    desk = clerk(web)

    uploaded = desk.read(file=disclosed(credential).encode())
    linked = desk.read(f"https://desk.hotel.example/desk#{credential.disclose(['name']).to_compact()}")
    scanned = desk.read(credential.disclose(["date_of_birth"]).to_compact())

    assert uploaded.status_code == 200 and outcome(uploaded) == "accepted"
    page = uploaded.text
    assert "<dt>Name</dt><dd>Ada Lovelace</dd>" in page
    assert "<dt>18 or older</dt><dd>yes</dd>" in page
    assert PERSON["national_id"] not in page and PERSON["address"] not in page  # not disclosed
    assert "<dt>Standing</dt><dd>verified</dd>" in page
    assert "<dt>Assurance level</dt><dd>high</dd>" in page
    assert f'<dt>Issued by</dt><dd class="code">{roles.bureau}</dd>' in page
    with spoken(ENGLISH):
        expiry = moment(status.expires_at)
    assert f">{expiry}</time>" in page
    assert "The holder consents to checks by this relying party until" in page
    assert 'action="/desk/check"' in page  # the audited check: one button
    assert outcome(linked) == "accepted" and "<dd>Ada Lovelace</dd>" in linked.text
    assert outcome(scanned) == "accepted" and "<dt>Date of birth</dt><dd>1990-12-10</dd>" in scanned.text


#: The accepted reading's headline and first attribute, and a refusal's headline, in each language.
IN_LANGUAGES = {
    "zh": ("真实的披露", "<dt>姓名</dt><dd>Ada Lovelace</dd>", "拒绝：已被篡改", "zh-Hans"),
    "ko": ("진본 공개 정보", "<dt>이름</dt><dd>Ada Lovelace</dd>", "거부: 변조됨", "ko"),
}


def test_the_desk_speaks_the_clerks_language(web: Site, world: World) -> None:
    credential = verified(world.registry, world.roles, world.roles.holder)
    document = credential.disclose(["name"]).to_json()
    document["attributes"][0]["value"] = "Mallory"
    desk = clerk(web)
    pages = {}
    for lang in IN_LANGUAGES:
        desk.http.headers["Accept-Language"] = lang
        signing_in = requests.get(web.base + "/desk", headers={"Accept-Language": lang}, timeout=60)
        pages[lang] = (desk.read(disclosed(credential)), desk.read(json.dumps(document)), signing_in)

    for lang, (accepted, altered, signing_in) in pages.items():
        headline, attribute, refusal, tag = IN_LANGUAGES[lang]
        assert f'<html lang="{tag}">' in accepted.text and f'<h2 id="outcome">{headline}</h2>' in accepted.text
        assert attribute in accepted.text
        assert f'<h2 id="outcome">{refusal}</h2>' in altered.text
        assert f'<html lang="{tag}">' in signing_in.text and "Sign in" not in signing_in.text
        # The switcher leads back to the desk, whichever form the page answered.
        assert f'href="/desk?lang={"ko" if lang == "zh" else "zh"}"' in accepted.text


def test_an_altered_disclosure_is_refused_and_shows_nothing_of_it(web: Site, world: World) -> None:
    credential = verified(world.registry, world.roles, world.roles.holder)
    document = credential.disclose(["name", "age_over_18"]).to_json()
    document["attributes"][0]["value"] = "Mallory Moriarty"

    page = clerk(web).read(json.dumps(document))

    assert page.status_code == 200 and outcome(page) == "altered"
    assert "Refused: altered" in page.text
    assert "Mallory" not in page.text and "Revealed attributes" not in page.text
    assert 'action="/desk/check"' not in page.text


def test_another_holders_disclosure_is_refused(web: Site, world: World) -> None:
    registry, roles = world.registry, world.roles
    mine = verified(registry, roles, roles.holder)
    verified(registry, roles, roles.other_holder, name="Grace Hopper")
    # Ada's disclosure, its holder changed to Grace's wallet: it proves nothing about Grace.
    document = mine.disclose(["name"]).to_json()
    document["holder"] = roles.other_holder
    desk = clerk(web)

    swapped = desk.read(json.dumps(document))
    unexpected = desk.read(disclosed(mine), expected=roles.other_holder)
    expected = desk.read(disclosed(mine), expected=roles.holder)

    assert outcome(swapped) == "another_holder" and "Ada Lovelace" not in swapped.text
    assert f"is not from the verification on chain of {roles.other_holder}" in swapped.text
    assert outcome(unexpected) == "not_expected" and "Ada Lovelace" not in unexpected.text
    assert f"This disclosure is {roles.holder}&#39;s, not the holder you expected ({roles.other_holder})." in (
        unexpected.text
    )
    assert outcome(expected) == "accepted"


def test_a_suspended_holder_is_refused(web: Site, world: World) -> None:
    registry, roles = world.registry, world.roles
    credential = verified(registry, roles, roles.holder)
    registry.suspend(roles.holder, SuspensionReason.LOST_DOCUMENT, sender=roles.bureau)

    page = clerk(web).read(disclosed(credential))

    assert outcome(page) == "suspended" and "Refused: suspended" in page.text
    assert "<dt>Standing</dt><dd>suspended by its issuer</dd>" in page.text
    assert "Ada Lovelace" not in page.text and 'action="/desk/check"' not in page.text


def test_a_wallet_never_verified_is_refused(web: Site, world: World) -> None:
    page = clerk(web).read(disclosed(credential_for(world.roles.stranger)))

    assert outcome(page) == "unverified" and "Refused: never verified" in page.text
    assert "Ada Lovelace" not in page.text


def test_what_is_not_a_disclosure_is_a_400_in_one_sentence(web: Site) -> None:
    desk = clerk(web)

    pages = [desk.read("hello"), desk.read("cpd1.AAAA"), desk.read('{"format": "x"}'), desk.read("")]

    assert [(p.status_code, outcome(p)) for p in pages] == [(400, "unreadable")] * 4
    assert all("Cannot read this" in p.text and "Traceback" not in p.text for p in pages)


# ---------------------------------------------------------------------- the audited check


def test_the_audited_check_is_sent_as_the_relying_party_and_shown_with_its_transaction(web: Site, world: World) -> None:
    registry, roles = world.registry, world.roles
    credential = verified(registry, roles, roles.holder)
    desk = clerk(web)
    read = desk.read(disclosed(credential))

    checked = desk.check(read)

    assert checked.status_code == 200 and outcome(checked) == "accepted"
    tx = re.search(r'<a class="tx" href="/tx/(0x[0-9a-f]{64})">', checked.text)
    assert tx is not None
    receipt = world.chain.w3.eth.get_transaction_receipt(tx[1])  # type: ignore[arg-type]
    assert receipt["from"] == roles.hotel and receipt["to"] == registry.address and receipt["status"] == 1
    (entry,) = registry.checks_of(roles.holder)
    assert entry.tx_hash == tx[1] and entry.actor == roles.hotel and entry.details["standing"] == "valid"
    assert "<dd>Ada Lovelace</dd>" in checked.text  # the disclosure still beside the check's result
    # The transaction's page, which the result links to, says who sent it.
    assert roles.hotel in requests.get(web.base + f"/tx/{tx[1]}", timeout=60).text


def test_without_consent_the_audited_check_is_refused(web: Site, world: World) -> None:
    registry, roles = world.registry, world.roles
    credential = verified(registry, roles, roles.holder, consent=False)
    desk = clerk(web)
    read = desk.read(disclosed(credential))

    checked = desk.check(read)

    assert outcome(read) == "accepted" and "has not consented to checks by this relying party" in read.text
    assert outcome(checked) == "no_consent" and "Refused: no consent" in checked.text
    assert "Ada Lovelace" not in checked.text
    (entry,) = registry.checks_of(roles.holder)  # the attempt joins the holder's audit trail
    assert entry.actor == roles.hotel and entry.details["standing"] == Standing.NO_CONSENT.label
    assert f'href="/tx/{entry.tx_hash}"' in checked.text


def test_a_check_the_contract_refuses_is_not_sent_and_says_so(web: Site, world: World) -> None:
    registry, roles = world.registry, world.roles
    credential = verified(registry, roles, roles.holder)
    desk = clerk(web)
    read = desk.read(disclosed(credential))
    registry.remove_relying_party(roles.hotel, sender=roles.governor)  # between the reading and the click

    checked = desk.check(read)

    assert outcome(checked) == "failed" and "The check was not sent" in checked.text
    assert f"{roles.hotel} is not an appointed relying party" in checked.text  # the chain's sentence
    assert registry.checks_of(roles.holder) == []


# ------------------------------------------------------------------------- access control


def test_only_a_signed_in_operator_reaches_the_desk(web: Site, world: World) -> None:
    credential = verified(world.registry, world.roles, world.roles.holder)
    anonymous = requests.get(web.base + "/desk", timeout=60)
    posted = requests.post(web.base + "/desk/disclosure", data={"text": disclosed(credential)}, timeout=60)
    wrong = sign_in(web, secret=web.secret[:-1] + ("A" if web.secret[-1] != "A" else "B"))
    nobody = sign_in(web, name="mallory")
    right = sign_in(web)
    desk = clerk(web)
    forged = desk.http.post(web.base + "/desk/disclosure", data={"csrf": "x" * 43, "text": disclosed(credential)})
    not_ascii = desk.http.post(web.base + "/desk/disclosure", data={"csrf": "é", "text": disclosed(credential)})
    too_large = desk.http.post(web.base + "/desk/disclosure", data={"csrf": desk.csrf, "text": "x" * 70_000})
    signed_out = desk.http.post(web.base + "/desk/sign-out", data={"csrf": desk.csrf}, allow_redirects=False)
    after = desk.http.get(web.base + "/desk", timeout=60)

    assert anonymous.status_code == 401 and 'action="/desk/sign-in"' in anonymous.text
    assert 'name="csrf"' not in anonymous.text
    assert posted.status_code == 401 and "Ada Lovelace" not in posted.text
    for refused in (wrong, nobody):
        assert refused.status_code == 401 and "That name and secret do not match" in refused.text
        assert SESSION_COOKIE not in refused.cookies
    assert right.status_code == 303 and right.headers["Location"] == "/desk"
    cookie = right.headers["Set-Cookie"]
    assert all(part in cookie for part in ("HttpOnly", "SameSite=strict", "Path=/desk")), cookie
    assert "Secure" not in cookie  # http://127.0.0.1: a Secure cookie would never come back
    assert forged.status_code == 403 and "Ada Lovelace" not in forged.text
    assert not_ascii.status_code == 403
    assert too_large.status_code == 413 and "at most 64 KB" in too_large.text
    assert signed_out.status_code == 303 and after.status_code == 401
    # The public pages stay open.
    assert requests.get(web.base + "/.well-known/gs1resolver", timeout=60).status_code == 200


def test_a_removed_operator_is_signed_out_at_once(web: Site) -> None:
    desk = clerk(web)
    operators = Operators(operators_path(web.home))
    other = operators.add("ben")
    signed = sign_in(web, name="ben", secret=other)
    ben_http = requests.Session()
    ben_http.cookies.update(signed.cookies)

    before = ben_http.get(web.base + "/desk", timeout=60).status_code
    operators.remove("ben")
    after = ben_http.get(web.base + "/desk", timeout=60).status_code

    assert (before, after) == (200, 401)
    assert desk.http.get(web.base + "/desk", timeout=60).status_code == 200  # ana is still in


# --------------------------------------------------------------------------------- privacy


def test_every_desk_answer_says_no_store(web: Site, world: World) -> None:
    credential = verified(world.registry, world.roles, world.roles.holder)
    desk = clerk(web)
    read = desk.read(disclosed(credential))
    answers = {
        "no session": requests.get(web.base + "/desk", timeout=60),
        "wrong secret": sign_in(web, secret="nope"),
        "signed in": sign_in(web),
        "desk": desk.http.get(web.base + "/desk", timeout=60),
        "reading": read,
        "refusal": desk.read("hello"),
        "check": desk.check(read),
        "forged": desk.http.post(web.base + "/desk/check", data={"csrf": "x"}, timeout=60),
    }

    assert {name: answer.headers.get("Cache-Control") for name, answer in answers.items()} == dict.fromkeys(
        answers, NO_STORE
    )
    assert all(answer.headers["Referrer-Policy"] == "no-referrer" for answer in answers.values())


def test_nothing_of_a_disclosure_is_logged_or_written(
    web: Site, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    credential = verified(world.registry, world.roles, world.roles.holder)
    before = _files(web.home) | _files(web.folder)
    desk = clerk(web)

    with caplog.at_level(logging.DEBUG):
        read = desk.read(file=disclosed(credential, "name", "date_of_birth", "address").encode())
        desk.check(read)
        desk.read(disclosed(credential, "national_id"), expected=world.roles.other_holder)

    assert outcome(read) == "accepted"
    assert _files(web.home) | _files(web.folder) == before  # nothing written, nothing touched
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert all(value not in logged for value in PERSON.values())
    stored = b"".join(path.read_bytes() for path in [*web.home.rglob("*"), *web.folder.rglob("*")] if path.is_file())
    assert all(value.encode() not in stored for value in PERSON.values())
    # What the desk keeps in memory: sessions (an operator's name, a token), nothing else.
    assert all(set(vars(session)) == {"operator", "csrf", "ends"} for session in web.desk.sessions.values())


def _files(folder: Path) -> set[tuple[str, int, int]]:
    return {(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}
