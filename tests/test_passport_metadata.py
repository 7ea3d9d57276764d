"""The passports' ERC-721 metadata (issue 16, item 3): the governor's base URI, ``tokenURI``
(the base and the id as ``0x`` and 64 hex digits), and the metadata JSON ``chainpass serve``
answers there, read from the chain's tokenURI and fetched over real HTTP (tests/web_world.py).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import requests
from cli_world import Operator
from passport_world import GTIN, Orgs, commission_one, hand_over, recall
from support import assert_refused, logs, refused_by_client
from web_world import Served, served_fixture, web_fixture  # noqa: F401  (the fixtures served and web)

from chainpass.chain import Chain
from chainpass.errors import InvalidInput
from chainpass.passport import METADATA_PATH, ProductPassports, metadata_base, metadata_id
from chainpass.reverts import decode_revert, revert_data_from_exception
from chainpass.standards.gs1 import ProductKey

BAG = ProductKey.item(GTIN, "META-1")


def unknown_refusal(pp: ProductPassports, id_: int) -> tuple[str, dict[str, object]]:
    """The contract's refusal of ``tokenURI(id_)`` (a view: its revert data, decoded)."""
    with pytest.raises(Exception) as info:
        pp.contract.functions.tokenURI(id_).call()
    data = revert_data_from_exception(info.value)
    assert data is not None, info.value
    revert = decode_revert(data)
    assert revert is not None
    return revert.error, revert.raw_args


# ------------------------------------------------------------------ the contract


def test_only_the_governor_sets_the_base_uri_and_each_change_is_logged(chain: Chain, pp: ProductPassports,
                                                                       orgs: Orgs) -> None:  # fmt: skip
    assert pp.base_uri() is None
    for someone in (orgs.stranger, orgs.producer):
        assert_refused(
            chain, lambda by=someone: pp.set_base_uri("https://x.example/m/", sender=by), "PassportNotGovernor",
            account=someone,
        )  # fmt: skip
    receipt = pp.set_base_uri("https://id.example.org/metadata/", sender=orgs.governor)
    assert logs(pp, "BaseURISet", receipt) == [{"baseURI": "https://id.example.org/metadata/"}]
    assert pp.base_uri() == "https://id.example.org/metadata/"
    cleared = pp.set_base_uri(None, sender=orgs.governor)
    assert logs(pp, "BaseURISet", cleared) == [{"baseURI": ""}] and pp.base_uri() is None


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("ftp://id.example.org/metadata/", "not a metadata base URL"),
        ("https:///metadata/", "not a metadata base URL"),
        ("https://id.example.org/metadata", "must end with /"),
        ("https://id.example.org/metadata/?x=1/", "must end with /"),
        ("https://id.example.org/ métadata/", "not a metadata base URL"),
    ],
)
def test_the_client_refuses_a_base_that_is_no_url_ending_in_a_slash(
    chain: Chain, pp: ProductPassports, orgs: Orgs, url: str, fragment: str
) -> None:
    refused_by_client(chain, lambda: pp.set_base_uri(url, sender=orgs.governor), InvalidInput, fragment)
    assert pp.base_uri() is None


def test_token_uri_is_empty_without_a_base_and_refused_for_a_passport_never_commissioned(
    pp: ProductPassports, orgs: Orgs
) -> None:
    bag = commission_one(pp, orgs, BAG)
    assert pp.token_uri(bag) == ""
    assert unknown_refusal(pp, bag + 1) == ("PassportUnknown", {"id": bag + 1})
    pp.set_base_uri("https://id.example.org/metadata/", sender=orgs.governor)
    assert unknown_refusal(pp, bag + 1) == ("PassportUnknown", {"id": bag + 1})  # ERC-721: no URI for no token


# Bases on each side of Solidity's two string layouts (under 32 bytes: in the slot; else
# from keccak256(slot), word by word) and of the words' edges, each set over the one before
# (a shorter one over a longer one leaves the longer one's words behind, unread).
BASES = [
    "http://a.io/",  # 12 bytes
    "http://id.example.org/metadata/",  # 31
    "https://id.example.org/metadata/",  # 32
    "https://id.example.org/metadata/x/",  # 34
    "https://passports.example.org/" + "m" * 33 + "/",  # 64
    "https://passports.example.org/" + "m" * 34 + "/",  # 65
    "https://id.example.org/metadata/",  # 32 again, over 65
    "http://a.io/",  # 12 again
]


def test_token_uri_is_the_base_then_the_id_in_64_hex_digits_for_bases_of_every_length(
    pp: ProductPassports, orgs: Orgs
) -> None:
    small = ProductKey.item(GTIN, "META-SMALL")
    bag, other = pp.commission([BAG, small], sender=orgs.producer)
    assert [len(b) for b in BASES] == [12, 31, 32, 34, 64, 65, 32, 12]
    for base in BASES:
        pp.set_base_uri(base, sender=orgs.governor)
        assert pp.base_uri() == base
        assert pp.token_uri(bag) == base + f"0x{bag:064x}" == base + metadata_id(bag)
        assert pp.token_uri(other) == base + metadata_id(other)
        assert len(pp.token_uri(other)) == len(base) + 66
    assert metadata_id(1) == "0x" + "0" * 63 + "1"


def test_metadata_base_takes_http_and_https_urls_ending_in_a_slash() -> None:
    assert metadata_base(" https://id.example.org/metadata/ ") == "https://id.example.org/metadata/"
    assert metadata_base("http://127.0.0.1:8080/metadata/") == "http://127.0.0.1:8080/metadata/"
    with pytest.raises(InvalidInput, match="must end with /"):
        metadata_base("https://id.example.org/metadata/#top/")


