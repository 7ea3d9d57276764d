"""The passport pages in a real browser (issue 16, item 5; docs/web.md, "In a browser"):
Debian's Chromium (``/usr/bin/chromium``, which ``make test`` installs when missing), driven by
Playwright, headless, over real HTTP to the service (``web_world.serving``). A shopper scans a
recalled bag and reads the recall in each language, switching with the page's own links; a
cloned code (a sold bag's, scanned again) says "already sold"; an unknown serial warns of a
counterfeit; and axe-core (npm, pinned), run in the page, finds no serious or critical
accessibility violation on the passport page in each language and on the 404 page.

On Anvil only: what is tested is the browser's reading of the pages, which the chain does not
change (tests/test_web_pages.py reads the same pages on both local chains). The world is made
once for the module and only read; one browser for the module. With
``CHAINPASS_SCREENSHOTS=folder`` (``make screenshots``), ``test_screenshots`` writes a PNG of
each page in each language there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from accounts import YEAR, World, credential_for, fund, grant_consents, new_account
from passport_world import GTIN, Orgs, commission_one, sell
from playwright.sync_api import Browser, Page, sync_playwright
from test_web_drawing import PADDY_GTIN, rice
from test_web_pages import RECALLED, UNKNOWN
from web_world import serving

from chainpass.anchor import EventAnchors
from chainpass.attributes import Credential
from chainpass.compiler import REPO_ROOT
from chainpass.enums import Level
from chainpass.evidence import add_anchored
from chainpass.index import TraceIndex
from chainpass.passport import ProductPassports
from chainpass.standards.epcis import EPCIS_CONTEXT
from chainpass.standards.gs1 import ProductKey
from chainpass.web.desk import Desk
from chainpass.web.operators import Operators, operators_path
from chainpass.web.wording import LANGUAGES, Language

CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: A phone's viewport (CSS pixels), for the pages and their screenshots.
PHONE = {"width": 390, "height": 844}
#: The language switcher's links, by the ``lang`` of the page they lead to, as the page names them
#: (the two Chinese by their script, each in its own characters).
LANGUAGE_NAMES = {"en": "English", "zh-Hans": "简体中文", "zh-Hant": "繁體中文", "ko": "한국어"}
#: The codes a shopper scans: a recalled bag (made from a milled lot made from paddy lots, one
#: of them recalled; packed in a case on a pallet), a sold one scanned again, one never
#: registered, and the product's GTIN alone.
CODES = {
    "recalled": f"/01/0{GTIN}/21/BAG1",
    "sold": f"/01/0{GTIN}/21/BAG2",
    "unknown": f"/01/0{GTIN}/21/NOBAG",
    "product": f"/01/0{GTIN}",
}
#: What a shopper reads on a sold bag's page (tests/test_web_pages.py reads the other languages).
SOLD = "Already sold: this code may be a copy"


@dataclass(frozen=True)
class Site:
    base: str
    browser: Browser


@pytest.fixture(scope="module")
def site(world_session: World, orgs_setup: Orgs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The bags on the chain (kept for the module: the tests only read; the sold one with an
    anchored inspection the index is told, shown as evidence), the service over them, and one
    headless Chromium."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make debian-setup` installs Debian's chromium")
    pp = ProductPassports.from_deployment(world_session.chain, world_session.deployment)
    rice(pp, orgs_setup)
    sold = ProductKey.item(GTIN, "BAG2")
    sell(pp, orgs_setup, commission_one(pp, orgs_setup, sold))
    anchors = EventAnchors.from_deployment(world_session.chain, world_session.deployment)
    inspection = {"type": "ObjectEvent", "eventTime": "2026-03-01T08:00:00Z", "eventTimeZoneOffset": "+00:00",
                  "epcList": [sold.epc_urn()], "action": "OBSERVE", "bizStep": "inspecting"}  # fmt: skip
    document = {"@context": [EPCIS_CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
                "creationDate": "2026-03-01T09:00:00Z", "epcisBody": {"eventList": [inspection]}}  # fmt: skip
    raw = json.dumps(document).encode()
    anchors.anchor_document(document, raw, sender=orgs_setup.inspector)
    folder = tmp_path_factory.mktemp("web")
    with TraceIndex.for_client(pp, folder / "index.sqlite", anchors=anchors) as index:
        index.sync()
        add_anchored(index, [("inspection.jsonld", raw)])
    with (
        serving(world_session.chain, world_session.deployment, folder) as base,
        sync_playwright() as playwright,
    ):
        # --no-sandbox: Chromium's sandbox refuses to run as root (CI's machine runs as root).
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield Site(base, browser)
        finally:
            browser.close()


@pytest.fixture
def page(site: Site) -> Iterator[Page]:
    """A fresh phone-sized tab (no cookie of an earlier test) whose browser prefers English."""
    context = site.browser.new_context(viewport=PHONE, locale="en-US")  # type: ignore[arg-type]
    try:
        yield context.new_page()
    finally:
        context.close()


def scan(page: Page, site: Site, code: str) -> int:
    """What a phone does with the QR code: open the resolver's link (which redirects to the
    passport page); the status of the page it lands on."""
    answer = page.goto(site.base + code)
    assert answer is not None
    return answer.status


def headline(page: Page) -> str:
    return page.locator("main h1").inner_text()


def switch_to(page: Page, tag: str) -> None:
    """Click the switcher's link to ``tag``, and wait for that page."""
    page.get_by_role("navigation").get_by_role("link", name=LANGUAGE_NAMES[tag]).click()
    page.wait_for_selector(f'html[lang="{tag}"]')


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's findings of impact serious or critical on the page, every rule of its default
    set run: its violations, and what it could not decide either (its "incomplete": a text whose
    background it cannot see, as when a long code ran out of its box on a phone)."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run(document)")
    return [
        {"rule": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]]}
        for v in results["violations"] + results["incomplete"]
        if v["impact"] in ("serious", "critical")
    ]


