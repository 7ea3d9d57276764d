"""GS1 keys (chainpass.standards.gs1): GTINs, serial and lot numbers, tiers, Digital Link URIs, EPC URNs.

Pure Python: no chain. The GTINs below are real-format examples whose check digits were
worked out by hand with the GS1 mod-10 rule (weights 3, 1, 3, ... from the right).
"""

from __future__ import annotations

import pytest
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from hypothesis import given
from hypothesis import strategies as st

from chainpass.enums import Kind
from chainpass.errors import InvalidInput
from chainpass.standards.dl_compression import compress
from chainpass.standards.gs1 import (
    DigitalLink,
    ProductKey,
    company_prefix_length,
    epc_escape,
    epc_unescape,
    parse_code,
    parse_epc_urn,
    parse_gtin,
    parse_serial,
    resolver_of,
)

#: GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of ``body`` (all digits but the last), computed independently."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def test_cset82_has_82_characters() -> None:
    assert len(set(CSET82)) == 82


# ---------------------------------------------------------------------------- GTIN


@pytest.mark.parametrize(
    ("text", "gtin14"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("9506000134352", "09506000134352"),  # GTIN-13
        ("09506000134352", "09506000134352"),  # the same as GTIN-14
        ("19506000134359", "19506000134359"),  # GTIN-14 with packaging indicator 1
        (" 4006381333931\n", "04006381333931"),  # surrounding whitespace from a scanner
    ],
)
def test_valid_gtins_normalise_to_gtin14(text: str, gtin14: str) -> None:
    assert check_digit(gtin14[:-1]) == gtin14[-1]

    gtin = parse_gtin(text)
    key = ProductKey.item(text, "SN1")

    assert gtin == int(gtin14)
    assert key.gtin == int(gtin14)
    assert key.gtin14 == gtin14


@given(st.text(alphabet="0123456789", min_size=12, max_size=12).filter(lambda body: int(body) != 0))
def test_any_gtin13_with_its_check_digit_is_accepted_and_no_other_digit_is(body: str) -> None:
    right = check_digit(body)

    assert parse_gtin(body + right) == int(body + right)
    for wrong in set("0123456789") - {right}:
        with pytest.raises(InvalidInput, match="check digit"):
            parse_gtin(body + wrong)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("9506000134353", r"check digit.*Expected 2, got 3"),  # GTIN-13, last digit off by one
        ("96385075", r"check digit"),  # GTIN-8
        ("036000291453", r"check digit"),  # GTIN-12
        ("19506000134350", r"check digit"),  # GTIN-14
    ],
)
def test_wrong_check_digit_is_refused_naming_it(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as info:
        parse_gtin(text)

    assert repr(text) in str(info.value)


@pytest.mark.parametrize("text", ["12345", "1234567", "95060001343", "950600013435201", "9506000134352000"])
def test_wrong_length_is_refused_naming_the_lengths(text: str) -> None:
    with pytest.raises(InvalidInput, match=rf"has {len(text)} digits: a GTIN has 8, 12, 13 or 14") as info:
        parse_gtin(text)

    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "95060001343A2",  # a letter
        "9506000-134352",  # a dash
        "",  # nothing
        "\uff19\uff15\uff10\uff16\uff10\uff10\uff10\uff11\uff13\uff14\uff13\uff15\uff12",  # full-width digits
        "\u0669\u0665\u0660\u0666\u0660\u0660\u0660\u0661\u0663\u0664\u0663\u0665\u0662",  # Arabic-Indic digits
    ],
)
def test_non_ascii_digits_and_letters_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"must be digits 0-9 only"):
        parse_gtin(text)
    with pytest.raises(InvalidInput, match=r"must be digits 0-9 only"):
        ProductKey.lot(text, "L1")


@pytest.mark.parametrize("text", ["00000000", "000000000000", "0000000000000", "00000000000000"])
def test_an_all_zero_gtin_is_refused(text: str) -> None:
    assert check_digit(text[:-1]) == "0"  # it passes the check digit, so it needs its own rule

    with pytest.raises(InvalidInput, match="all zeros"):
        parse_gtin(text)


# ------------------------------------------------------------------ serial and lot


@pytest.mark.parametrize(
    "serial", ["A", "0", "x" * 20, CSET82[:20], CSET82[20:40], CSET82[40:60], CSET82[60:80], CSET82[80:] + "9"]
)
def test_serials_of_cset82_up_to_20_characters_are_accepted(serial: str) -> None:
    stored = parse_serial(serial)
    key = ProductKey.item("9506000134352", serial)

    assert len(stored) == 32
    assert stored == serial.encode("ascii") + bytes(32 - len(serial))
    assert key.serial == serial
    assert key.serial_bytes == stored


