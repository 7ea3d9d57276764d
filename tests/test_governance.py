"""`chainpass.governance` on Anvil: a Safe (the real Safe 1.4.1 contracts) proposes on an
OpenZeppelin TimelockController, which governs the registry and the passports.

One Anvil for the module (the tests move its clock); each test starts from the same
snapshot: governance set up (three owners, two must sign, one hour's delay) and the
contracts deployed with the timelock as their governor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from accounts import fund
from cli_world import Operator
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chainpass.accounts import KeystoreDirectory
from chainpass.chain import Chain
from chainpass.deployment import Deployment, DeploymentStore, deploy
from chainpass.enums import Level
from chainpass.errors import ChainIdMismatch, ContractRevert, DeploymentError, InvalidInput, TransactionFailed
from chainpass.governance import (
    Governance,
    GovernanceError,
    GovernanceStore,
    NotAnOwner,
    NotEnoughSignatures,
    NotReady,
    Proposal,
    appoint_authority_action,
    call_action,
    cancel_action,
    execute,
    hand_over,
    parse_delay,
    proposal_status,
    propose,
    safe_contract,
    setup_governance,
    sign_proposal,
    submit,
    timelock_contract,
    write_proposal,
)
from chainpass.identity import IdentityRegistry
from chainpass.node import AnvilNode, free_port
from chainpass.passport import ProductPassports

DELAY = 3600


@dataclass(frozen=True)
class Governed:
    chain: Chain
    governance: Governance
    deployment: Deployment
    registry: IdentityRegistry
    owners: tuple[LocalAccount, LocalAccount, LocalAccount]
    deployer: str
    #: A dev account with no role: it submits and executes ("anyone").
    stranger: str
    home: Path


@pytest.fixture(scope="module")
def module_node() -> Iterator[AnvilNode]:
    node = AnvilNode(port=free_port()).start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def governed_session(module_node: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Governed:
    chain = Chain.connect(module_node.url)
    home = tmp_path_factory.mktemp("governance-home")
    deployer, stranger = chain.dev_accounts()[0], chain.dev_accounts()[5]
    owners = (Account.create(), Account.create(), Account.create())
    governance, created = setup_governance(
        chain, deployer, [o.address for o in owners], 2, DELAY, GovernanceStore(home / "governance")
    )
    assert created
    deployment, _ = deploy(chain, deployer, DeploymentStore(home / "deployments"), governor=governance.timelock)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    return Governed(chain, governance, deployment, registry, owners, deployer, stranger, home)


@pytest.fixture
def governed(governed_session: Governed) -> Iterator[Governed]:
    snapshot = governed_session.chain.snapshot()
    yield governed_session
    governed_session.chain.revert(snapshot)


def appoint(g: Governed, authority: str, level: str = "high") -> Proposal:
    return propose(g.chain, g.governance, appoint_authority_action(g.registry.address, authority, level))


def signed(proposal: Proposal, *owners: LocalAccount) -> Proposal:
    for owner in owners:
        proposal = sign_proposal(proposal, owner)
    return proposal


# ---------------------------------------------------------------------- setup


def test_setup_gives_the_safe_the_timelock_and_the_timelock_the_contracts(governed: Governed) -> None:
    g = governed
    safe = safe_contract(g.chain, g.governance.safe)
    timelock = timelock_contract(g.chain, g.governance.timelock)
    roles = {name: timelock.functions[name]().call() for name in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE")}
    admin = timelock.functions.DEFAULT_ADMIN_ROLE().call()

    assert sorted(safe.functions.getOwners().call()) == sorted(o.address for o in g.owners)
    assert safe.functions.getThreshold().call() == 2
    assert safe.functions.VERSION().call() == "1.4.1"
    assert timelock.functions.getMinDelay().call() == DELAY
    assert timelock.functions.hasRole(roles["PROPOSER_ROLE"], g.governance.safe).call()
    assert timelock.functions.hasRole(roles["CANCELLER_ROLE"], g.governance.safe).call()
    assert timelock.functions.hasRole(roles["EXECUTOR_ROLE"], "0x" + "00" * 20).call()  # anyone executes
    for account in (g.deployer, *(o.address for o in g.owners)):
        assert not any(timelock.functions.hasRole(role, account).call() for role in (*roles.values(), admin))
    assert timelock.functions.hasRole(admin, g.governance.timelock).call()  # only itself
    assert g.registry.governor() == g.governance.timelock
    assert ProductPassports.from_deployment(g.chain, g.deployment).contract.functions.governor().call() == (
        g.governance.timelock
    )


def test_setup_is_recorded_and_safe_to_rerun(governed: Governed) -> None:
    g = governed
    store = GovernanceStore(g.home / "governance")
    record = json.loads(store.path_for(g.chain).read_text())
    owners = [o.address for o in g.owners]

    again, created = setup_governance(g.chain, g.deployer, owners, 2, DELAY, store)

    assert not created and again == g.governance
    assert store.path_for(g.chain).name == DeploymentStore(g.home / "deployments").path_for(g.chain).name
    assert record["safe"] == g.governance.safe and record["timelock"] == g.governance.timelock
    with pytest.raises(GovernanceError, match="has governance already"):
        setup_governance(g.chain, g.deployer, owners, 3, DELAY, store)
    replaced, created = setup_governance(g.chain, g.deployer, owners, 3, DELAY, store, replace=True)
    assert created and replaced.safe != g.governance.safe and store.load(g.chain) == replaced
    kept = [p for p in store.directory.iterdir() if ".replaced-" in p.name]
    assert [json.loads(p.read_text())["safe"] for p in kept] == [g.governance.safe]
    for p in kept:  # the module's record stays the one the other tests use
        p.replace(store.path_for(g.chain))


@pytest.mark.parametrize(
    ("owners", "threshold", "fragment"),
    [
        ([], 1, "at least one owner"),
        (["a", "a"], 1, "given twice"),
        (["a", "b"], 3, "threshold must be from 1 to the number of owners"),
        (["a", "b"], 0, "threshold must be from 1"),
        (["0x12"], 1, "not an Ethereum address"),
    ],
)
def test_setup_refuses_bad_owners(governed: Governed, owners: list[str], threshold: int, fragment: str) -> None:
    names = {"a": governed.owners[0].address, "b": governed.owners[1].address}
    with pytest.raises(InvalidInput, match=fragment):
        setup_governance(governed.chain, governed.deployer, [names.get(o, o) for o in owners], threshold, DELAY)


def test_parse_delay() -> None:
    assert [parse_delay(t) for t in ("3600", "90s", "30m", "48h", "2d")] == [3600, 90, 1800, 172800, 172800]
    with pytest.raises(InvalidInput, match="not a duration"):
        parse_delay("two days")


# ---------------------------------------------------------------------- the flow


def test_safe_tx_hash_is_the_safes_own(governed: Governed) -> None:
    proposal = appoint(governed, governed.chain.dev_accounts()[1])
    safe = safe_contract(governed.chain, governed.governance.safe)

    assert bytes(safe.functions.getTransactionHash(*proposal.safe_tx().args()).call()) == proposal.safe_tx_hash
    assert proposal.nonce == safe.functions.nonce().call() == 0


def test_owners_sign_the_safe_schedules_time_passes_anyone_executes(governed: Governed) -> None:
    g = governed
    authority = g.chain.dev_accounts()[1]
    proposal = appoint(g, authority)
    assert proposal_status(g.chain, g.governance, proposal).state == "collecting signatures"

    proposal = signed(proposal, g.owners[2], g.owners[0])  # offline, any order
    assert proposal_status(g.chain, g.governance, proposal).state == "ready to submit"
    submit(g.chain, g.governance, proposal, g.stranger)

    scheduled = proposal_status(g.chain, g.governance, proposal)
    assert scheduled.state == "waiting"
    assert scheduled.ready_at is not None and scheduled.ready_at - scheduled.now == DELAY
    assert not g.registry.authority(authority).active
    with pytest.raises(NotReady, match="not ready") as early:
        execute(g.chain, g.governance, proposal, g.stranger)
    assert early.value.ready_at == scheduled.ready_at
    assert not g.registry.authority(authority).active

    g.chain.advance_time(DELAY)
    assert proposal_status(g.chain, g.governance, proposal).state == "ready"
    receipt = execute(g.chain, g.governance, proposal, g.stranger)

    appointed = g.registry.authority(authority)
    assert appointed.active and appointed.max_level is Level.HIGH
    assert receipt["to"] == g.governance.timelock
    assert proposal_status(g.chain, g.governance, proposal).state == "done"
    with pytest.raises(GovernanceError, match="has run already"):
        execute(g.chain, g.governance, proposal, g.stranger)


def test_one_owner_cannot_schedule(governed: Governed) -> None:
    g = governed
    proposal = signed(appoint(g, g.chain.dev_accounts()[1]), g.owners[1])

    with pytest.raises(NotEnoughSignatures, match="1 of the 2 owner signatures"):
        submit(g.chain, g.governance, proposal, g.stranger)
    # The Safe itself refuses it too, not only this library.
    safe = safe_contract(g.chain, g.governance.safe)
    call = safe.functions.execTransaction(*proposal.safe_tx().args()[:-1], proposal.packed_signatures())
    with pytest.raises((ContractRevert, TransactionFailed), match="GS020"):
        g.chain.transact(call, g.stranger)
    # ...and so does the timelock, when the owner tries it directly.
    fund(g.chain, g.owners[1].address)
    schedule = timelock_contract(g.chain, g.governance.timelock).functions.schedule(
        proposal.action.target, 0, proposal.action.data, proposal.predecessor, proposal.salt, DELAY
    )
    with pytest.raises((ContractRevert, TransactionFailed)):
        g.chain.transact(schedule, g.owners[1])
    assert proposal_status(g.chain, g.governance, proposal).state == "collecting signatures"
    with pytest.raises(GovernanceError, match="not scheduled yet"):
        execute(g.chain, g.governance, proposal, g.stranger)


def test_no_owner_and_not_the_deployer_can_govern_directly(governed: Governed) -> None:
    g = governed
    fund(g.chain, g.owners[0].address)

    for who in (g.owners[0], g.deployer):
        with pytest.raises(ContractRevert, match="is not the registry governor") as refused:
            g.registry.appoint_authority(g.chain.dev_accounts()[1], "high", sender=who)
        assert refused.value.error == "IdentityNotGovernor"


def test_a_non_owner_cannot_sign(governed: Governed) -> None:
    g = governed
    proposal = appoint(g, g.chain.dev_accounts()[1])
    outsider = Account.create()

    with pytest.raises(NotAnOwner, match="is not an owner of Safe"):
        sign_proposal(proposal, outsider)
    forged = bytes(Account.sign_typed_data(outsider.key, full_message=proposal.typed_data()).signature)
    with pytest.raises(NotAnOwner):
        proposal.with_signature(forged)


def test_the_proposal_file_round_trips_and_an_altered_one_is_refused(governed: Governed, tmp_path: Path) -> None:
    g = governed
    proposal = signed(appoint(g, g.chain.dev_accounts()[1]), g.owners[0])
    data = proposal.to_json()

    assert Proposal.from_json(json.loads(json.dumps(data))) == proposal
    rogue = g.chain.dev_accounts()[7]
    altered: dict[str, Any] = json.loads(json.dumps(data))
    altered["action"]["data"] = "0x" + appoint_authority_action(g.registry.address, rogue, "high").data.hex()
    with pytest.raises(InvalidInput, match="altered"):
        Proposal.from_json(altered)


def test_a_proposal_for_another_chain_is_refused(governed: Governed) -> None:
    g = governed
    proposal = signed(appoint(g, g.chain.dev_accounts()[1]), g.owners[0], g.owners[1])
    elsewhere = replace(proposal, chain_id=1, signatures={})

    with pytest.raises(ChainIdMismatch, match="is for chain 1"):
        submit(g.chain, g.governance, elsewhere, g.stranger)
    with pytest.raises(ChainIdMismatch, match="is for chain 1"):
        execute(g.chain, g.governance, elsewhere, g.stranger)


def test_the_safe_cancels_a_waiting_action(governed: Governed) -> None:
    g = governed
    authority = g.chain.dev_accounts()[1]
    proposal = signed(appoint(g, authority), g.owners[0], g.owners[1])
    submit(g.chain, g.governance, proposal, g.stranger)

    cancel = signed(cancel_action(g.chain, g.governance, proposal), g.owners[1], g.owners[2])
    submit(g.chain, g.governance, cancel, g.stranger)
    g.chain.advance_time(DELAY)

    assert proposal_status(g.chain, g.governance, proposal).state == "cancelled"
    with pytest.raises(GovernanceError, match="cancelled"):
        execute(g.chain, g.governance, proposal, g.stranger)
    assert not g.registry.authority(authority).active


def test_a_used_nonce_and_a_refused_action_are_refused_before_sending(governed: Governed) -> None:
    g = governed
    first = signed(appoint(g, g.chain.dev_accounts()[1]), g.owners[0], g.owners[1])
    second = signed(appoint(g, g.chain.dev_accounts()[2]), g.owners[0], g.owners[1])  # same Safe nonce
    submit(g.chain, g.governance, first, g.stranger)

    with pytest.raises(GovernanceError, match="has used nonce 0 already"):
        submit(g.chain, g.governance, second, g.stranger)
    assert proposal_status(g.chain, g.governance, second).state == "superseded"
    with pytest.raises(InvalidInput, match="minimum delay"):
        propose(g.chain, g.governance, first.action, delay=DELAY - 1)
    with pytest.raises(ContractRevert, match="would refuse"):
        propose(g.chain, g.governance, call_action(g.chain, "IdentityRegistry", g.registry.address, "removeAuthority",
                                                  [g.chain.dev_accounts()[3]]))  # fmt: skip


def test_the_generic_form_appoints_a_relying_party_and_reads_enums(governed: Governed) -> None:
    g = governed
    bank = g.chain.dev_accounts()[2]
    action = call_action(g.chain, "IdentityRegistry", g.registry.address, "appointRelyingParty", [bank, "bank"])
    proposal = signed(propose(g.chain, g.governance, action), g.owners[0], g.owners[2])
    submit(g.chain, g.governance, proposal, g.stranger)
    g.chain.advance_time(DELAY)
    execute(g.chain, g.governance, proposal, g.stranger)

    assert g.registry.relying_party(bank).active
    with pytest.raises(InvalidInput, match="has no function"):
        call_action(g.chain, "IdentityRegistry", g.registry.address, "governor", [])
    with pytest.raises(InvalidInput, match="takes 2 arguments"):
        call_action(g.chain, "IdentityRegistry", g.registry.address, "appointRelyingParty", [bank])


def test_the_timelock_names_the_guardian_who_pauses_and_only_the_timelock_unpauses(governed: Governed) -> None:
    g = governed
    guardian = g.chain.dev_accounts()[3]
    passports = ProductPassports.from_deployment(g.chain, g.deployment)

    def enact(function: str, args: list[str]) -> None:
        action = call_action(g.chain, "ProductPassport", passports.address, function, args)
        proposal = signed(propose(g.chain, g.governance, action), g.owners[0], g.owners[1])
        submit(g.chain, g.governance, proposal, g.stranger)
        g.chain.advance_time(DELAY)
        execute(g.chain, g.governance, proposal, g.stranger)

    enact("setGuardian", [guardian])
    passports.pause(sender=guardian)
    with pytest.raises(ContractRevert, match="only the governor"):
        passports.unpause(sender=g.deployer)  # the deployer's key governs nothing
    assert passports.paused()
    enact("unpause", [])
    assert not passports.paused() and passports.guardian() == guardian


def test_deploy_with_another_governor_than_recorded_is_refused(governed: Governed) -> None:
    g = governed
    with pytest.raises(DeploymentError, match="is governed by"):
        deploy(g.chain, g.deployer, DeploymentStore(g.home / "deployments"), governor=g.deployer)
    again, created = deploy(
        g.chain, g.deployer, DeploymentStore(g.home / "deployments"), governor=g.governance.timelock
    )
    assert not created and again == g.deployment


# ---------------------------------------------------------------------- the CLI

PASSWORD = "correct horse battery staple"


@pytest.fixture
def cli(
    governed: Governed, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Operator:
    """An operator's home on the module's node, with two owners' keystores (alice, bob)."""
    monkeypatch.setenv("CHAINPASS_PASSWORD", PASSWORD)
    keystores = KeystoreDirectory(tmp_path / "home" / "keystores")
    for name in ("alice", "bob"):
        keystores.import_key(name, Account.create().key.hex(), PASSWORD, scrypt_n=2**4)
    return Operator(capsys, governed.chain.endpoint, tmp_path / "home", [])


