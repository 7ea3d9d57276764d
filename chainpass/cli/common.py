"""What every `chainpass` command shares: settings, output, options, parsing."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from eth_account.signers.local import LocalAccount

from chainpass.accounts import KeystoreDirectory
from chainpass.anchor import EventAnchors
from chainpass.artifacts import ANCHOR_CONTRACT
from chainpass.chain import RECEIPT_TIMEOUT, Chain, Sender, parse_address
from chainpass.contract_client import ContractClient
from chainpass.deployment import DeploymentStore, genesis_hash, load_deployment
from chainpass.errors import ChainpassError, InvalidInput
from chainpass.fees import FeePolicy
from chainpass.identity import IdentityRegistry
from chainpass.index import index_path
from chainpass.node import DEFAULT_PORT
from chainpass.passport import ProductPassports
from chainpass.standards.gs1 import parse_code

DEFAULT_RPC = f"http://127.0.0.1:{DEFAULT_PORT}"
#: Exit codes (docs/cli.md): done / valid / genuine; an error; a usage mistake; a negative
#: answer (not verified, not genuine, recalled); interrupted (Ctrl-C, a signal).
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NEGATIVE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: The latest Unix time the contracts store (their times are uint40), and the most days
#: or hours an option may add to now and still land in that field.
MAX_UINT40 = 2**40 - 1
MAX_DAYS = MAX_UINT40 // 86400
MAX_HOURS = MAX_UINT40 // 3600
#: The environment variable scripts use to pass a keystore password.
PASSWORD_ENV = "CHAINPASS_PASSWORD"
ClientT = TypeVar("ClientT", bound=ContractClient)


@dataclass(frozen=True)
class Settings:
    """What the root options say: where the chain is and where chainpass keeps its files."""

    rpc: str | None
    chain_id: int | None
    home: Path
    #: Fees, confirmations and the wait for every transaction a command sends (root options).
    fees: FeePolicy = field(default_factory=FeePolicy)
    confirmations: int = 0
    #: Seconds to wait for a receipt, and for its confirmations (``--wait``).
    wait: float = RECEIPT_TIMEOUT
    #: ``--index-db``: the trace index's SQLite file or PostgreSQL URL (None: a file in HOME/index).
    index_db: str | None = None
    #: ``--json`` given before the subcommand: every command prints JSON.
    json: bool = False

    def index_location(self, client: ContractClient) -> Path | str:
        """Where the trace index of ``client``'s contract is: ``--index-db``, else its file in
        HOME/index (one per node's chain: two local nodes share a chain id, never a genesis block)."""
        if self.index_db is not None:
            return self.index_db
        chain = client.chain
        return index_path(self.home, chain.chain_id, client.address, genesis_hash(chain))

    @property
    def store(self) -> DeploymentStore:
        return DeploymentStore(self.home / "deployments")

    def connect(self) -> Chain:
        return Chain.connect(
            self.rpc or DEFAULT_RPC,
            expected_chain_id=self.chain_id,
            fees=self.fees,
            confirmations=self.confirmations,
            receipt_timeout=self.wait,
        )

    @property
    def keystores(self) -> KeystoreDirectory:
        return KeystoreDirectory(self.home / "keystores")

    def client(self, kind: type[ClientT]) -> ClientT:
        """A client of the deployed contract ``kind`` on the node, its record checked."""
        chain = self.connect()
        return kind.from_deployment(chain, load_deployment(chain, self.store))

    def anchors(self, chain: Chain) -> EventAnchors | None:
        """The deployment's anchors on ``chain`` (None for a deployment from before them)."""
        deployment = load_deployment(chain, self.store)
        return EventAnchors.from_deployment(chain, deployment) if ANCHOR_CONTRACT in deployment.contracts else None

    def registry(self) -> IdentityRegistry:
        return self.client(IdentityRegistry)

    def sender(self, chain: Chain, spec: str) -> Sender:
        """The account ``--account`` names (see :meth:`KeystoreDirectory.sender`)."""
        return self.keystores.sender(chain, spec, password)

    def keystore_account(self, spec: str) -> LocalAccount:
        """A keystore account by name or address, unlocked with its password."""
        return self.keystores.account(spec, password)


def acting(account: str) -> tuple[IdentityRegistry, Sender]:
    """The identity registry from the settings, and the ``--account`` that acts on it."""
    return acting_on(IdentityRegistry, account)


def acting_on(kind: type[ClientT], account: str) -> tuple[ClientT, Sender]:
    """The contract client ``kind`` from the settings, and the ``--account`` that acts on it."""
    options = settings()
    client = options.client(kind)
    return client, options.sender(client.chain, account)


def password(prompt: str, confirm: bool = False) -> str:
    """A password from $CHAINPASS_PASSWORD or a hidden prompt; never from the command line."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        return from_env
    if not sys.stdin.isatty():
        raise InvalidInput(f"No terminal to ask for the password: set {PASSWORD_ENV} in the environment.")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def settings() -> Settings:
    return click.get_current_context().find_object(Settings)  # type: ignore[return-value]


def emit(data: Any, human: str | Callable[[], str], as_json: bool) -> None:
    """Print ``data`` as JSON, or the human text."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        click.echo(human() if callable(human) else human)


def _json_anywhere(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    """``--json`` after the subcommand, or before it (on the root)."""
    root = ctx.find_object(Settings)
    return bool(value or (root is not None and root.json))


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, callback=_json_anywhere, help="Print JSON for scripts.")(
        func
    )


def account_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--account",
        envvar="CHAINPASS_ACCOUNT",
        default="0",
        show_default=True,
        help="Who sends the transaction: a keystore account's name or address (see `chainpass account`), "
        "or a dev account of the node by index or address.",
    )(func)