@pytest.mark.parametrize(
    "serial",
    [
        "",  # empty
        "A" * 21,  # one too long
        "SN 1",  # space is not in CSET 82
        "SN#1",
        "SN@1",
        "SN$1",
        "caf\u00e9",  # not ASCII
        "ABC\n",  # a trailing newline (a regex `$` would let it through)
        "\nABC",
        "ABC\x00",
    ],
)
def test_serials_outside_cset82_or_too_long_are_refused(serial: str) -> None:
    with pytest.raises(InvalidInput, match=r"The serial number .* must be 1 to 20 characters of GS1's set"):
        parse_serial(serial)
    with pytest.raises(InvalidInput, match=r"The serial number"):
        ProductKey.item("9506000134352", serial)
    with pytest.raises(InvalidInput, match=r"The serial number"):
        ProductKey.container("9506000134352", serial, 1)
    with pytest.raises(InvalidInput, match=r"The lot number .* must be 1 to 20 characters"):
        ProductKey.lot("9506000134352", serial)


# ---------------------------------------------------------------------------- keys


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_container_tiers_one_to_three_are_accepted(tier: int) -> None:
    key = ProductKey.container("9506000134352", "SSCC1", tier)

    assert (key.kind, key.tier) == (Kind.CONTAINER, tier)


@pytest.mark.parametrize("tier", [0, 4, -1, 255, True])
def test_other_container_tiers_are_refused(tier: int) -> None:
    with pytest.raises(InvalidInput, match=r"must be 1 \(case\), 2 \(pallet\) or 3 \(shipping container\)"):
        ProductKey.container("9506000134352", "SSCC1", tier)


def test_items_and_lots_are_tier_zero() -> None:
    assert ProductKey.item("9506000134352", "S1").tier == 0
    assert ProductKey.lot("9506000134352", "L1").tier == 0


@pytest.mark.parametrize(
    ("key", "element_string"),
    [
        (ProductKey.item("9506000134352", "BAG00001"), "(01)09506000134352(21)BAG00001"),
        (ProductKey.item("96385074", "7"), "(01)00000096385074(21)7"),
        (ProductKey.lot("036000291452", "LOT-2025/07"), "(01)00036000291452(10)LOT-2025/07"),
        (ProductKey.container("19506000134359", "PAL42", 2), "(01)19506000134359(21)PAL42"),
    ],
)
def test_str_is_the_gs1_element_string(key: ProductKey, element_string: str) -> None:
    assert str(key) == element_string


def test_item_and_lot_with_the_same_text_are_different_keys() -> None:
    item = ProductKey.item("9506000134352", "A1")
    lot = ProductKey.lot("9506000134352", "A1")

    assert item != lot
    assert (item.kind, lot.kind) == (Kind.ITEM, Kind.LOT)
    assert item.serial_bytes == lot.serial_bytes


# ------------------------------------------------------------------ Digital Link
#
# GS1 Digital Link Standard: URI Syntax, release 1.2: the path is /01/{gtin} then the
# key qualifiers /22/ (consumer product variant), /10/ (lot), /21/ (serial), in that
# order, each optional; values are percent-encoded; data attributes go in the query.

#: Characters of set 82 that a URI must percent-encode (all but letters, digits, "-._").
URI_RESERVED = "!\"%&'()*+,/:;<=>?"
#: Characters of set 82 that an EPC URI must escape (Tag Data Standard, table A-1).
EPC_RESERVED = {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}

serials = st.text(alphabet=CSET82, min_size=1, max_size=20)
#: Serials made mostly of the characters that need encoding, so every example has some.
awkward_serials = st.text(alphabet=URI_RESERVED + "A.-_", min_size=1, max_size=20)


@st.composite
def gtin14s(draw: st.DrawFn) -> str:
    """Any valid GTIN-14: any indicator digit and body, with its check digit."""
    body = draw(st.text(alphabet="0123456789", min_size=13, max_size=13).filter(lambda b: int(b) != 0))
    return body + check_digit(body)


def test_the_uri_reserved_set_is_set_82_less_the_unreserved_characters() -> None:
    assert set(URI_RESERVED) == {c for c in CSET82 if not (c.isalnum() or c in "-._")}
    assert set(EPC_RESERVED) <= set(URI_RESERVED)


@pytest.mark.parametrize(
    ("key", "link"),
    [
        (ProductKey.item("9506000134352", "BAG-001"), "https://id.gs1.org/01/09506000134352/21/BAG-001"),
        (ProductKey.lot("036000291452", "LOT-2025/07"), "https://id.gs1.org/01/00036000291452/10/LOT-2025%2F07"),
        (ProductKey.item("96385074", "7"), "https://id.gs1.org/01/00000096385074/21/7"),
        (ProductKey.container("19506000134359", "PAL42", 2), "https://id.gs1.org/01/19506000134359/21/PAL42"),
        (
            ProductKey.item("9506000134352", 'A"%&/<>?'),
            "https://id.gs1.org/01/09506000134352/21/A%22%25%26%2F%3C%3E%3F",
        ),
        (
            ProductKey.item("9506000134352", "!'()*+,:;="),
            "https://id.gs1.org/01/09506000134352/21/%21%27%28%29%2A%2B%2C%3A%3B%3D",
        ),
    ],
)
def test_digital_link_has_a_14_digit_gtin_and_percent_encodes_the_value(key: ProductKey, link: str) -> None:
    assert key.digital_link() == link
    assert parse_code(link) == key or key.kind is Kind.CONTAINER