def test_cli_flow_appoints_an_authority(cli: Operator, governed: Governed, tmp_path: Path) -> None:
    accounts = governed.chain.dev_accounts()
    alice, bob = (e.address for e in KeystoreDirectory(cli.home / "keystores").list())
    carol = accounts[3]  # an owner whose key the node holds
    owners = ["--owner", alice, "--owner", bob, "--owner", carol]
    setup = cli.ok("governance", "setup", *owners, "--threshold", "2", "--delay", "1h", "--json").json()
    assert setup["created"] is True and setup["threshold"] == 2 and setup["min_delay"] == DELAY
    assert (
        cli.ok("governance", "setup", *owners, "--threshold", "2", "--delay", "1h", "--json").json()["created"] is False
    )
    deployed = cli.ok("deploy", "--governor", "timelock", "--json").json()
    assert deployed["contracts"]["IdentityRegistry"]["constructor_args"]["initialGovernor"] == setup["timelock"]
    authority, proposal = accounts[1], tmp_path / "appoint.json"

    written = cli.ok("governance", "propose", "appoint-authority", authority, "--max-level", "substantial",
                     "--out", str(proposal))  # fmt: skip
    assert "needs 2 of the 3 owners' signatures" in written.out
    assert "is not an owner of Safe" in cli.error("governance", "sign", str(proposal), "--account", "4")
    one = cli.ok("governance", "sign", str(proposal), "--account", "alice", "--json").json()
    assert one["signed_by"] == [alice] and one["missing_signatures"] == 1
    refused = cli.error("governance", "submit", str(proposal), "--account", "5")
    assert "1 of the 2 owner signatures" in refused and bob in refused and carol in refused
    copy = tmp_path / "carol.json"
    cli.ok("governance", "sign", str(proposal), "--account", "3", "--out", str(copy))  # signed on the node
    assert "collecting signatures" in cli.ok("governance", "status", str(proposal)).out

    offline, bobs = Operator(cli.capsys, "http://127.0.0.1:9", cli.home, []), tmp_path / "bob.json"  # no node there
    offline.ok("governance", "sign", str(proposal), "--account", "bob", "--out", str(bobs))  # a keystore: offline

    submitted = cli.ok("governance", "submit", str(proposal), str(copy), str(bobs), "--account", "5", "--json").json()
    assert submitted["state"] == "waiting" and set(submitted["signed_by"]) == {alice, bob, carol}
    early = cli.error("governance", "execute", str(proposal), "--account", "6")
    assert "not ready" in early and "UTC" in early
    status = cli.ok("governance", "status", str(proposal))
    assert "waiting" in status.out and "ready at" in status.out
    registry = IdentityRegistry(governed.chain, deployed["contracts"]["IdentityRegistry"]["address"])
    assert not registry.authority(authority).active

    governed.chain.advance_time(DELAY)
    done = cli.ok("governance", "execute", str(proposal), "--account", "6", "--json").json()

    assert done["state"] == "done"
    assert registry.authority(authority).active and registry.authority(authority).max_level is Level.SUBSTANTIAL
    assert cli.ok("governance", "status", str(proposal), "--json").json()["state"] == "done"
    assert "is not the registry governor" in cli.error(
        "identity", "appoint-authority", accounts[2], "--max-level", "low", "--account", "3"
    )


