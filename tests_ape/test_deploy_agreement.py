"""`ape run deploy` and chainpass agree on the deployment, both ways.

Each test runs the real command (`ape run deploy --network ethereum:local:foundry`) in a
subprocess pointed at this session's Anvil (APE_FOUNDRY_HOST), with a fresh chainpass
home, and reads the result back with chainpass.deployment. ape's chain isolation reverts
what the subprocess sent when the test ends.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chainpass.artifacts import ANCHOR_CONTRACT, DEPLOYABLE_CONTRACTS, FINANCE_CONTRACTS
from chainpass.chain import Chain
from chainpass.deployment import DeploymentStore, check_on_chain, deploy, load_deployment
from chainpass.identity import IdentityRegistry

ROOT = Path(__file__).resolve().parent.parent
APE = Path(sys.executable).parent / "ape"


def ape_run_deploy(uri: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APE_FOUNDRY_HOST": uri}
    command = [str(APE), "run", "deploy", "--network", "ethereum:local:foundry", "--home", str(home), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def printed_addresses(stdout: str, verb: str) -> dict[str, str]:
    return dict(re.findall(rf"^{verb} (\w+) at (0x[0-9a-fA-F]{{40}}) on chain \d+$", stdout, re.MULTILINE))


@pytest.fixture
def uri(chain: Any) -> str:
    return str(chain.provider.http_uri)


@pytest.fixture
def cp_chain(uri: str) -> Chain:
    return Chain.connect(uri)


def test_ape_deploys_and_chainpass_finds_it(
    uri: str, cp_chain: Chain, tmp_path: Path, project: Any, accounts: Any
) -> None:
    result = ape_run_deploy(uri, tmp_path)
    assert result.returncode == 0, result.stderr
    printed = printed_addresses(result.stdout, "deployed")
    assert set(printed) == {*DEPLOYABLE_CONTRACTS, *FINANCE_CONTRACTS, ANCHOR_CONTRACT}

    # chainpass reads ape's deployment from its own record, checked against the chain.
    store = DeploymentStore(tmp_path / "deployments")
    deployment = load_deployment(cp_chain, store)
    assert {name: c.address for name, c in deployment.contracts.items()} == printed
    assert deployment.contracts["IdentityRegistry"].constructor_args["initialGovernor"] == accounts[0].address
    registry = IdentityRegistry.from_deployment(cp_chain, deployment)
    assert registry.governor() == accounts[0].address

    # chainpass's own deploy finds it too: same addresses, nothing sent.
    block = cp_chain.w3.eth.block_number
    found, created = deploy(cp_chain, cp_chain.account(0), store)
    assert (found, created) == (deployment, False)
    assert cp_chain.w3.eth.block_number == block

    # And ape, through its own build of contracts/, reads the same contracts.
    passports = project.ProductPassport.at(printed["ProductPassport"])
    assert passports.identityRegistry() == printed["IdentityRegistry"]


def test_chainpass_deploys_and_ape_finds_it(uri: str, cp_chain: Chain, tmp_path: Path) -> None:
    store = DeploymentStore(tmp_path / "deployments")
    deployment, created = deploy(cp_chain, cp_chain.account(0), store)
    assert created
    record = store.path_for(cp_chain).read_bytes()
    block = cp_chain.w3.eth.block_number

    result = ape_run_deploy(uri, tmp_path)
    assert result.returncode == 0, result.stderr
    assert printed_addresses(result.stdout, "found") == {name: c.address for name, c in deployment.contracts.items()}
    assert "ape reads them" in result.stdout
    # Nothing deployed, nothing rewritten.
    assert cp_chain.w3.eth.block_number == block
    assert store.path_for(cp_chain).read_bytes() == record
    check_on_chain(cp_chain, deployment)


def test_a_record_that_does_not_check_out_is_refused_in_one_sentence(uri: str, cp_chain: Chain, tmp_path: Path) -> None:
    store = DeploymentStore(tmp_path / "deployments")
    deployment, _ = deploy(cp_chain, cp_chain.account(0), store)
    data = json.loads(store.path_for(cp_chain).read_text())
    data["contracts"]["IdentityRegistry"]["address"] = "0x" + "11" * 20  # no code there
    store.path_for(cp_chain).write_text(json.dumps(data))
    block = cp_chain.w3.eth.block_number

    result = ape_run_deploy(uri, tmp_path)
    assert result.returncode == 1
    assert "there is no code there" in result.stderr
    assert "`ape run deploy --replace`" in result.stderr
    assert "Traceback" not in result.stderr
    assert cp_chain.w3.eth.block_number == block

    result = ape_run_deploy(uri, tmp_path, "--replace")
    assert result.returncode == 0, result.stderr
    replaced = load_deployment(cp_chain, store)
    assert replaced.address("IdentityRegistry") != deployment.address("IdentityRegistry")