@pytest.mark.parametrize(
    ("base", "link"),
    [
        ("https://id.example.org", "https://id.example.org/01/09506000134352/21/BAG-001"),
        ("https://id.example.org/", "https://id.example.org/01/09506000134352/21/BAG-001"),
        ("https://Example.ORG/products/rice", "https://example.org/products/rice/01/09506000134352/21/BAG-001"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/01/09506000134352/21/BAG-001"),
    ],
)
def test_digital_link_on_a_brands_own_resolver(base: str, link: str) -> None:
    key = ProductKey.item("9506000134352", "BAG-001")

    assert key.digital_link(base) == link
    assert DigitalLink.parse(link).resolver == base.lower().rstrip("/")
    assert parse_code(link) == key


@pytest.mark.parametrize(
    "base", ["id.example.org", "ftp://id.example.org", "https://", "https://id.example.org?x=1",
             "https://id.example.org#top", "https://user@id.example.org", "https://id.example.org/a b",
             "https://id.example.org//p", "https://b\u00fccher.example"],
)  # fmt: skip
def test_a_resolver_is_https_a_domain_and_a_path_and_nothing_else(base: str) -> None:
    with pytest.raises(InvalidInput, match=r"must be https:// and a domain"):
        ProductKey.item("9506000134352", "BAG-001").digital_link(base)


def test_parsing_keeps_qualifiers_in_order_data_attributes_sorted_and_drops_the_rest() -> None:
    link = DigitalLink.parse(
        "https://example.org/shop/01/09506000134352/22/2A/10/ABC%2F1/21/XYZ%26?3103=000195&17=261231&linkType=gs1:pip#x"
    )

    assert link == DigitalLink(
        gtin=9506000134352,
        serial="XYZ&",
        lot="ABC/1",
        cpv="2A",
        attributes=(("17", "261231"), ("3103", "000195")),
        resolver="https://example.org/shop",
    )
    assert str(link) == "https://example.org/shop/01/09506000134352/22/2A/10/ABC%2F1/21/XYZ%26?17=261231&3103=000195"
    # A serialised item is its GTIN + serial, as in an SGTIN: the lot and CPV qualify, not identify.
    assert link.key() == ProductKey.item("9506000134352", "XYZ&")
    assert link.key(container_tier=1) == ProductKey.container("9506000134352", "XYZ&", 1)


@pytest.mark.parametrize(
    ("uri", "key"),
    [
        ("https://id.gs1.org/01/9506000134352/10/L1", ProductKey.lot("9506000134352", "L1")),  # GTIN-13: padded
        ("https://id.gs1.org/01/96385074/21/7", ProductKey.item("96385074", "7")),  # GTIN-8
        # The convenience short names of releases 1.0 and 1.1 (deprecated since 1.2) are still read.
        ("https://id.gs1.org/gtin/09506000134352/lot/L1/ser/S%2F1", ProductKey.item("9506000134352", "S/1")),
        # A literal "!" or "(" is legal in a URI path; only the writer must encode them.
        ("https://id.gs1.org/01/09506000134352/21/A!(B)", ProductKey.item("9506000134352", "A!(B)")),
        ("https://id.gs1.org/01/09506000134352/21/%41%2f", ProductKey.item("9506000134352", "A/")),
        # A path prefix may itself contain "01": the key is where a valid GTIN path starts.
        ("https://example.org/01/x/01/09506000134352/21/S1", ProductKey.item("9506000134352", "S1")),
        ("HTTPS://ID.GS1.ORG/01/09506000134352/21/s1?", ProductKey.item("9506000134352", "s1")),
    ],
)
def test_digital_links_that_are_read(uri: str, key: ProductKey) -> None:
    assert parse_code(uri) == key


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        (
            "https://id.gs1.org/01/09506000134352/10/L/22/C",
            r"order /22/ .*, /10/ .*, /21/ .* but /22/ comes after /10/",
        ),
        ("https://id.gs1.org/01/09506000134352/21/S/10/L", r"but /10/ comes after /21/"),
        ("https://id.gs1.org/01/09506000134352/21/S/21/T", r"each at most once, but /21/ comes after /21/"),
        ("https://id.gs1.org/01/09506000134352/17/261231", r"/17/ cannot follow a GTIN.*query string \(\?17=...\)"),
        ("https://id.gs1.org/01/09506000134352/foo/1", r"/foo/ cannot follow a GTIN.*no key qualifier"),
        ("https://id.gs1.org/01/09506000134352/235/X1", r"/235/ cannot follow a GTIN.*TPX \(AI 235\) names no"),
        ("https://id.gs1.org/01/09506000134352/00/106141412345678908", r"/00/ cannot follow.*a key of its own"),
        ("https://id.gs1.org/01/09506000134352/21", r"/21 has no value"),
        ("https://id.gs1.org/01/09506000134352/21/S/", r"must not end with '/'"),
        ("https://id.gs1.org/01//21/S", r"empty segment"),
        ("https://id.gs1.org/01/09506000134353/21/S", r"Invalid GTIN check digit"),
        ("https://id.gs1.org/01/0950600013435/21/S", r"has 13 digits|check digit"),
        ("https://id.gs1.org/01/09506000134352/21/S?21=T", r"AI 21 in its query string: keys and key qualifiers"),
        ("https://id.gs1.org/01/09506000134352?10=L", r"AI 10 in its query string"),
        ("https://id.gs1.org/01/09506000134352/21/S?17=261231&17=270101", r"AI 17 twice"),
        ("https://id.gs1.org/01/09506000134352/21/S?17=261331", r"invalid data attribute 17='261331'"),
        ("https://id.gs1.org/01/09506000134352/21/%G1", r"'%' that starts no percent-encoding \('%G1'\)"),
        ("https://id.gs1.org/01/09506000134352/21/50%", r"'%' that starts no percent-encoding"),
        ("https://id.gs1.org/01/09506000134352/21/caf%C3%A9", "serial \\(AI 21\\) 'caf\u00e9' must be 1 to 20"),
        ("https://id.gs1.org/01/09506000134352/21/A%20B", r"serial \(AI 21\) 'A B' must be"),
        ("https://id.gs1.org/01/09506000134352/21/" + "A" * 21, r"serial \(AI 21\) 'A{21}' must be 1 to 20"),
        ("https://id.gs1.org/01/09506000134352/21/S 1", r"not a URI: spaces"),
        ("https://id.gs1.org/00/106141412345678907", r"SSCC '106141412345678907' is not valid.*check digit"),
        ("https://id.gs1.org/8018/952520840000000010", r"names a GSRN \(a service recipient.*personal data"),
        ("https://id.gs1.org/414/9506000134352", r"names a GLN"),
        ("https://id.gs1.org/products/42", r"no /01/\{gtin\}"),
        ("https:///01/09506000134352/21/S", r"must start with https:// and a domain"),
        ("https://id.gs1.org/01/09506000134352", r"neither a serial \(AI 21\) nor a lot \(AI 10\)"),
    ],
)
def test_bad_digital_links_are_refused_naming_the_problem(uri: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as info:
        parse_code(uri)

    assert "\n" not in str(info.value)


def test_a_container_link_needs_a_serial() -> None:
    with pytest.raises(InvalidInput, match=r"no serial \(AI 21\), which a container's code needs"):
        parse_code("https://id.gs1.org/01/09506000134352/10/L1", container_tier=2)


@given(gtin14s(), st.one_of(serials, awkward_serials), st.booleans())
def test_key_to_digital_link_and_back_is_the_same_key(gtin: str, serial: str, lot: bool) -> None:
    key = ProductKey.lot(gtin, serial) if lot else ProductKey.item(gtin, serial)

    link = key.digital_link()

    assert parse_code(link) == key
    assert DigitalLink.parse(link) == DigitalLink.of(key)
    assert "/" not in link.removeprefix("https://id.gs1.org/01/").split("/", 3)[-1]  # encoded: one segment


@given(
    gtin14s(),
    st.none() | serials,
    st.none() | awkward_serials,
    st.none() | serials,
    st.none() | st.dates().map(lambda d: d.strftime("%y%m%d")),
)
def test_digital_link_agrees_with_biips_encoder_and_decoder(
    gtin: str, serial: str | None, lot: str | None, cpv: str | None, expiry: str | None
) -> None:
    link = DigitalLink(int(gtin), serial, lot, cpv, (("17", expiry),) if expiry else ())

    text = str(link)
    theirs = GS1DigitalLinkURI.parse(text)

    assert DigitalLink.parse(text) == link
    assert theirs.as_canonical_uri() == text
    assert {e.ai.ai: e.value for e in theirs.element_strings} == {
        ai: value
        for ai, value in [("01", gtin), ("21", serial), ("10", lot), ("22", cpv), ("17", expiry)]
        if value is not None
    }


# ----------------------------------------------------------------------- EPC URNs
#
# GS1 EPC Tag Data Standard: SGTIN urn:epc:id:sgtin:{CompanyPrefix}.{Indicator}{ItemRef}.{serial},
# LGTIN urn:epc:class:lgtin:{CompanyPrefix}.{Indicator}{ItemRef}.{lot}; no check digit.


@pytest.mark.parametrize(
    ("urn", "gtin14", "serial", "link"),
    [
        # TDS, SGTIN section: GTIN 80614141123458 with serial 6789, company prefix 0614141.
        ("urn:epc:id:sgtin:0614141.812345.6789", "80614141123458", "6789", None),
        # TDS, the EPC URI example: indicator 1, so GTIN 1 0614141 12345 and check digit 9.
        ("urn:epc:id:sgtin:0614141.112345.400", "10614141123459", "400", None),
        # GS1 EPC <-> Digital Link translator (R. Troeger, GS1 Germany), README and test data.
        ("urn:epc:id:sgtin:4012345.011111.987", "04012345111118", "987", "https://id.gs1.org/01/04012345111118/21/987"),
        ("urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()", "80614141123458", '6789/&%"!?()', None),
        # OpenEPCIS translator tests: the same GTIN split after 6 and after 12 digits.
        ("urn:epc:id:sgtin:387583.7784374.9302932", "73875837843740", "9302932", None),
        ("urn:epc:id:sgtin:387583784374.7.9302932", "73875837843740", "9302932", None),
        ("urn:epc:id:sgtin:235678.1908012.1234", "12356789080128", "1234", None),
    ],
)
def test_known_sgtin_vectors(urn: str, gtin14: str, serial: str, link: str | None) -> None:
    key = parse_code(urn)
    prefix = urn.removeprefix("urn:epc:id:sgtin:").split(".")[0]

    assert key == ProductKey.item(gtin14, serial)
    assert key.epc_urn(company_prefix_length=len(prefix)) == urn
    assert link is None or key.digital_link() == link


def test_known_lgtin_vector() -> None:
    # GS1 EPC <-> Digital Link translator: urn:epc:class:lgtin:4012345.012345.Lot987.
    key = parse_epc_urn("urn:epc:class:lgtin:4012345.012345.Lot987")

    assert key == ProductKey.lot("04012345123456", "Lot987")
    assert key.digital_link() == "https://id.gs1.org/01/04012345123456/10/Lot987"
    assert key.epc_urn(7) == "urn:epc:class:lgtin:4012345.012345.Lot987"
    assert DigitalLink.parse(key.digital_link()).epc_urn() == "urn:epc:class:lgtin:4012345.012345.Lot987"


@pytest.mark.parametrize(
    ("gtin", "length"),
    [
        ("80614141123458", 7),  # GS1 US, 0614141: the TDS's examples
        ("04012345111118", 7),  # GS1 Germany, 4012345
        ("00036000291452", 7),  # a U.P.C. company prefix 036000, with its leading 0
        ("09506000134352", 11),  # GS1 Global Office allocates 95060001343 as one company's prefix
        ("96385074", None),  # GTIN-8: GS1-8 prefixes are no company prefixes
        ("02000000000008", None),  # restricted circulation
    ],
)
def test_company_prefix_length_comes_from_gs1s_table(gtin: str, length: int | None) -> None:
    assert company_prefix_length(gtin) == length


def test_without_a_known_prefix_length_the_urn_needs_one() -> None:
    key = ProductKey.item("96385074", "1")

    with pytest.raises(InvalidInput, match=r"no GS1 Company Prefix for GTIN 00000096385074: give its length"):
        key.epc_urn()
    assert key.epc_urn(8) == "urn:epc:id:sgtin:00000963.08507.1"


@pytest.mark.parametrize("length", [5, 13, 0, -7, True, 7.0, "7"])
def test_a_company_prefix_has_6_to_12_digits(length: object) -> None:
    with pytest.raises(InvalidInput, match=r"6 to 12 digits"):
        ProductKey.item("80614141123458", "1").epc_urn(length)  # type: ignore[arg-type]


def test_the_same_key_splits_differently_by_prefix_length_and_reads_back_the_same() -> None:
    key = ProductKey.item("80614141123458", "6789")

    urns = [key.epc_urn(n) for n in range(6, 13)]

    assert urns[0] == "urn:epc:id:sgtin:061414.8112345.6789"
    assert urns[-1] == "urn:epc:id:sgtin:061414112345.8.6789"
    assert {parse_code(urn) for urn in urns} == {key}


@given(gtin14s(), st.one_of(serials, awkward_serials), st.booleans(), st.integers(6, 12))
def test_key_to_urn_and_back_and_to_digital_link_and_back(gtin: str, serial: str, lot: bool, length: int) -> None:
    key = ProductKey.lot(gtin, serial) if lot else ProductKey.item(gtin, serial)

    urn = key.epc_urn(length)
    again = parse_code(urn)
    link = again.digital_link()

    assert again == key
    assert urn.startswith("urn:epc:class:lgtin:" if lot else "urn:epc:id:sgtin:")
    assert len(urn.split(":", 4)[-1].split(".")[0]) == length
    assert parse_code(link).epc_urn(length) == urn
    assert DigitalLink.parse(link).epc_urn(length) == urn


@given(serials)
def test_epc_escaping_escapes_exactly_the_tds_seven(serial: str) -> None:
    escaped = epc_escape(serial)

    assert escaped == "".join(EPC_RESERVED.get(c, c) for c in serial)
    assert not set(escaped) & (set(EPC_RESERVED) - {"%"})
    assert epc_unescape(escaped) == serial


@given(serials, st.data())
def test_any_character_may_come_escaped_in_either_case(serial: str, data: st.DataObject) -> None:
    escaped = "".join(
        f"%{ord(c):02{data.draw(st.sampled_from('xX'))}}" if data.draw(st.booleans()) else EPC_RESERVED.get(c, c)
        for c in serial
    )

    assert epc_unescape(escaped) == serial


@pytest.mark.parametrize(
    ("urn", "problem"),
    [
        ("urn:epc:id:sgtin:0614141.812345.a/b", r"'/' at position 2, which must be escaped as %XX"),
        ("urn:epc:id:sgtin:0614141.812345.a?b", r"'\?' at position 2, which must be escaped"),
        ("urn:epc:id:sgtin:0614141.812345.a b", r"' ' at position 2"),
        ("urn:epc:id:sgtin:0614141.812345.50%", r"'%' at position 3, which starts no escape"),
        ("urn:epc:id:sgtin:0614141.812345.%G0", r"'%' at position 1, which starts no escape"),
        ("urn:epc:id:sgtin:0614141.812345.a%40", r"%40, which is no character of GS1's set"),
        ("urn:epc:id:sgtin:0614141.812345.a%23", r"%23, which is no character"),
        ("urn:epc:id:sgtin:0614141.812345." + "1" * 21, r"serial number '1{21}' must be 1 to 20"),
        ("urn:epc:id:sgtin:0614141.812345.", r"serial number '' must be 1 to 20"),
        ("urn:epc:class:lgtin:0614141.812345.L%7E", r"%7E, which is no character"),
        ("urn:epc:id:sgtin:0614141.81234.1", r"'81234' must be 6 digits, so that with the 7-digit company prefix"),
        ("urn:epc:id:sgtin:0614141.8123456.1", r"must be 6 digits"),
        ("urn:epc:id:sgtin:06141.81234567.1", r"GS1 Company Prefix '06141' must be 6 to 12 digits"),
        ("urn:epc:id:sgtin:0614141234567..1", r"'0614141234567' must be 6 to 12 digits"),
        ("urn:epc:id:sgtin:06141A1.812345.1", r"'06141A1' must be 6 to 12 digits"),
        ("urn:epc:id:sgtin:0614141.812345", r"three parts after 'sgtin:'"),
        ("urn:epc:id:sgtin:0000000.000000.1", r"all zeros"),
        ("urn:epc:tag:sgtin-96:3.0614141.812345.6789", r"EPC tag URI"),
        ("urn:epc:idpat:sgtin:0614141.812345.*", r"EPC pattern"),
        ("urn:epc:id:grai:0614141.12345.400", r"not an EPC URN of an item .* a lot .* or an asset"),
        ("urn:isbn:9780000000002", r"not an EPC URN"),
    ],
)
def test_bad_urns_are_refused_naming_the_problem(urn: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as info:
        parse_code(urn)

    assert "\n" not in str(info.value)


def test_urns_name_containers_with_a_tier_but_a_lot_is_no_container() -> None:
    assert parse_code("URN:EPC:ID:SGTIN:0614141.812345.P1", container_tier=2) == ProductKey.container(
        "80614141123458", "P1", 2
    )
    with pytest.raises(InvalidInput, match=r"is a lot \(LGTIN\): a container's code has a serial"):
        parse_code("urn:epc:class:lgtin:0614141.812345.L1", container_tier=2)


def test_a_containers_urn_is_its_sgtin() -> None:
    key = ProductKey.container("19506000134359", "PAL42", 2)

    assert key.epc_urn(7) == "urn:epc:id:sgtin:9506000.113435.PAL42"
    assert parse_code(key.epc_urn(7), container_tier=2) == key


# ------------------------------------------------------------------ element strings


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("(01)09506000134352(21)BAG-001", ProductKey.item("9506000134352", "BAG-001")),
        ("(01)09506000134352(10)L1(21)S1", ProductKey.item("9506000134352", "S1")),
        ("(01)09506000134352(17)261231(10)L1", ProductKey.lot("9506000134352", "L1")),
        ("(01)09506000134352(21)A)B", ProductKey.item("9506000134352", "A)B")),
        ("0109506000134352" + "21BAG-001", ProductKey.item("9506000134352", "BAG-001")),
        ("]d201095060001343521021L1\x1d21S1", ProductKey.item("9506000134352", "S1")),
    ],
)
def test_element_strings_are_read(code: str, key: ProductKey) -> None:
    assert parse_code(code) == key


