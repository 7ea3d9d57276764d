"""The story from PRODUCT.md part 1, played on a chain: verify once, rely everywhere.

A resident of Lankao county is verified once at the public security bureau. A bank, a
hospital, a hotel and a courier then rely on that verification; the hotel learns only
the resident's name and that she is over 18. The bureau suspends her identity after she
reports her ID card lost (the bank's next check fails), then reinstates it. Finally she
reads who looked her up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from eth_typing import ChecksumAddress

from chainpass.attributes import Credential, Disclosure
from chainpass.chain import Chain
from chainpass.deployment import Deployment, deploy
from chainpass.identity import IdentityRegistry, Level, Sector, SuspensionReason

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


@dataclass(frozen=True)
class DemoCast:
    governor: ChecksumAddress
    bureau: ChecksumAddress
    bank: ChecksumAddress
    hospital: ChecksumAddress
    hotel: ChecksumAddress
    courier: ChecksumAddress
    resident: ChecksumAddress


@dataclass(frozen=True)
class DemoResult:
    deployment: Deployment
    cast: DemoCast
    credential: Credential
    hotel_disclosure: Disclosure


def run_demo(chain: Chain, say: Callable[[str], None] = print) -> DemoResult:
    """Play the story on ``chain`` and narrate it through ``say``.

    The demo deploys a registry of its own every time and records nothing, so it can
    run again on the same node without touching the operator's deployment.
    """
    accounts = chain.dev_accounts()
    cast = DemoCast(*accounts[:7])
    say(f"Chain: {chain.endpoint} (chain id {chain.chain_id})")

    deployment, _ = deploy(chain, cast.governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    say(f"1. The county registry office deploys the identity registry at {registry.address}")
    say(f"   and governs it from {cast.governor}.")

    registry.appoint_authority(cast.bureau, Level.HIGH, sender=cast.governor)
    for party, sector in [
        (cast.bank, Sector.BANK),
        (cast.hospital, Sector.HOSPITAL),
        (cast.hotel, Sector.HOTEL),
        (cast.courier, Sector.COURIER),
    ]:
        registry.appoint_relying_party(party, sector, sender=cast.governor)
    say("2. It appoints the Lankao public security bureau as an authority (up to level high), and a bank,")
    say("   a hospital, a hotel and a courier company as relying parties.")

    credential = Credential.issue(cast.resident, RESIDENT, on=dt.date.today())
    expires_at = chain.latest_timestamp() + VALID_YEARS * 365 * 24 * 3600
    receipt = registry.verify(credential, Level.HIGH, expires_at, sender=cast.bureau)
    say(
        "3. Wang Xiuying shows her papers at the bureau once. The bureau salts her "
        f"{len(credential.attributes)} attributes, keeps them off chain"
    )
    say(f"   and records only their Merkle root 0x{credential.commitment.hex()[:16]}... for her wallet {cast.resident}")
    say(
        f"   at level high for {VALID_YEARS} years ({receipt['gasUsed']:,} gas). Her credential file stays "
        "on her phone."
    )

    for name, party in [("bank", cast.bank), ("hospital", cast.hospital), ("courier", cast.courier)]:
        result = registry.check(cast.resident, sender=party)
        say(
            f"4. The {name} checks her: {result.standing.label} (level {result.level.label}, issuer "
            f"{result.issuer}). No papers needed."
        )

    disclosure = credential.disclose(["name", "age_over_18"])
    seen = registry.verify_disclosure(disclosure)
    on_chain = registry.verify_disclosure_on_chain(disclosure)
    hotel_check = registry.check(cast.resident, sender=cast.hotel)
    say("5. At the hotel she shares a disclosure of two attributes only. The hotel checks it against the")
    say(f"   chain (offline proof: ok; contract view: {'ok' if on_chain else 'FAILED'}) and learns exactly")
    say(f"   {seen.attributes}; her check stands {hotel_check.standing.label}.")
    say("   Her date of birth, ID number and address stay with her.")

    registry.suspend(cast.resident, SuspensionReason.LOST_DOCUMENT, sender=cast.bureau)
    result = registry.check(cast.resident, sender=cast.bank)
    say(
        f"6. She reports her ID card lost; the bureau suspends her identity. The bank's next check: "
        f"{result.standing.label}."
    )

    registry.reinstate(cast.resident, sender=cast.bureau)
    result = registry.check(cast.resident, sender=cast.bank)
    say(f"7. The card turns up; the bureau reinstates her. The bank checks again: {result.standing.label}.")

    say("8. She asks who looked her up:")
    names: dict[str | None, str] = {
        cast.bank: "bank",
        cast.hospital: "hospital",
        cast.hotel: "hotel",
        cast.courier: "courier",
    }
    checks = registry.checks_of(cast.resident)
    for entry in checks:
        say(
            f"   block {entry.block_number}: the {names.get(entry.actor, str(entry.actor))} saw "
            f"{entry.details['standing']}"
        )
    parties = len({entry.actor for entry in checks})
    say(f"Done: one verification, {len(checks)} checks by {parties} parties, and no personal data on chain.")
    return DemoResult(deployment, cast, credential, disclosure)