# ------------------------------------------------------------------ the service


def test_the_token_uri_leads_to_metadata_json_for_the_passport(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    pp.set_base_uri(web.base + METADATA_PATH, sender=orgs.governor)
    bag = commission_one(pp, orgs, BAG)
    hand_over(pp, bag, orgs.producer, orgs.carrier)
    uri = pp.token_uri(bag)
    assert uri == f"{web.base}/metadata/0x{bag:064x}"

    answer = requests.get(uri, timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    assert answer.headers["access-control-allow-origin"] == "*"
    body = answer.json()
    assert set(body) == {"name", "description", "image", "external_url", "attributes"}
    assert body["name"] == f"Product passport {BAG}"
    page = f"{web.base}/passport/01/0{GTIN}/21/META-1"
    assert body["external_url"] == page and page in body["description"]
    assert "genuine and in the trade" in body["description"]
    assert web.get(page.removeprefix(web.base)).status_code == 200
    traits = {a["trait_type"]: a["value"] for a in body["attributes"]}
    assert traits == {
        "GTIN": f"0{GTIN}",
        "Serial": "META-1",
        "Kind": "item",
        "State": "active",
        "Genuine": "yes",
        "Sold once": "no",
        "Brand (GS1 company prefix)": pp.brand_of(BAG).prefix,  # type: ignore[union-attr]
        "Brand account": orgs.producer,
    }
    mime, _, data = body["image"].partition(";base64,")
    svg = base64.b64decode(data).decode()
    assert mime == "data:image/svg+xml" and svg.lstrip().startswith("<") and "<svg" in svg
    assert BAG.digital_link(web.base) in svg  # the QR code's title: the Digital Link it encodes
    # No person's account: the custodian (who holds the goods) is not in it, nor any owner field.
    assert orgs.carrier.lower() not in answer.text.lower() and "owner" not in answer.text.lower()


def test_the_metadata_follows_the_chain_and_reads_decimal_ids(web: Served, pp: ProductPassports, orgs: Orgs) -> None:
    bag = commission_one(pp, orgs, BAG)
    path = METADATA_PATH + metadata_id(bag)
    first = web.get(path).json()
    assert {"trait_type": "State", "value": "active"} in first["attributes"]
    assert web.get(METADATA_PATH + str(bag)).json() == first  # the decimal id ERC-721 tools write
    assert web.get(f"{METADATA_PATH}0x{bag:X}").json() == first  # upper-case hex, no leading zeros
    recall(pp, orgs, bag)  # a new block: the answer kept for the last one is not given again
    recalled = web.get(path).json()
    assert {"trait_type": "State", "value": "recalled"} in recalled["attributes"]
    assert "RECALLED" in recalled["description"]


@pytest.mark.parametrize("id_", ["0xZZ", "12ab", "0x" + "1" * 65, "9" * 79, "-1", "0x"])
def test_a_malformed_id_is_answered_400(web: Served, id_: str) -> None:
    answer = web.get(METADATA_PATH + id_)
    assert answer.status_code == 400 and "is not a passport id" in answer.text


def test_an_unknown_id_is_answered_404_and_options_204(web: Served) -> None:
    missing = web.get(METADATA_PATH + metadata_id(12345))
    assert missing.status_code == 404 and "No passport has the id 0x3039." in missing.text
    too_big = web.get(METADATA_PATH + str(2**256))  # 78 digits, past 256 bits
    assert too_big.status_code == 400 and "larger than 256 bits" in too_big.text
    options = requests.options(web.base + METADATA_PATH + "0x1", timeout=60)
    assert options.status_code == 204 and options.headers["access-control-allow-origin"] == "*"


# ------------------------------------------------------------------ the CLI


def test_the_cli_sets_the_metadata_base_at_deployment_and_after(operator: Operator, tmp_path: Path) -> None:
    op = operator
    bad = op.run("deploy", "--metadata-base", "https://id.example.org/metadata")
    assert bad.code == 1 and "must end with /" in bad.err and "Traceback" not in bad.err
    deployed = op.ok("deploy", "--metadata-base", "http://127.0.0.1:8080/metadata/", "--json").json()
    assert deployed["metadata_base"] == "http://127.0.0.1:8080/metadata/"
    again = op.run("passport", "set-metadata-base", "http://127.0.0.1:8080/metadata/")
    assert again.code == 1 and "nothing to change" in again.err
    stranger = op.run("passport", "set-metadata-base", "https://id.example.org/metadata/", "--account", "3")
    assert stranger.code == 1 and "Traceback" not in stranger.err and "governor" in stranger.err
    done = op.ok("passport", "set-metadata-base", "https://id.example.org/metadata/", "--json").json()
    assert done["metadata_base"] == "https://id.example.org/metadata/" and done["gas_used"] > 0
    assert "tokenURI is empty now" in op.ok("passport", "set-metadata-base", "--none").out
    assert op.run("passport", "set-metadata-base").code == 2  # neither a URL nor --none: a usage error
    other = op.run("deploy", "--governor", op.accounts[4], "--metadata-base", "https://id.example.org/metadata/")
    assert other.code == 1 and "propose set-metadata-base" in other.err
    unknown = op.run("passport", "token-uri", f"(01)0{GTIN}(21)NOPE")
    assert unknown.code == 1 and "Traceback" not in unknown.err
    assert json.loads(op.ok("deploy", "--json").out)["created"] is False
