"""The verification desk's operators (docs/web.md, "The verification desk"): each a name and a
secret of their own, created by ``chainpass desk add-operator`` and shown once. Only a salted
scrypt hash of each secret is kept, in ``HOME/desk/operators.json`` (readable by its owner
only); the desk reads the file at every sign-in and every request, so an operator added or
removed counts at once, without restarting the service.

A secret is 128 random bits (``secrets.token_urlsafe(16)``): guessing one is hopeless, and
scrypt (N=2**14, r=8, p=1: some 16 MB and 50 ms a try) makes a stolen file slow to attack too.
A sign-in under an unknown name costs the same scrypt as a known one, and hashes are compared
with :func:`hmac.compare_digest`: the answer's time tells nothing about which names exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainpass.errors import InvalidInput
from chainpass.files import write_json_atomic

OPERATORS_FORMAT = "chainpass-desk-operators/1"
#: scrypt's cost: N, r, p (RFC 7914), and the hash's length.
SCRYPT_N, SCRYPT_R, SCRYPT_P, HASH_BYTES = 2**14, 8, 1, 32
SECRET_BYTES = 16
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
#: What an unknown name is checked against, so that it costs as much as a known one.
_NOBODY_SALT = bytes(16)


def operators_path(home: Path) -> Path:
    return home / "desk" / "operators.json"


def _hash(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 * 2**20, dklen=HASH_BYTES
    )


@dataclass(frozen=True)
class Operator:
    """An operator as the file keeps them: never the secret, only its salted hash."""

    name: str
    salt: bytes
    hash: bytes
    added: str


class Operators:
    """The operators file of one HOME."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self) -> dict[str, Operator]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text("utf-8"))
            if data.get("format") != OPERATORS_FORMAT:
                raise InvalidInput(f"{self.path} is not a chainpass desk operators file.")
            return {
                name: Operator(name, bytes.fromhex(o["salt"]), bytes.fromhex(o["hash"]), str(o["added"]))
                for name, o in data["operators"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput(f"The desk's operators file {self.path} cannot be read ({exc}).") from None

    def add(self, name: str) -> str:
        """Add operator ``name`` (or give them a new secret): the secret, to be shown once."""
        if not _NAME.match(name):
            raise InvalidInput(
                f"An operator's name is 1 to 32 lower-case letters, digits, '.', '_' or '-', not {name!r}."
            )
        secret = secrets.token_urlsafe(SECRET_BYTES)
        salt = secrets.token_bytes(16)
        operators = self.all()
        added = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        operators[name] = Operator(name, salt, _hash(secret, salt), added)
        self._write(operators)
        return secret

    def remove(self, name: str) -> None:
        operators = self.all()
        if name not in operators:
            known = ", ".join(sorted(operators)) or "none yet"
            raise InvalidInput(f"There is no desk operator {name!r} (there are: {known}).")
        del operators[name]
        self._write(operators)

    def check(self, name: str, secret: str) -> bool:
        """Is ``secret`` operator ``name``'s? As slow for an unknown name as for a known one."""
        operator = self.all().get(name)
        salt = operator.salt if operator else _NOBODY_SALT
        expected = operator.hash if operator else bytes(HASH_BYTES)
        given = _hash(secret, salt)
        return hmac.compare_digest(given, expected) and operator is not None

    def _write(self, operators: dict[str, Operator]) -> None:
        data: dict[str, Any] = {
            "format": OPERATORS_FORMAT,
            "operators": {
                o.name: {"salt": o.salt.hex(), "hash": o.hash.hex(), "added": o.added}
                for o in sorted(operators.values(), key=lambda o: o.name)
            },
        }
        write_json_atomic(self.path, data, private=True)