def test_a_recalled_bag_shows_the_recall_in_each_language_through_the_switcher(page: Page, site: Site) -> None:
    read = {}

    assert scan(page, site, CODES["recalled"]) == 200
    assert page.url == site.base + "/passport" + CODES["recalled"]  # the resolver's redirect followed
    read["en"] = (
        page.locator("html").get_attribute("lang"),
        headline(page),
        page.locator(".verdict p").first.inner_text(),
    )
    for tag in ("zh-Hans", "zh-Hant", "ko", "en"):
        switch_to(page, tag)
        read[tag] = (tag, headline(page), page.locator(".verdict p").first.inner_text())

    assert read == {tag: (tag, *RECALLED[tag]) for tag in LANGUAGE_NAMES}
    # The choice is kept (its cookie): the bag's page opened again is in the last language picked.
    switch_to(page, "ko")
    scan(page, site, CODES["recalled"])
    assert page.locator("html").get_attribute("lang") == "ko" and headline(page) == RECALLED["ko"][0]


def test_a_cloned_code_shows_already_sold(page: Page, site: Site) -> None:
    assert scan(page, site, CODES["sold"]) == 200

    assert headline(page) == SOLD
    assert page.locator(".verdict.warning").is_visible()


def test_an_unknown_serial_shows_the_counterfeit_warning_in_each_language(page: Page, site: Site) -> None:
    read = {}
    for tag in LANGUAGE_NAMES:
        if tag != "en":
            switch_to(page, tag)
        else:
            assert scan(page, site, "/passport" + CODES["unknown"]) == 404
        read[tag] = headline(page)

    assert read == {tag: UNKNOWN[tag][0] for tag in read}
    assert page.locator(".verdict.danger").is_visible()


