"""The product brief's first story (verified identity, shared with consent; README.md), played
on a chain: verify once, rely everywhere.

A resident of Lankao county is verified once at the public security bureau. Her phone
wallet holds no ETH and never needs any: she consents to a bank, a hospital, a hotel and
a courier by signing typed data, and each of them relays her signature and pays the gas.
They rely on the bureau's verification; the hotel learns only her name and that she is
over 18. The bureau suspends her identity when she reports her ID card lost (the bank's
next check fails) and reinstates it. Then she loses her phone: the bureau recovers her
identity to a new wallet after a waiting period in which the old key could object. At
the end she reads who looked her up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress

from chainpass.attributes import Credential, Disclosure
from chainpass.chain import Chain
from chainpass.demo.finance import FinanceDemo, run_finance_demo
from chainpass.demo.passports import run_passport_demo
from chainpass.deployment import Deployment, deploy
from chainpass.enums import Level, Sector, SuspensionReason
from chainpass.identity import IdentityRegistry

#: The resident's verified attributes. Fictional; they never reach the chain.
RESIDENT = {
    "name": "Wang Xiuying",
    "date_of_birth": "1968-04-12",
    "national_id": "410225196804120026",
    "address": "12 Dongba Village, Lankao County, Henan",
    "resident_of": "Lankao County",
    "photo_hash": "0x6c1f0e3a9b7d5c2e8f4a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e",
}
VALID_YEARS = 10
DAY = 24 * 3600


@dataclass(frozen=True)
class DemoCast:
    governor: ChecksumAddress
    bureau: ChecksumAddress
    bank: ChecksumAddress
    hospital: ChecksumAddress
    hotel: ChecksumAddress
    courier: ChecksumAddress
    #: The resident's first phone wallet, and the one she gets after losing it.
    resident: LocalAccount
    new_phone: LocalAccount


@dataclass(frozen=True)
class DemoResult:
    deployment: Deployment
    cast: DemoCast
    credential: Credential
    hotel_disclosure: Disclosure
    #: Part 2: the codes a scan flags as recalled at the end.
    recalled_codes: tuple[str, ...]
    #: Part 3: the orders paid on delivery and refunded, and what the bank paid and collected.
    finance: FinanceDemo


def run_demo(chain: Chain, say: Callable[[str], None] = print) -> DemoResult:
    """Play the story on ``chain`` and narrate it through ``say``.

    The demo deploys a registry of its own every time and records nothing, so it can
    run again on the same node without touching the operator's deployment. It moves
    the chain's clock past the recovery waiting period, so it needs the embedded chain
    or a local dev node (Anvil, Ganache).
    """
    governor, bureau, bank, hospital, hotel, courier = chain.dev_accounts()[:6]
    cast = DemoCast(governor, bureau, bank, hospital, hotel, courier, Account.create(), Account.create())
    names: dict[str | None, str] = {bank: "bank", hospital: "hospital", hotel: "hotel", courier: "courier"}
    resident = cast.resident.address
    say(f"Chain: {chain.endpoint} (chain id {chain.chain_id})")

    deployment, _ = deploy(chain, governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    say(f"1. The county registry office deploys the identity registry at {registry.address}")
    say(f"   and governs it from {governor}.")

    registry.appoint_authority(bureau, Level.HIGH, sender=governor)
    for party, sector in [(bank, Sector.BANK), (hospital, Sector.HOSPITAL), (hotel, Sector.HOTEL),
                          (courier, Sector.COURIER)]:  # fmt: skip
        registry.appoint_relying_party(party, sector, sender=governor)
    say("2. It appoints the Lankao public security bureau as an authority (up to level high), and a bank,")
    say("   a hospital, a hotel and a courier company as relying parties.")

    credential = Credential.issue(resident, RESIDENT, on=dt.date.today())
    expires_at = chain.latest_timestamp() + VALID_YEARS * 365 * DAY
    receipt = registry.verify(credential, Level.HIGH, expires_at, sender=bureau)
    say("3. Wang Xiuying shows her papers at the bureau once. The bureau salts her "
        f"{len(credential.attributes)} attributes, keeps them")  # fmt: skip
    say(f"   off chain and records only their Merkle root 0x{credential.commitment.hex()[:16]}... for her phone")
    say(f"   wallet {resident}, at level high for {VALID_YEARS} years ({receipt['gasUsed']:,} gas).")
    say("   Her credential file, with the values and their salts, stays on her phone.")

    result = registry.check(resident, sender=bank)
    say(
        f"4. The bank checks her before she has agreed to it: {result.standing.label}. Its check tells it nothing more."
    )

    for party in (bank, hospital, courier):
        gas = _consent(registry, cast.resident, party)
        result = registry.check(resident, sender=party)
        say(f"5. She signs a consent for the {names[party]} on her phone, with no ETH; the {names[party]} relays it")
        say(f"   and pays ({gas:,} gas), then checks her: {result.standing.label}, level {result.level.label}.")

    _consent(registry, cast.resident, hotel)
    disclosure = credential.disclose(["name", "age_over_18"])
    seen = registry.verify_disclosure(disclosure)
    on_chain = registry.verify_disclosure_on_chain(disclosure)
    hotel_check = registry.check(resident, sender=hotel)
    say("6. At the hotel she consents too and shares a disclosure of two attributes only. The hotel checks it")
    say(f"   against the chain (offline proof: ok; contract view: {'ok' if on_chain else 'FAILED'}) and learns")
    say(f"   exactly {seen.attributes}; her check stands {hotel_check.standing.label}.")
    say("   Her date of birth, ID number and address stay with her.")

    registry.suspend(resident, SuspensionReason.LOST_DOCUMENT, sender=bureau)
    result = registry.check(resident, sender=bank)
    say(f"7. She reports her ID card lost; the bureau suspends her identity. The bank's next check: "
        f"{result.standing.label}.")  # fmt: skip
    say("   (The bureau keeps the reason in its case file; the chain sees only a salted commitment to it.)")
    registry.reinstate(resident, sender=bureau)
    result = registry.check(resident, sender=bank)
    say(f"   The card turns up; the bureau reinstates her. The bank checks again: {result.standing.label}.")

    new = cast.new_phone.address
    registry.request_recovery(resident, new, sender=bureau)
    delay = registry.recovery_delay()
    say("8. Then she loses her phone. At the bureau she proves who she is again, and the bureau asks to move")
    say(f"   her identity to her new phone's wallet {new}.")
    say(f"   The old key has {delay / DAY:g} days to object.")
    chain.advance_time(delay + 1)
    registry.complete_recovery(resident, sender=bureau)
    old_check = registry.check(resident, sender=bank)
    new_check = registry.check(new, sender=bank)
    say("   Nobody objects; the bureau completes the recovery.")
    say(f"   The bank checks the lost wallet: {old_check.standing.label}; the new one: {new_check.standing.label}")
    say("   (a consent stays with the wallet that gave it).")
    _consent(registry, cast.new_phone, bank)
    result = registry.check(new, sender=bank)
    say(f"   From her new phone she consents to the bank again; its check: {result.standing.label}.")

    say("9. She asks who looked her up (her new wallet's history includes the old one's):")
    checks = registry.checks_of(new)
    for entry in checks:
        wallet = "old" if entry.holder == resident else "new"
        who = names.get(entry.actor, str(entry.actor))
        say(f"   block {entry.block_number}: the {who} checked her {wallet} wallet and saw {entry.details['standing']}")
    parties = len({entry.actor for entry in checks})
    say(f"Done: one verification, {len(checks)} checks by {parties} parties, no gas paid by her, "
        "and no personal data on chain.")  # fmt: skip
    say("")
    recalled, wallets = run_passport_demo(chain, deployment, say)
    say("")
    trade = run_finance_demo(chain, deployment, wallets, bank, say)
    return DemoResult(deployment, cast, credential, disclosure, tuple(recalled), trade)


def _consent(registry: IdentityRegistry, holder: LocalAccount, party: ChecksumAddress) -> int:
    """The holder signs a year's consent for ``party``; ``party`` relays it and pays. Returns the gas used."""
    now = registry.chain.latest_timestamp()
    typed = registry.typed_grant_consent(holder.address, party, now + 365 * DAY, deadline=now + 3600)
    return int(registry.relay(typed.sign(holder), sender=party)["gasUsed"])
