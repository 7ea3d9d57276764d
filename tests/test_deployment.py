"""`chainpass.deployment`: deploy once per chain, record it, and never trust a record blindly."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from accounts import Roles
from eth_utils import keccak
from solidity import compile_test_contract

from chainpass.artifacts import load_artifact
from chainpass.chain import ZERO_ADDRESS, Chain
from chainpass.deployment import (
    DEFAULT_RECOVERY_DELAY,
    PROXY,
    Deployment,
    DeploymentStore,
    deploy,
    deploy_implementation,
    genesis_hash,
    implementation_of,
    load_deployment,
    proxy_admin_of,
    upgrade,
)
from chainpass.errors import ChainIdMismatch, ContractRevert, DeploymentError
from chainpass.identity import IdentityRegistry

NAME = "IdentityRegistry"
PASSPORTS = "ProductPassport"


@pytest.fixture
def store(tmp_path: Path) -> DeploymentStore:
    return DeploymentStore(tmp_path / "deployments")


def files_in(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file below ``directory`` with its bytes and modification time."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}


def record_json(store: DeploymentStore, chain: Chain) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(store.path_for(chain).read_text(encoding="utf-8"))
    return data


def test_deploy_twice_finds_the_first_deployment(chain: Chain, roles: Roles, store: DeploymentStore) -> None:
    first, first_created = deploy(chain, roles.governor, store)
    files, block = files_in(store.directory), chain.w3.eth.block_number

    second, second_created = deploy(chain, roles.governor, store)

    assert (first_created, second_created) == (True, False)
    assert second == first
    assert files_in(store.directory) == files
    assert list(files) == [store.path_for(chain).name]
    assert chain.w3.eth.block_number == block


def test_record_holds_everything_needed_to_trust_it(chain: Chain, roles: Roles, store: DeploymentStore) -> None:
    deployment, _ = deploy(chain, roles.governor, store)

    data = record_json(store, chain)

    record = data["contracts"][NAME]
    receipt = chain.w3.eth.get_transaction_receipt(record["tx_hash"])
    code = bytes(chain.w3.eth.get_code(record["address"]))
    assert data["chain_id"] == chain.chain_id
    assert set(record) == {
        "address",
        "tx_hash",
        "block_number",
        "code_hash",
        "constructor_args",
        "implementation",
        "proxy_admin",
    }
    assert receipt["contractAddress"] == record["address"] == deployment.address(NAME)
    assert receipt["blockNumber"] == record["block_number"]
    assert record["code_hash"] == "0x" + keccak(code).hex()
    # The address is OpenZeppelin's proxy; behind it, this build with its immutable (the delay) filled in.
    assert load_artifact(PROXY).built_this(code)
    assert implementation_of(chain, record["address"]) == record["implementation"]
    implementation = bytes(chain.w3.eth.get_code(record["implementation"]))
    assert load_artifact(NAME).built_this(implementation) and implementation != load_artifact(NAME).deployed_bytecode
    assert proxy_admin_of(chain, record["address"]) == record["proxy_admin"]
    admin = chain.contract(load_artifact("ProxyAdmin"), record["proxy_admin"])
    assert admin.functions.owner().call() == roles.governor
    assert record["constructor_args"] == {
        "initialGovernor": roles.governor,
        "recoveryDelay": DEFAULT_RECOVERY_DELAY,
        "initialGuardian": ZERO_ADDRESS,
    }
    registry = IdentityRegistry.from_deployment(chain, deployment)
    assert (registry.governor(), registry.recovery_delay()) == (roles.governor, DEFAULT_RECOVERY_DELAY)
    assert Deployment.from_json(data) == deployment


@pytest.mark.parametrize(
    ("name", "error"), [(NAME, "IdentityAlreadyInitialized"), (PASSPORTS, "PassportAlreadyInitialized")]
)
def test_nobody_sets_up_a_proxy_again_nor_an_implementation(chain: Chain, roles: Roles, name: str, error: str) -> None:
    """The proxy's deployment set it up; a second initialize (by anyone) and one on the
    implementation itself (which a thief could otherwise govern) are refused."""
    deployment, _ = deploy(chain, roles.governor)
    record = deployment.contracts[name]

    assert record.implementation is not None
    for address in (record.address, record.implementation):
        contract = chain.contract(load_artifact(name), address)
        with pytest.raises(ContractRevert) as info:
            chain.transact(contract.functions.initialize(roles.stranger, ZERO_ADDRESS), roles.stranger)
        assert info.value.error == error
    assert chain.contract(load_artifact(name), record.address).functions.governor().call() == roles.governor


def test_deploy_passes_the_recovery_delay_and_a_rerun_finds_it(
    chain: Chain, roles: Roles, store: DeploymentStore
) -> None:
    first, first_created = deploy(chain, roles.bureau, store, recovery_delay=3_600)
    block = chain.w3.eth.block_number

    again, created = deploy(chain, roles.bureau, store, recovery_delay=3_600)

    registry = IdentityRegistry.from_deployment(chain, first)
    assert (first_created, created) == (True, False)
    assert again == first and chain.w3.eth.block_number == block
    assert first.contracts[NAME].constructor_args == {
        "initialGovernor": roles.bureau,
        "recoveryDelay": 3_600,
        "initialGuardian": ZERO_ADDRESS,
    }
    assert (registry.governor(), registry.recovery_delay()) == (roles.bureau, 3_600)


def test_a_rerun_with_another_recovery_delay_is_refused(chain: Chain, roles: Roles, store: DeploymentStore) -> None:
    deploy(chain, roles.bureau, store, recovery_delay=3_600)
    block = chain.w3.eth.block_number

    with pytest.raises(DeploymentError, match="recovery delay of 3600 s, not 7200 s") as info:
        deploy(chain, roles.bureau, store, recovery_delay=7_200)

    assert "--replace" in str(info.value)
    assert chain.w3.eth.block_number == block


def test_deployments_differ_only_in_immutables_and_both_match_the_build(chain: Chain, roles: Roles) -> None:
    """Each deployment bakes its own settings into its code; build matching looks past them."""
    one, _ = deploy(chain, roles.governor, recovery_delay=600)
    two, _ = deploy(chain, roles.bureau, recovery_delay=7 * 24 * 3_600)
    artifact = load_artifact(NAME)
    codes = [bytes(chain.w3.eth.get_code(implementation_of(chain, d.address(NAME)))) for d in (one, two)]
    differing = [i for i, (a, b) in enumerate(zip(*codes, strict=True)) if a != b]

    assert differing
    assert all(any(s <= i < s + n for s, n in artifact.immutable_references) for i in differing)
    assert all(artifact.built_this(code) for code in codes)


def test_a_record_of_another_build_is_refused(chain: Chain, roles: Roles, store: DeploymentStore) -> None:
    """Code that is on chain as recorded, but is not this package's build, is not taken for it."""
    deploy(chain, roles.governor, store)
    wallet = compile_test_contract("TestWallet")
    receipt = chain.deploy(wallet, [roles.governor], roles.governor)
    address = receipt["contractAddress"]
    assert address is not None
    data = record_json(store, chain)
    data["contracts"][NAME]["address"] = address
    data["contracts"][NAME]["code_hash"] = "0x" + keccak(bytes(chain.w3.eth.get_code(address))).hex()
    store.write(Deployment.from_json(data))
    files = files_in(store.directory)

    with pytest.raises(DeploymentError, match=r"another build.*--replace"):
        deploy(chain, roles.governor, store)

    assert load_deployment(chain, store).address(NAME) == address  # the record itself checks out
    assert files_in(store.directory) == files


