"""EIP-712 typed data for the holder's gasless actions, and their signatures.

Each message is printed as standard ``eth_signTypedData_v4`` JSON, so any wallet or
tool can sign it, not only chainpass; a :class:`SignedAction` is that JSON plus a
signature, ready for anyone to relay. The domain binds a signature to one chain and
one registry; the deadline to a time. Replay protection is scoped so that no message can
use up an unrelated one: consent messages carry the nonce of their (holder, relying
party) pair, key messages (rotation, cancellation) the holder's key nonce, and an
objection names the very recovery request it objects to.
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
from chainpass.errors import ChainIdMismatch, InvalidInput

DOMAIN_NAME = "chainpass IdentityRegistry"
DOMAIN_VERSION = "1"
#: secp256k1 order: a signature with s above half of it is a malleated copy (EIP-2).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]

#: The holder's actions: primary type -> its fields, in the contract's typehash order.
ACTIONS: dict[str, list[dict[str, str]]] = {
    "GrantConsent": [
        {"name": "holder", "type": "address"},
        {"name": "relyingParty", "type": "address"},
        {"name": "until", "type": "uint40"},
        {"name": "nonce", "type": "uint32"},
        {"name": "deadline", "type": "uint40"},
    ],
    "WithdrawConsent": [
        {"name": "holder", "type": "address"},
        {"name": "relyingParty", "type": "address"},
        {"name": "nonce", "type": "uint32"},
        {"name": "deadline", "type": "uint40"},
    ],
    "CancelSignatures": [
        {"name": "holder", "type": "address"},
        {"name": "nonce", "type": "uint32"},
        {"name": "deadline", "type": "uint40"},
    ],
    "Rotate": [
        {"name": "holder", "type": "address"},
        {"name": "newHolder", "type": "address"},
        {"name": "nonce", "type": "uint32"},
        {"name": "deadline", "type": "uint40"},
    ],
    # An objection names the recovery request it objects to instead of carrying a nonce.
    "CancelRecovery": [
        {"name": "holder", "type": "address"},
        {"name": "newHolder", "type": "address"},
        {"name": "readyAt", "type": "uint40"},
        {"name": "deadline", "type": "uint40"},
    ],
}


@dataclass(frozen=True)
class Domain:
    """Where a signature is valid: one registry on one chain."""

    chain_id: int
    registry: ChecksumAddress

    def to_json(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": self.registry,
        }


@dataclass(frozen=True)
class TypedAction:
    """One holder action as EIP-712 typed data."""

    domain: Domain
    primary_type: str
    message: dict[str, Any]

    @property
    def holder(self) -> ChecksumAddress:
        return to_checksum_address(self.message["holder"])

    @property
    def nonce(self) -> int:
        """The message's nonce (-1 for an objection, which names its recovery instead)."""
        return int(self.message.get("nonce", -1))

    @property
    def deadline(self) -> int:
        return int(self.message["deadline"])

    def to_json(self) -> dict[str, Any]:
        """The ``eth_signTypedData_v4`` document."""
        return {
            "types": {"EIP712Domain": DOMAIN_FIELDS, self.primary_type: ACTIONS[self.primary_type]},
            "primaryType": self.primary_type,
            "domain": self.domain.to_json(),
            "message": dict(self.message),
        }

    @classmethod
    def from_json(cls, data: Any) -> TypedAction:
        """Read a typed-data document back, refusing anything that is not one of ours."""
        try:
            primary_type = data["primaryType"]
            if primary_type not in ACTIONS:
                raise InvalidInput(f"{primary_type!r} is not a chainpass action: one of {', '.join(ACTIONS)}.")
            if data["types"][primary_type] != ACTIONS[primary_type]:
                raise InvalidInput(f"The typed data's {primary_type} fields differ from the contract's.")
            domain = data["domain"]
            if (domain["name"], domain["version"]) != (DOMAIN_NAME, DOMAIN_VERSION):
                raise InvalidInput("The typed data's domain is not the chainpass identity registry's.")
            message = {}
            for field in ACTIONS[primary_type]:
                value = data["message"][field["name"]]
                message[field["name"]] = (
                    parse_address(value, field["name"]) if field["type"] == "address" else int(value)
                )
            return cls(
                Domain(int(domain["chainId"]), parse_address(domain["verifyingContract"])),
                primary_type,
                message,
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput(f"The typed data is incomplete or malformed ({exc!r}).") from None

    def check_domain(self, expected: Domain) -> None:
        """Refuse a signature made for another chain or another registry, before relaying it."""
        if self.domain.chain_id != expected.chain_id:
            raise ChainIdMismatch(
                f"This message was made for chain {self.domain.chain_id}, but the registry is on chain "
                f"{expected.chain_id}: have the holder sign it again for this chain."
            )
        if self.domain.registry != expected.registry:
            raise InvalidInput(
                f"This message was made for the registry at {self.domain.registry}, not {expected.registry}."
            )

    def sign(self, account: LocalAccount) -> SignedAction:
        """Sign with a local key (what a wallet's eth_signTypedData_v4 does)."""
        if account.address != self.holder:
            raise InvalidInput(f"The message is for holder {self.holder}; account {account.address} cannot sign it.")
        signed = Account.sign_typed_data(account.key, full_message=self.to_json())
        return SignedAction(self, bytes(signed.signature))

    def signer(self, signature: bytes) -> ChecksumAddress:
        """The address that made ``signature`` over this message (for plain ECDSA keys)."""
        return to_checksum_address(
            Account.recover_message(encode_typed_data(full_message=self.to_json()), signature=signature)
        )


@dataclass(frozen=True)
class SignedAction:
    """A typed action and the holder's signature: what a relayer submits."""

    action: TypedAction
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"typedData": self.action.to_json(), "signature": "0x" + self.signature.hex()}


def parse_signature(text: str) -> bytes:
    """A signature from its hex form; ECDSA signatures must be 65 bytes with a low s.

    A 65-byte signature whose v is 0 or 1 (as some wallets and hardware signers give it)
    is the same signature as with v 27 or 28, the only form the contracts take
    (OpenZeppelin's ECDSA): it is given that form here."""
    value = text.strip().removeprefix("0x")
    try:
        signature = bytes.fromhex(value)
    except ValueError:
        raise InvalidInput("The signature must be hex (0x followed by 130 hex digits).") from None
    if not signature:
        raise InvalidInput("The signature is empty.")
    if len(signature) == 65 and signature[64] in (0, 1):
        signature = signature[:64] + bytes([signature[64] + 27])
    return signature


def is_high_s(signature: bytes) -> bool:
    """Whether a 65-byte ECDSA signature has a malleated (high) s."""
    return len(signature) == 65 and int.from_bytes(signature[32:64], "big") > SECP256K1_N // 2


def load_typed_action(text: str) -> TypedAction:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The typed data is not JSON: {exc.msg} at line {exc.lineno}.") from None
    if isinstance(data, dict) and "typedData" in data:  # a SignedAction document
        data = data["typedData"]
    return TypedAction.from_json(data)
