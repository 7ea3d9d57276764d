"""Salted attribute commitments and selective disclosure, all off-chain.

An authority turns a person's verified attributes into a :class:`Credential`: each
attribute gets its own random 256-bit salt and becomes a Merkle leaf

    leaf = keccak256(keccak256(abi.encode(bytes32 salt, string key, string value)))

and the Merkle root of the leaves (sorted-pair hashing, as OpenZeppelin's MerkleProof)
is the only thing that goes on chain. The credential itself, values and salts, goes to
the holder and must stay private. From it the holder makes a :class:`Disclosure` of just
the attributes a relying party needs; the relying party checks it against the on-chain
root (`IdentityRegistry.verifyAttribute` checks one on chain too).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_typing import ChecksumAddress
from eth_utils import keccak

from chainpass.chain import parse_address
from chainpass.errors import DisclosureInvalid, InvalidInput

#: Attributes every verification records.
REQUIRED_ATTRIBUTES = ("name", "date_of_birth", "national_id", "address")
#: Claims derived from the others when the credential is built.
DERIVED_ATTRIBUTES = ("age_over_18",)
SALT_BYTES = 32
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CREDENTIAL_FORMAT = "chainpass-credential/1"
DISCLOSURE_FORMAT = "chainpass-disclosure/1"
#: The compact text form of a disclosure (what its QR code carries): this prefix, then
#: base64url (no padding) of the binary form (see :meth:`Disclosure.to_compact`).
COMPACT_PREFIX = "cpd1."


@dataclass(frozen=True)
class Attribute:
    """One attribute with its salt."""

    key: str
    value: str
    salt: bytes

    @property
    def leaf(self) -> bytes:
        return attribute_leaf(self.salt, self.key, self.value)


def attribute_leaf(salt: bytes, key: str, value: str) -> bytes:
    """The Merkle leaf of one salted attribute (see the module docstring)."""
    return keccak(keccak(abi_encode(["bytes32", "string", "string"], [salt, key, value])))


def _hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    """The root over ``leaves`` (sorted first, so the order given does not matter)."""
    return _levels(sorted(leaves))[-1][0]


def merkle_proof(leaves: Iterable[bytes], leaf: bytes) -> tuple[bytes, ...]:
    """The sibling hashes from ``leaf`` up to the root of ``leaves``."""
    levels = _levels(sorted(leaves))
    index = levels[0].index(leaf)
    proof = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        index //= 2
    return tuple(proof)


def verify_proof(proof: Iterable[bytes], root: bytes, leaf: bytes) -> bool:
    node = leaf
    for sibling in proof:
        node = _hash_pair(node, sibling)
    return node == root


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    if not leaves:
        raise InvalidInput("A commitment needs at least one attribute.")
    levels = [leaves]
    while len(levels[-1]) > 1:
        level = levels[-1]
        parents = [_hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            parents.append(level[-1])  # an odd node is promoted as it is
        levels.append(parents)
    return levels


def canonical_value(key: str, value: Any) -> str:
    """The string form an attribute value is committed in."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        text = str(value).strip()
        if text:
            return text
    raise InvalidInput(f"Attribute {key!r} must be a non-empty string, whole number or true/false, not {value!r}.")


def derive_claims(attributes: Mapping[str, str], on: dt.date) -> dict[str, str]:
    """Claims that follow from the verified attributes, as of date ``on``."""
    born = parse_date(attributes["date_of_birth"], "date_of_birth")
    if born > on:
        raise InvalidInput(f"date_of_birth {born} is in the future.")
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return {"age_over_18": "true" if age >= 18 else "false"}


def parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a date in the form YYYY-MM-DD.") from None