def test_load_deployment_returns_the_checked_record(chain: Chain, roles: Roles, store: DeploymentStore) -> None:
    deployment, _ = deploy(chain, roles.governor, store)

    assert load_deployment(chain, store) == deployment


def test_a_record_for_another_chain_is_refused(chain: Chain, roles: Roles, store: DeploymentStore) -> None:
    deploy(chain, roles.governor, store)
    other_id = chain.chain_id + 1
    data = record_json(store, chain)
    store.path_for(chain).rename(store.path(other_id))
    data["chain_id"] = other_id
    store.path_for(chain).write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(ChainIdMismatch, match=f"for chain {other_id}, not chain {chain.chain_id}"):
        load_deployment(chain, store)
    with pytest.raises(ChainIdMismatch):
        deploy(chain, roles.governor, store)
    with pytest.raises(ChainIdMismatch, match=f"for chain {chain.chain_id}, not chain {other_id}"):
        store.read(other_id)


def test_a_record_whose_code_is_gone_is_refused_until_replaced(
    chain: Chain, roles: Roles, store: DeploymentStore
) -> None:
    before_deployment = chain.snapshot()
    gone, _ = deploy(chain, roles.governor, store)
    chain.revert(before_deployment)
    stale_record = files_in(store.directory)

    with pytest.raises(DeploymentError, match="--replace") as loading:
        load_deployment(chain, store)
    with pytest.raises(DeploymentError, match="--replace"):
        deploy(chain, roles.governor, store)
    assert files_in(store.directory) == stale_record

    fresh, created = deploy(chain, roles.governor, store, replace=True)

    assert "no code" in str(loading.value) and gone.address(NAME) in str(loading.value)
    assert created is True
    assert load_deployment(chain, store) == fresh
    assert load_artifact(NAME).built_this(bytes(chain.w3.eth.get_code(implementation_of(chain, fresh.address(NAME)))))
    assert record_json(store, chain) == fresh.to_json()