def test_no_serious_accessibility_finding_on_the_passport_pages_or_the_404(page: Page, site: Site) -> None:
    found = {}
    for tag in LANGUAGE_NAMES:  # ?lang= takes a tag as well as a code
        scan(page, site, f"{CODES['recalled']}?lang={tag}")
        found[f"recalled {tag}"] = serious_violations(page)
        scan(page, site, f"{CODES['unknown']}?lang={tag}")
        found[f"404 {tag}"] = serious_violations(page)
        scan(page, site, f"{CODES['product']}?lang={tag}")
        found[f"product {tag}"] = serious_violations(page)
    scan(page, site, f"{CODES['sold']}?lang=en")
    found["sold en"] = serious_violations(page)
    evidence = page.locator("ol.journey li.evidence").count()  # the anchored inspection, as evidence
    page.locator("ol.journey a.tx").first.click()  # the transaction behind the sold bag's first step
    page.wait_for_url("**/tx/0x*")
    found["transaction en"] = serious_violations(page)

    assert found == {key: [] for key in found}
    assert evidence == 1


def test_the_drawing_fits_a_phone_and_marks_the_recall_source(page: Page, site: Site) -> None:
    found = {}
    for tag in LANGUAGE_NAMES:  # Korean last
        scan(page, site, f"{CODES['recalled']}?lang={tag}")
        source = page.locator("ul.tree .node.source")
        found[tag] = (
            page.evaluate("() => document.documentElement.scrollWidth"),  # nothing runs off the side
            page.locator("ul.tree .node").count(),
            source.count(),
            source.locator("a.code").inner_text(),
            page.locator("ol.journey li.alert").count(),
        )

    assert found == {tag: (PHONE["width"], 6, 1, f"(01)0{PADDY_GTIN}(10)P2", 1) for tag in found}
    # A box's code leads to its passport page: the paddy lot's, itself recalled.
    page.locator("ul.tree .node.source a.code").click()
    page.wait_for_url("**/10/P2")
    assert headline(page) == RECALLED["ko"][0]  # the language kept by the switcher's cookie


