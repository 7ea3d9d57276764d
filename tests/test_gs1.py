"""GS1 keys (chainpass.gs1): GTIN validation and normalisation, serial and lot numbers, tiers.

Pure Python: no chain. The GTINs below are real-format examples whose check digits were
worked out by hand with the GS1 mod-10 rule (weights 3, 1, 3, ... from the right).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainpass.errors import InvalidInput
from chainpass.gs1 import Kind, ProductKey, parse_gtin, parse_serial

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
