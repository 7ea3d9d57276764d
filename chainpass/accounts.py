"""Encrypted JSON keystores for the CLI and scripts (the format geth and `ape accounts` use).

Keystores live in ``<home>/keystores/<name>.json``, encrypted with scrypt. Passwords
come from a hidden prompt or an environment variable, never from the command line,
and are never written anywhere. A private key exists in plaintext only in memory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from chainpass.chain import Chain, Sender, parse_address
from chainpass.errors import ChainpassError, InvalidInput
from chainpass.files import write_json_atomic

#: scrypt work factor of new keystores: geth's standard (about 0.5 s to unlock here).
STANDARD_SCRYPT_N = 2**18
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class WrongPassword(ChainpassError):
    """The password does not unlock the keystore."""


@dataclass(frozen=True)
class KeystoreEntry:
    name: str
    address: ChecksumAddress
    path: Path


@dataclass(frozen=True)
class KeystoreDirectory:
    """The folder of named keystores."""

    directory: Path

    def path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise InvalidInput(
                f"Account name {name!r} is not a name: it must start with a letter or digit, then letters, "
                "digits, '.', '_' or '-' (64 at most)."
            )
        return self.directory / f"{name}.json"

    def list(self) -> list[KeystoreEntry]:
        if not self.directory.exists():
            return []
        return [
            KeystoreEntry(path.stem, to_checksum_address("0x" + _read(path)["address"].removeprefix("0x")), path)
            for path in sorted(self.directory.glob("*.json"))
        ]

    def _existing(self, name: str) -> Path:
        """The keystore file of account ``name``; :class:`InvalidInput` if there is none."""
        path = self.path(name)
        if not path.exists():
            raise _unknown(self, name)
        return path

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def create(self, name: str, password: str, *, scrypt_n: int = STANDARD_SCRYPT_N) -> KeystoreEntry:
        """A new random key, saved encrypted as ``name``."""
        return self.save(name, Account.create(), password, scrypt_n=scrypt_n)

    def import_key(
        self, name: str, private_key: str, password: str, *, scrypt_n: int = STANDARD_SCRYPT_N
    ) -> KeystoreEntry:
        """Save an existing private key (hex) encrypted as ``name``."""
        try:
            account = Account.from_key(private_key.strip())
        except (ValueError, TypeError):
            raise InvalidInput("That is not a private key: 64 hex digits, with or without 0x.") from None
        return self.save(name, account, password, scrypt_n=scrypt_n)

    def save(
        self, name: str, account: LocalAccount, password: str, *, scrypt_n: int = STANDARD_SCRYPT_N
    ) -> KeystoreEntry:
        path = self.path(name)
        if path.exists():
            raise InvalidInput(f"An account named {name!r} exists already ({path}).")
        if not password:
            raise InvalidInput("A keystore needs a non-empty password.")
        keystore = Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n)
        write_json_atomic(path, keystore, private=True)
        return KeystoreEntry(name, account.address, path)

    def account(self, spec: str, password: Callable[[str], str]) -> LocalAccount:
        """The keystore account ``spec`` (a name or an address), unlocked with the password
        ``password(prompt)`` returns."""
        name = spec.strip()
        if name.startswith("0x"):
            address = parse_address(name, "account")
            named = [entry.name for entry in self.list() if entry.address == address]
            if not named:
                raise InvalidInput(
                    f"Account {address} is not a keystore account in {self.directory} (nor unlocked on "
                    "the node): import its key with `chainpass account import`."
                )
            name = named[0]
        self._existing(name)  # a bad or unknown name is refused before a password is asked for
        return self.unlock(name, password(f"Password for account {name!r}"))

    def sender(self, chain: Chain, spec: str, password: Callable[[str], str]) -> Sender:
        """Who ``--account spec`` means: a dev account the node holds unlocked (its index or
        address), else a keystore account (its name or address)."""
        text = spec.strip()
        if text.isdigit():
            return chain.account(text)
        if text[:1] in "+-" and text[1:].isdigit():
            raise InvalidInput(
                f"--account {text} is not an account: dev accounts are numbered from 0 (`chainpass accounts` "
                "lists them); or give a keystore account's name or address."
            )
        if text.startswith("0x") and parse_address(text, "account") in chain.dev_accounts():
            return parse_address(text, "account")
        return self.account(text, password)

    def unlock(self, name: str, password: str) -> LocalAccount:
        """The account ``name``, decrypted with ``password``."""
        path = self._existing(name)
        try:
            key = Account.decrypt(_read(path), password)
        except ValueError:
            raise WrongPassword(f"The password does not unlock account {name!r}.") from None
        account: LocalAccount = Account.from_key(key)
        return account


def _unknown(directory: KeystoreDirectory, name: str) -> InvalidInput:
    known = ", ".join(e.name for e in directory.list()) or "none yet"
    return InvalidInput(f"No account named {name!r} (known: {known}); create one with `chainpass account new`.")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"The keystore {path} is unreadable: {exc}") from None
    if not isinstance(data, dict) or "crypto" not in data or "address" not in data:
        raise InvalidInput(f"{path} is not an Ethereum JSON keystore.")
    return data
