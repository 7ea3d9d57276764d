"""A resident's phone wallet signs a consent for her bank; the bank relays it, pays, and checks her.

The resident never holds ETH: she signs an EIP-712 message on her phone, and whoever
relays it pays. Uses only the public API (``chainpass.__all__``) on the embedded chain:

    .venv/bin/python scripts/examples/resident_consent.py
"""

from __future__ import annotations

from eth_account import Account

from chainpass import Chain, Credential, IdentityRegistry, Level, Sector, deploy

YEAR = 365 * 24 * 3600


def main() -> None:
    chain = Chain.embedded()
    governor, bureau, bank = chain.dev_accounts()[:3]
    deployment, _ = deploy(chain, governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    registry.appoint_authority(bureau, Level.HIGH, sender=governor)
    registry.appoint_relying_party(bank, Sector.BANK, sender=governor)

    phone = Account.create()  # her wallet: a key on her phone, with no ETH, ever
    person = {
        "name": "Wang Xiuying",
        "date_of_birth": "1985-03-14",
        "national_id": "410225198503140021",
        "address": "Lankao County, Henan",
    }
    credential = Credential.issue(phone.address, person)  # stays with her; the chain gets a Merkle root
    registry.verify(credential, Level.HIGH, chain.latest_timestamp() + 10 * YEAR, sender=bureau)
    print(f"before her consent, the bank learns: {registry.check(phone.address, sender=bank).standing.label}")

    consent = registry.typed_grant_consent(
        phone.address, bank, chain.latest_timestamp() + YEAR, deadline=chain.latest_timestamp() + 3600
    )
    signed = consent.sign(phone)  # on her phone: no node, no gas
    receipt = registry.relay(signed, sender=bank)  # the bank sends it and pays
    check = registry.check(phone.address, sender=bank)
    print(f"the bank relayed her consent ({receipt['gasUsed']:,} gas, paid by the bank)")
    print(f"after it: {check.standing.label}, level {check.level.label}, issued by {check.issuer}")
    print(f"her wallet's balance: {chain.w3.eth.get_balance(phone.address)} wei")


if __name__ == "__main__":
    main()
