"""The service's pages in the reader's language (issue 16, item 3; docs/web.md, "Languages"):
English, Chinese (Simplified and Traditional) and Korean, chosen by ``Accept-Language``, overridden by the
switcher's ``?lang=`` and kept in its cookie; dates in the reader's locale; and catalogues that
are complete and up to date with the sources.

Over real HTTP to the service (``web_world.serving``, as tests/test_web_resolver.py), on the
module's chain (Anvil runs them all, the embedded EVM every second one). The translated
sentences are written out here, as a reader sees them, not read back from the catalogues.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
import requests
from babel.messages.pofile import read_po
from passport_world import GTIN, T0, Orgs, commission_one, event, load, recall, ship
from web_world import Served, served_fixture, web_fixture  # noqa: F401  (the fixtures served and web)

from chainpass.compiler import REPO_ROOT
from chainpass.enums import BizStep, Disposition
from chainpass.passport import ProductPassports
from chainpass.standards.gs1 import ProductKey
from chainpass.web.wording import CHINESE, DOMAIN, ENGLISH, KOREAN, LANGUAGES, TRADITIONAL_CHINESE, language_of

BAG = f"/01/0{GTIN}/21/BAG1"
PAGE = "/passport" + BAG
#: What a shopper who scanned a recalled bag reads first, in each language: the verdict and what to do.
RECALLED = {
    "en": (
        "Recalled",
        "Do not eat or use it. Take it back to the shop where you bought it, or contact the brand.",
    ),
    "zh-Hans": (
        "已召回",
        "请立即停止食用或使用。请将其退回购买的商店，或联系品牌方。",
    ),
    "zh-Hant": (
        "已下架回收",
        "請勿食用或使用。請退回原購買店家，或與品牌商聯絡。",
    ),
    "ko": (
        "리콜된 제품",
        "섭취하거나 사용하지 마세요. 구입한 매장에 반품하거나 브랜드에 문의하세요.",
    ),
}
#: A code no passport was registered under, in each language: the headline and the sentence's start.
UNKNOWN = {
    "en": ("Unknown code: possibly counterfeit", "No passport was ever registered under"),
    "zh-Hans": ("未知编码：可能是假冒产品", "从未登记过任何产品护照：该产品可能是假冒的。"),
    "zh-Hant": ("未知的代碼：可能是仿冒品", "從未登錄過任何產品護照：這項產品可能是仿冒品。"),
    "ko": ("알 수 없는 코드: 위조품일 수 있습니다", "코드로 등록된 제품 여권이 없습니다. 위조품일 수 있습니다."),
}
#: 2026-01-01 15:30 UTC, as each locale writes it (Babel's CLDR data), with the time zone named.
AFTERNOON = T0 + 15 * 3600 + 30 * 60
DATED = {
    "en": "Jan 1, 2026, 3:30\u202fPM UTC",
    "zh-Hans": "2026年1月1日 15:30 UTC",
    "zh-Hant": "2026年1月1日 下午3:30 UTC",  # Taiwan's 12-hour clock, its day period written out
    "ko": "2026. 1. 1. 오후 3:30 UTC",
}


def in_language(web: Served, path: str, accept_language: str) -> requests.Response:
    return web.get(path, headers={"Accept-Language": accept_language})


def language_of_page(page: requests.Response) -> str:
    """The language a page says it is in: ``<html lang>``, which ``Content-Language`` repeats."""
    found = re.search(r'<html lang="([^"]+)">', page.text)
    assert found is not None, page.text[:200]
    assert page.headers["Content-Language"] == found[1]
    return found[1]


# ---------------------------------------------------------------------------------- the pages


def test_a_recalled_bag_says_so_in_each_language(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    recall(pp, orgs, bag)
    cargo = load(pp, orgs, count=1)  # BAG00000 in a case on a pallet, and the pallet recalled
    pp.record([event(cargo.pallet, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer)

    pages = {tag: in_language(web, PAGE, tag) for tag in RECALLED}
    through = {tag: in_language(web, f"/passport/01/0{GTIN}/21/BAG00000", tag) for tag in ("zh-Hans", "zh-Hant", "ko")}

    for tag, (headline, advice) in RECALLED.items():
        page = pages[tag]
        assert page.status_code == 200 and language_of_page(page) == tag
        assert f"<h1>{headline}</h1>" in page.text
        assert f"<p>{advice}</p>" in page.text
        assert '<div class="verdict danger">' in page.text
    # The journey in the reader's words too: the recall as a step.
    assert "<strong>召回</strong>" in pages["zh-Hans"].text and "<strong>리콜</strong>" in pages["ko"].text
    assert "<strong>下架回收</strong>" in pages["zh-Hant"].text
    # Recalled through its pallet: the advice, then where the recall was recorded, on the page and the journey.
    pallet = "(01)19506000134359(21)PAL1"
    zh, ko = through["zh-Hans"].text, through["ko"].text
    cause = f"<p>召回登记在 {pallet} 上：本产品由它加工而成，或曾装在其中。</p>"
    assert f"<h1>已召回</h1>\n<p>{RECALLED['zh-Hans'][1]}</p>\n{cause}" in zh
    assert f"<strong>召回（记录在曾装有本产品的 {pallet} 上）</strong>" in zh
    assert f"<p>리콜은 이 제품의 원료이거나 이 제품을 담았던 {pallet}에 기록되었습니다.</p>" in ko
    assert f"<strong>리콜 (이 제품이 들어 있던 {pallet}에 기록)</strong>" in ko
    hant = through["zh-Hant"].text
    cause = f"<p>回收紀錄登錄在 {pallet} 上：本產品由它加工製成，或曾裝在其中。</p>"
    assert f"<h1>已下架回收</h1>\n<p>{RECALLED['zh-Hant'][1]}</p>\n{cause}" in hant
    assert f"<strong>下架回收（記錄在曾裝有本產品的 {pallet} 上）</strong>" in hant


def test_accept_language_chooses_the_language_by_quality(web: Served) -> None:
    cases = {
        "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7": "ko",
        "zh-CN,zh;q=0.9,en;q=0.8": "zh-Hans",
        "zh-TW,zh;q=0.9": "zh-Hant",  # Taiwan's Chinese: traditional characters
        "zh-HK, en;q=0.5": "zh-Hant",
        "zh-Hant-HK": "zh-Hant",
        "zh-Hans-HK": "zh-Hans",  # the script first, then the region
        "en;q=0.1, zh-SG": "zh-Hans",
        "fr-FR, en;q=0.2, ko;q=0.5": "ko",  # no French: the better of the other two
        "en;q=0.3, ZH": "zh-Hans",  # no q is 1
        "ko;q=0, en": "en",  # q=0: not Korean
        "ko;q=abc, zh;q=0.5": "zh-Hans",  # a quality that is no number counts as 0
        "de, *;q=0.1": "en",
        "de": "en",
        "": "en",
    }

    chosen = {header: language_of_page(in_language(web, "/tx/0x12", header)) for header in cases}

    assert chosen == cases
    answer = in_language(web, "/tx/0x12", "ko")
    assert answer.status_code == 400 and {"Accept-Language", "Cookie"} <= set(answer.headers["Vary"].split(", "))
    assert "<h1>제품 코드가 아닙니다</h1>" in answer.text and "트랜잭션 해시가 아닙니다: 0x12." in answer.text


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        # Traditional by script, whatever the region; else by region: Taiwan, Hong Kong, Macau.
        ("zh-Hant", TRADITIONAL_CHINESE),
        ("zh-Hant-CN", TRADITIONAL_CHINESE),
        ("zh-TW", TRADITIONAL_CHINESE),
        ("zh-HK", TRADITIONAL_CHINESE),
        ("zh-MO", TRADITIONAL_CHINESE),
        ("zh-Hant-TW", TRADITIONAL_CHINESE),
        ("zh_TW", TRADITIONAL_CHINESE),  # a POSIX locale's spelling
        ("ZH-hk", TRADITIONAL_CHINESE),  # tags are case-insensitive
        # Simplified by script, whatever the region; else every other Chinese.
        ("zh-Hans", CHINESE),
        ("zh-Hans-HK", CHINESE),
        ("zh-Hans-TW", CHINESE),
        ("zh-CN", CHINESE),
        ("zh-SG", CHINESE),
        ("zh", CHINESE),
        ("zh-MY", CHINESE),
        # The other pages' languages by their primary subtag; none for a language without pages.
        ("ko-KR", KOREAN),
        ("en-GB", ENGLISH),
        ("fr", None),
        ("zhx", None),
    ],
)
def test_a_tag_chooses_its_page_language_chinese_by_script_then_region(tag: str, language: object) -> None:
    assert language_of(tag) is language


def test_the_switcher_overrides_accept_language_and_its_cookie_keeps_the_choice(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    bag = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    shipping = ship(pp, orgs, bag)
    tx = "/tx/0x" + bytes(shipping["transactionHash"]).hex()
    reader = requests.Session()
    reader.headers["Accept-Language"] = "ko-KR,ko;q=0.9"

    korean = reader.get(web.base + PAGE + "?17=261231", timeout=60)
    switched = reader.get(web.base + PAGE + "?17=261231&lang=zh", timeout=60)
    kept = reader.get(web.base + tx, timeout=60)  # the cookie, not Accept-Language
    traditional = reader.get(web.base + PAGE + "?lang=zh-Hant", timeout=60)
    kept_traditional = reader.get(web.base + tx, timeout=60)
    back = reader.get(web.base + tx + "?lang=en", timeout=60)
    unknown = reader.get(web.base + tx + "?lang=fr", timeout=60)  # no French: the cookie's English

    pages = (korean, switched, kept, traditional, kept_traditional, back, unknown)
    assert [language_of_page(page) for page in pages] == ["ko", "zh-Hans", "zh-Hans", "zh-Hant", "zh-Hant", "en", "en"]
    # The switcher: links to this page in the other languages (its query kept), the current one not a link.
    # The two Chinese named by their script, each in its own characters.
    assert f'<a href="{PAGE}?17=261231&amp;lang=zh" lang="zh-Hans" hreflang="zh-Hans">简体中文</a>' in korean.text
    assert f'<a href="{PAGE}?17=261231&amp;lang=zh-Hant" lang="zh-Hant" hreflang="zh-Hant">繁體中文</a>' in korean.text
    assert f'<a href="{PAGE}?lang=zh" lang="zh-Hans" hreflang="zh-Hans">简体中文</a>' in traditional.text
    assert '<strong lang="zh-Hant" aria-current="page">繁體中文</strong>' in traditional.text
    assert "chainpass_lang=zh-Hant;" in traditional.headers["Set-Cookie"]
    assert "<strong>出貨</strong>" in traditional.text and "<h1>交易</h1>" in kept_traditional.text
    assert "<dt>發送者</dt>" in kept_traditional.text
    assert f'<a href="{PAGE}?17=261231&amp;lang=en" lang="en" hreflang="en">English</a>' in korean.text
    assert '<strong lang="ko" aria-current="page">한국어</strong>' in korean.text
    assert f'<a href="{tx}?lang=ko" lang="ko" hreflang="ko">한국어</a>' in back.text
    assert "chainpass_lang=zh;" in switched.headers["Set-Cookie"] and "HttpOnly" in switched.headers["Set-Cookie"]
    assert "Set-Cookie" not in korean.headers and "Set-Cookie" not in unknown.headers
    assert "<strong>发货</strong>" in switched.text and "<h1>交易</h1>" in kept.text
    # No link off the service, whatever the path asked.
    assert 'href="/evil.example/x?lang=zh"' in web.get("//evil.example/x").text


def test_an_unknown_code_is_a_404_in_each_language(web: Served) -> None:
    code = "/01/09506000134352/21/NOBAG"

    answers = {tag: (in_language(web, code, tag), in_language(web, "/passport" + code, tag)) for tag in UNKNOWN}

    for tag, (headline, sentence) in UNKNOWN.items():
        for answer in answers[tag]:
            assert answer.status_code == 404 and language_of_page(answer) == tag
            assert f"<h1>{headline}</h1>" in answer.text
        assert sentence in answers[tag][0].text  # the resolver's answer names the code
    assert "http://127.0.0.1" in answers["ko"][0].text and "(01)09506000134352(21)NOBAG" in answers["ko"][1].text


def test_dates_are_written_in_the_reader_locale_in_utc(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    pp.record([event(bag, BizStep.INSPECTING, Disposition.CONFORMANT, at=AFTERNOON)], sender=orgs.inspector)

    pages = {tag: in_language(web, PAGE, tag) for tag in DATED}

    for tag, written in DATED.items():
        assert f'<time datetime="2026-01-01T15:30:00Z">{written}</time>' in pages[tag].text


# ---------------------------------------------------------------------------- the catalogues


def _translations_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("translations", REPO_ROOT / "scripts" / "translations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_catalogue_is_complete_and_up_to_date_with_the_sources() -> None:
    """Every string of the sources in every catalogue (``make translations`` was run), translated,
    not fuzzy, with the placeholders of its English."""
    template = _translations_script().extract()
    wanted = {(message.context, message.id) for message in template if message.id}
    placeholder = re.compile(r"%\((\w+)\)s")
    assert len(wanted) > 60

    for language in LANGUAGES:
        path = Path(__file__).parents[1] / "chainpass" / "web" / "locale" / language.folder / "LC_MESSAGES"
        with (path / f"{DOMAIN}.po").open("rb") as file:
            catalog = read_po(file)
        messages = [message for message in catalog if message.id]
        assert {(message.context, message.id) for message in messages} == wanted, language
        for message in messages:
            assert isinstance(message.id, str) and isinstance(message.string, str)
            assert message.string.strip(), (language, message.id)
            assert not message.fuzzy, (language, message.id)
            assert sorted(placeholder.findall(message.string)) == sorted(placeholder.findall(message.id)), (
                language,
                message.id,
            )
        assert not list(catalog.check()), language
