"""The web service as a GS1-Conformant Resolver (GS1-Conformant Resolver Standard 1.2): one
test per SHALL it implements, named after it, and the answers its links lead to (the passport
page, the EPCIS export), over real HTTP to a uvicorn server on 127.0.0.1.

The server runs in a thread of the test process over the module's chain (the embedded EVM or
Anvil: conftest.py's backends; every second test on the embedded EVM, ``MODULE_SAMPLES``), with
its own trace index, which follows the chain as each test's snapshot is reverted (a reorg to it):
``web_world.serving``, which tests/test_web_pages.py uses too.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from accounts import World
from passport_world import CERTIFICATE, GTIN, Orgs, commission_one, event, load, recall, receive, sell, ship
from rpc_proxy import node_without_batches
from web_world import Served, serving

from chainpass.chain import Chain
from chainpass.cli import main
from chainpass.enums import BizStep, Disposition
from chainpass.node import AnvilNode, free_port
from chainpass.passport import ProductPassports
from chainpass.standards.dl_compression import compress
from chainpass.standards.gs1 import ProductKey
from chainpass.web.resolver import LINKSET_TYPE

ITEM = f"/01/0{GTIN}/21/BAG1"
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
    product = web.get("/01/09506000134352")
    page = web.get("/passport/01/09506000134352/21/BAG2")
    events = web.get("/epcis/01/09506000134352/21/BAG2")
    inspections = web.get("/certification/01/09506000134352/21/BAG2")
    transaction = web.get("/tx/0x" + "ab" * 32)

    answers = (unknown, product, page, events, inspections, transaction)
    assert [a.status_code for a in answers] == [404] * 6
    assert "<h1>Unknown code: possibly counterfeit</h1>" in unknown.text and "may be counterfeit" in unknown.text
    assert "not one passport" in product.text
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
    item_links, lot_links = by_query.json()["linkset"]
    # The subject is the uncompressed URI on this resolver; then the lot, the next level up.
    assert item_links["anchor"] == web.base + path
    assert lot_links["anchor"] == web.base + "/01/09506000134352/10/LOT1"
    assert item_links[GS1_VOC + "pip"][0]["href"] == web.base + "/passport" + path
    assert lot_links[GS1_VOC + "traceability"][0]["href"] == web.base + "/epcis/01/09506000134352/10/LOT1"


def test_shall_include_target_link_type_and_title_in_every_link(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag(pp, orgs)

    (entry,) = web.get(ITEM + "?linkType=linkset").json()["linkset"]

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

    (entry,) = web.get(ITEM + "?linkType=linkset").json()["linkset"]

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
    (entry,) = compressed.json()["linkset"]
    assert entry["anchor"] == web.base + ITEM
    assert compressed.links["linkset"]["url"] == web.base + ITEM + "?linkType=linkset"


# ------------------------------------------------------------ where the links lead


def test_every_link_leads_to_a_real_answer(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    item = bag(pp, orgs)
    pp.record([event(item, BizStep.INSPECTING, Disposition.CONFORMANT, document=CERTIFICATE)], sender=orgs.inspector)

    (entry,) = web.get(ITEM + "?linkType=linkset").json()["linkset"]
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
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-c", "from chainpass.cli import main; main()", *home, "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # until it answers: its start-up syncs the index
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "chainpass serve did not answer"
            try:
                description = requests.get(base + "/.well-known/gs1resolver", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        unknown = requests.get(base + "/01/09506000134352/21/NOBAG", timeout=30)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)

    assert description.json()["resolverRoot"] == base
    assert unknown.status_code == 404 and "may be counterfeit" in unknown.text
    assert process.returncode == 0, err
    assert f"on {base}" in out.decode() and b"Traceback" not in err
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
