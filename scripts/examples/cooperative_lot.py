"""A rice cooperative commissions a lot, has it inspected, hands it to a carrier and ships it.

Every organisation is verified once in the identity registry and holds a passport
role; GS1's member organisation registers the cooperative's company prefix to it. Uses
only the public API on the embedded chain:

    .venv/bin/python scripts/examples/cooperative_lot.py
"""

from __future__ import annotations

from chainpass import (
    BizStep,
    Chain,
    Credential,
    Disposition,
    EpcisEvent,
    IdentityRegistry,
    Level,
    ProductKey,
    ProductPassports,
    Role,
    deploy,
)

YEAR = 365 * 24 * 3600


def main() -> None:
    chain = Chain.embedded()
    governor, bureau, coop, inspector, carrier, gs1 = chain.dev_accounts()[:6]
    deployment, _ = deploy(chain, governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    passports = ProductPassports.from_deployment(chain, deployment)
    registry.appoint_authority(bureau, Level.HIGH, sender=governor)
    until = chain.latest_timestamp() + YEAR
    organisations = {  # wallet: name, registration number, role
        coop: ("Lankao Dongba Rice Cooperative", "91410225MA0001", Role.PRODUCER),
        inspector: ("Lankao Grain Inspection Station", "12410225MB0002", Role.INSPECTOR),
        carrier: ("Henan Cold Chain Logistics", "91410100MA0003", Role.CARRIER),
        gs1: ("GS1 China", "12100000MC0004", Role.REGISTRAR),
    }
    for wallet, (name, number, role) in organisations.items():
        # An organisation's papers: its founding date and registration number in the person's fields.
        papers = {"name": name, "date_of_birth": "2001-05-01", "national_id": number, "address": "Henan"}
        registry.verify(Credential.issue(wallet, papers), Level.HIGH, until, sender=bureau)
        passports.set_roles(wallet, role, sender=governor)
    passports.register_prefix("9506000", coop, sender=gs1)

    lot = ProductKey.lot("09506000134352", "LK2026-P1")
    (passport,) = passports.commission([lot], sender=coop)
    now = chain.latest_timestamp()
    passports.record([EpcisEvent((passport,), BizStep.INSPECTING, Disposition.CONFORMANT, now)], sender=inspector)
    offer = passports.custody_offer(passport, carrier, deadline=chain.latest_timestamp() + 3600)
    passports.accept_custody(passports.sign_offer(offer, signer=coop), sender=carrier)
    passports.record([EpcisEvent((passport,), BizStep.SHIPPING, Disposition.IN_TRANSIT, now)], sender=carrier)

    verdict = passports.verify(lot)
    holder = "the carrier" if verdict.custodian == carrier else verdict.custodian
    print(f"lot {lot.serial} of {lot.gtin14}: genuine {verdict.genuine}, {verdict.state.label}, held by {holder}")
    names = {wallet: name for wallet, (name, _number, _role) in organisations.items()}
    for step in verdict.journey:
        print(f"  block {step.block_number}: {step.event} by {names.get(step.actor, step.actor)}")


if __name__ == "__main__":
    main()
