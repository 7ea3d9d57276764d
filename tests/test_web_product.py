"""The product level of the resolver (issue 16, items 2 and 3; docs/web.md): ``/01/{gtin}``
alone resolves, when a brand owns the GTIN's company prefix, to the product page (``gs1:pip``):
the brand and the passports the index knows under the GTIN, a page at a time; a GTIN no brand
owns is a 404. Over real HTTP to the service (``web_world.serving``), on the module's chain.
"""

from __future__ import annotations

import re

import pytest
from passport_world import GTIN, Orgs, item_keys, last_receipt, recall
from web_world import Served, served_fixture, web_fixture  # noqa: F401  (the fixtures served and web)

from chainpass.errors import InvalidInput
from chainpass.index import TraceIndex
from chainpass.passport import ProductPassports
from chainpass.standards.gs1 import ProductKey
from chainpass.web.product import PAGE_SIZE
from chainpass.web.resolver import LINKSET_TYPE

PRODUCT = f"/01/0{GTIN}"
PAGE = "/passport" + PRODUCT
GS1_VOC = "https://gs1.org/voc/"
#: A GTIN under a GS1 company prefix no brand registered here (4006381).
UNBRANDED = "/01/04006381333931"
#: Another GTIN under the producer's prefix.
GTIN_B = "9506000134406"


def listed(html: str) -> list[tuple[str, str]]:
    """The passports a product page lists: (its page, its code)."""
    return re.findall(r'<li><a class="code" href="([^"]+)">([^<]+)</a>', html)


