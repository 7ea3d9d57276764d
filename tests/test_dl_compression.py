"""Compressed GS1 Digital Links (chainpass.standards.dl_compression): GS1's published vectors,
round trips, and a sentence for everything malformed.

Pure Python: no chain. Each vector says where GS1 published it.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainpass.errors import InvalidInput
from chainpass.standards.dl_compression import (
    AI_LENGTHS,
    ALPHABET,
    OPTIMISATIONS,
    Part,
    compress,
    decompress,
    decompress_digital_link,
    decompress_path,
    is_compressed_digital_link,
    is_compressed_path,
    length_bits,
    parts_of,
    value_bits,
)
from chainpass.standards.gs1 import DigitalLink, ProductKey

#: GS1's own vectors: (compressed URI, the uncompressed URI GS1's code reads it as).
GS1_VECTORS = [
    # gs1/digital-link.js, tests/index.js, "should decompress a compressed Digital Link URI"
    # (and "should compress a Digital Link URI", from /gtin/…/lot/231/ser/345345?15=120820):
    # optimisation 1F (01, 10, 15), then AI 21.
    (
        "https://dlnkd.tn.gg/HxHKVAdpQgZzjr-hCDKigI",
        "https://dlnkd.tn.gg/01/09780345418913/10/231/21/345345?15=120820",
    ),
    # gs1/digital-link.js, tests/index.js, DATA.compressedWebUri ("should create from string -
    # compressed URI"): optimisation 1F, AI 21, and a non-GS1 pair compressed with the F flag.
    (
        "https://gs1.evrythng.com/HxHKVAdpQhCTxbrOF_yEFcx_4a2GeAh1mFOZkChg6Z8pgcEMEWpMganmIQ",
        "https://gs1.evrythng.com/01/09780345418913/10/38737643/21/58943?15=230911&thngId=U5mQKGDpnymBwQwRakyBqeYh",
    ),
    # gs1/digital-link.js, tests/index.js, "should use optimisations and compress other
    # key-value pairs by default" (from /01/9780345418913/21/43786?foo=bar): optimisation 0C.
    ("https://dlnkd.tn.gg/DBHKVAdpQgqrCvBv0UMG21W", "https://dlnkd.tn.gg/01/09780345418913/21/43786?foo=bar"),
    # gs1/digital-link.js, tests/index.js, "should allow not using optimisations and
    # compressing other key-value pairs": AIs 01 and 21, foo=bar left in the query string.
    ("https://dlnkd.tn.gg/ARHKVAdpQkIKqwo?foo=bar", "https://dlnkd.tn.gg/01/09780345418913/21/43786?foo=bar"),
    # gs1/digital-link.js, tests/index.js, "should transparently validate a valid compressed URI".
    ("https://dlnkd.tn.gg/ARHKVAdpQg", "https://dlnkd.tn.gg/01/09780345418913"),
]


@pytest.mark.parametrize(("compressed", "uncompressed"), GS1_VECTORS)
def test_gs1s_published_vectors_decompress(compressed: str, uncompressed: str) -> None:
    assert decompress_digital_link(compressed) == uncompressed


def test_gs1s_published_vectors_compress_the_same() -> None:
    # The same tests of gs1/digital-link.js, in the compressing direction.
    gtin = ("01", "09780345418913")
    assert compress([gtin, ("10", "231"), ("21", "345345"), ("15", "120820")]) == "HxHKVAdpQgZzjr-hCDKigI"
    assert compress([gtin, ("21", "43786")], [("foo", "bar")]) == "DBHKVAdpQgqrCvBv0UMG21W"
    assert compress([gtin, ("21", "43786")], optimise=False) == "ARHKVAdpQkIKqwo"
    assert compress([gtin]) == "ARHKVAdpQg"
    others = [("thngId", "U5mQKGDpnymBwQwRakyBqeYh")]
    elements = [gtin, ("10", "38737643"), ("21", "58943"), ("15", "230911")]
    assert compress(elements, others) == "HxHKVAdpQhCTxbrOF_yEFcx_4a2GeAh1mFOZkChg6Z8pgcEMEWpMganmIQ"


def test_the_example_in_gs1s_compression_prototype_reads_with_its_ascii_lot_and_pairs() -> None:
    # The string in a comment of GS1's GS1DigitalLinkCompressionPrototype (src/
    # GS1DigitalLinkToolkit.js, extractFromCompressedGS1digitalLink): GTIN, a lot with & and
    # + (7-bit ASCII), AI 7003 and two non-GS1 pairs; its uncompressed form is read here.
    held = decompress("AQnYUc1gmiERBhQ0ytiyZuAGOLc1TXhXsaXbQKHFuaprwUmrBX6g")

    assert held.elements == (("01", "05412345000013"), ("10", "ABC&+123"), ("7003", "1903061658"))
    assert held.others == (("expdt", "1903061658"), ("k1", "v1"))
    assert decompress_path("/AQnYUc1gmiERBhQ0ytiyZuAGOLc1TXhXsaXbQKHFuaprwUmrBX6g") == (
        "/01/05412345000013/10/ABC%26%2B123?7003=1903061658&expdt=1903061658&k1=v1"
    )


def test_the_bit_counts_are_gs1s_formulas() -> None:
    # ceil(n log2 10 + 0.01): a GTIN's 14 digits take 47 bits, a date's 6 take 20, none take 1.
    assert [value_bits(n) for n in (0, 1, 3, 6, 14, 18)] == [1, 4, 10, 20, 47, 60]
    # ceil(log2 m + 0.01): the length of an X..20 takes 5 bits, of an N..15 4, of an X..16 5.
    assert [length_bits(m) for m in (20, 15, 16, 30, 90)] == [5, 4, 5, 5, 7]


@pytest.mark.parametrize(
    ("ai", "parts"),
    [
        ("01", (Part("N", 14, True),)),
        ("00", (Part("N", 18, True),)),
        ("21", (Part("X", 20, False),)),
        ("8004", (Part("X", 30, False),)),
        ("3910", (Part("N", 3, True), Part("N", 15, False))),
        ("253", (Part("N", 13, True), Part("X", 17, False))),
        ("7007", (Part("N", 6, True), Part("N", 6, False))),  # GS1's table: N6 + N..6
        ("8006", (Part("N", 18, True),)),  # GS1's table: N18 (biip: N14+N2+N2)
        ("7230", (Part("X", 30, False),)),  # GS1's table: X..30 (biip: X2+X..28)
        ("8010", (Part("X", 30, False),)),  # GS1's table: X..30 (biip: Y..30, set 39)
        ("8007", (Part("X", 24, False),)),  # GS1's table: X..24 (biip: X..34)
        ("8013", (Part("X", 30, False),)),  # GS1's table: X..30 (biip: X..25)
    ],
)
def test_formats_are_gs1s_compression_tables(ai: str, parts: tuple[Part, ...]) -> None:
    assert parts_of(ai) == parts


def test_every_ai_biip_knows_has_the_length_its_prefix_says() -> None:
    table = json.loads(
        (resources.files("biip") / "gs1_application_identifiers" / "_application_identifiers.json").read_text()
    )
    for entry in table:
        assert AI_LENGTHS[entry["ai"][:2]] == len(entry["ai"]), entry["ai"]


def test_every_optimisation_is_of_ais_with_a_compressed_form() -> None:
    for code, sequence in OPTIMISATIONS.items():
        assert any(c in "ABCDEF" for c in code)
        for ai in sequence:
            assert parts_of(ai)


# ------------------------------------------------------------------------------ round trips

SERIALS = st.text(
    alphabet="!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz",
    min_size=1,
    max_size=20,
)


@given(
    gtin=st.sampled_from(["09506000134352", "19506000134359", "04006381333931", "00036000291452"]),
    serial=st.none() | SERIALS,
    lot=st.none() | SERIALS,
    cpv=st.none() | SERIALS,
    expiry=st.none() | st.sampled_from(["261231", "250101", "991231"]),
    optimise=st.booleans(),
)
def test_any_passports_link_round_trips_through_compression(
    gtin: str, serial: str | None, lot: str | None, cpv: str | None, expiry: str | None, optimise: bool
) -> None:
    link = DigitalLink(
        int(gtin),
        serial=serial,
        lot=lot,
        cpv=cpv,
        attributes=(("17", expiry),) if expiry else (),
        resolver="https://r.example",
    )
    elements = [("01", gtin), *((ai, v) for ai, v in (("22", cpv), ("10", lot), ("21", serial), ("17", expiry)) if v)]

    segment = compress(elements, optimise=optimise)

    assert dict(decompress(segment).elements) == dict(elements)
    assert decompress_digital_link("https://r.example/" + segment) == str(link)
    assert DigitalLink.parse(decompress_digital_link("https://r.example/" + segment)) == link


@pytest.mark.parametrize(
    ("key", "path"),
    [
        (ProductKey.sscc("106141412345678908"), "/00/106141412345678908"),
        (ProductKey.giai("0614141WAGON7"), "/8004/0614141WAGON7"),
        (ProductKey.giai("0614141A/B-7"), "/8004/0614141A%2FB-7"),  # 7-bit ASCII
    ],
)
def test_sscc_and_giai_round_trip(key: ProductKey, path: str) -> None:
    other = key.other_key
    assert other is not None

    segment = compress([other])

    assert decompress_path("/" + segment) == path
    assert key.digital_link("https://r.example") == "https://r.example" + path


@pytest.mark.parametrize("value", ["0001", "007", "0", "00000000000000000000"])
def test_leading_zeros_of_an_all_digit_value_survive(value: str) -> None:
    segment = compress([("01", "09506000134352"), ("21", value)])

    assert decompress(segment).elements == (("01", "09506000134352"), ("21", value))


def test_a_partially_compressed_link_keeps_its_primary_key_uncompressed() -> None:
    rest = compress([("21", "BAG-001"), ("17", "261231")])

    assert decompress_path(f"/01/09506000134352/{rest}") == "/01/09506000134352/21/BAG-001?17=261231"
    assert decompress_digital_link(f"https://r.example/p/gtin/09506000134352/{rest}?x=1") == (
        "https://r.example/p/01/09506000134352/21/BAG-001?17=261231&x=1"
    )


@pytest.mark.parametrize(
    ("path", "compressed"),
    [
        ("/HxHKVAdpQgZzjr-hCDKigI", True),
        ("/01/09506000134352/ARHK", True),
        ("/01/09506000134352/21/BAG1", False),
        ("/01/09506000134352", False),
        ("/01/09506000134352/21", False),  # a qualifier without its value, not data
        ("/01/09506000134352/ser", False),
        ("/00/106141412345678908", False),
        ("/favicon.ico", False),
        ("/", False),
    ],
)
def test_which_paths_have_a_compressed_shape(path: str, compressed: bool) -> None:
    assert is_compressed_path(path) is compressed


@pytest.mark.parametrize(
    ("uri", "compressed"),
    [
        ("https://dlnkd.tn.gg/HxHKVAdpQgZzjr-hCDKigI", True),
        ("https://r.example/p/HxHKVAdpQgZzjr-hCDKigI?x=1", True),  # a resolver's path prefix
        ("https://r.example/p/gtin/09506000134352/ARHK", True),
        ("https://r.example/01/09506000134352/21/BAG1", False),  # BAG1 has the alphabet, after a key
        ("https://r.example/01/09506000134352/22/01/21/BAG1", False),  # /01/ as a value, after the key
        ("https://r.example/01/x/ARHKVAdpQg", True),  # partially, with a GTIN "x" (refused when read)
        ("https://r.example/01/x/01/09506000134352/ARHK", False),  # a prefix naming a key: not compressed
        ("https://r.example/8004/0614141WAGON7", False),
        ("https://r.example/00/106141412345678908", False),
        ("https://r.example/HxHKVAdpQgZzjr-hCDKigI/", False),  # a trailing slash, refused as uncompressed
        ("urn:epc:id:sgtin:0614141.812345.6789", False),
        ("https:///HxHKVAdpQgZzjr-hCDKigI", False),
        ("(01)09506000134352(21)BAG1", False),
    ],
)
def test_which_uris_have_a_compressed_shape(uri: str, compressed: bool) -> None:
    assert is_compressed_digital_link(uri) is compressed
    if not compressed:
        with pytest.raises(InvalidInput, match="is no compressed GS1 Digital Link URI"):
            decompress_digital_link(uri)


# ---------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/ARHKVAdp", r"ends in the middle of the value of AI 01"),  # cut short
        ("/hello", r"an AI beginning 85, and no GS1 Application Identifier does"),
        ("/ARHKVAdpQh", r"ends with bits that are no element"),  # padding not zero
        ("/ARHKVAdpQgA", r"ends in the middle of the value of AI 00"),  # a character too many
        ("/FA", r"AI beginning 14"),  # 0x14: a prefix no AI has
        ("/ARHKVAdpQgEA", r"ends in the middle"),
        ("/" + "z" * 12, r"neither an AI nor"),
        ("/Ab__________", r"more than its 14 digits"),  # a GTIN of 15 digits
        ("/DBHKVAdpQgqr", r"ends in the middle"),
    ],
)
def test_malformed_compressed_paths_are_one_sentence(path: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        decompress_path(path)
    sentence = str(caught.value)
    assert sentence.startswith(f"{path!r} is not a GS1 Digital Link path, compressed or not: ")
    assert sentence.endswith(".") and sentence.count(". ") == 0


def _bits(segment: str) -> str:
    return "".join(f"{ALPHABET.index(c):06b}" for c in segment)


def _segment(bits: str) -> str:
    bits += "0" * (-len(bits) % 6)
    return "".join(ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def test_an_encoding_indicator_above_4_is_refused() -> None:
    bits = _bits(compress([("01", "09506000134352"), ("21", "BAG1")], optimise=False))
    at = 8 + 47 + 8  # after AI 01, its GTIN and AI 21: the serial's encoding indicator
    assert bits[at : at + 3] == "011"  # base64

    with pytest.raises(InvalidInput, match="has encoding 7, and GS1's are 0 to 4"):
        decompress(_segment(bits[:at] + "111" + bits[at + 3 :]))


def test_an_ai_given_twice_is_refused() -> None:
    gtin = _bits(compress([("01", "09506000134352")]))[:55]
    serial_a, serial_b = (_bits(compress([("21", s)]))[:20] for s in "AB")  # 8 + 3 + 5 + 4 bits

    with pytest.raises(InvalidInput, match="it gives AI 21 twice"):
        decompress(_segment(gtin + serial_a + serial_b))
    with pytest.raises(InvalidInput, match="primary key twice"):
        decompress_path("/01/09506000134352/" + _segment(gtin + serial_a))


@pytest.mark.parametrize(
    ("elements", "problem"),
    [
        ([("21", "BAG1")], r"0 GS1 primary keys \(none\)"),
        ([("01", "09506000134352"), ("00", "106141412345678908")], r"2 GS1 primary keys \(00, 01\)"),
    ],
)
def test_a_compressed_link_has_one_primary_key(elements: list[tuple[str, str]], problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        decompress_path("/" + compress(elements))


@pytest.mark.parametrize(("ai", "problem"), [("8099", "no GS1 Application Identifier"), ("4330", "no compressed form")])
def test_ais_without_a_compressed_form_are_named(ai: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parts_of(ai)
