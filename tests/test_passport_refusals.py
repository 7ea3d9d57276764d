"""Refusals: every custom error of ProductPassport decodes to a readable sentence, with
its arguments named (enums by their names, roles by theirs, hashes not as raw hex), and the
refusals of issue 11 say who may act and what to do. No chain: revert data built here."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from passport_world import (
    T0,
    shown,
)
from support import assert_readable

from chainpass import enums
from chainpass.artifacts import ANCHOR_CONTRACT, DEPLOYABLE_CONTRACTS, FINANCE_CONTRACTS, load_artifact
from chainpass.enums import Role, State
from chainpass.reverts import ENUM_NAMES, FLAG_NAMES, MESSAGES, decode_revert

PASSPORT_ERRORS = [e for e in load_artifact("ProductPassport").abi if e["type"] == "error"]


ERROR_CASES = [pytest.param(e, id=e["name"]) for e in PASSPORT_ERRORS]
#: Samples by argument name where the type alone would give a meaningless value.
NAMED_SAMPLES: dict[str, Any] = {"nowTime": T0 + 60, "prefix": 9506000, "length": 7}


@pytest.mark.parametrize("entry", ERROR_CASES)
def test_every_passport_error_decodes_to_a_sentence(entry: dict[str, Any]) -> None:
    samples: dict[str, Any] = {
        "address": "0x" + "ab" * 20,
        "uint8": 3,
        "uint24": 2,
        "uint40": 1_767_225_600,
        "uint64": 9506000134352,
        "uint256": int.from_bytes(keccak(text="a passport"), "big"),
        "bytes32": b"LOT-7".ljust(32, b"\0"),
    }
    names = [i["name"] for i in entry["inputs"]]
    types = [i["type"] for i in entry["inputs"]]
    values = [NAMED_SAMPLES.get(n, samples[t]) for n, t in zip(names, types, strict=True)]
    data = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})") + abi_encode(types, values)

    revert = decode_revert(data)

    assert entry["name"].startswith("Passport")
    assert entry["name"] in MESSAGES
    assert revert is not None and revert.error == entry["name"]
    assert set(revert.error_args) == {i["name"] for i in entry["inputs"]}
    assert_readable(revert)
    message = str(revert)
    assert "refused:" not in message and "=" not in message
    for name, type_ in zip(revert.error_args, types, strict=True):
        if name == "prefix":  # a prefix: its digits, leading zeros included
            assert revert.error_args[name] == str(NAMED_SAMPLES[name]).zfill(NAMED_SAMPLES["length"])
            assert str(NAMED_SAMPLES[name]) in message
        elif name in NAMED_SAMPLES:  # a time or a length: shown as the number it is
            assert revert.error_args[name] == NAMED_SAMPLES[name]
            assert str(NAMED_SAMPLES[name]) in message
        elif type_ == "uint256":  # a passport
            assert revert.error_args[name] == shown(samples["uint256"])
            assert shown(samples["uint256"]) in message
        if name in ENUM_NAMES:
            assert revert.error_args[name] == ENUM_NAMES[name][3]
        if type_ == "uint40":
            assert str(samples["uint40"]) in message
        if type_ == "address":
            assert revert.error_args[name] == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
            assert revert.error_args[name] in message
    if "serial" in revert.error_args:
        assert "'LOT-7'" in message and "09506000134352" in message


HASH_ERRORS = [e for e in PASSPORT_ERRORS if any(i["type"] == "bytes32" and i["name"] != "serial" for i in e["inputs"])]


@pytest.mark.parametrize("entry", HASH_ERRORS, ids=lambda e: e["name"])
def test_hash_arguments_are_not_shown_as_raw_hex_or_addresses(entry: dict[str, Any]) -> None:
    """A transformation id or signature value is a 32-byte hash: the sentence must not show
    it as raw hex whose first 40 digits read as an (unchecksummed) address."""
    samples = {
        "address": "0x" + "ab" * 20,
        "uint8": 16,
        "uint256": int.from_bytes(keccak(text="a passport"), "big"),
        "bytes32": keccak(text="urn:uuid:mill-run-2026-11-27"),
    }
    types = [i["type"] for i in entry["inputs"]]
    data = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})") + abi_encode(
        types, [samples[t] for t in types]
    )

    revert = decode_revert(data)

    assert revert is not None and revert.error == entry["name"]
    assert_readable(revert)


def test_every_enum_argument_of_an_error_is_decoded_by_its_own_enums_names() -> None:
    """Error decoding names enum arguments from chainpass.enums: each enum-typed argument
    of every error in our contracts' ABIs is named from the enum its type names, by argument name."""
    enum_args = {
        (arg["name"], arg["internalType"].rpartition(".")[2])
        for contract in (*DEPLOYABLE_CONTRACTS, *FINANCE_CONTRACTS, ANCHOR_CONTRACT)
        for entry in load_artifact(contract).abi
        if entry["type"] == "error"
        for arg in entry["inputs"]
        if arg["internalType"].startswith("enum ")
    }

    # The passports pass a holder's standing in the registry as a uint8.
    assert {name for name, _enum in enum_args} | {"standing"} == set(ENUM_NAMES)
    for name, enum in [*enum_args, ("standing", "Standing")]:
        assert ENUM_NAMES[name] == tuple(label_of(m) for m in getattr(enums, enum)), name