def test_a_gtin_resolves_to_its_product_page(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    redirect = web.get(PRODUCT)
    linkset = web.get(PRODUCT + "?linkType=linkset")
    events = web.get(PRODUCT + "?linkType=gs1:traceability")  # a product has no events: its default link
    passed_on = web.get(PRODUCT + "?campaign=spring")

    assert (redirect.status_code, redirect.headers["Location"]) == (307, web.base + PAGE)
    assert redirect.headers["Link"] == f'<{web.base}{PRODUCT}?linkType=linkset>; rel="linkset"; type="{LINKSET_TYPE}"'
    (entry,) = linkset.json()["linkset"]
    assert entry["anchor"] == web.base + PRODUCT
    assert entry[GS1_VOC + "pip"] == entry[GS1_VOC + "defaultLink"]
    (pip,) = entry[GS1_VOC + "pip"]
    assert pip["href"] == web.base + PAGE and pip["title"] == "The product: its brand, and its passports"
    assert events.headers["Location"] == web.base + PAGE
    assert passed_on.headers["Location"] == web.base + PAGE + "?campaign=spring"


def test_an_unbranded_gtin_is_a_404(web: Served) -> None:
    answers = [web.get(UNBRANDED), web.get(UNBRANDED + "?linkType=linkset"), web.get("/passport" + UNBRANDED)]
    korean = web.get("/passport" + UNBRANDED, headers={"Accept-Language": "ko"})

    assert [a.status_code for a in answers] == [404] * 3
    for answer in answers:
        assert "<h1>Unknown product</h1>" in answer.text and "No brand registered the GS1 company prefix" in answer.text
        assert "Link" not in answer.headers
    assert korean.status_code == 404 and "<h1>알 수 없는 제품</h1>" in korean.text


def test_the_product_page_names_the_brand_and_lists_the_passports(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    bags = pp.commission([ProductKey.item(GTIN, "BAG1"), ProductKey.lot(GTIN, "LOT1")], sender=orgs.producer)
    commissioning = "0x" + bytes(last_receipt(pp.chain)["transactionHash"]).hex()
    recall(pp, orgs, bags[0])
    registered = pp.logs([pp.topic("PrefixRegistered"), "0x" + (9506000).to_bytes(32, "big").hex()])
    brand_tx = "0x" + bytes(registered[-1]["transactionHash"]).hex()

    pages = {tag: web.get(PAGE, headers={"Accept-Language": tag}) for tag in ("en", "zh-Hans", "zh-Hant", "ko")}

    english = pages["en"].text
    assert pages["en"].status_code == 200 and "<h1>A registered product</h1>" in english
    assert (
        pages["en"].headers["Link"] == f'<{web.base}{PRODUCT}?linkType=linkset>; rel="linkset"; type="{LINKSET_TYPE}"'
    )
    assert f"GS1 company prefix 9506000, owned by {orgs.producer}" in english
    assert f'Registered to the brand in transaction <a class="tx" href="/tx/{brand_tx}">' in english
    assert "Passports registered under this code: 2." in english
    assert listed(english) == [
        (f"/passport/01/0{GTIN}/21/BAG1", f"(01)0{GTIN}(21)BAG1"),
        (f"/passport/01/0{GTIN}/10/LOT1", f"(01)0{GTIN}(10)LOT1"),
    ]
    assert "An item, Recalled" in english and "A lot, In the trade" in english
    assert english.count(f'Registered in transaction <a class="tx" href="/tx/{commissioning}">') == 2
    assert "此代码下登记的产品护照：2 本。" in pages["zh-Hans"].text and "单件商品，已召回" in pages["zh-Hans"].text
    assert "이 코드로 등록된 제품 여권: 2개." in pages["ko"].text and "로트, 유통 중" in pages["ko"].text
    assert "這個代碼下登錄的產品護照：2 本。" in pages["zh-Hant"].text and "批次，流通中" in pages["zh-Hant"].text
    for href, _code in listed(english):
        assert web.get(href).status_code == 200
    # The item's page links to its product's.
    assert f'<a href="{PAGE}">The product: its brand, and its passports</a>' in web.get(listed(english)[0][0]).text


def test_the_product_page_lists_a_page_at_a_time(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    pp.commission(item_keys(PAGE_SIZE + 3), sender=orgs.producer)

    first, second = web.get(PAGE), web.get(PAGE + "?page=2")
    beyond, zero, word = web.get(PAGE + "?page=3"), web.get(PAGE + "?page=0"), web.get(PAGE + "?page=two")

    assert first.status_code == second.status_code == 200
    assert f"Passports registered under this code: {PAGE_SIZE + 3}." in first.text
    assert [code for _href, code in listed(first.text)] == [f"(01)0{GTIN}(21)BAG{n:05d}" for n in range(PAGE_SIZE)]
    assert [code for _href, code in listed(second.text)] == [
        f"(01)0{GTIN}(21)BAG{n:05d}" for n in range(PAGE_SIZE, PAGE_SIZE + 3)
    ]
    assert f'<ol class="passports" start="{PAGE_SIZE + 1}">' in second.text
    assert "Page 1 of 2" in first.text and f'<a href="{PAGE}?page=2" rel="next">Next</a>' in first.text
    assert f'<a href="{PAGE}?page=1" rel="prev">Previous</a>' in second.text and 'rel="next"' not in second.text
    assert beyond.status_code == 404 and "This product&#39;s list has 2 pages." in beyond.text
    assert zero.status_code == word.status_code == 400
    assert "The page must be a whole number from 1 to 500." in word.text


def test_the_index_reads_a_gtins_passports_a_page_at_a_time_on_either_store(
    pp: ProductPassports, orgs: Orgs, index_location: str
) -> None:
    ids = pp.commission([*item_keys(5), ProductKey.item(GTIN_B, "OTHER")], sender=orgs.producer)
    commissioned = pp.topic("PassportCommissioned")
    word = int(GTIN).to_bytes(32, "big")

    with TraceIndex.for_client(pp, index_location) as index:
        index.sync()
        page, count = index.logs_with_first_word(commissioned, word, limit=2, offset=2, count_up_to=100)
        capped = index.logs_with_first_word(commissioned, word, limit=1, count_up_to=3)[1]
        other = index.logs_with_first_word(commissioned, int(GTIN_B).to_bytes(32, "big"), limit=10)
        with pytest.raises(InvalidInput, match="32 bytes"):
            index.logs_with_first_word(commissioned, b"short", limit=1)

    assert [int.from_bytes(bytes(log["topics"][1]), "big") for log in page] == ids[2:4]  # in the chain's order
    assert (count, capped) == (5, 3)  # counted up to the bound, never further
    assert [int.from_bytes(bytes(log["topics"][1]), "big") for log in other[0]] == [ids[5]] and other[1] == 1
