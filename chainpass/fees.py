"""Transaction fees: EIP-1559, with a cap the operator sets.

One policy serves every transaction chainpass sends, single ones through
:meth:`chainpass.chain.Chain.transact` and many through :class:`chainpass.sender.BulkSender`.
On a public network the operator sets ``cap_per_gas`` (CLI: ``--max-fee-gwei``), and a
transaction that would cost more per gas than that is refused before it is signed.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainpass.errors import ChainpassError, InvalidInput

#: Wei per gwei, the unit operators think in.
GWEI = 10**9

#: Nodes refuse a replacement that does not raise both fees by at least this much.
MIN_BUMP_PERCENT = 10


class FeeCapExceeded(ChainpassError):
    """The fee the chain asks for now is above the operator's cap: nothing was sent."""


@dataclass(frozen=True)
class FeePolicy:
    """EIP-1559 fees, with a cap the operator sets.

    ``max_fee_per_gas`` None means twice the current base fee plus the tip (room for the
    base fee to double before the transaction is mined); a computed fee above
    ``cap_per_gas`` is refused with :class:`FeeCapExceeded` before anything is sent.
    ``max_priority_fee_per_gas`` None takes the node's suggestion. A stuck transaction is
    replaced with both fees raised by ``bump_percent`` (at least 10%, as nodes require),
    never above the cap.
    """

    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    cap_per_gas: int | None = None
    bump_percent: int = 12

    def __post_init__(self) -> None:
        if self.bump_percent < MIN_BUMP_PERCENT:
            raise InvalidInput(f"bump_percent must be at least {MIN_BUMP_PERCENT}: nodes refuse smaller replacements.")
        for name in ("max_fee_per_gas", "max_priority_fee_per_gas", "cap_per_gas"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidInput(f"{name} cannot be negative.")

    def fees(self, base_fee: int, suggested_tip: int) -> tuple[int, int]:
        """(max fee, priority fee) per gas for a chain whose next base fee is ``base_fee``."""
        tip = self.max_priority_fee_per_gas if self.max_priority_fee_per_gas is not None else suggested_tip
        max_fee = self.max_fee_per_gas if self.max_fee_per_gas is not None else 2 * base_fee + tip
        if self.cap_per_gas is not None:
            if max_fee > self.cap_per_gas:
                if self.max_fee_per_gas is not None:
                    asked = f"The maximum fee you set, {gwei_text(max_fee)} per gas, is"
                else:  # say how the number is made, so that it adds up
                    asked = (
                        f"The fee to offer now is up to {gwei_text(max_fee)} per gas (twice the base fee of "
                        f"{gwei_text(base_fee)}, room for it to double while the transaction waits, plus the tip of "
                        f"{gwei_text(tip)}), which is"
                    )
                raise FeeCapExceeded(
                    f"{asked} above your cap of {gwei_text(self.cap_per_gas)}: nothing was sent. Wait for lower "
                    "fees, or raise the cap."
                )
            tip = min(tip, self.cap_per_gas)
        if max_fee < base_fee:
            raise FeeCapExceeded(
                f"The maximum fee {gwei_text(max_fee)} per gas is below the base fee {gwei_text(base_fee)}: nothing "
                "was sent. Raise max_fee_per_gas, or leave it unset."
            )
        return max_fee, min(tip, max_fee)

    def bumped(self, max_fee: int, tip: int, base_fee: int, suggested_tip: int) -> tuple[int, int] | None:
        """The fees that replace a transaction sent at (``max_fee``, ``tip``), or None if the
        cap leaves no room for a replacement nodes accept."""
        factor = 100 + self.bump_percent
        new_tip = max(-(-tip * factor // 100), tip + 1)
        new_max = max(-(-max_fee * factor // 100), max_fee + 1, 2 * base_fee + new_tip)
        if self.cap_per_gas is not None and new_max > self.cap_per_gas:
            new_max = self.cap_per_gas
        floor = 100 + MIN_BUMP_PERCENT
        if new_max * 100 < max_fee * floor or new_tip * 100 < tip * floor:
            return None
        return new_max, min(new_tip, new_max)


def gwei_text(wei: int) -> str:
    """``wei`` per gas as operators read it, e.g. ``1.500 gwei``."""
    return f"{wei / GWEI:,.3f} gwei"
