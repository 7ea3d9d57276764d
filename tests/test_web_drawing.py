"""The passport page drawn (issue 16, item 3; docs/web.md, "The passport page"): the journey on
a timeline, and the lineage (a bag made from a milled lot made from paddy lots, packed in a case
on a pallet) as boxes, the passport the recall came through marked; every fact linked to the
transaction behind it; in each language. Over real HTTP to the service (``web_world.serving``),
on the module's chain; the page's HTML read with the standard library's parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from accounts import World
from passport_world import CASE_GTIN, GTIN, Orgs, enlist_producer, event, last_receipt, recall
from web_world import Served, served_fixture, web_fixture  # noqa: F401  (the fixtures served and web)

from chainpass.enums import BizStep, Disposition
from chainpass.passport import ProductPassports, transformation_id
from chainpass.standards.gs1 import ProductKey

PADDY_GTIN = "9506000134406"
RICE_GTIN = "9506000134413"
BAG = f"/01/0{GTIN}/21/BAG1"
DAY = 24 * 3600


def tx_of(receipt: object) -> str:
    return "0x" + bytes(receipt["transactionHash"]).hex()  # type: ignore[index]


@dataclass(frozen=True)
class Rice:
    """Two paddy lots milled into a lot, bagged, the bag packed in a case on a pallet, and the
    second paddy lot recalled: the transactions of each."""

    paddy: tuple[int, int]
    milled: int
    bag: int
    case: int
    pallet: int
    milling: str
    bagging: str
    packing: str
    palletising: str
    recall: str


def rice(pp: ProductPassports, orgs: Orgs) -> Rice:
    chain = pp.chain
    paddy = pp.commission([ProductKey.lot(PADDY_GTIN, "P1"), ProductKey.lot(PADDY_GTIN, "P2")], sender=orgs.producer)
    # The paddy inspected three days before it is milled (as the inspector declares it).
    inspected = chain.latest_timestamp() - 3 * DAY
    pp.record([event(paddy[0], BizStep.INSPECTING, Disposition.CONFORMANT, at=inspected)], sender=orgs.inspector)
    [milled] = pp.transform(transformation_id("mill-1"), paddy, [ProductKey.lot(RICE_GTIN, "M1")], sender=orgs.producer)
    milling = tx_of(last_receipt(chain))
    [bag] = pp.transform(
        transformation_id("bagging-1"), [milled], [ProductKey.item(GTIN, "BAG1")], sender=orgs.producer
    )
    bagging = tx_of(last_receipt(chain))
    now = chain.latest_timestamp()
    pp.record([event(bag, BizStep.INSPECTING, Disposition.CONFORMANT, at=now)], sender=orgs.inspector)
    case, pallet = pp.commission(
        [ProductKey.container(CASE_GTIN, "CASE1", 1), ProductKey.container(CASE_GTIN, "PAL1", 2)], sender=orgs.producer
    )
    packing = tx_of(pp.pack(case, [bag], sender=orgs.producer))
    palletising = tx_of(pp.pack(pallet, [case], sender=orgs.producer))
    recalled = tx_of(recall(pp, orgs, paddy[1]))
    return Rice((paddy[0], paddy[1]), milled, bag, case, pallet, milling, bagging, packing, palletising, recalled)


@dataclass
class Box:
    """A box of the lineage as the page draws it."""

    classes: list[str]
    depth: int
    relation: str = ""
    relation_tx: str | None = None
    code: str = ""
    href: str | None = None
    text: str = ""
    links: list[str] = field(default_factory=list)


class _Tree(HTMLParser):
    """The boxes of the page's ``ul.tree``, in order, with their depth."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes: list[Box] = []
        self.depth = 0  # ul nesting inside the tree; 0: outside
        self.where: str | None = None  # "relation" or "node" while inside one
        self.relation: tuple[str, str | None] = ("", None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "ul" and (self.depth or "tree" in classes):
            self.depth += 1
        elif self.depth and tag == "span" and "relation" in classes:
            self.where, self.relation = "relation", ("", None)
        elif self.depth and tag == "div" and "node" in classes:
            self.where = "node"
            self.boxes.append(Box(classes, self.depth, *self.relation))
            self.relation = ("", None)
        elif tag == "a" and self.where == "relation":
            self.relation = (self.relation[0], (found.get("href") or "").removeprefix("/tx/"))
        elif tag == "a" and self.where == "node":
            box = self.boxes[-1]
            if "code" in classes:
                box.href = found.get("href")
            else:
                box.links.append(found.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul" and self.depth:
            self.depth -= 1
        elif tag in ("span", "div") and self.where in ("relation", "node") and (tag == "div") == (self.where == "node"):
            self.where = None

    def handle_data(self, data: str) -> None:
        if self.where == "relation" and self.relation[1] is None:
            self.relation = (self.relation[0] + data.replace("·", "").strip(), None)
        elif self.where == "node":
            box = self.boxes[-1]
            if not box.code and box.href is not None:
                box.code = data.strip()
            else:
                box.text += " " + data.strip()


def boxes(html: str) -> list[Box]:
    tree = _Tree()
    tree.feed(html)
    return tree.boxes


def page_of(key: ProductKey) -> str:
    return "/passport" + key.digital_link("https://x.example").removeprefix("https://x.example")


# ------------------------------------------------------------------------------- lineage


def test_the_lineage_is_drawn_with_the_recall_source_marked(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    made = rice(pp, orgs)

    page = web.get("/passport" + BAG)
    drawn = boxes(page.text)

    assert page.status_code == 200
    by_code = {box.code: box for box in drawn}
    bag, case, pallet = f"(01)0{GTIN}(21)BAG1", f"(01){CASE_GTIN}(21)CASE1", f"(01){CASE_GTIN}(21)PAL1"
    milled, p1, p2 = f"(01)0{RICE_GTIN}(10)M1", f"(01)0{PADDY_GTIN}(10)P1", f"(01)0{PADDY_GTIN}(10)P2"
    # The tree: the bag; in it, the case then the pallet; from it, the milled lot then both paddy lots.
    assert [(box.code, box.depth, box.relation, box.relation_tx) for box in drawn] == [
        (bag, 1, "", None),
        (case, 2, "Packed in", made.packing),
        (pallet, 3, "Packed in", made.palletising),
        (milled, 2, "Made from", made.bagging),
        (p1, 3, "Made from", made.milling),
        (p2, 3, "Made from", made.milling),
    ]
    # Each box: its code, linked to its passport page, and its state in words.
    assert by_code[bag].href == page_of(ProductKey.item(GTIN, "BAG1"))
    assert by_code[p2].href == page_of(ProductKey.lot(PADDY_GTIN, "P2"))
    assert "Recalled" in by_code[bag].text and "The product you scanned" in by_code[bag].text
    assert "Recalled" in by_code[milled].text  # through the paddy lot it was made from
    assert "In the trade" in by_code[case].text and "In the trade" in by_code[pallet].text
    # The recall's source: the second paddy lot, marked in words and by its border, with its transaction.
    sources = [box for box in drawn if "source" in box.classes]
    assert [box.code for box in sources] == [p2]
    assert "The recall was recorded here" in sources[0].text and sources[0].links == [f"/tx/{made.recall}"]
    assert page.text.count("The recall was recorded here") == 1
    # Every box's page and every transaction linked is there.
    for box in drawn:
        assert box.href is not None and web.get(box.href).status_code == 200
    for tx in (made.packing, made.palletising, made.bagging, made.milling, made.recall):
        assert f'href="/tx/{tx}"' in page.text
        assert web.get(f"/tx/{tx}").status_code == 200


def test_the_lineage_in_each_language(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    rice(pp, orgs)
    words = {
        "zh-Hans": ("装在", "原料", "已召回", "召回记录在此", "您扫描的产品"),
        "zh-Hant": ("裝在", "原料", "已下架回收", "下架回收登錄在此", "您掃描的產品"),
        "ko": ("담긴 곳", "원료", "리콜된 제품", "리콜이 여기에 기록되었습니다", "스캔한 제품"),
    }

    pages = {tag: web.get("/passport" + BAG, headers={"Accept-Language": tag}) for tag in words}

    for tag, (packed_in, made_from, recalled, source, scanned) in words.items():
        drawn = boxes(pages[tag].text)
        assert [box.relation for box in drawn] == ["", packed_in, packed_in, made_from, made_from, made_from], tag
        assert recalled in drawn[0].text and scanned in drawn[0].text
        assert source in drawn[-1].text and "source" in drawn[-1].classes


def test_a_product_made_of_nothing_and_packed_in_nothing_has_no_lineage(
    web: Served, pp: ProductPassports, orgs: Orgs
) -> None:
    pp.commission([ProductKey.item(GTIN, "BAG1")], sender=orgs.producer)

    page = web.get("/passport" + BAG)

    assert page.status_code == 200 and boxes(page.text) == [] and 'class="tree"' not in page.text


# -------------------------------------------------------------------------- the timeline


def test_the_timeline_marks_each_step_and_says_how_long_after(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    rice(pp, orgs)
    later = {"en": "3 days later", "zh-Hans": "3天后", "zh-Hant": "3 天後", "ko": "3일 후"}

    pages = {tag: web.get("/passport" + BAG, headers={"Accept-Language": tag}) for tag in later}

    html = pages["en"].text
    journey = html[html.index('<ol class="journey">') : html.index("</ol>", html.index('<ol class="journey">'))]
    shapes = [line.split('"')[1].split()[0] for line in journey.split("<li class=")[1:]]
    # The paddy lot's inspection and the milled lot's steps reached the bag through its inputs (a
    # ring), its own (a disc), the recall a square that says "!": never by colour alone.
    assert shapes[0] == "other" and "own" in shapes and shapes[-1] == "alert"
    assert shapes.count("alert") == 1
    assert "<strong>Recalled (of (01)09506000134406(10)P2, which it was made from)</strong>" in html
    for tag, words in later.items():  # the milling, three days after the paddy's inspection
        assert pages[tag].text.count(f'<span class="gap">{words}</span>') == 1, tag
        assert pages[tag].text.count('<span class="gap">') == 1, tag
    assert 'style="margin-top: ' in journey  # spaced by the time between the steps


# ------------------------------------------------------------------ the facts' transactions


def test_every_fact_links_to_the_transaction_behind_it(
    web: Served, world: World, pp: ProductPassports, orgs: Orgs
) -> None:
    made = rice(pp, orgs)
    second = enlist_producer(world, pp, orgs.stranger, licensed_by=orgs.producer)
    licence = tx_of(
        world.chain.w3.eth.get_transaction_receipt(world.chain.w3.eth.get_block("latest")["transactions"][0])
    )
    [other] = pp.commission([ProductKey.item(GTIN, "BAG2")], sender=second)
    registered = pp.logs([pp.topic("PrefixRegistered"), "0x" + (9506000).to_bytes(32, "big").hex()])
    brand_tx = "0x" + bytes(registered[-1]["transactionHash"]).hex()
    commissioned = {
        id_: "0x"
        + bytes(
            pp.logs([pp.topic("PassportCommissioned"), "0x" + id_.to_bytes(32, "big").hex()])[0]["transactionHash"]
        ).hex()
        for id_ in (made.bag, other)
    }

    own = web.get("/passport" + BAG).text
    licensed = web.get(f"/passport/01/0{GTIN}/21/BAG2").text

    verdict = own[own.index('<div class="verdict') : own.index("</div>")]
    assert f'The recall\'s transaction: <a class="tx" href="/tx/{made.recall}">' in verdict
    for page in (own, licensed):
        assert f'Registered to the brand in transaction <a class="tx" href="/tx/{brand_tx}">' in page
    assert f'Registered this passport in transaction <a class="tx" href="/tx/{commissioned[made.bag]}">' in own
    assert "The brand itself." in own  # the producer owns the prefix: no licence to show
    assert f'Registered this passport in transaction <a class="tx" href="/tx/{commissioned[other]}">' in licensed
    assert f'Licensed by the brand in transaction <a class="tx" href="/tx/{licence}">' in licensed
    assert web.get(f"/tx/{licence}").status_code == 200
