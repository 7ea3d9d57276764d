"""The web service as a GS1-Conformant Resolver (GS1-Conformant Resolver Standard 1.2): one
test per SHALL it implements, named after it, and the answers its links lead to (the passport
page, the EPCIS export), over real HTTP to a uvicorn server on 127.0.0.1.

The server runs in a thread of the test process over the module's chain (the embedded EVM or
Anvil: conftest.py's backends; every second test on the embedded EVM, ``MODULE_SAMPLES``), with
its own trace index, which follows the chain as each test's snapshot is reverted (a reorg to it):
``web_world.serving``, which tests/test_web_pages.py uses too.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from accounts import World
from passport_world import CERTIFICATE, GTIN, Orgs, commission_one, event, load, recall, receive, sell, ship
from rpc_proxy import node_without_batches
from web_world import Served, serve_process, served_fixture, serving, web_fixture  # noqa: F401  (the fixtures served and web)

from chainpass.chain import Chain
from chainpass.cli import main
from chainpass.enums import BizStep, Disposition
from chainpass.node import AnvilNode
from chainpass.passport import ProductPassports
from chainpass.standards.dl_compression import compress
from chainpass.standards.gs1 import ProductKey
from chainpass.web.resolver import LINKSET_TYPE, PIP, TRACEABILITY, Link, chosen
from chainpass.web.wording import preferences

ITEM = f"/01/0{GTIN}/21/BAG1"
#: A GTIN under a GS1 company prefix no brand registered here (4006381).
UNBRANDED = "04006381333931"
GS1_VOC = "https://gs1.org/voc/"


def bag(pp: ProductPassports, orgs: Orgs, serial: str = "BAG1") -> int:
    item = commission_one(pp, orgs, ProductKey.item(GTIN, serial))
    ship(pp, orgs, item)
    receive(pp, orgs, item)
    return item


def linkset_header(response: requests.Response) -> str:
    return response.headers["Link"]


# ------------------------------------------------------------------ the SHALLs


def test_shall_support_get_head_and_options(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)

    get, head = web.get(ITEM), requests.head(web.base + ITEM, allow_redirects=False, timeout=60)
    options = requests.options(web.base + ITEM, timeout=60)

    assert (get.status_code, head.status_code) == (307, 307)
    assert head.headers["Location"] == get.headers["Location"] and head.content == b""
    assert options.status_code == 204
    assert options.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_shall_support_cors(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)
    origin = {"Origin": "https://shop.example.com"}

    answers = [
        web.get(ITEM, headers=origin),
        web.get(ITEM + "?linkType=linkset", headers=origin),
        web.get("/01/09506000134352/21/NOBAG", headers=origin),
        requests.options(web.base + ITEM, headers={**origin, "Access-Control-Request-Method": "GET"}, timeout=60),
    ]

    for answer in answers:
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert answer.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
        assert "Link" in answer.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/01/09506000134353/21/BAG1", "check digit"),  # a wrong GTIN check digit
        ("/01/09506000134352/21/BAG1/10/LOT1", "order"),  # qualifiers out of order
        ("/01/09506000134352/21/BAG1?17=261399", "17"),  # an invalid expiry date
        ("/01/09506000134352/21/BAG~1", "characters of GS1"),  # outside GS1's character set
        ("/hello", "not a GS1 Digital Link path"),
        ("/ARHKVAdp", "compressed or not: its data ends in the middle"),  # a compressed GTIN cut short
        ("/" + compress([("21", "BAG1")]), "0 GS1 primary keys"),  # compressed, but no key
        ("/tx/0x12", "not a transaction hash"),
    ],
)
def test_shall_report_syntax_errors_with_400(web: Served, path: str, named: str) -> None:
    answer = web.get(path)

    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/html")
    assert named in answer.text and "Traceback" not in answer.text


def test_shall_not_answer_an_error_with_200(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)

    unknown = web.get("/01/09506000134352/21/BAG2")
    product = web.get("/01/" + UNBRANDED)
    page = web.get("/passport/01/09506000134352/21/BAG2")
    events = web.get("/epcis/01/09506000134352/21/BAG2")
    inspections = web.get("/certification/01/09506000134352/21/BAG2")
    transaction = web.get("/tx/0x" + "ab" * 32)

    answers = (unknown, product, page, events, inspections, transaction)
    assert [a.status_code for a in answers] == [404] * 6
    assert "<h1>Unknown code: possibly counterfeit</h1>" in unknown.text and "may be counterfeit" in unknown.text
    assert "<h1>Unknown product</h1>" in product.text and "No brand registered" in product.text
    assert "Link" not in unknown.headers  # there is no linkset to point at
    assert "Unknown code: possibly counterfeit" in page.text


def test_shall_return_the_linkset_with_each_level_up_to_the_primary_key(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    lot = commission_one(pp, orgs, ProductKey.lot(GTIN, "LOT1"))
    item = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG1"))
    assert lot != item
    path = "/01/09506000134352/10/LOT1/21/BAG1"

    by_query = web.get(path + "?linkType=linkset")
    by_old_query = web.get(path + "?linkType=all")
    by_accept = web.get(path, headers={"Accept": LINKSET_TYPE})

    for answer in (by_query, by_old_query, by_accept):
        assert answer.status_code == 200
        assert answer.headers["Content-Type"].startswith(LINKSET_TYPE)
        assert answer.json() == by_query.json()
    item_links, lot_links, product_links = by_query.json()["linkset"]
    # The subject is the uncompressed URI on this resolver; then the lot, the next level up;
    # then the product (the GTIN), the primary key.
    assert item_links["anchor"] == web.base + path
    assert lot_links["anchor"] == web.base + "/01/09506000134352/10/LOT1"
    assert product_links["anchor"] == web.base + "/01/09506000134352"
    assert product_links[GS1_VOC + "pip"] == product_links[GS1_VOC + "defaultLink"]
    assert product_links[GS1_VOC + "pip"][0]["href"] == web.base + "/passport/01/09506000134352"
    assert sorted(product_links) == ["anchor", GS1_VOC + "defaultLink", GS1_VOC + "pip"]  # a product has no events
    assert item_links[GS1_VOC + "pip"][0]["href"] == web.base + "/passport" + path
    assert lot_links[GS1_VOC + "traceability"][0]["href"] == web.base + "/epcis/01/09506000134352/10/LOT1"


def test_shall_include_target_link_type_and_title_in_every_link(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)

    entry, _product = web.get(ITEM + "?linkType=linkset").json()["linkset"]

    link_types = [key for key in entry if key != "anchor"]
    assert sorted(link_types) == [
        GS1_VOC + name for name in ("certificationInfo", "defaultLink", "pip", "traceability")
    ]
    for link_type in link_types:
        for link in entry[link_type]:
            assert link["href"].startswith(web.base + "/") and link["title"] and link["type"]


def test_should_expose_the_linkset_in_a_link_header_even_when_redirecting(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    bag(pp, orgs)
    expected = f'<{web.base}{ITEM}?linkType=linkset>; rel="linkset"; type="{LINKSET_TYPE}"'

    answers = [web.get(ITEM), web.get(ITEM + "?linkType=linkset"), web.get("/passport" + ITEM)]

    assert [a.status_code for a in answers] == [307, 200, 200]
    assert [linkset_header(a) for a in answers] == [expected] * 3


def test_shall_recognise_one_default_link(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)

    entry, _product = web.get(ITEM + "?linkType=linkset").json()["linkset"]

    assert entry[GS1_VOC + "defaultLink"] == entry[GS1_VOC + "pip"]
    assert len(entry[GS1_VOC + "defaultLink"]) == 1


def test_shall_redirect_to_the_default_link_unless_the_request_matches_a_better_one(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    bag(pp, orgs)
    page = web.base + "/passport" + ITEM

    plain = web.get(ITEM)
    unknown_type = web.get(ITEM + "?linkType=gs1:recipeInfo")

    assert (plain.status_code, plain.headers["Location"]) == (307, page)
    assert (unknown_type.status_code, unknown_type.headers["Location"]) == (307, page)


def test_shall_redirect_to_the_requested_link_type(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)

    curie = web.get(ITEM + "?linkType=gs1:traceability")
    full = web.get(ITEM + "?linkType=" + GS1_VOC + "traceability")
    pip = web.get(ITEM + "?linkType=gs1:pip")

    assert curie.status_code == full.status_code == pip.status_code == 307
    assert curie.headers["Location"] == full.headers["Location"] == web.base + "/epcis" + ITEM
    assert pip.headers["Location"] == web.base + "/passport" + ITEM


def test_shall_pass_on_the_query_string_when_redirecting(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)

    answer = web.get(ITEM + "?17=261231&linkType=gs1:pip&campaign=spring")

    assert answer.headers["Location"] == web.base + "/passport" + ITEM + "?17=261231&campaign=spring"


def test_shall_provide_a_resolver_description_file(web: Served) -> None:
    answer = web.get("/.well-known/gs1resolver")

    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    description = answer.json()
    assert description["resolverRoot"] == web.base
    assert description["supportedPrimaryKeys"] == ["01", "00", "8004"]
    assert description["supportedLinkType"] == [{"namespace": GS1_VOC, "prefix": "gs1:"}]
    assert description["name"] and description["linkTypeDefaultCanBeLinkset"] is False


def test_should_tolerate_trailing_slashes(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)

    answer = web.get(ITEM + "/")
    page = web.get("/passport" + ITEM + "/")

    assert (answer.status_code, answer.headers["Location"]) == (307, web.base + "/passport" + ITEM)
    assert page.status_code == 200


def test_the_other_primary_keys_of_the_description_resolve(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    pallet, asset = ProductKey.sscc("106141412345678908"), ProductKey.giai("0614141WAGON7")
    pp.commission([pallet, asset], sender=orgs.producer)

    redirect = web.get("/00/106141412345678908")
    compressed = web.get("/" + compress([("00", "106141412345678908")]))
    page = requests.get(redirect.headers["Location"], timeout=60)
    (entry,) = web.get("/8004/0614141WAGON7?linkType=linkset").json()["linkset"]
    events = requests.get(entry[GS1_VOC + "traceability"][0]["href"], timeout=60)

    assert (redirect.status_code, redirect.headers["Location"]) == (307, web.base + "/passport/00/106141412345678908")
    assert compressed.headers["Location"] == redirect.headers["Location"]
    assert compressed.links["owl:sameAs"]["url"] == web.base + "/00/106141412345678908"
    assert page.status_code == 200 and "<h1>Genuine</h1>" in page.text and "(00)106141412345678908" in page.text
    assert entry["anchor"] == web.base + "/8004/0614141WAGON7"
    assert events.status_code == 200 and events.json()["epcisBody"]["eventList"][0]["bizStep"] == "commissioning"


#: ITEM compressed (GS1 Digital Link compression: optimisation 0C, GTIN, serial), fully and
#: with its GTIN left uncompressed; the compression itself is tested against GS1's vectors in
#: test_dl_compression.py.
COMPRESSED = "/" + compress([("01", "09506000134352"), ("21", "BAG1")])
PARTLY_COMPRESSED = "/01/09506000134352/" + compress([("21", "BAG1")])


def test_shall_decompress_compressed_links_and_answer_as_the_uncompressed_one(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    bag(pp, orgs)
    expiring = "/" + compress([("01", "09506000134352"), ("21", "BAG1"), ("17", "261231")])

    pairs = [
        (web.get(ITEM), web.get(COMPRESSED)),
        (web.get(ITEM), web.get(PARTLY_COMPRESSED)),
        (web.get(ITEM + "?linkType=gs1:traceability"), web.get(COMPRESSED + "?linkType=gs1:traceability")),
        (web.get(ITEM + "?17=261231&campaign=spring"), web.get(expiring + "?campaign=spring")),
        (web.get("/01/09506000134352/21/NOBAG"), web.get("/" + compress([("01", "09506000134352"), ("21", "NOBAG")]))),
    ]
    head = requests.head(web.base + COMPRESSED, allow_redirects=False, timeout=60)

    assert COMPRESSED.startswith("/DB")  # optimisation 0C: GTIN and serial
    for plain, compressed in pairs:
        assert compressed.status_code == plain.status_code
        assert compressed.headers.get("Location") == plain.headers.get("Location")
    assert [p.status_code for p, _ in pairs] == [307, 307, 307, 307, 404]
    assert pairs[3][1].headers["Location"] == web.base + "/passport" + ITEM + "?17=261231&campaign=spring"
    assert (head.status_code, head.headers["Location"]) == (307, pairs[0][0].headers["Location"])


def test_shall_expose_the_uncompressed_uri_in_a_link_header_as_owl_same_as(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    bag(pp, orgs)
    unknown = compress([("01", "09506000134352"), ("21", "NOBAG")])

    answers = {
        ITEM: [web.get(COMPRESSED), web.get(PARTLY_COMPRESSED), web.get(COMPRESSED + "?linkType=linkset")],
        ITEM + "?17=261231": [web.get("/" + compress([("01", "09506000134352"), ("21", "BAG1"), ("17", "261231")]))],
        "/01/09506000134352/21/NOBAG": [web.get("/" + unknown)],
        "/01/09506000134352": [web.get("/" + compress([("01", "09506000134352")]))],
    }
    head = requests.head(web.base + COMPRESSED, allow_redirects=False, timeout=60)

    for uncompressed, said in answers.items():
        for answer in said:
            assert answer.links["owl:sameAs"]["url"] == web.base + uncompressed, answer.headers.get("Link")
    assert [a.status_code for a in answers[ITEM]] == [307, 307, 200]
    assert answers[ITEM][0].headers["Link"] == (
        f'<{web.base}{ITEM}?linkType=linkset>; rel="linkset"; type="{LINKSET_TYPE}", '
        f'<{web.base}{ITEM}>; rel="owl:sameAs"'
    )
    assert head.links["owl:sameAs"]["url"] == web.base + ITEM
    assert "owl:sameAs" not in web.get(ITEM).headers["Link"]  # an uncompressed request is its own URI


def test_shall_anchor_the_linkset_of_a_compressed_link_at_the_uncompressed_uri(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    bag(pp, orgs)

    compressed = web.get(COMPRESSED + "?linkType=linkset")
    by_accept = web.get(PARTLY_COMPRESSED, headers={"Accept": LINKSET_TYPE})
    plain = web.get(ITEM + "?linkType=linkset")

    assert compressed.status_code == by_accept.status_code == 200
    assert compressed.json() == by_accept.json() == plain.json()
    entry, product = compressed.json()["linkset"]
    assert entry["anchor"] == web.base + ITEM and product["anchor"] == web.base + "/01/09506000134352"
    assert compressed.links["linkset"]["url"] == web.base + ITEM + "?linkType=linkset"


# ------------------------------------------------------------ the reader's language

#: The links' titles as the linkset gives them to a reader of each language (word for word).
TITLES = {
    "en": ("Passport: is it genuine, and its journey", "Its events, as EPCIS 2.0",
           "Its inspections, with their certificates' hashes"),
    "zh-Hans": ("产品护照：是否正品，以及它的流转记录", "它的事件记录（EPCIS 2.0 格式）", "它的检验记录及证书哈希值"),
    "zh-Hant": ("產品護照：是否為真品，以及流通履歷", "事件紀錄（EPCIS 2.0 格式）", "檢驗紀錄及其證書雜湊值"),
    "ko": ("제품 여권: 정품 여부와 유통 이력", "이벤트 기록 (EPCIS 2.0 형식)", "검사 기록과 인증서 해시"),
}  # fmt: skip


#: The title of the product level's page (the GTIN's), in each language.
PRODUCT_TITLES = {
    "en": "The product: its brand, and its passports",
    "zh-Hans": "产品：品牌及其产品护照",
    "zh-Hant": "產品：品牌及其產品護照",
    "ko": "제품: 브랜드와 제품 여권",
}


def titles(answer: requests.Response) -> tuple[str, ...]:
    """The item's three titles and the product level's, as the linkset gives them."""
    item, product = answer.json()["linkset"]
    names = ("pip", "traceability", "certificationInfo")
    return (*(item[GS1_VOC + name][0]["title"] for name in names), product[GS1_VOC + "pip"][0]["title"])


def test_the_linkset_titles_are_in_the_readers_language(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)
    linkset = ITEM + "?linkType=linkset"

    english = web.get(linkset)
    chinese = web.get(linkset, headers={"Accept-Language": "fr;q=0.9, zh-CN;q=0.8, en;q=0.5"})
    korean = web.get(linkset, headers={"Accept-Language": "ko-KR"})
    taiwanese = web.get(linkset, headers={"Accept-Language": "zh-TW, en;q=0.5"})
    asked = web.get(linkset + "&lang=ko", headers={"Accept-Language": "zh"})  # ?lang= beats Accept-Language
    kept = web.get(linkset, headers={"Accept-Language": "en", "Cookie": "chainpass_lang=zh"})  # so does its cookie

    readers = [(english, "en"), (chinese, "zh-Hans"), (taiwanese, "zh-Hant"), (korean, "ko"), (asked, "ko"),
               (kept, "zh-Hans")]  # fmt: skip
    for answer, tag in readers:
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(LINKSET_TYPE)
        assert titles(answer) == (*TITLES[tag], PRODUCT_TITLES[tag])
        assert answer.headers["Content-Language"] == tag
    assert "charset" not in chinese.headers["Content-Type"] and chinese.content.decode("utf-8")  # JSON: UTF-8
    assert english.json()["linkset"][0]["anchor"] == chinese.json()["linkset"][0]["anchor"] == web.base + ITEM


def test_each_link_lists_the_languages_its_target_is_in(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)

    for reader in ("en", "ko"):  # the languages of the targets, whatever the reader's
        entry, product = web.get(ITEM + "?linkType=linkset", headers={"Accept-Language": reader}).json()["linkset"]
        assert product[GS1_VOC + "pip"][0]["hreflang"] == ["en", "zh-Hans", "zh-Hant", "ko"]
        assert entry[GS1_VOC + "pip"][0]["hreflang"] == ["en", "zh-Hans", "zh-Hant", "ko"]
        assert entry[GS1_VOC + "defaultLink"][0]["hreflang"] == ["en", "zh-Hans", "zh-Hant", "ko"]
        assert entry[GS1_VOC + "traceability"][0]["hreflang"] == ["en"]
        assert entry[GS1_VOC + "certificationInfo"][0]["hreflang"] == ["en"]
    # And the passport page is in each of the languages the link says.
    for tag in ("en", "zh-Hans", "zh-Hant", "ko"):
        page = web.get("/passport" + ITEM, headers={"Accept-Language": tag})
        assert page.headers["Content-Language"] == tag


def test_the_resolvers_answers_tell_caches_what_they_vary_with(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)

    answers = {
        "redirect": web.get(ITEM, headers={"Accept-Language": "ko"}),
        "linkset": web.get(ITEM + "?linkType=linkset", headers={"Accept-Language": "ko"}),
        "linkset by Accept": web.get(ITEM, headers={"Accept": LINKSET_TYPE, "Cookie": "chainpass_lang=zh"}),
    }

    for name, answer in answers.items():
        vary = [value.strip() for value in answer.headers["Vary"].split(",")]
        assert sorted(vary) == ["Accept", "Accept-Language", "Cookie"], name  # each once, none missing
    assert answers["redirect"].status_code == 307 and "Content-Language" not in answers["redirect"].headers
    # A cache that kept the English linkset does not give it to a Korean reader: the answers differ.
    assert titles(answers["linkset"]) != titles(web.get(ITEM + "?linkType=linkset", headers={"Accept-Language": "en"}))


def language_links(*languages: tuple[str, ...]) -> tuple[Link, ...]:
    """One passport page link per language set (as a brand's own pages in one language each would be)."""
    pages = [Link(PIP, f"https://example.org/{'-'.join(tags)}", "page", tags) for tags in languages]
    return (*pages, Link(TRACEABILITY, "https://example.org/epcis", "events", ("en",)))


@pytest.mark.parametrize(
    ("accept_language", "link_type", "expected"),
    [
        ("ko-KR", None, "https://example.org/ko"),  # the reader's language among the default's links
        ("fr, ko;q=0.5, en;q=0.4", None, "https://example.org/ko"),  # by quality: French has no link
        ("en;q=0.4, zh-TW;q=0.6", "gs1:pip", "https://example.org/zh-Hant"),  # Taiwan's Chinese: Traditional
        ("zh-CN", None, "https://example.org/zh-Hans"),
        ("zh-HK", None, "https://example.org/zh-Hant"),
        ("de-AT, ko;q=0.1", None, "https://example.org/de"),  # a language without pages, by its subtag
        ("fr", None, "https://example.org/en"),  # none in the reader's language: the first
        ("", None, "https://example.org/en"),
        ("*", "gs1:pip", "https://example.org/en"),  # any language: the first
        ("ko", "gs1:traceability", "https://example.org/epcis"),  # the link type first, then the language
    ],
)
def test_the_resolver_chooses_among_links_by_the_readers_language(
    accept_language: str, link_type: str | None, expected: str
) -> None:
    links = language_links(("en",), ("zh-Hans",), ("zh-Hant",), ("de",), ("ko",))

    assert chosen(links, link_type, preferences(accept_language)).href == expected


def test_a_redirect_goes_to_the_one_passport_page_in_every_language(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    bag(pp, orgs)

    for reader in ("ko", "zh-CN", "fr", "en"):  # one page in three languages: no choice to make
        answer = web.get(ITEM + "?campaign=spring", headers={"Accept-Language": reader})
        assert answer.status_code == 307
        assert answer.headers["Location"] == web.base + "/passport" + ITEM + "?campaign=spring"


# ------------------------------------------------------------ where the links lead


def test_every_link_leads_to_a_real_answer(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    item = bag(pp, orgs)
    pp.record([event(item, BizStep.INSPECTING, Disposition.CONFORMANT, document=CERTIFICATE)], sender=orgs.inspector)

    entry, _product = web.get(ITEM + "?linkType=linkset").json()["linkset"]
    page = requests.get(entry[GS1_VOC + "pip"][0]["href"], timeout=60)
    epcis = requests.get(entry[GS1_VOC + "traceability"][0]["href"], timeout=60)
    certification = requests.get(entry[GS1_VOC + "certificationInfo"][0]["href"], timeout=60)

    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "<h1>Genuine</h1>" in page.text and "(01)09506000134352(21)BAG1" in page.text
    for step in ("Registered by its producer", "Shipped", "Received", "Inspected"):
        assert step in page.text
    receipt = pp.chain.w3.eth.get_transaction_receipt(pp.chain.w3.eth.get_block("latest")["transactions"][0])
    inspection_tx = "0x" + bytes(receipt["transactionHash"]).hex()
    assert f'href="/tx/{inspection_tx}"' in page.text  # each step links to its transaction's page
    transaction = requests.get(web.base + "/tx/" + inspection_tx, timeout=60)
    assert transaction.status_code == 200
    assert 'Inspected: <span class="code">(01)09506000134352(21)BAG1</span>' in transaction.text
    assert f"block {receipt['blockNumber']}" in transaction.text and orgs.inspector in transaction.text
    assert epcis.status_code == 200 and epcis.headers["Content-Type"].startswith("application/ld+json")
    events = epcis.json()["epcisBody"]["eventList"]
    assert [e.get("bizStep") for e in events] == ["commissioning", "shipping", "receiving", "inspecting"]
    assert certification.status_code == 200 and certification.headers["Content-Type"] == "application/json"
    (inspection,) = certification.json()["inspections"]
    assert (inspection["result"], inspection["inspector"]) == ("conformant", orgs.inspector)
    assert inspection["certificate_hash"] == "0x" + CERTIFICATE.hex()
    assert inspection["tx_hash"] == inspection_tx


def test_the_passport_page_says_recalled_sold_and_quarantined_in_words(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    recalled = bag(pp, orgs, "BAG1")
    recall(pp, orgs, recalled)
    sold = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG2"))
    sell(pp, orgs, sold)
    held = commission_one(pp, orgs, ProductKey.item(GTIN, "BAG3"))
    pp.record([event(held, BizStep.INSPECTING, Disposition.NON_CONFORMANT)], sender=orgs.inspector)
    cargo = load(pp, orgs, count=1)
    pp.record([event(cargo.pallet, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer)

    pages = {s: web.get(f"/passport/01/09506000134352/21/{s}") for s in ("BAG1", "BAG2", "BAG3", "BAG00000")}

    assert {s: p.status_code for s, p in pages.items()} == dict.fromkeys(pages, 200)
    assert "<h1>Recalled</h1>" in pages["BAG1"].text and "Take it back to the shop" in pages["BAG1"].text
    assert "Already sold: this code may be a copy" in pages["BAG2"].text
    assert "Held for inspection" in pages["BAG3"].text
    # An item recalled through its pallet: the page names the pallet's code.
    assert "<h1>Recalled</h1>" in pages["BAG00000"].text and "(01)19506000134359(21)PAL1" in pages["BAG00000"].text


def test_a_chain_out_of_reach_is_answered_503(
    world: World, anvil_node: AnvilNode, pp: ProductPassports, orgs: Orgs, tmp_path: Path
) -> None:
    bag(pp, orgs)
    with ExitStack() as proxied:
        url, _refused = proxied.enter_context(node_without_batches(anvil_node.url))
        with serving(Chain.connect(url), world.deployment, tmp_path) as base:
            before = requests.get(base + "/passport" + ITEM, timeout=60)
            proxied.close()  # the proxy stops: the node goes out of the service's reach
            answers = [requests.get(base + path, timeout=60) for path in ("/passport" + ITEM, ITEM)]

    assert before.status_code == 200
    for answer in answers:
        assert answer.status_code == 503
        assert "The chain cannot be read right now" in answer.text and "Traceback" not in answer.text


# -------------------------------------------------------------------- chainpass serve


def _chainpass(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_chainpass_serve_serves_the_deployment_until_interrupted(anvil_node: AnvilNode, tmp_path: Path) -> None:
    home = ["--rpc", anvil_node.url, "--home", str(tmp_path / "home")]
    assert _chainpass(*home, "deploy") == 0

    with serve_process(*home, "serve", probe="/.well-known/gs1resolver") as served:
        unknown = requests.get(served.base + "/01/09506000134352/21/NOBAG", timeout=30)

    assert served.first.json()["resolverRoot"] == served.base
    assert unknown.status_code == 404 and "may be counterfeit" in unknown.text
    assert served.returncode == 0, served.err
    assert f"on {served.base}" in served.out.decode() and b"Traceback" not in served.err
    assert (tmp_path / "home" / "index").is_dir()  # the trace index it keeps


def test_chainpass_serve_refuses_a_resolver_url_with_a_path(
    anvil_node: AnvilNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = ["--rpc", anvil_node.url, "--home", str(tmp_path / "home")]
    assert _chainpass(*home, "deploy") == 0
    capsys.readouterr()

    code = _chainpass(*home, "serve", "--resolver-url", "https://id.example.org/products")

    assert code == 1
    assert capsys.readouterr().err.strip() == (
        "error: The resolver URL 'https://id.example.org/products' must be a domain with no path "
        "(https://id.example.org)."
    )
