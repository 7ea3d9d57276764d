"""Fixing a bug after deployment (issue 14.3, docs/upgrades.md), on Anvil.

v1 is this package's build, deployed behind OpenZeppelin's transparent proxies and used
under a plain key (identities, a relayed consent, key and consent nonces, passports with
lineage and custody); the key hands governance and the ProxyAdmins to the timelock of a
Safe. v2 is the same source with one fix: v1 lets the governor name itself guardian
(only the Python client refuses it), v2 refuses it on chain. The Safe's owners move both
proxies to v2 through the timelock, and everything v1 held is there. An upgrade by anyone
but the timelock, or before its delay, is refused; the passports follow a new registry.

The module shares test_governance's Anvil and its Safe and timelock (three owners, two
must sign, one hour's delay); each test starts from the same snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from accounts import credential_for, fund, new_account
from cli_world import Operator
from eth_account.signers.local import LocalAccount
from test_governance import DELAY, Governed, governed, governed_session, module_node, signed
from web3.contract import Contract
from web3.exceptions import ContractCustomError

from chainpass.artifacts import DEPLOYABLE_CONTRACTS, Artifact, load_artifact
from chainpass.chain import ZERO_ADDRESS
from chainpass.compiler import compile_contracts, imported_by, source_files
from chainpass.deployment import (
    Deployment,
    deploy,
    deploy_implementation,
    implementation_of,
    proxy_admin,
    upgrade,
)
from chainpass.enums import Level, Role, Sector, State
from chainpass.errors import ContractRevert, DeploymentError, InvalidInput
from chainpass.governance import (
    NotReady,
    Proposal,
    call_action,
    execute,
    hand_over,
    propose,
    read_proposal,
    submit,
    upgrade_action,
)
from chainpass.identity import IdentityRegistry
from chainpass.passport import ProductPassports, transformation_id
from chainpass.standards.gs1 import ProductKey

__all__ = ["governed", "governed_session", "module_node"]  # fixtures shared with test_governance

PADDY_GTIN = "9506000134406"
RICE_GTIN = "9506000134413"
MILL = transformation_id("urn:uuid:upgrade-test-mill-run")
#: Where v2's fix goes in both contracts (setGuardian's last lines), and v2's version.
ANCHOR = "        emit GuardianSet(_guardian, newGuardian);\n"
FIXES = {
    "IdentityRegistry": (
        "        if (newGuardian == _governor) revert IdentityNotGuardian(newGuardian);\n",
        "0.7.0",
        "0.7.1",
    ),
    "ProductPassport": (
        "        if (newGuardian == _governor) revert PassportNotGuardian(newGuardian);\n",
        "0.7.0",
        "0.7.1",
    ),
}


@cache
def v2() -> dict[str, Artifact]:
    """The contracts with the fix: the governor can no longer name itself guardian."""
    sources = dict(source_files())
    for name, (fix, old, new) in FIXES.items():
        path = f"contracts/{name}.sol"
        assert sources[path].count(ANCHOR) == 1 and sources[path].count(f'return "{old}";') == 1
        sources[path] = sources[path].replace(ANCHOR, fix + ANCHOR).replace(f'return "{old}";', f'return "{new}";')
    # The two upgraded contracts and what they import: the other contracts would only cost compile time.
    needed = imported_by(sources, tuple(f"contracts/{name}.sol" for name in DEPLOYABLE_CONTRACTS))
    return {name: Artifact.from_json(data) for name, data in compile_contracts(needed).items()}


def governor_may_guard(contract: Contract, governor: str) -> bool:
    """Whether ``governor`` could name itself guardian (an eth_call: nothing changes)."""
    try:
        contract.functions.setGuardian(governor).call({"from": governor})
    except ContractCustomError:
        return False
    return True


@dataclass(frozen=True)
class V1:
    """A key-governed v1 deployment in use."""

    deployment: Deployment
    registry: IdentityRegistry
    passports: ProductPassports
    key: str
    holder: LocalAccount
    bank: str
    producer: str
    retailer: str
    milled: int
    paddy: tuple[int, int]


def use_v1(g: Governed) -> V1:
    chain = g.chain
    accounts = chain.dev_accounts()
    key, bureau, bank, registrar, producer, retailer = (accounts[i] for i in (4, 1, 2, 3, 6, 7))
    deployment, _ = deploy(chain, key, recovery_delay=600)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    passports = ProductPassports.from_deployment(chain, deployment)
    registry.appoint_authority(bureau, Level.HIGH, sender=key)
    registry.appoint_relying_party(bank, Sector.BANK, sender=key)
    holder = new_account()
    fund(chain, holder.address)
    expires = chain.latest_timestamp() + 10**8
    for account in (holder.address, registrar, producer, retailer):
        registry.verify(credential_for(account), Level.HIGH, expires, sender=bureau)
    # A consent relayed by the bank (the pair's nonce moves on) and signatures cancelled (the key nonce).
    consent = registry.typed_grant_consent(holder.address, bank, expires, deadline=expires).sign(holder)
    registry.relay(consent, sender=bank)
    registry.cancel_signatures(sender=holder)
    for account, role in ((registrar, Role.REGISTRAR), (producer, Role.PRODUCER), (retailer, Role.RETAILER)):
        passports.set_roles(account, role, sender=key)
    passports.register_prefix("9506000", producer, sender=registrar)
    paddy = passports.commission([ProductKey.lot(PADDY_GTIN, "P1"), ProductKey.lot(PADDY_GTIN, "P2")], sender=producer)
    (milled,) = passports.transform(MILL, paddy, [ProductKey.lot(RICE_GTIN, "M1")], sender=producer)
    offer = passports.custody_offer(milled, retailer, deadline=expires)
    passports.accept_custody(passports.sign_offer(offer, signer=producer), sender=retailer)
    return V1(deployment, registry, passports, key, holder, bank, producer, retailer, milled, (paddy[0], paddy[1]))


def snapshot(v1: V1) -> dict[str, object]:
    """What v1 holds, read through the clients: it must read the same after the upgrade."""
    registry, passports, holder = v1.registry, v1.passports, v1.holder.address
    return {
        "holder": registry.status(holder),
        "consent": registry.consent_until(holder, v1.bank),
        "consent nonce": registry.consent_nonce(holder, v1.bank),
        "key nonce": registry.nonce(holder),
        "authority": registry.authority(v1.registry.chain.dev_accounts()[1]),
        "relying party": registry.relying_party(v1.bank),
        "governor": (registry.governor(), passports.contract.functions.governor().call()),
        "milled": passports.passport(v1.milled),
        "lineage": passports.lineage_of(v1.milled),
        "inputs": passports.inputs_of(MILL),
        "custodian": passports.custodian_of(v1.milled),
        "custody nonce": passports.custody_nonce(v1.milled),
        "paddy": [passports.passport(i) for i in v1.paddy],
        "roles": passports.roles_of(v1.producer),
        "token uri": (passports.base_uri(), passports.token_uri(v1.milled)),
        "domain": (
            registry.contract.functions.DOMAIN_SEPARATOR().call(),
            passports.contract.functions.eip712Domain().call(),
        ),
    }


def through_timelock(g: Governed, *actions: object) -> list[Proposal]:
    """Each action proposed, signed by two owners and submitted: scheduled, not yet run."""
    proposals = []
    for action in actions:
        proposal = signed(propose(g.chain, g.governance, action), g.owners[0], g.owners[1])  # type: ignore[arg-type]
        submit(g.chain, g.governance, proposal, g.stranger)
        proposals.append(proposal)
    return proposals


def under_the_timelock(g: Governed, v1: V1) -> None:
    """The key hands governance and both ProxyAdmins to the timelock, which accepts."""
    assert len(hand_over(g.chain, g.governance, v1.deployment, v1.key)) == 4
    accepts = [
        call_action(g.chain, name, v1.deployment.address(name), "acceptGovernance", []) for name in DEPLOYABLE_CONTRACTS
    ]
    proposals = through_timelock(g, *accepts)
    g.chain.advance_time(DELAY)
    for proposal in proposals:
        execute(g.chain, g.governance, proposal, g.stranger)


def test_v1_state_is_intact_after_the_timelock_moves_both_proxies_to_v2(governed: Governed) -> None:
    g = governed
    v1 = use_v1(g)
    under_the_timelock(g, v1)
    before = snapshot(v1)
    timelock = g.governance.timelock
    # The bug v2 fixes: v1 lets the governor name itself guardian.
    assert governor_may_guard(v1.registry.contract, timelock) and governor_may_guard(v1.passports.contract, timelock)

    implementations = {
        name: deploy_implementation(g.chain, v1.deployment, name, g.stranger, artifact=v2()[name])
        for name in DEPLOYABLE_CONTRACTS
    }
    proposals = through_timelock(
        g, *(upgrade_action(g.chain, v1.deployment, name, address) for name, address in implementations.items())
    )
    with pytest.raises(NotReady):
        execute(g.chain, g.governance, proposals[0], g.stranger)
    assert v1.registry.contract.functions.version().call() == "0.7.0"
    g.chain.advance_time(DELAY)
    for proposal in proposals:
        execute(g.chain, g.governance, proposal, g.stranger)

    for name, address in implementations.items():
        assert implementation_of(g.chain, v1.deployment.address(name)) == address
    assert v1.registry.contract.functions.version().call() == "0.7.1"
    assert v1.passports.contract.functions.version().call() == "0.7.1"
    assert snapshot(v1) == before
    # State written by v1 keeps working in v2: the consent checks, the lot moves on, nonces go on counting.
    assert v1.registry.check(v1.holder.address, sender=v1.bank).valid
    offer = v1.passports.custody_offer(v1.milled, v1.producer, deadline=2**40 - 1)
    assert offer.nonce == before["custody nonce"]
    v1.passports.accept_custody(v1.passports.sign_offer(offer, signer=v1.retailer), sender=v1.producer)
    assert v1.passports.custodian_of(v1.milled) == v1.producer
    assert v1.passports.passport(v1.milled).state is State.ACTIVE  # type: ignore[union-attr]
    # And the fix is in: the timelock can no longer name itself guardian.
    assert not governor_may_guard(v1.registry.contract, timelock)
    assert not governor_may_guard(v1.passports.contract, timelock)
    # A setting v1 left empty is set after the upgrade, by the timelock, as any setting is.
    base = "https://id.example.org/metadata/"
    (set_base,) = through_timelock(
        g, call_action(g.chain, "ProductPassport", v1.passports.address, "setBaseURI", [base])
    )
    g.chain.advance_time(DELAY)
    execute(g.chain, g.governance, set_base, g.stranger)
    assert v1.passports.token_uri(v1.milled) == f"{base}0x{v1.milled:064x}"


def test_only_the_timelock_upgrades(governed: Governed) -> None:
    g = governed
    v1 = use_v1(g)
    under_the_timelock(g, v1)
    name = "IdentityRegistry"
    implementation = deploy_implementation(g.chain, v1.deployment, name, g.stranger, artifact=v2()[name])
    before = implementation_of(g.chain, v1.registry.address)

    # The former key, the deployer, a Safe owner's account: none owns the ProxyAdmin.
    for account in (v1.key, g.deployer, g.stranger):
        with pytest.raises(DeploymentError, match="owner of IdentityRegistry's ProxyAdmin"):
            upgrade(g.chain, v1.deployment, name, implementation, account)
    admin = upgrade_action(g.chain, v1.deployment, name, implementation)
    with pytest.raises(ContractRevert, match="does not own this ProxyAdmin"):
        g.chain.transact(
            g.chain.contract(load_artifact("ProxyAdmin"), admin.target).functions.upgradeAndCall(
                v1.registry.address, implementation, b""
            ),
            v1.key,
        )
    # The proxy's admin functions are not reachable by anyone else: a call is passed on to
    # the implementation, which has no such function.
    assert implementation_of(g.chain, v1.registry.address) == before


def test_a_plain_key_upgrades_at_once_and_refuses_the_wrong_implementation(governed: Governed) -> None:
    """Local development: the key that governs owns the ProxyAdmins."""
    g = governed
    v1 = use_v1(g)
    wrong = deploy_implementation(g.chain, v1.deployment, "IdentityRegistry", v1.key)

    with pytest.raises(InvalidInput, match="is not this package's ProductPassport"):
        upgrade(g.chain, v1.deployment, "ProductPassport", wrong, v1.key)
    with pytest.raises(InvalidInput, match="no contract at"):
        upgrade(g.chain, v1.deployment, "ProductPassport", g.stranger, v1.key)
    fixed = deploy_implementation(g.chain, v1.deployment, "ProductPassport", v1.key, artifact=v2()["ProductPassport"])
    upgrade(g.chain, v1.deployment, "ProductPassport", fixed, v1.key)

    assert v1.passports.contract.functions.version().call() == "0.7.1"
    assert not governor_may_guard(v1.passports.contract, v1.key)
    assert governor_may_guard(v1.registry.contract, v1.key)  # the registry was not upgraded


def test_the_passports_follow_a_new_registry(governed: Governed) -> None:
    """A new registry (another county's, or one deployed afresh): the passports' next
    implementation names it, and their passports stay as they were."""
    g = governed
    v1 = use_v1(g)
    other, _ = deploy(g.chain, v1.key, recovery_delay=600)
    new_registry = other.address("IdentityRegistry")
    before = (v1.passports.passport(v1.milled), v1.passports.custodian_of(v1.milled))

    follower = deploy_implementation(g.chain, v1.deployment, "ProductPassport", v1.key, registry=new_registry)
    upgrade(g.chain, v1.deployment, "ProductPassport", follower, v1.key)

    assert v1.passports.contract.functions.identityRegistry().call() == new_registry
    assert (v1.passports.passport(v1.milled), v1.passports.custodian_of(v1.milled)) == before
    # The producer is unknown to the new registry: it can commission nothing until verified there.
    with pytest.raises(ContractRevert):
        v1.passports.commission([ProductKey.lot(PADDY_GTIN, "P3")], sender=v1.producer)
    with pytest.raises(InvalidInput, match="Only the passports follow a registry"):
        deploy_implementation(g.chain, v1.deployment, "IdentityRegistry", v1.key, registry=new_registry)
    assert ZERO_ADDRESS not in (new_registry, follower)


def test_cli_prepares_applies_and_shows_an_upgrade(
    governed: Governed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g = governed
    op = Operator(capsys, g.chain.endpoint, tmp_path / "home", g.chain.dev_accounts())
    key, other = op.accounts[4], op.accounts[6]
    op.ok("deploy", "--account", key)
    before = {row["contract"]: row for row in op.ok("upgrade", "status", "--json").json()}
    assert all(row["this_package"] and row["upgraded_by"] == key for row in before.values())

    prepared = op.ok("upgrade", "prepare", "passports", "--account", other, "--json").json()["implementation"]
    assert "owner of ProductPassport's ProxyAdmin" in op.error(
        "upgrade", "apply", "passports", prepared, "--account", other
    )
    assert "no contract at" in op.error("upgrade", "apply", "passports", g.stranger, "--account", key)
    assert "is not this package's ProductPassport" in op.error(
        "upgrade", "apply", "passports", before["registry"]["implementation"], "--account", key
    )
    op.ok("upgrade", "apply", "passports", prepared, "--account", key)

    after = {row["contract"]: row for row in op.ok("upgrade", "status", "--json").json()}
    assert after["passports"]["implementation"] == prepared != before["passports"]["implementation"]
    assert after["passports"]["this_package"] and after["registry"] == before["registry"]
    assert "another build" not in op.ok("upgrade", "status").out


def test_cli_proposes_an_upgrade_through_the_timelock(
    governed: Governed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    g = governed
    op = Operator(capsys, g.chain.endpoint, g.home, g.chain.dev_accounts())
    prepared = op.ok("upgrade", "prepare", "registry", "--account", g.stranger, "--json").json()["implementation"]
    out = tmp_path / "upgrade.json"

    op.ok("governance", "propose", "upgrade", "registry", prepared, "--out", str(out))

    proposal = read_proposal(out)
    admin = proxy_admin(g.chain, g.deployment, "IdentityRegistry")
    assert (proposal.action.target, proposal.action.function) == (admin.address, "upgradeAndCall")
    assert proposal.action.args[:2] == (g.deployment.address("IdentityRegistry"), prepared)
    assert "owner of IdentityRegistry's ProxyAdmin" in op.error(
        "upgrade", "apply", "registry", prepared, "--account", g.deployer
    )
    # The passports' metadata base is proposed the same way (checked as a URL first).
    base = tmp_path / "base.json"
    assert "must end with /" in op.error("governance", "propose", "set-metadata-base", "https://x.example/m", "--out",
                                         str(base))  # fmt: skip
    op.ok("governance", "propose", "set-metadata-base", "https://id.example.org/metadata/", "--out", str(base))
    action = read_proposal(base).action
    assert (action.target, action.function) == (g.deployment.address("ProductPassport"), "setBaseURI")
    assert action.args == ("https://id.example.org/metadata/",)


def test_the_passports_follow_only_a_registry(governed: Governed) -> None:
    """An account without code, or another contract (the passports themselves), as the
    registry to follow: refused before anything is deployed."""
    g = governed
    v1 = use_v1(g)
    block = g.chain.w3.eth.block_number

    with pytest.raises(InvalidInput, match="no contract at"):
        deploy_implementation(g.chain, v1.deployment, "ProductPassport", v1.key, registry=g.stranger)
    with pytest.raises(InvalidInput, match="is not this package's IdentityRegistry"):
        deploy_implementation(g.chain, v1.deployment, "ProductPassport", v1.key, registry=v1.passports.address)
    assert g.chain.w3.eth.block_number == block
