"""Who is who in the tests, and how an account gets an identity, ETH, consents or a second
signature: plain helpers the test modules import (the fixtures that set up the world are in
conftest.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from web3.types import TxReceipt, Wei

from chainpass.attributes import Credential
from chainpass.chain import Chain, Sender
from chainpass.deployment import Deployment
from chainpass.identity import IdentityRegistry
from chainpass.signatures import SECP256K1_N

YEAR = 365 * 24 * 60 * 60
PERSON: dict[str, str] = {
    "name": "Ada Lovelace",
    "date_of_birth": "1990-12-10",
    "national_id": "NL-123456789",
    "address": "1 Main Street, Utrecht",
}
#: The dev account that funds holders; not one of the roles.
FAUCET_INDEX = 9


@dataclass(frozen=True)
class Roles:
    """Who is who in the tests: dev accounts by role."""

    governor: ChecksumAddress
    bureau: ChecksumAddress  # an authority that may grant high
    clinic: ChecksumAddress  # an authority that may grant only low
    bank: ChecksumAddress
    hotel: ChecksumAddress
    holder: ChecksumAddress
    other_holder: ChecksumAddress
    stranger: ChecksumAddress


@dataclass(frozen=True)
class World:
    """A backend's chain with the registry deployed and the ``Roles`` appointed (the
    ``world`` fixture)."""

    chain: Chain
    deployment: Deployment
    registry: IdentityRegistry
    roles: Roles


def credential_for(holder: str, **changes: str) -> Credential:
    """``PERSON``'s credential (with ``changes``) for ``holder``, issued on a fixed day."""
    return Credential.issue(holder, {**PERSON, **changes}, on=dt.date(2025, 1, 1))


def fund(chain: Chain, account: str, value: int = 10**18) -> None:
    """Send ``value`` wei to ``account`` from the faucet dev account."""
    tx_hash = chain.w3.eth.send_transaction(
        {"from": chain.account(FAUCET_INDEX), "to": to_checksum_address(account), "value": Wei(value)}
    )
    chain.w3.eth.wait_for_transaction_receipt(tx_hash)


def grant_consents(
    registry: IdentityRegistry, holder: Sender, parties: Iterable[str], until: int | None = None
) -> list[TxReceipt]:
    """``holder`` (able to pay gas) consents to each of ``parties``, for ten years by default."""
    end = until if until is not None else registry.chain.latest_timestamp() + 10 * YEAR
    return [registry.grant_consent(party, end, sender=holder) for party in parties]


def new_account() -> LocalAccount:
    """A fresh key: an address that never held ETH or an identity."""
    account: LocalAccount = Account.create()
    return account


def malleated(signature: bytes) -> bytes:
    """The other valid ECDSA signature of the same message: s' = n - s, v flipped (27 <-> 28)."""
    s, v = int.from_bytes(signature[32:64], "big"), signature[64]
    assert v in (27, 28)
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