def test_cli_refuses_a_proposal_for_another_chain_or_altered(cli: Operator, governed: Governed, tmp_path: Path) -> None:
    g = governed
    (cli.home / "governance").mkdir(parents=True)
    GovernanceStore(cli.home / "governance").write(g.governance, g.chain)
    proposal = signed(appoint(g, g.chain.dev_accounts()[1]), g.owners[0], g.owners[1])
    elsewhere, altered = tmp_path / "elsewhere.json", tmp_path / "altered.json"
    write_proposal(elsewhere, replace(proposal, chain_id=1, signatures={}))
    data = proposal.to_json()
    data["action"]["args"][0] = data["action"]["target"]  # only the shown text...
    data["delay"] = 1  # ...and a field the hash covers
    altered.write_text(json.dumps(data))

    assert "is for chain 1, but the node is chain 31337" in cli.error("governance", "submit", str(elsewhere))
    assert "was altered" in cli.error("governance", "sign", str(altered), "--account", "alice")
    assert "does not exist" in cli.error("governance", "status", str(tmp_path / "missing.json"))
    assert "No governance record" in Operator(cli.capsys, cli.rpc, tmp_path / "empty", []).error("governance", "status")
    out = tmp_path / "bad.json"
    bad = cli.error("governance", "propose", "appoint-authority", "0x12", "--max-level", "high", "--out", str(out))
    assert "authority '0x12' is not an Ethereum address" in bad and not out.exists()