def label_of(member: enums.NamedEnum) -> str:
    return enums.STATUS_PHRASES[member] if isinstance(member, enums.Status) else member.label


def test_role_names_match_the_python_roles() -> None:
    assert FLAG_NAMES["role"][:5] == ("producer", "inspector", "carrier", "customs", "retailer")
    assert [1 << i for i in range(len(FLAG_NAMES["role"]))] == [int(m) for m in Role]


@pytest.mark.parametrize(
    ("role", "shown_as"),
    [
        (0, "any role"),
        (1, "producer"),
        (4 | 1, "producer or carrier"),
        (1 | 4 | 16, "producer, carrier or retailer"),
        (32, "registrar"),
        (1 | 64, "producer or food_safety"),
    ],
)
def test_missing_role_names_the_roles(role: int, shown_as: str) -> None:
    data = function_signature_to_4byte_selector("PassportMissingRole(address,uint8)") + abi_encode(
        ["address", "uint8"], ["0x" + "ab" * 20, role]
    )

    revert = decode_revert(data)

    assert revert is not None
    assert revert.error_args["role"] == shown_as
    assert f"({shown_as})" in str(revert)


HOLDER = "0x" + "12" * 20
ACCOUNT = "0x" + "34" * 20


@pytest.mark.parametrize(
    ("error", "types", "values", "says"),
    [
        (
            "PassportNotHolder",
            ["uint256", "address", "address"],
            [2**255 + 7, HOLDER, ACCOUNT],
            ["Only " + to_checksum_address(HOLDER), "not " + to_checksum_address(ACCOUNT), "take custody first"],
        ),
        ("PassportEventInFuture", ["uint40", "uint256"], [T0 + 3600, T0], [str(T0 + 3600), str(T0), "15 minutes"]),
        ("PassportNotItsProducer", ["uint256", "address"], [7, HOLDER], [to_checksum_address(HOLDER), "food-safety"]),
        (
            "PassportCustodianInForce",
            ["uint256", "address"],
            [7, HOLDER],
            [to_checksum_address(HOLDER), "revoked", "the governor for a repair"],
        ),
        ("PassportInactive", ["uint256", "uint8"], [7, State.CONSUMED], ["consumed"]),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("Passport") else "",
)
def test_the_refusals_of_issue_11_say_who_may_act_and_what_to_do(
    error: str, types: list[str], values: list[Any], says: list[str]
) -> None:
    data = function_signature_to_4byte_selector(f"{error}({','.join(types)})") + abi_encode(types, values)

    revert = decode_revert(data)

    assert revert is not None and revert.error == error
    assert_readable(revert)
    for fragment in says:
        assert fragment in str(revert), (fragment, str(revert))