def test_an_element_string_whose_value_holds_parentheses_is_refused_as_ambiguous() -> None:
    # "(21)AB(C)" could be the serial "AB(C)"; biip reads "AB". Neither guess is safe.
    with pytest.raises(InvalidInput, match=r"ambiguous: a value contains parentheses; use its Digital Link URI"):
        parse_code("(01)09506000134352(21)AB(C)")
    assert parse_code(ProductKey.item("9506000134352", "AB(C)").digital_link()).serial == "AB(C)"


def test_a_digital_link_made_by_hand_is_checked_and_normalised() -> None:
    link = DigitalLink(9506000134352, serial="S/1", attributes=(("3103", "000195"), ("17", "261231")),
                       resolver="HTTPS://Example.org/p/")  # fmt: skip

    assert link.attributes == (("17", "261231"), ("3103", "000195"))
    assert str(link) == "https://example.org/p/01/09506000134352/21/S%2F1?17=261231&3103=000195"
    for bad, problem in [
        ({"gtin": 0}, r"at most 14 digits"),
        ({"gtin": 10**14}, r"at most 14 digits"),
        ({"gtin": 9506000134353}, r"check digit"),
        ({"gtin": 9506000134352, "lot": "a b"}, r"The lot \(AI 10\) 'a b'"),
        ({"gtin": 9506000134352, "cpv": ""}, r"consumer product variant \(AI 22\)"),
        ({"gtin": 9506000134352, "attributes": (("21", "S"),)}, r"AI 21 in its query string"),
        ({"gtin": 9506000134352, "attributes": (("17", "1"),)}, r"invalid data attribute 17='1'"),
        ({"gtin": 9506000134352, "attributes": (("x", "1"),)}, r"no GS1 Application Identifier"),
        ({"gtin": 9506000134352, "attributes": (("17", "261231"), ("17", "270101"))}, r"give an AI twice"),
        ({"gtin": 9506000134352, "resolver": "id.gs1.org"}, r"must be https:// and a domain"),
    ]:
        with pytest.raises(InvalidInput, match=problem):
            DigitalLink(**bad)  # type: ignore[arg-type]


