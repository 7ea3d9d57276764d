"""Assertions the test modules share: a refusal by the contract, a refusal by the client
before anything is sent, and the events a receipt holds; and the skip of a module whose
conformance data is absent. Plain functions, imported by the test modules (fixtures live in
conftest.py, passport_world.py and cli_world.py; accounts and identities in accounts.py,
the test-only contracts in solidity.py)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from eth_utils import to_checksum_address
from web3.logs import DISCARD
from web3.types import TxReceipt

from chainpass.chain import Chain
from chainpass.contract_client import ContractClient
from chainpass.errors import ContractRevert

ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def assert_readable(revert: ContractRevert) -> None:
    """The refusal reads as a sentence: no raw revert data, no placeholders, checksummed addresses."""
    message = str(revert)
    assert message.endswith("."), message
    assert message[0].isupper() or message.startswith("0x"), message
    assert "0x" not in ADDRESS.sub("", message), f"raw hex in: {message}"
    assert "{" not in message and revert.error not in message, message
    assert not message.startswith("The contract refused"), message
    for address in ADDRESS.findall(message):
        assert address == to_checksum_address(address), message


def assert_refused(chain: Chain, call: Callable[[], object], error: str, **args: object) -> ContractRevert:
    """``call`` is refused by the contract with custom error ``error`` (whose shown arguments
    include ``args``), as a readable sentence, and nothing is mined."""
    head = chain.w3.eth.get_block("latest")
    with pytest.raises(ContractRevert) as info:
        call()
    after = chain.w3.eth.get_block("latest")
    assert info.value.error == error, str(info.value)
    for name, value in args.items():
        assert info.value.error_args[name] == value, (name, info.value.error_args)
    assert_readable(info.value)
    assert (after["number"], after["hash"]) == (head["number"], head["hash"])
    return info.value


def refused_by_client(chain: Chain, call: Callable[[], object], kind: type[Exception], fragment: str) -> None:
    """``call`` is refused by the client with ``kind`` before anything is sent."""
    head = bytes(chain.w3.eth.get_block("latest")["hash"])
    with pytest.raises(kind, match=fragment) as info:
        call()
    assert not isinstance(info.value, ContractRevert)
    assert bytes(chain.w3.eth.get_block("latest")["hash"]) == head


def logs(client: ContractClient, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
    """The arguments of every ``name`` event of ``client``'s contract in ``receipt``."""
    processed = getattr(client.contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return [dict(e["args"]) for e in processed]


def require_shared(folder: Path, environ: Mapping[str, str] = os.environ) -> None:
    """Skip the calling test module when ``folder`` (a part of ../shared, which CI keeps
    beside the checkout) is absent, as on a laptop; with ``CI=true``, fail instead: CI must
    never pass by skipping its conformance tests."""
    if folder.is_dir():
        return
    reason = f"{folder} is absent (../shared is not beside this checkout)"
    if environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: with CI=true the conformance tests must run", pytrace=False)
    pytest.skip(reason, allow_module_level=True)
