"""Gas per operation, measured on the embedded EVM; prints a markdown table.

Run with `make bench`. Figures are the receipts' gasUsed (21,000 intrinsic included).
Targets and references come from the issues; the table shows both so a regression is
visible at a glance.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from eth_account import Account
from web3.types import TxReceipt

from chainpass.attributes import Credential
from chainpass.chain import Chain
from chainpass.deployment import ContractDeployment, deploy
from chainpass.identity import IdentityRegistry, Level, Sector, SuspensionReason

PERSON = {"name": "A. Person", "date_of_birth": "1980-01-01", "national_id": "X", "address": "Y"}
YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class Row:
    operation: str
    gas: int
    target: str = ""
    reference: str = ""

    @property
    def verdict(self) -> str:
        if not self.target:
            return ""
        limit = int(self.target.removeprefix("≤ ").removesuffix("k")) * 1000
        return "ok" if self.gas <= limit else "OVER"


def measure() -> list[Row]:
    chain = Chain.embedded()
    governor, bureau, bank, holder, other, successor, hotel, relayer = chain.dev_accounts()[:8]
    rows: list[Row] = []

    def record(operation: str, send: Callable[[], TxReceipt], target: str = "", reference: str = "") -> None:
        rows.append(Row(operation, int(send()["gasUsed"]), target, reference))

    deployment, _ = deploy(chain, governor)
    rows.append(Row("deploy IdentityRegistry", _deploy_gas(chain, deployment.contracts)))
    registry = IdentityRegistry.from_deployment(chain, deployment)
    record("appoint authority", lambda: registry.appoint_authority(bureau, Level.HIGH, sender=governor))
    record("appoint relying party", lambda: registry.appoint_relying_party(bank, Sector.BANK, sender=governor))
    registry.appoint_relying_party(hotel, Sector.HOTEL, sender=governor)
    now = chain.latest_timestamp()
    expires, until, deadline = now + 10 * YEAR, now + YEAR, now + 3600
    record(
        "verify a holder",
        lambda: registry.verify(Credential.issue(holder, PERSON), Level.HIGH, expires, sender=bureau),
        "≤ 75k",
        "EAS attest ≈ 204k; ERC-1056 setAttribute ≈ 51k",
    )
    record(
        "re-verify (renew, new commitment)",
        lambda: registry.reverify(Credential.issue(holder, PERSON), Level.HIGH, expires + YEAR, sender=bureau),
    )
    record("grant consent directly (holder pays)", lambda: registry.grant_consent(bank, until, sender=holder))
    record(
        "relying-party check with audit event",
        lambda: registry.chain.transact(registry.contract.functions.check(holder), bank),
        "≤ 35k",
    )
    record(
        "suspend",
        lambda: registry.suspend(holder, SuspensionReason.LOST_DOCUMENT, sender=bureau),
        "≤ 32k",
        "EAS revoke ≈ 66k",
    )
    record("reinstate", lambda: registry.reinstate(holder, sender=bureau))
    record("withdraw consent directly", lambda: registry.withdraw_consent(bank, sender=holder))
    record("cancel signatures (nonce bump)", lambda: registry.cancel_signatures(sender=holder))

    resident = Account.create()  # a phone wallet with no ETH: every action below is relayed
    registry.verify(Credential.issue(resident.address, PERSON), Level.HIGH, expires, sender=bureau)
    record(
        "grant consent by relayed signature (first consent)",
        lambda: registry.relay(
            registry.typed_grant_consent(resident.address, bank, until, deadline=deadline).sign(resident), sender=bank
        ),
        "≤ 60k",
        "EAS delegated attest ≈ 283k",
    )
    record(
        "withdraw consent by relayed signature",
        lambda: registry.relay(
            registry.typed_withdraw_consent(resident.address, bank, deadline=deadline).sign(resident), sender=bank
        ),
    )
    new_phone = Account.create()
    record(
        "rotate key by relayed signature",
        lambda: registry.relay(
            registry.typed_rotate(resident.address, new_phone.address, deadline=deadline).sign(resident),
            sender=relayer,
        ),
    )
    record("rotate key directly (holder pays)", lambda: registry.rotate(other, sender=holder))
    record("recovery request", lambda: registry.request_recovery(other, successor, sender=bureau))
    chain.advance_time(registry.recovery_delay() + 1)
    record("recovery completion", lambda: registry.complete_recovery(other, sender=bureau))
    record("revoke", lambda: registry.revoke(successor, sender=bureau), "≤ 32k", "EAS revoke ≈ 66k")
    record("remove authority", lambda: registry.remove_authority(bureau, sender=governor))
    record("transfer governance (offer)", lambda: registry.transfer_governance(hotel, sender=governor))
    record("accept governance", lambda: registry.accept_governance(sender=hotel))
    return rows


def _deploy_gas(chain: Chain, contracts: dict[str, ContractDeployment]) -> int:
    return sum(int(chain.w3.eth.get_transaction_receipt(c.tx_hash)["gasUsed"]) for c in contracts.values())


def table(rows: list[Row]) -> str:
    lines = ["| operation | gas | target | verdict | reference |", "|---|---:|---|---|---|"]
    lines += [f"| {r.operation} | {r.gas:,} | {r.target} | {r.verdict} | {r.reference} |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    rows = measure()
    print(table(rows))
    return 1 if any(r.verdict == "OVER" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
