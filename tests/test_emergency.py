"""The emergency stop: a guardian pauses what adds trust, only the governor unpauses.

The rule (docs/operations.md): while paused nothing that adds trust can be written, and
everything that takes trust away still works, as do governance and every read. Each
test pauses a contract and tries both kinds of write on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from accounts import Roles, World, credential_for, fund, new_account
from cli_world import PERSON, Operator
from passport_world import GTIN, Orgs, commission_one, event, hand_over, item_keys, ship
from support import assert_refused, logs

from chainpass.chain import ZERO_ADDRESS, Chain
from chainpass.deployment import deploy
from chainpass.enums import BizStep, Disposition, Level, Role, Standing, State
from chainpass.errors import InvalidInput
from chainpass.identity import IdentityRegistry
from chainpass.passport import ProductPassports
from chainpass.standards.gs1 import ProductKey

#: The guardian: a key of its own, neither governor nor member.
GUARDIAN = new_account()


@pytest.fixture
def guarded(world: World, orgs: Orgs) -> tuple[IdentityRegistry, ProductPassports]:
    """Both contracts with GUARDIAN named by the governor (it starts with none)."""
    registry = world.registry
    passports = ProductPassports.from_deployment(world.chain, world.deployment)
    fund(world.chain, GUARDIAN.address)
    for client in (registry, passports):
        assert client.guardian() is None and not client.paused()
        receipt = client.set_guardian(GUARDIAN.address, sender=orgs.governor)
        assert logs(client, "GuardianSet", receipt) == [
            {"previousGuardian": ZERO_ADDRESS, "newGuardian": GUARDIAN.address}
        ]
        assert client.guardian() == GUARDIAN.address
    return registry, passports


def test_only_the_governor_names_the_guardian(chain: Chain, world: World, roles: Roles) -> None:
    passports = ProductPassports.from_deployment(chain, world.deployment)
    assert_refused(
        chain,
        lambda: world.registry.set_guardian(roles.stranger, sender=roles.stranger),
        "IdentityNotGovernor",
        account=roles.stranger,
    )
    assert_refused(
        chain,
        lambda: passports.set_guardian(roles.stranger, sender=roles.stranger),
        "PassportNotGovernor",
        account=roles.stranger,
    )


def test_a_deployment_names_its_guardian_and_never_the_governor(chain: Chain, roles: Roles) -> None:
    deployment, created = deploy(chain, roles.governor, guardian=roles.stranger)

    registry = IdentityRegistry.from_deployment(chain, deployment)
    passports = ProductPassports.from_deployment(chain, deployment)
    assert created and registry.guardian() == passports.guardian() == roles.stranger
    assert deployment.contracts["ProductPassport"].constructor_args["initialGuardian"] == roles.stranger
    with pytest.raises(InvalidInput, match="is the governor too"):
        deploy(chain, roles.governor, guardian=roles.governor)


@pytest.mark.parametrize("contract", ["registry", "passports"])
def test_only_the_guardian_pauses_and_only_the_governor_unpauses(
    chain: Chain, orgs: Orgs, guarded: tuple[IdentityRegistry, ProductPassports], contract: str
) -> None:
    client = guarded[0] if contract == "registry" else guarded[1]
    prefix = "Identity" if contract == "registry" else "Passport"

    assert_refused(chain, lambda: client.pause(sender=orgs.governor), f"{prefix}NotGuardian", account=orgs.governor)
    assert_refused(chain, lambda: client.unpause(sender=orgs.governor), f"{prefix}NotPaused")
    paused = client.pause(sender=GUARDIAN)
    assert client.paused() and logs(client, "Paused", paused) == [{"guardian": GUARDIAN.address}]
    assert_refused(chain, lambda: client.pause(sender=GUARDIAN), f"{prefix}Paused")
    assert_refused(chain, lambda: client.unpause(sender=GUARDIAN), f"{prefix}NotGovernor", account=GUARDIAN.address)
    unpaused = client.unpause(sender=orgs.governor)
    assert not client.paused() and logs(client, "Unpaused", unpaused) == [{"governor": orgs.governor}]
    # Naming nobody takes the stop out of the guardian's hands.
    client.set_guardian(None, sender=orgs.governor)
    assert client.guardian() is None
    assert_refused(chain, lambda: client.pause(sender=GUARDIAN), f"{prefix}NotGuardian", account=GUARDIAN.address)


def test_a_paused_registry_refuses_what_adds_trust_and_takes_it_away_as_before(
    chain: Chain, roles: Roles, orgs: Orgs, guarded: tuple[IdentityRegistry, ProductPassports]
) -> None:
    registry, _ = guarded
    expires = chain.latest_timestamp() + 10**7
    resident, victim = new_account(), new_account()
    for person in (resident, victim):
        fund(chain, person.address)
        registry.verify(credential_for(person.address), Level.HIGH, expires, sender=roles.bureau)
    registry.grant_consent(roles.bank, expires, sender=resident)
    registry.pause(sender=GUARDIAN)
    newcomer = new_account()

    refused = {
        "verify": lambda: registry.verify(credential_for(newcomer.address), Level.HIGH, expires, sender=roles.bureau),
        "reverify": lambda: registry.reverify(
            credential_for(resident.address), Level.HIGH, expires + 1, sender=roles.bureau
        ),
        "grant consent": lambda: registry.grant_consent(roles.hotel, expires, sender=resident),
        "rotate": lambda: registry.rotate(newcomer.address, sender=resident),
        "signed grant": lambda: registry.relay(
            registry.typed_grant_consent(resident.address, roles.hotel, expires, deadline=expires).sign(resident),
            sender=roles.stranger,
        ),
    }
    for what, call in refused.items():
        revert = assert_refused(chain, call, "IdentityPaused")
        assert "paused" in str(revert), what

    # Taking trust away goes on: a bureau suspends and revokes, a resident withdraws
    # consent and cancels its signatures, a recovery is requested (not completed).
    registry.suspend(victim.address, "suspected_fraud", sender=roles.bureau)
    registry.revoke(resident.address, sender=roles.bureau)
    registry.withdraw_consent(roles.bank, sender=resident)
    registry.cancel_signatures(sender=victim)
    registry.request_recovery(victim.address, newcomer.address, sender=roles.bureau)
    registry.appoint_authority(roles.stranger, Level.LOW, sender=roles.governor)
    assert registry.status(victim.address).standing is Standing.SUSPENDED
    assert registry.status(resident.address).standing is Standing.REVOKED
    assert registry.consent_until(resident.address, roles.bank) == 0
    assert registry.recovery(victim.address).pending
    chain.advance_time(registry.recovery_delay() + 1)
    assert_refused(chain, lambda: registry.complete_recovery(victim.address, sender=roles.bureau), "IdentityPaused")

    registry.unpause(sender=orgs.governor)
    registry.complete_recovery(victim.address, sender=roles.bureau)
    assert registry.successor_of(victim.address) == newcomer.address


def test_paused_passports_refuse_what_adds_trust_and_a_recall_goes_through(
    chain: Chain, orgs: Orgs, guarded: tuple[IdentityRegistry, ProductPassports]
) -> None:
    _, pp = guarded
    recalled, shipped, sold = (commission_one(pp, orgs, key) for key in item_keys(3))
    hand_over(pp, shipped, orgs.producer, orgs.carrier)
    pp.pause(sender=GUARDIAN)

    refused = {
        "commission": lambda: pp.commission([ProductKey.item(GTIN, "NEW1")], sender=orgs.producer),
        "ship": lambda: ship(pp, orgs, sold),
        "transfer": lambda: pp.transfer(sold, orgs.retailer, sender=orgs.producer),
        "hand over": lambda: hand_over(pp, sold, orgs.producer, orgs.retailer),
        "a recall batched with a sale": lambda: pp.record(
            [
                event(recalled, BizStep.RECALLING, Disposition.RECALLED),
                event(sold, BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD),
            ],
            sender=orgs.producer,
        ),
        "register a prefix": lambda: pp.register_prefix("4000001", orgs.retailer, sender=orgs.registrar),
        "licence": lambda: pp.set_licence("9506000", orgs.carrier, granted=True, sender=orgs.producer),
    }
    for what, call in refused.items():
        revert = assert_refused(chain, call, "PassportPaused")
        assert "Passports are paused" in str(revert), what

    # A recall (the producer's, or a food-safety authority's) goes through; so do
    # revocations, cancellations and the governor's acts; and the verdict reads.
    receipt = pp.record([event(recalled, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.producer)
    assert [log["id"] for log in logs(pp, "PassportEventRecorded", receipt)] == [recalled]
    pp.record([event(sold, BizStep.RECALLING, Disposition.RECALLED)], sender=orgs.food_safety)
    pp.cancel_custody_offers(shipped, sender=orgs.carrier)
    pp.revoke_prefix("4012345", sender=orgs.registrar)
    pp.set_roles(orgs.stranger, Role.CARRIER, sender=orgs.governor)
    verdict = pp.verify(item_keys(1)[0])
    assert verdict.genuine and verdict.recalled and verdict.custodian == orgs.producer
    assert pp.verify(item_keys(2)[1]).custodian == orgs.carrier
    assert pp.passport(sold).state is State.RECALLED  # type: ignore[union-attr]

    pp.unpause(sender=orgs.governor)
    ship(pp, orgs, shipped, by=orgs.carrier)
    assert pp.passport(shipped).state is State.IN_TRANSIT  # type: ignore[union-attr]


def test_the_cli_pauses_and_unpauses_and_refuses_what_changes_nothing(
    operator: Operator,
    tmp_path: Path,
) -> None:
    op, (governor, bureau, guardian) = operator, operator.accounts[:3]
    refused = op.run("deploy", "--guardian", governor)
    assert refused.code == 1 and "is the governor too" in refused.err and "Traceback" not in refused.err
    op.ok("deploy", "--guardian", guardian)
    op.ok("identity", "appoint-authority", bureau, "--max-level", "high")
    (tmp_path / "person.json").write_text(json.dumps(PERSON))

    rows = op.ok("emergency", "status", "--json").json()
    assert [(r["contract"], r["paused"], r["guardian"]) for r in rows] == [
        ("registry", False, guardian),
        ("passports", False, guardian),
    ]
    assert op.run("emergency", "pause", "--account", "0").code == 1  # the governor is not the guardian
    paused = op.ok("emergency", "pause", "--account", "2", "--json").json()
    assert [row["contract"] for row in paused] == ["registry", "passports"] and paused[0]["gas_used"] > 0
    assert "PAUSED" in op.ok("emergency", "status").out
    again = op.run("emergency", "pause", "--account", "2")
    assert again.code == 1 and "nothing to change" in again.err

    verify = ["identity", "verify", op.accounts[5], "--attributes", str(tmp_path / "person.json"), "--level", "high",
              "--valid-days", "30", "--credential-out", str(tmp_path / "c.json"), "--account", "1"]  # fmt: skip
    blocked = op.run(*verify)
    assert blocked.code == 1 and "The identity registry is paused" in blocked.err and "Traceback" not in blocked.err
    by_guardian = op.run("emergency", "unpause", "--account", "2")
    assert by_guardian.code == 1 and "only the governor unpauses" in by_guardian.err
    assert "governance propose call IdentityRegistry unpause" in by_guardian.err
    op.ok("emergency", "unpause", "--contract", "registry", "--account", "0")
    assert [r["paused"] for r in op.ok("emergency", "status", "--json").json()] == [False, True]
    op.ok(*verify)

    same = op.run("emergency", "set-guardian", governor, "--contract", "passports")
    assert same.code == 1 and "is the governor" in same.err
    op.ok("emergency", "set-guardian", "--none")
    assert [r["guardian"] for r in op.ok("emergency", "status", "--json").json()] == [None, None]
