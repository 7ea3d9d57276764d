"""Salted attribute commitments and selective disclosure (`chainpass.attributes`), all off-chain."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from chainpass.attributes import (
    REQUIRED_ATTRIBUTES,
    SALT_BYTES,
    Credential,
    Disclosure,
    attribute_leaf,
    merkle_proof,
    merkle_root,
    verify_proof,
)
from chainpass.errors import DisclosureInvalid, InvalidInput

HOLDER = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
OTHER_HOLDER = "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2"
ISSUED_ON = dt.date(2025, 6, 1)
PERSON: dict[str, Any] = {
    "name": "Grace Hopper",
    "date_of_birth": "1990-12-09",
    "national_id": "US-1906",
    "address": "42 Navy Yard, Arlington",
}

leaf_lists = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=20, unique=True)


def issue(**changes: Any) -> Credential:
    return Credential.issue(HOLDER, {**PERSON, **changes}, on=ISSUED_ON)


def flip_byte(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def hex32(data: bytes) -> str:
    return "0x" + data.hex()


# ----------------------------------------------------------------------------- merkle


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists)
def test_every_proof_verifies_against_the_root(leaves: list[bytes]) -> None:
    root = merkle_root(leaves)

    proofs = {leaf: merkle_proof(leaves, leaf) for leaf in leaves}

    assert all(verify_proof(proof, root, leaf) for leaf, proof in proofs.items())
    assert merkle_root(reversed(leaves)) == root


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists.filter(lambda ls: len(ls) >= 2), data=st.data())
def test_a_flipped_proof_byte_fails(leaves: list[bytes], data: st.DataObject) -> None:
    leaf = data.draw(st.sampled_from(leaves), label="leaf")
    proof = list(merkle_proof(leaves, leaf))
    step = data.draw(st.integers(0, len(proof) - 1), label="step")
    byte = data.draw(st.integers(0, 31), label="byte")
    proof[step] = flip_byte(proof[step], byte)

    assert not verify_proof(proof, merkle_root(leaves), leaf)


@settings(max_examples=30, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_a_flipped_leaf_byte_fails(leaves: list[bytes], data: st.DataObject) -> None:
    leaf = data.draw(st.sampled_from(leaves), label="leaf")
    byte = data.draw(st.integers(0, 31), label="byte")

    assert not verify_proof(merkle_proof(leaves, leaf), merkle_root(leaves), flip_byte(leaf, byte))


def test_small_trees_hash_sorted_pairs() -> None:
    a, b, c = (bytes([n]) * 32 for n in (1, 2, 3))

    def pair(x: bytes, y: bytes) -> bytes:
        return keccak(min(x, y) + max(x, y))

    assert merkle_root([a]) == a
    assert merkle_proof([a], a) == ()
    assert merkle_root([b, a]) == keccak(a + b)
    assert merkle_root([c, a, b]) == pair(pair(a, b), c)  # the odd node is promoted unhashed
    assert merkle_proof([a, b, c], c) == (pair(a, b),)
    assert merkle_proof([a, b, c], a) == (b, c)


def test_no_leaves_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one attribute"):
        merkle_root([])


# ------------------------------------------------------------------------- issuing


def test_issue_salts_every_attribute_and_derives_age() -> None:
    credential = issue(national_id=1906)

    salts = [a.salt for a in credential.attributes]
    values = {a.key: a.value for a in credential.attributes}

    assert all(len(s) == SALT_BYTES == 32 for s in salts)
    assert len(set(salts)) == len(salts)
    assert [a.key for a in credential.attributes] == sorted(values)
    assert values == {**PERSON, "national_id": "1906", "age_over_18": "true"}
    assert credential.holder == HOLDER
    assert credential.commitment == merkle_root(a.leaf for a in credential.attributes)


def test_issuing_twice_gives_different_salts_and_commitments() -> None:
    first, second = issue(), issue()

    assert {a.salt for a in first.attributes}.isdisjoint(a.salt for a in second.attributes)
    assert first.commitment != second.commitment


@pytest.mark.parametrize(
    ("born", "on", "over_18"),
    [
        ("2000-06-15", "2018-06-14", "false"),
        ("2000-06-15", "2018-06-15", "true"),
        ("2000-06-15", "2018-06-16", "true"),
        ("2000-06-15", "2017-12-31", "false"),
        ("2000-02-29", "2018-02-28", "false"),
        ("2000-02-29", "2018-03-01", "true"),
        ("2018-06-15", "2018-06-15", "false"),
    ],
)
def test_age_over_18_around_the_18th_birthday(born: str, on: str, over_18: str) -> None:
    credential = Credential.issue(HOLDER, {**PERSON, "date_of_birth": born}, on=dt.date.fromisoformat(on))

    assert credential.attribute("age_over_18").value == over_18


@pytest.mark.parametrize("missing", REQUIRED_ATTRIBUTES)
def test_missing_required_field_is_refused(missing: str) -> None:
    person = {k: v for k, v in PERSON.items() if k != missing}

    with pytest.raises(InvalidInput, match=missing):
        Credential.issue(HOLDER, person, on=ISSUED_ON)


@pytest.mark.parametrize("born", ["1990-13-01", "1990-02-30", "10/12/1990", "yesterday"])
def test_bad_date_of_birth_is_refused(born: str) -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        issue(date_of_birth=born)


def test_date_of_birth_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidInput, match="future"):
        issue(date_of_birth="2030-01-01")


@pytest.mark.parametrize("value", [{"street": "Main"}, ["Main", "Street"], None, 1.5, "", "   "], ids=repr)
def test_nested_or_empty_values_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match="'address'"):
        issue(address=value)


@pytest.mark.parametrize(
    ("person", "fragment"),
    [
        ({**PERSON, "age_over_18": True}, "derived"),
        ({**PERSON, "Nickname": "Amazing"}, "Attribute name"),
        ({**PERSON, "nick-name": "Amazing"}, "Attribute name"),
        ([("name", "Grace")], "JSON object"),
    ],
    ids=["derived", "upper-case-key", "dash-in-key", "not-a-mapping"],
)
def test_malformed_attributes_are_refused(person: Any, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        Credential.issue(HOLDER, person, on=ISSUED_ON)


def test_bad_holder_is_refused() -> None:
    with pytest.raises(InvalidInput, match="holder"):
        Credential.issue("0x1234", PERSON, on=ISSUED_ON)


def test_canonical_values() -> None:
    credential = issue(national_id=77, address="  7 Quay  ", veteran=True, retired=False)

    assert credential.attribute("national_id").value == "77"
    assert credential.attribute("address").value == "7 Quay"
    assert credential.attribute("veteran").value == "true"
    assert credential.attribute("retired").value == "false"
    with pytest.raises(InvalidInput, match="no attribute 'shoe_size'"):
        credential.attribute("shoe_size")


# -------------------------------------------------------------- credential JSON


def test_credential_json_round_trip() -> None:
    credential = issue()

    restored = Credential.from_json(json.loads(json.dumps(credential.to_json())))

    assert restored == credential
    assert restored.to_json()["commitment"] == hex32(credential.commitment)


@pytest.mark.parametrize(
    "tamper",
    ["value", "salt", "key", "commitment", "drop-attribute", "value-type"],
)
def test_credential_tampering_is_detected(tamper: str) -> None:
    data = issue().to_json()
    first = data["attributes"][0]
    if tamper == "value":
        first["value"] += "!"
    elif tamper == "salt":
        first["salt"] = hex32(flip_byte(bytes.fromhex(first["salt"][2:]), 5))
    elif tamper == "key":
        first["key"] = "zz_" + first["key"]
    elif tamper == "commitment":
        data["commitment"] = hex32(bytes(32))
    elif tamper == "drop-attribute":
        del data["attributes"][0]
    else:
        first["value"] = 18

    with pytest.raises(InvalidInput, match="altered"):
        Credential.from_json(data)


@pytest.mark.parametrize(
    "data",
    [
        {"format": "something-else/1"},
        {"format": "chainpass-credential/1"},
        {"format": "chainpass-credential/1", "holder": HOLDER, "attributes": [{"key": "name"}]},
        {
            "format": "chainpass-credential/1",
            "holder": HOLDER,
            "attributes": [{"key": "a", "value": "b", "salt": "0x12"}],
        },
        None,
    ],
    ids=["format", "no-holder", "no-salt", "short-salt", "null"],
)
def test_malformed_credential_json_is_refused(data: Any) -> None:
    with pytest.raises(InvalidInput):
        Credential.from_json(data)


# ---------------------------------------------------------------- disclosures


def test_disclosure_reveals_only_what_was_asked_and_round_trips() -> None:
    credential = issue()
    disclosure = credential.disclose(["age_over_18", "name", "age_over_18"])

    restored = Disclosure.from_text(json.dumps(disclosure.to_json()))

    assert restored == disclosure
    assert disclosure.values() == {"age_over_18": "true", "name": PERSON["name"]}
    assert (disclosure.holder, disclosure.commitment) == (HOLDER, credential.commitment)
    assert PERSON["national_id"] not in json.dumps(disclosure.to_json())
    restored.check_against(credential.commitment)


def test_disclosing_nothing_or_unknown_attributes_is_refused() -> None:
    credential = issue()

    with pytest.raises(InvalidInput, match="at least one"):
        credential.disclose([])
    with pytest.raises(InvalidInput, match="no attribute 'income'"):
        credential.disclose(["name", "income"])


def tampered(disclosure: Disclosure, change: str) -> Disclosure:
    data = copy.deepcopy(disclosure.to_json())
    attribute = data["attributes"][0]
    if change == "value":
        attribute["value"] = "false" if attribute["value"] == "true" else "true"
    elif change == "salt":
        attribute["salt"] = hex32(flip_byte(bytes.fromhex(attribute["salt"][2:]), 0))
    elif change == "proof":
        attribute["proof"][0] = hex32(flip_byte(bytes.fromhex(attribute["proof"][0][2:]), 31))
    elif change == "key":
        attribute["key"] = "age_over_21"
    return Disclosure.from_json(data)


@pytest.mark.parametrize("change", ["value", "salt", "proof", "key"])
def test_check_against_rejects_an_altered_attribute(change: str) -> None:
    credential = issue()
    disclosure = tampered(credential.disclose(["age_over_18"]), change)

    with pytest.raises(DisclosureInvalid, match=r"'age_over_(18|21)'"):
        disclosure.check_against(credential.commitment)


def test_check_against_rejects_another_commitment() -> None:
    disclosure = issue().disclose(["name"])
    other = Credential.issue(OTHER_HOLDER, PERSON, on=ISSUED_ON)

    with pytest.raises(DisclosureInvalid, match="outdated or forged"):
        disclosure.check_against(other.commitment)


def test_a_disclosure_cannot_be_moved_to_another_commitment_by_editing_it() -> None:
    """Claiming the other commitment in the disclosure itself does not make its proofs fit."""
    disclosure = issue().disclose(["name"])
    other = Credential.issue(OTHER_HOLDER, PERSON, on=ISSUED_ON)
    data = disclosure.to_json()
    data["commitment"] = hex32(other.commitment)

    with pytest.raises(DisclosureInvalid, match="altered"):
        Disclosure.from_json(data).check_against(other.commitment)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"format": "chainpass-credential/1"}),
        json.dumps({"format": "chainpass-disclosure/1", "holder": HOLDER}),
        json.dumps(
            {
                "format": "chainpass-disclosure/1",
                "holder": HOLDER,
                "commitment": "0x" + "00" * 32,
                "attributes": [{"key": "name", "value": "x", "salt": "0xzz", "proof": []}],
            }
        ),
        json.dumps({"format": "chainpass-disclosure/1", "holder": "nobody", "commitment": "0x", "attributes": []}),
        "[]",
    ],
    ids=["not-json", "credential", "incomplete", "bad-salt", "bad-holder", "list"],
)
def test_malformed_disclosure_is_refused(text: str) -> None:
    with pytest.raises(DisclosureInvalid):
        Disclosure.from_text(text)


def test_leaf_binds_salt_key_and_value() -> None:
    salt = bytes(range(32))

    leaf = attribute_leaf(salt, "name", "Grace")

    assert len(leaf) == 32
    assert leaf != attribute_leaf(salt, "name", "Grace ")
    assert leaf != attribute_leaf(salt, "nam", "eGrace")
    assert leaf != attribute_leaf(flip_byte(salt, 0), "name", "Grace")


# ------------------------------------------------------------------ the compact form (QR codes)


@given(keys=st.lists(st.sampled_from(["name", "date_of_birth", "national_id", "address", "age_over_18"]),
                     min_size=1, unique=True))  # fmt: skip
@settings(max_examples=20, deadline=None)
def test_the_compact_form_reads_back_as_the_same_disclosure(keys: list[str]) -> None:
    disclosure = issue(name="李雷 Lǐ Léi").disclose(keys)

    text = disclosure.to_compact()

    assert text.startswith("cpd1.") and set(text[5:]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )  # URL-safe: it travels in a link's fragment
    assert Disclosure.from_compact(text) == disclosure
    assert Disclosure.from_text(f"https://desk.example.org/desk#{text}\n") == disclosure
    assert Disclosure.from_text(json.dumps(disclosure.to_json())) == disclosure
    assert len(text) < len(json.dumps(disclosure.to_json(), separators=(",", ":")))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", "neither its JSON nor its QR code's text"),
        ("cpd1.", "cut short or damaged"),
        ("cpd1.AAAA", "cut short or damaged"),
        ("cpd1.@@@@!", "not base64url"),
        ("https://desk.example.org/desk#", "neither its JSON nor its QR code's text"),
    ],
)
def test_a_damaged_compact_form_is_refused_in_one_sentence(text: str, expected: str) -> None:
    with pytest.raises(DisclosureInvalid, match=expected):
        Disclosure.from_text(text)


def test_a_cut_compact_form_is_refused() -> None:
    text = issue().disclose(["name", "age_over_18"]).to_compact()

    for end in (10, 40, len(text) // 2, len(text) - 3):
        with pytest.raises(DisclosureInvalid):
            Disclosure.from_compact(text[:end])