def test_a_record_from_another_embedded_chain_is_refused(store: DeploymentStore) -> None:
    first = Chain.embedded()
    deploy(first, first.account(0), store)
    second = Chain.embedded()

    # Records are keyed by chain id and genesis: two embedded chains made in the same second
    # share a genesis, and the record is then refused for its code; otherwise it is not found.
    with pytest.raises(DeploymentError, match=r"--replace|No deployment record for this node's chain"):
        load_deployment(second, store)


def test_a_record_with_different_code_is_refused(chain: Chain, roles: Roles, store: DeploymentStore) -> None:
    deployment, _ = deploy(chain, roles.governor, store)
    data = record_json(store, chain)
    data["contracts"][NAME]["address"] = roles.stranger  # an account: it has no code
    store.write(Deployment.from_json(data))

    with pytest.raises(DeploymentError, match=f"{roles.stranger}.*--replace"):
        load_deployment(chain, store)
    assert bytes(chain.w3.eth.get_code(deployment.address(NAME))) != b""


def test_load_deployment_without_a_record_says_what_to_do(chain: Chain, store: DeploymentStore) -> None:
    with pytest.raises(DeploymentError, match="run `chainpass deploy`") as info:
        load_deployment(chain, store)

    assert str(chain.chain_id) in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "is damaged"),
        ("", "is damaged"),
        ("null", "is damaged"),
        ("[]", "is damaged"),
        ("{}", "is damaged"),
        ('{"chain_id": "mainnet", "contracts": {}}', "is damaged"),
        ('{"chain_id": CHAIN, "contracts": {"IdentityRegistry": {"address": "0x12"}}}', "is damaged"),
        ('{"chain_id": CHAIN, "contracts": {}}', "has no IdentityRegistry"),
    ],
    ids=[
        "truncated",
        "empty-file",
        "null",
        "list",
        "empty-object",
        "bad-chain-id",
        "bad-address",
        "no-contracts",
    ],
)
def test_a_damaged_record_is_refused(chain: Chain, store: DeploymentStore, text: str, fragment: str) -> None:
    store.directory.mkdir(parents=True)
    store.path(chain.chain_id).write_text(text.replace("CHAIN", str(chain.chain_id)), encoding="utf-8")

    with pytest.raises(DeploymentError, match=fragment) as info:
        load_deployment(chain, store)

    assert str(store.path(chain.chain_id)) in str(info.value) or "--replace" in str(info.value)