# ------------------------------------------------------------------- SSCC and GIAI

#: GS1's example SSCC: extension digit 1, company prefix 0614141, serial reference 23456789, check digit 8.
SSCC = "106141412345678908"


@pytest.mark.parametrize(
    "code",
    [
        "urn:epc:id:sscc:0614141.1234567890",
        "https://id.gs1.org/00/106141412345678908",
        "https://example.org/logistics/00/106141412345678908",
        "(00)106141412345678908",
    ],
)
def test_an_sscc_in_any_spelling_is_a_container_keyed_by_gtin_0(code: str) -> None:
    key = parse_code(code)

    assert key == ProductKey(0, Kind.CONTAINER, "00" + SSCC, 2)
    assert key.other_key == ("00", SSCC)
    assert key.serial_bytes == b"00" + SSCC.encode() + bytes(12)
    assert str(key) == f"(00){SSCC}"
    assert key.epc_urn() == "urn:epc:id:sscc:0614141.1234567890"
    assert key.digital_link() == f"https://id.gs1.org/00/{SSCC}"
    assert parse_code(code, container_tier=3).tier == 3


def test_sscc_round_trips_and_other_prefix_lengths() -> None:
    key = ProductKey.sscc(SSCC, 1)
    assert parse_code(key.epc_urn()) == ProductKey.sscc(SSCC)
    assert parse_code(key.digital_link()).other_key == ("00", SSCC)
    # The URN splits after the company prefix: a 9-digit prefix moves the dot, not the digits.
    assert key.epc_urn(9) == "urn:epc:id:sscc:061414123.14567890"
    assert parse_code("urn:epc:id:sscc:061414123.14567890") == ProductKey.sscc(SSCC)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("urn:epc:id:sscc:0614141.123456789", r"17 digits in all"),
        ("urn:epc:id:sscc:0614141.12345678901", r"17 digits in all"),
        ("(00)106141412345678907", r"check digit"),
        ("https://id.gs1.org/00/10614141234567890", r"must be 18 digits"),
        ("urn:epc:id:gsrn:95252084.000000001", r"GSRN \(a service recipient.*personal data on chain"),
        ("urn:epc:id:gsrnp:95252084.000000001", r"GSRN-P \(a service provider"),
        ("(8018)952520840000000010", r"GSRN.*personal data"),
        ("urn:epc:id:giai:952005385.", r"urn:epc:id:giai:\{company prefix\}\.\{asset reference\}"),
        ("urn:epc:id:giai:952005385." + "A" * 20, r"28 characters at most"),
    ],
)
def test_bad_sscc_giai_and_person_keys_are_refused(code: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_code(code)


def test_a_giai_is_an_item_keyed_by_gtin_0() -> None:
    for code in ("urn:epc:id:giai:952005385.w2", "https://id.gs1.org/8004/952005385w2", "(8004)952005385w2"):
        key = parse_code(code)
        assert key == ProductKey(0, Kind.ITEM, "8004952005385w2")
        assert key.other_key == ("8004", "952005385w2")
    assert key.epc_urn(9) == "urn:epc:id:giai:952005385.w2"
    with pytest.raises(InvalidInput, match="Company Prefix length"):
        key.epc_urn()
    assert key.digital_link() == "https://id.gs1.org/8004/952005385w2"


# ------------------------------------------------------------- compressed Digital Links

GTIN13 = "9506000134352"


@given(gtin14s(), st.one_of(serials, awkward_serials), st.booleans(), st.booleans(), st.integers(0, 3))
def test_a_compressed_link_reads_as_the_key_of_its_uncompressed_one(
    gtin: str, serial: str, lot: bool, partial: bool, tier: int
) -> None:
    key = ProductKey.lot(gtin, serial) if lot else ProductKey.item(gtin, serial)
    qualifier = ("10" if lot else "21", serial)
    # As a phone's camera gives it: the resolver (a path prefix too), then the compressed data,
    # all of it or all but the GTIN.
    if partial:
        compressed = f"https://r.example/p/01/{gtin}/{compress([qualifier, ('17', '261231')])}"
    else:
        compressed = f"https://r.example/p/{compress([('01', gtin), qualifier, ('17', '261231')])}"
    uncompressed = DigitalLink.parse(key.digital_link("https://r.example/p") + "?17=261231")

    assert parse_code(compressed) == parse_code(str(uncompressed)) == key
    assert resolver_of(compressed) == "https://r.example/p"
    if tier and not lot:
        assert parse_code(compressed, container_tier=tier) == ProductKey.container(gtin, serial, tier)


@pytest.mark.parametrize(
    ("link", "key"),
    [
        # GS1's own vector (gs1/digital-link.js): optimisation 1F (01, 10, 15), then AI 21.
        ("https://dlnkd.tn.gg/HxHKVAdpQgZzjr-hCDKigI", ProductKey.item("09780345418913", "345345")),
        # With a non-GS1 pair compressed in (GS1's DATA.compressedWebUri) and a query string kept.
        (
            "https://gs1.evrythng.com/HxHKVAdpQhCTxbrOF_yEFcx_4a2GeAh1mFOZkChg6Z8pgcEMEWpMganmIQ?linkType=gs1:pip",
            ProductKey.item("09780345418913", "58943"),
        ),
        ("https://r.example/" + compress([("00", "106141412345678908")]), ProductKey.sscc("106141412345678908")),
        ("https://r.example/" + compress([("8004", "0614141WAGON7")]), ProductKey.giai("0614141WAGON7")),
        ("HTTPS://R.EXAMPLE/" + compress([("01", "09506000134352"), ("10", "L1")]), ProductKey.lot(GTIN13, "L1")),
    ],
)
def test_compressed_links_that_are_read(link: str, key: ProductKey) -> None:
    assert parse_code(link) == key


@pytest.mark.parametrize(
    ("link", "problem"),
    [
        # Malformed data: one sentence naming the link and where its bits go wrong.
        (
            "https://r.example/ARHKVAdp",
            r"^'https://r.example/ARHKVAdp' is not a GS1 Digital Link URI, compressed or not: "
            r"its data ends in the middle of the value of AI 01\.$",
        ),
        ("https://r.example/p/hello", r"compressed or not: it names an AI beginning 85, and no GS1 Application"),
        ("https://r.example/ARHKVAdpQh", r"ends with bits that are no element and not the zero padding\.$"),
        ("https://r.example/01/09506000134352/" + compress([("01", "09506000134352")]), r"primary key twice"),
        ("https://r.example/" + compress([("21", "BAG1")]), r"0 GS1 primary keys \(none\)"),
        # Well-formed data that names no passport: the refusal of its uncompressed link, which it names.
        ("https://r.example/ARHKVAdpQg", r"'https://r.example/01/09780345418913' carries neither a serial"),
        ("https://r.example/" + compress([("01", "09506000134353"), ("21", "B")]), r"Invalid GTIN check digit"),
        ("https://r.example/" + compress([("8018", "952520840000000010")]), r"GSRN \(a service recipient.*personal"),
        (
            "https://r.example/" + compress([("01", "09506000134352"), ("21", "B"), ("17", "261331")]),
            r"invalid data attribute 17='261331'",
        ),
    ],
)
def test_bad_compressed_links_are_refused_in_one_sentence(link: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as info:
        parse_code(link)

    assert "\n" not in str(info.value) and str(info.value).count(". ") == 0


def test_an_uncompressed_link_is_never_read_as_a_compressed_one() -> None:
    # Its last segment has the alphabet of compressed data; its path names its key before it.
    link = "https://id.gs1.org/01/09506000134352/21/ARHKVAdpQg"
    assert parse_code(link) == ProductKey.item("9506000134352", "ARHKVAdpQg")
    assert parse_code("https://id.gs1.org/8004/0614141WAGON7") == ProductKey.giai("0614141WAGON7")
    with pytest.raises(InvalidInput, match=r"Invalid GTIN check digit"):  # its own error, not a decompression's
        parse_code("https://id.gs1.org/01/09506000134353/21/BAG1")