def tx_fields(receipt: Any) -> dict[str, Any]:
    return {
        "tx_hash": "0x" + bytes(receipt["transactionHash"]).hex(),
        "block_number": int(receipt["blockNumber"]),
        "gas_used": int(receipt["gasUsed"]),
    }


def report(what: str, receipt: Any, as_json: bool, **data: Any) -> None:
    """Print a mined transaction: ``what`` happened, in which block, for how much gas."""
    emit(
        {**data, **tx_fields(receipt)},
        f"{what} (block {receipt['blockNumber']}, {receipt['gasUsed']:,} gas)",
        as_json,
    )


def unchanged(state: str) -> NoReturn:
    """Refuse, before it costs gas, a transaction that would change nothing: ``state`` says
    what the chain holds already (exit code 1)."""
    raise InvalidInput(f"{state}: nothing to change, so no transaction was sent.")


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of the ``what`` file ``path``; one sentence if it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"The {what} file {path} does not exist.") from None
    except IsADirectoryError:
        raise InvalidInput(f"The {what} file {path} is a folder, not a file.") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"The {what} file {path} is not UTF-8 text.") from None
    except OSError as exc:
        raise InvalidInput(f"Cannot read the {what} file {path}: {exc.strerror}.") from None


def read_json(path: Path, what: str) -> Any:
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The {what} file {path} is not JSON: {exc.msg} at line {exc.lineno}.") from None


def end_time(date: str | None, days: int | None, now: int, *, default_days: int, names: str) -> int:
    """Unix time from a date (UTC midnight) or a number of days from ``now``.

    ``names`` is how the two options are spelt to the user, e.g. "--expires/--valid-days".
    """
    date_option, days_option = names.split("/")
    if date and days:
        raise InvalidInput(f"Give either {date_option} or {days_option}, not both.")
    if date:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            raise InvalidInput(f"{date_option} {date!r} is not a date in the form YYYY-MM-DD.") from None
        return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())
    end = now + (days or default_days) * 24 * 3600
    if end > MAX_UINT40:
        raise InvalidInput(
            f"{days_option} {days} reaches past {iso_time(MAX_UINT40)}, the latest time the contract stores: "
            f"give at most {(MAX_UINT40 - now) // 86400} days."
        )
    return end


def iso_time(timestamp: int) -> str:
    """A Unix time as people read it: ``2026-01-31 12:00 UTC``."""
    try:
        return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, ValueError, OSError):
        return f"Unix time {timestamp}"


def hours_from(now: int, hours: int, option: str) -> int:
    """``now`` plus ``hours``, refused unless it fits the contracts' uint40 times."""
    end = now + hours * 3600
    if end > MAX_UINT40:
        raise InvalidInput(
            f"{option} {hours} reaches past {iso_time(MAX_UINT40)}, the latest time the contract stores: "
            f"give at most {(MAX_UINT40 - now) // 3600} hours."
        )
    return end


def output_path(path: Path, option: str, *, overwrite: bool = True) -> Path:
    """Check, before any work, that ``path`` (given as ``option``) can be written: its folder is
    a folder (or can be made), it is not a folder itself, and unless ``overwrite`` it is new."""
    if path.is_dir():
        raise InvalidInput(f"{option} {path} is a folder: give a file name.")
    if path.exists() and not overwrite:
        raise InvalidInput(f"{path} exists already: choose another {option} (it is not overwritten).")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InvalidInput(f"{option} {path}: {parent} is a file, not a folder.")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise InvalidInput(f"{option} {path}: the folder {parent} is not writable.")
            break
    return path


def days_option(name: str, help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A number of days from now that must land in a uint40 time."""
    return click.option(name, type=click.IntRange(1, MAX_DAYS), help=help_text)


class FiniteFloat(click.ParamType):
    """A finite number in [0, ``maximum``] (above 0 if ``positive``): no nan, no inf (they
    cannot become wei, or seconds)."""

    name = "number"

    def __init__(self, maximum: float, *, positive: bool = False) -> None:
        self.maximum = maximum
        self.positive = positive

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number.", param, ctx)
        if not (0 <= number <= self.maximum) or (self.positive and number == 0):  # also false for nan
            low = "above 0" if self.positive else "from 0"
            self.fail(f"{value!r} is not a number {low} to {self.maximum:g}.", param, ctx)
        return number


class AddressType(click.ParamType):
    """An Ethereum address, checked before anything touches the chain."""

    name = "address"

    def __init__(self, what: str) -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return parse_address(str(value), self.what)  # InvalidInput: one line, exit 1


HOLDER = AddressType("holder")


def in_users_words(message: str, args: list[str]) -> str:
    """``message`` with the passport ids it shows (``9793956c…1a2b``, or in full) replaced by the
    GS1 codes the user typed for them."""
    if "…" not in message and "0x" not in message:
        return message
    for token in args:
        if token.startswith("-") or len(token) > 200:
            continue
        for tier in range(4):
            try:
                digits = f"{ProductPassports.passport_id(parse_code(token, container_tier=tier)):x}"
            except (ChainpassError, ValueError):
                break
            for shown in (f"{digits[:8]}…{digits[-4:]}", f"0x{digits}", digits):
                message = message.replace(shown, token)
    return message