def test_deploy_without_a_store_records_nothing(chain: Chain, roles: Roles, tmp_path: Path) -> None:
    deployment, created = deploy(chain, roles.governor)

    assert created is True
    assert deployment.chain_id == chain.chain_id
    assert list(tmp_path.iterdir()) == []


def test_store_writes_atomically_and_leaves_no_temporary_files(
    chain: Chain, roles: Roles, store: DeploymentStore
) -> None:
    deployment, _ = deploy(chain, roles.governor, store)

    path = store.write(deployment)

    assert path == store.path_for(chain)
    assert [p.name for p in store.directory.iterdir()] == [path.name]
    assert path.read_text(encoding="utf-8").endswith("}\n")


def test_a_record_from_before_genesis_hashes_is_adopted_and_kept(
    chain: Chain, roles: Roles, store: DeploymentStore
) -> None:
    deployment, _ = deploy(chain, roles.governor, store)
    legacy = store.path(chain.chain_id)
    old = {k: v for k, v in record_json(store, chain).items() if k != "genesis_hash"}
    store.path_for(chain).unlink()
    legacy.write_text(json.dumps(old), encoding="utf-8")
    legacy_bytes = legacy.read_bytes()

    found, created = deploy(chain, roles.governor, store)

    assert created is False and found == deployment
    assert found.genesis_hash == genesis_hash(chain)
    assert record_json(store, chain) == deployment.to_json()  # a keyed copy for this node
    assert legacy.read_bytes() == legacy_bytes  # the old record stays: it may be another node's
    assert load_deployment(chain, store) == deployment


def test_replace_keeps_the_record_it_supersedes(chain: Chain, roles: Roles, store: DeploymentStore) -> None:
    first, _ = deploy(chain, roles.governor, store)
    first_bytes = store.path_for(chain).read_bytes()

    second, created = deploy(chain, roles.governor, store, replace=True)

    kept = [p for p in store.directory.iterdir() if ".replaced-" in p.name]
    assert created is True and second.address(NAME) != first.address(NAME)
    assert len(kept) == 1 and kept[0].read_bytes() == first_bytes
    assert load_deployment(chain, store) == second
    assert bytes(chain.w3.eth.get_code(first.address(NAME))) != b""  # still live, still recorded


def test_records_are_keyed_by_the_genesis_block(chain: Chain, store: DeploymentStore) -> None:
    path = store.path_for(chain)

    assert path.name == f"{chain.chain_id}-{genesis_hash(chain)[2:18]}.json"
    assert store.path(chain.chain_id).name == f"{chain.chain_id}.json"  # the form before genesis hashes


def test_a_contract_deployed_without_a_proxy_cannot_be_upgraded(chain: Chain, roles: Roles) -> None:
    """A record of the contracts as deployed before 0.5.0 (no proxy): nothing to upgrade, and
    the operator is told to deploy afresh."""
    deployment, _ = deploy(chain, roles.governor)
    record = deployment.contracts[NAME]
    implementation = record.implementation
    assert implementation is not None
    bare = Deployment(
        deployment.chain_id,
        {**deployment.contracts, NAME: replace(record, address=implementation, implementation=None)},
        deployment.genesis_hash,
    )

    for attempt in (
        lambda: deploy_implementation(chain, bare, NAME, roles.governor),
        lambda: upgrade(chain, bare, NAME, implementation, roles.governor),
    ):
        with pytest.raises(DeploymentError, match=r"has no proxy.*--replace"):
            attempt()
