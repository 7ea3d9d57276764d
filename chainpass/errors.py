"""The exceptions chainpass raises. Every message says what happened and what to do.

All derive from :class:`ChainpassError`; each is also the matching builtin where one
fits (``InvalidInput`` is a ``ValueError``), so callers can catch either.
"""

from __future__ import annotations


class ChainpassError(Exception):
    """Base class of every error chainpass raises on purpose."""


class InvalidInput(ChainpassError, ValueError):
    """A value given by the user is malformed: fix it and try again."""


class NodeUnreachable(ChainpassError, ConnectionError):
    """The JSON-RPC endpoint does not answer."""


class ChainIdMismatch(ChainpassError):
    """The connected chain is not the chain the caller or the deployment record expects."""


class DeploymentError(ChainpassError):
    """No usable deployment of the contracts on this chain."""


class ContractRevert(ChainpassError):
    """The contract refused a call; ``error`` is the custom error's name, ``args`` its arguments."""

    def __init__(
        self, message: str, error: str, args: dict[str, object], raw_args: dict[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.error = error
        self.error_args = args
        #: The arguments as the contract gave them (``args`` shows some as people read them:
        #: passport ids shortened, addresses checksummed).
        self.raw_args = args if raw_args is None else raw_args


class InsufficientFunds(ChainpassError):
    """The sending account cannot pay for gas."""


class TransactionFailed(ChainpassError):
    """A transaction was mined but failed for a reason the contract did not name."""


class ConfirmationTimeout(TransactionFailed):
    """The chain did not show a sent transaction as many blocks deep as awaited, in time: it
    was mined (or a reorganisation dropped it); not a refusal of the transaction."""


class DisclosureInvalid(ChainpassError, ValueError):
    """A disclosure does not match the holder's on-chain commitment, or is malformed."""


class IndexMismatch(ChainpassError):
    """A local trace index file was made for another chain or contract, or is no index at all."""


class IndexUnreachable(ChainpassError, ConnectionError):
    """The PostgreSQL server that holds the trace index does not answer."""


class LogQueryRefused(ChainpassError):
    """The node refused a log query even for a single block."""


class FileNotWritable(ChainpassError, OSError):
    """A file cannot be written where the user asked (its folder is a file, or read-only)."""


class Interrupted(ChainpassError):
    """A command was stopped (Ctrl-C, a signal, a timeout) after it may have sent a
    transaction; the message says what is on chain and what to run next."""

    def __init__(self, message: str, *, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code