def _normalise(person: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(person, Mapping):
        raise InvalidInput("The attributes must be a JSON object of attribute names to values.")
    missing = [k for k in REQUIRED_ATTRIBUTES if k not in person]
    if missing:
        raise InvalidInput(f"The attributes miss required field(s): {', '.join(missing)}.")
    clash = [k for k in DERIVED_ATTRIBUTES if k in person]
    if clash:
        raise InvalidInput(f"{', '.join(clash)} is derived by chainpass: leave it out of the attributes.")
    values = {}
    for key, value in person.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidInput(f"Attribute name {key!r} must be lower-case letters, digits and _ (max 64).")
        values[key] = canonical_value(key, value)
    return values


@dataclass(frozen=True)
class Credential:
    """A holder's verified attributes with their salts. Private: it holds personal data."""

    holder: ChecksumAddress
    attributes: tuple[Attribute, ...]

    @classmethod
    def issue(cls, holder: str, person: Mapping[str, Any], *, on: dt.date | None = None) -> Credential:
        """Salt ``person``'s attributes (and derived claims) for ``holder``."""
        values = _normalise(person)
        values.update(derive_claims(values, on or dt.date.today()))
        return cls(
            holder=parse_address(holder, "holder"),
            attributes=tuple(
                Attribute(key, value, secrets.token_bytes(SALT_BYTES)) for key, value in sorted(values.items())
            ),
        )

    @property
    def commitment(self) -> bytes:
        """The Merkle root: the only part that goes on chain."""
        return merkle_root(a.leaf for a in self.attributes)

    def attribute(self, key: str) -> Attribute:
        for attribute in self.attributes:
            if attribute.key == key:
                return attribute
        known = ", ".join(a.key for a in self.attributes)
        raise InvalidInput(f"The credential has no attribute {key!r} (it has: {known}).")

    def disclose(self, keys: Iterable[str]) -> Disclosure:
        """A disclosure of just ``keys``, each with its salt and Merkle proof."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            raise InvalidInput("Name at least one attribute to disclose.")
        leaves = [a.leaf for a in self.attributes]
        disclosed = tuple(
            DisclosedAttribute(a.key, a.value, a.salt, merkle_proof(leaves, a.leaf))
            for a in (self.attribute(k) for k in wanted)
        )
        return Disclosure(self.holder, self.commitment, disclosed)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CREDENTIAL_FORMAT,
            "holder": self.holder,
            "commitment": "0x" + self.commitment.hex(),
            "attributes": [{"key": a.key, "value": a.value, "salt": "0x" + a.salt.hex()} for a in self.attributes],
        }

    @classmethod
    def from_json(cls, data: Any) -> Credential:
        try:
            if data["format"] != CREDENTIAL_FORMAT:
                raise InvalidInput(f"This is not a chainpass credential (format {data['format']!r}).")
            credential = cls(
                holder=parse_address(data["holder"], "holder"),
                attributes=tuple(
                    Attribute(str(a["key"]), str(a["value"]), _bytes32(a["salt"], "salt")) for a in data["attributes"]
                ),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"The credential file is incomplete or malformed ({exc}).") from None
        if "0x" + credential.commitment.hex() != data.get("commitment"):
            raise InvalidInput("The credential's attributes do not match its commitment: it was altered.")
        return credential


@dataclass(frozen=True)
class DisclosedAttribute:
    """One revealed attribute, with what it takes to check it against the commitment."""

    key: str
    value: str
    salt: bytes
    proof: tuple[bytes, ...]

    @property
    def leaf(self) -> bytes:
        return attribute_leaf(self.salt, self.key, self.value)


@dataclass(frozen=True)
class Disclosure:
    """What a holder hands a relying party: some attributes, proven against the commitment."""

    holder: ChecksumAddress
    commitment: bytes
    attributes: tuple[DisclosedAttribute, ...]

    def values(self) -> dict[str, str]:
        return {a.key: a.value for a in self.attributes}

    def check_against(self, commitment: bytes) -> None:
        """Raise :class:`DisclosureInvalid` unless every attribute is proven under ``commitment``."""
        if commitment != self.commitment:
            raise DisclosureInvalid(
                f"The disclosure was made for commitment 0x{self.commitment.hex()}, but {self.holder}'s "
                f"commitment on chain is 0x{commitment.hex()}: it is outdated or forged."
            )
        for attribute in self.attributes:
            if not verify_proof(attribute.proof, commitment, attribute.leaf):
                raise DisclosureInvalid(
                    f"Attribute {attribute.key!r} does not match {self.holder}'s commitment: it was altered."
                )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": DISCLOSURE_FORMAT,
            "holder": self.holder,
            "commitment": "0x" + self.commitment.hex(),
            "attributes": [
                {
                    "key": a.key,
                    "value": a.value,
                    "salt": "0x" + a.salt.hex(),
                    "proof": ["0x" + p.hex() for p in a.proof],
                }
                for a in self.attributes
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> Disclosure:
        try:
            if data["format"] != DISCLOSURE_FORMAT:
                raise DisclosureInvalid(f"This is not a chainpass disclosure (format {data['format']!r}).")
            return cls(
                holder=parse_address(data["holder"], "holder"),
                commitment=_bytes32(data["commitment"], "commitment"),
                attributes=tuple(
                    DisclosedAttribute(
                        str(a["key"]),
                        str(a["value"]),
                        _bytes32(a["salt"], "salt"),
                        tuple(_bytes32(p, "proof") for p in a["proof"]),
                    )
                    for a in data["attributes"]
                ),
            )
        except (KeyError, TypeError, InvalidInput) as exc:
            raise DisclosureInvalid(f"The disclosure is incomplete or malformed ({exc}).") from None

    @classmethod
    def from_text(cls, text: str) -> Disclosure:
        """A disclosure from its JSON, its compact form (``cpd1.…``), or a link whose fragment
        holds the compact form (what ``chainpass identity disclose --qr --desk URL`` encodes)."""
        text = text.strip()
        if not text.startswith("{"):
            return cls.from_compact(text.rpartition("#")[2])
        try:
            return cls.from_json(json.loads(text))
        except json.JSONDecodeError as exc:
            raise DisclosureInvalid(f"The disclosure is not JSON: {exc.msg} at line {exc.lineno}.") from None

    def to_compact(self) -> str:
        """The disclosure as short URL-safe text for a QR code: :data:`COMPACT_PREFIX`, then
        base64url (no padding) of: the holder (20 bytes), the commitment (32), then for each
        attribute its key (1 byte of length, UTF-8), value (2 bytes of length, big-endian,
        UTF-8), salt (32) and proof (1 byte of count, 32 bytes each): about half its JSON."""
        out = bytearray(bytes.fromhex(self.holder[2:]) + self.commitment)
        for a in self.attributes:
            key, value = a.key.encode(), a.value.encode()
            if len(key) > 0xFF or len(value) > 0xFFFF or len(a.proof) > 0xFF:
                raise InvalidInput(f"Attribute {a.key!r} is too long for a compact disclosure.")
            out += bytes([len(key)]) + key + len(value).to_bytes(2, "big") + value + a.salt
            out += bytes([len(a.proof)]) + b"".join(a.proof)
        return COMPACT_PREFIX + base64.urlsafe_b64encode(bytes(out)).rstrip(b"=").decode("ascii")

    @classmethod
    def from_compact(cls, text: str) -> Disclosure:
        """The disclosure :meth:`to_compact` wrote; :class:`DisclosureInvalid` for anything else."""
        text = text.strip()
        if not text.startswith(COMPACT_PREFIX):
            raise DisclosureInvalid("This is not a chainpass disclosure: neither its JSON nor its QR code's text.")
        payload = text[len(COMPACT_PREFIX) :]
        try:
            data = base64.b64decode(payload + "=" * (-len(payload) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise DisclosureInvalid("The disclosure's QR text is damaged: it is not base64url.") from None
        reader = _Reader(data)
        holder = parse_address("0x" + reader.take(20).hex(), "holder")
        commitment = reader.take(32)
        attributes = []
        while not reader.done:
            key = reader.text(reader.take(1)[0])
            value = reader.text(int.from_bytes(reader.take(2), "big"))
            salt = reader.take(32)
            proof = tuple(reader.take(32) for _ in range(reader.take(1)[0]))
            attributes.append(DisclosedAttribute(key, value, salt, proof))
        if not attributes:
            raise DisclosureInvalid("The disclosure's QR text reveals no attribute.")
        return cls(holder, commitment, tuple(attributes))


class _Reader:
    """Reads a compact disclosure's bytes in order; running short is a :class:`DisclosureInvalid`."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    @property
    def done(self) -> bool:
        return self.at >= len(self.data)

    def take(self, count: int) -> bytes:
        if self.at + count > len(self.data):
            raise DisclosureInvalid("The disclosure's QR text is cut short or damaged.")
        self.at += count
        return self.data[self.at - count : self.at]

    def text(self, count: int) -> str:
        try:
            return self.take(count).decode("utf-8")
        except UnicodeDecodeError:
            raise DisclosureInvalid("The disclosure's QR text is damaged: a name or value is not UTF-8.") from None


def _bytes32(text: Any, what: str) -> bytes:
    if isinstance(text, str) and re.fullmatch(r"0x[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text[2:])
    raise InvalidInput(f"{what} {text!r} must be 0x followed by 64 hex digits.")