def test_screenshots(page: Page, site: Site, tmp_path: Path) -> None:
    """Each page (recalled, sold, unknown, product) in each language, as a phone shows it: into a
    temporary folder in the suite, into docs/screenshots/ for ``make screenshots``
    (``CHAINPASS_SCREENSHOTS``)."""
    out = Path(os.environ.get("CHAINPASS_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, code in CODES.items():
        for language in LANGUAGES:  # named by the ?lang= code: recalled-zh.png, recalled-zh-Hant.png
            scan(page, site, f"/passport{code}?lang={language.code}")
            assert page.locator("html").get_attribute("lang") == language.tag
            path = out / f"{name}-{language.code}.png"
            page.screenshot(path=str(path), full_page=True)
            written.append(path)

    for path in written:  # a PNG as wide as the phone's viewport
        header = path.read_bytes()[:24]
        assert (
            header[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(header[16:20], "big") == page.viewport_size["width"]
        )


# ------------------------------------------------------------------- the verification desk


@dataclass(frozen=True)
class DeskSite:
    base: str
    browser: Browser
    secret: str
    credential: Credential


@pytest.fixture(scope="module")
def desk_site(site: Site, world_session: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskSite]:
    """The hotel's desk (one operator, ana) beside the passports, and a resident verified at
    level high who consents to the hotel's checks; the chain put back as it was afterwards."""
    registry, roles = world_session.registry, world_session.roles
    snapshot = world_session.chain.snapshot()
    resident = new_account()  # the passport world's orgs hold the dev accounts' identities
    fund(world_session.chain, resident.address)
    credential = credential_for(resident.address)
    registry.verify(credential, Level.HIGH, world_session.chain.latest_timestamp() + YEAR, sender=roles.bureau)
    grant_consents(registry, resident, [roles.hotel])
    home = tmp_path_factory.mktemp("desk-home")
    operators = Operators(operators_path(home))
    secret = operators.add("ana")
    desk = Desk(registry, roles.hotel, operators)
    try:
        with serving(world_session.chain, world_session.deployment, tmp_path_factory.mktemp("desk"), desk) as base:
            yield DeskSite(base, site.browser, secret, credential)
    finally:
        world_session.chain.revert(snapshot)


def sign_in(page: Page, desk: DeskSite) -> None:
    """Fill in and send the sign-in form the page shows."""
    page.get_by_label("Operator name").fill("ana")
    page.get_by_label("Secret").fill(desk.secret)
    page.get_by_role("button", name="Sign in").click()


def outcome(page: Page) -> str | None:
    return page.locator("[data-outcome]").get_attribute("data-outcome")


def signed_in(page: Page, desk: DeskSite) -> None:
    """Open the desk and sign in."""
    page.goto(desk.base + "/desk")
    sign_in(page, desk)
    page.wait_for_url("**/desk")


def read_in_each_language(page: Page, desk: DeskSite) -> Iterator[Language]:
    """Read a genuine disclosure (typed into the box, as a handheld scanner does) in each
    language, switching with the page's links: each language, once its reading is shown."""
    for language in LANGUAGES:
        if language.tag != "en":
            switch_to(page, language.tag)
        page.locator("#text").fill(desk.credential.disclose(["name", "age_over_18"]).to_compact())
        page.locator("form#read button").click()
        page.wait_for_selector("[data-outcome]")
        yield language


def test_the_desk_accepts_a_genuine_disclosure_and_refuses_an_altered_one(page: Page, desk_site: DeskSite) -> None:
    # The resident's QR code, opened by the clerk's phone: the desk's link, the disclosure in its fragment.
    link = f"{desk_site.base}/desk#{desk_site.credential.disclose(['name', 'age_over_18']).to_compact()}"
    answer = page.goto(link)
    assert answer is not None and answer.status == 401  # not signed in: the sign-in form first
    sign_in(page, desk_site)
    page.wait_for_selector("[data-outcome]")

    accepted = (outcome(page), page.locator("main h2").first.inner_text(), page.locator("dl.attributes").inner_text())
    assert "#" not in page.url  # the fragment read, and gone from the address
    document = desk_site.credential.disclose(["name"]).to_json()
    document["attributes"][0]["value"] = "Mallory Moriarty"
    page.get_by_label("Or its text").fill(json.dumps(document))
    page.get_by_role("button", name="Read the disclosure").click()
    page.wait_for_selector("[data-outcome]")

    assert accepted[:2] == ("accepted", "Genuine disclosure")
    assert accepted[2].split() == ["Name", "Ada", "Lovelace", "18", "or", "older", "yes"]
    assert outcome(page) == "altered" and page.locator("main h2").first.inner_text() == "Refused: altered"
    assert "Mallory" not in page.content()


def test_no_serious_accessibility_finding_on_the_desk(page: Page, desk_site: DeskSite) -> None:
    page.goto(desk_site.base + "/desk")
    found = {"sign-in": serious_violations(page)}
    signed_in(page, desk_site)
    found["desk"] = serious_violations(page)
    for language in read_in_each_language(page, desk_site):
        found[f"accepted {language.tag}"] = serious_violations(page)
    page.locator("#text").fill("not a disclosure")
    page.locator("form#read button").click()
    page.wait_for_selector("[data-outcome]")
    found["refused ko"] = serious_violations(page)

    assert found == {key: [] for key in found}


def test_desk_screenshots(page: Page, desk_site: DeskSite, tmp_path: Path) -> None:
    """The desk showing a genuine disclosure, in each language (``make screenshots`` too)."""
    out = Path(os.environ.get("CHAINPASS_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    signed_in(page, desk_site)
    written = []
    for language in read_in_each_language(page, desk_site):  # desk-zh.png, desk-zh-Hant.png ...
        path = out / f"desk-{language.code}.png"
        page.screenshot(path=str(path), full_page=True)
        written.append(path)

    for path in written:
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(header[16:20], "big") == PHONE["width"]
