"""Custody offers: how goods change hands without landing on anyone who did not take them.

Whoever holds a passport's goods signs an EIP-712 ``CustodyOffer`` naming the receiver,
the passport's custody nonce and a deadline; the receiver submits it with
:meth:`~chainpass.passport.ProductPassports.accept_custody`, and only then holds the
goods. Signing is free and offline; a new custody change (or a cancellation) bumps the
nonce, so an offer is good for one handover only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from chainpass.chain import parse_address
from chainpass.errors import InvalidInput
from chainpass.signatures import DOMAIN_FIELDS, DOMAIN_VERSION, parse_signature

DOMAIN_NAME = "chainpass ProductPassport"
OFFER_FIELDS = [
    {"name": "id", "type": "uint256"},
    {"name": "from", "type": "address"},
    {"name": "to", "type": "address"},
    {"name": "nonce", "type": "uint32"},
    {"name": "deadline", "type": "uint40"},
]


@dataclass(frozen=True)
class CustodyOffer:
    """An offer by ``holder`` to hand passport ``passport``'s goods to ``receiver``."""

    chain_id: int
    contract: ChecksumAddress
    passport: int
    holder: ChecksumAddress
    receiver: ChecksumAddress
    nonce: int
    deadline: int

    def to_json(self) -> dict[str, Any]:
        """The ``eth_signTypedData_v4`` document."""
        return {
            "types": {"EIP712Domain": DOMAIN_FIELDS, "CustodyOffer": OFFER_FIELDS},
            "primaryType": "CustodyOffer",
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": self.chain_id,
                "verifyingContract": self.contract,
            },
            "message": {
                # As a hex string: wallets and nodes (Anvil) take no 256-bit JSON numbers.
                "id": hex(self.passport),
                "from": self.holder,
                "to": self.receiver,
                "nonce": self.nonce,
                "deadline": self.deadline,
            },
        }

    def sign(self, account: LocalAccount) -> SignedOffer:
        """The holder's signature on the offer, made here with its key: no node is asked."""
        if account.address != self.holder:
            raise InvalidInput(f"The offer is {self.holder}'s to sign, not {account.address}'s.")
        signed = Account.sign_typed_data(account.key, full_message=self.to_json())
        return SignedOffer(self, bytes(signed.signature))

    @classmethod
    def from_json(cls, data: Any) -> CustodyOffer:
        """Read an offer document back, refusing anything that is not a chainpass custody offer."""
        try:
            if data["primaryType"] != "CustodyOffer" or data["types"]["CustodyOffer"] != OFFER_FIELDS:
                raise InvalidInput("The document is not a chainpass custody offer.")
            domain, message = data["domain"], data["message"]
            if (domain["name"], domain["version"]) != (DOMAIN_NAME, DOMAIN_VERSION):
                raise InvalidInput("The offer's domain is not chainpass product passports'.")
            return cls(
                chain_id=int(domain["chainId"]),
                contract=parse_address(domain["verifyingContract"], "verifying contract"),
                passport=_uint(message["id"]),
                holder=parse_address(message["from"], "offer's holder"),
                receiver=parse_address(message["to"], "offer's receiver"),
                nonce=_uint(message["nonce"]),
                deadline=_uint(message["deadline"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput(f"The custody offer is incomplete or malformed ({exc!r}).") from None

    def signer(self, signature: bytes) -> ChecksumAddress:
        """The address an ECDSA ``signature`` over this offer recovers to."""
        try:
            return to_checksum_address(
                Account.recover_message(encode_typed_data(full_message=self.to_json()), signature=signature)
            )
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"The offer's signature is malformed ({exc}).") from None


@dataclass(frozen=True)
class SignedOffer:
    """A custody offer and the holder's signature: what the receiver submits."""

    offer: CustodyOffer
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"typedData": self.offer.to_json(), "signature": "0x" + self.signature.hex()}

    @classmethod
    def from_json(cls, data: Any) -> SignedOffer:
        if not isinstance(data, dict) or "typedData" not in data or "signature" not in data:
            raise InvalidInput("A signed offer is JSON with 'typedData' and 'signature' (from `passport offer`).")
        return cls(CustodyOffer.from_json(data["typedData"]), parse_signature(str(data["signature"])))

    @classmethod
    def loads(cls, text: str) -> SignedOffer:
        try:
            return cls.from_json(json.loads(text))
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"The signed offer is not JSON: {exc.msg} at line {exc.lineno}.") from None


def _uint(value: Any) -> int:
    """A typed-data integer: a JSON number, or a decimal or 0x-hex string."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not an integer")
    return value if isinstance(value, int) else int(str(value), 0)