def test_a_key_governed_deployment_moves_under_the_timelock(governed: Governed) -> None:
    g = governed
    key = g.chain.dev_accounts()[4]  # a plain key governs, as in local development
    deployment, _ = deploy(g.chain, key)
    registry = IdentityRegistry.from_deployment(g.chain, deployment)
    passports = ProductPassports.from_deployment(g.chain, deployment).contract.functions
    assert registry.governor() == passports.governor().call() == key

    assert len(hand_over(g.chain, g.governance, deployment, key)) == 4  # two governors, two ProxyAdmins
    proposals = []
    for name in ("IdentityRegistry", "ProductPassport"):
        accept = call_action(g.chain, name, deployment.address(name), "acceptGovernance", [])
        proposals.append(signed(propose(g.chain, g.governance, accept), g.owners[0], g.owners[1]))
        submit(g.chain, g.governance, proposals[-1], g.stranger)
    assert registry.governor() == key  # the key governs until the timelock accepts
    g.chain.advance_time(DELAY)
    for proposal in proposals:
        execute(g.chain, g.governance, proposal, g.stranger)

    assert registry.governor() == passports.governor().call() == g.governance.timelock
    with pytest.raises(ContractRevert, match="is not the registry governor"):
        registry.appoint_authority(g.chain.dev_accounts()[1], "high", sender=key)
    assert hand_over(g.chain, g.governance, deployment, key) == []  # nothing left to hand over
