"""A bank checks what a resident chose to show it: two attributes of her credential, no more.

The bureau keeps nothing on chain but a Merkle root of her salted attributes. She
discloses ``name`` and ``age_over_18`` (derived from her date of birth); the bank checks
them against the root on chain, offline, and sees a forged value refused. Uses only the
public API on the embedded chain:

    .venv/bin/python scripts/examples/bank_disclosure.py
"""

from __future__ import annotations

import dataclasses

from chainpass import Chain, Credential, DisclosureInvalid, IdentityRegistry, Level, deploy

YEAR = 365 * 24 * 3600


def main() -> None:
    chain = Chain.embedded()
    governor, bureau, resident = chain.dev_accounts()[:3]
    deployment, _ = deploy(chain, governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    registry.appoint_authority(bureau, Level.HIGH, sender=governor)
    person = {"name": "Li Wei", "date_of_birth": "1990-02-03", "national_id": "41022519900203123X", "address": "Lankao"}
    credential = Credential.issue(resident, person)
    registry.verify(credential, Level.HIGH, chain.latest_timestamp() + 10 * YEAR, sender=bureau)

    disclosure = credential.disclose(["name", "age_over_18"])  # what she hands the bank
    check = registry.verify_disclosure(disclosure)
    print(f"the bank learns {check.attributes}; her identity stands {check.standing.label}")

    first = disclosure.attributes[0]
    forged = dataclasses.replace(disclosure, attributes=(dataclasses.replace(first, value="Somebody Else"),))
    try:
        registry.verify_disclosure(forged)
    except DisclosureInvalid as refusal:
        print(f"a forged name is refused: {refusal}")


if __name__ == "__main__":
    main()
