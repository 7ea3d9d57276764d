"""Deploy the contracts once per chain and remember where they live.

Each contract is deployed behind OpenZeppelin's ``TransparentUpgradeableProxy``: an
implementation (its constructor sets the immutables), then the proxy, whose deployment
calls ``initialize(governor, guardian)`` and creates a ``ProxyAdmin`` owned by the
governor, the only account that can upgrade (docs/upgrades.md). The proxy's address is
the contract's address for everyone; the implementation behind it is read from the
proxy's ERC-1967 slot whenever it matters, since an upgrade changes it.

A deployment record is one JSON file per node's chain: chain id *and* genesis block hash
(``<home>/deployments/<chain id>-<first 16 hex digits of the genesis hash>.json``), holding,
per contract: the proxy's address, transaction hash, block number and runtime-code hash,
the constructor and initializer arguments, and the implementation and ProxyAdmin as
deployed. It is written atomically (temporary file, then rename).

Why the genesis hash: every local Anvil has chain id 31337 (every Ganache 1337), so two
local nodes, or a node and its reset successor, would otherwise share one record, and
deploying on one would overwrite the other's. A node restarted from its state file keeps
its chain, so it keeps its record (see :func:`genesis_hash` for Anvil's changing block 0).

Records written before (``<chain id>.json``, no genesis hash) are still read: a node
whose code matches such a record adopts it (a keyed copy is written; the old file stays,
as it may be another node's), and ``--replace`` never touches it.

:func:`deploy` is safe to re-run: it finds the recorded deployment and changes nothing.
A record is never trusted blindly: :func:`load_deployment` checks that the recorded code
is really on the chain. ``--replace`` keeps the record it supersedes beside the new one
(``….replaced-<time>.json``), so nothing that still points at live code is lost.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

from eth_abi import encode as abi_encode
from eth_typing import ABIFunction, ChecksumAddress
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import abi_to_signature
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import BlockNotFound
from web3.types import TxReceipt

from chainpass.artifacts import ANCHOR_CONTRACT, DEPLOYABLE_CONTRACTS, FINANCE_CONTRACTS, Artifact, load_artifact
from chainpass.chain import ZERO_ADDRESS, Chain, Sender, parse_address, sender_address
from chainpass.errors import ChainIdMismatch, DeploymentError, InvalidInput
from chainpass.files import write_json_atomic

RECORD_FORMAT = 1
#: Seconds a holder's old key has to object before a recovery completes: 3 days.
DEFAULT_RECOVERY_DELAY = 3 * 24 * 3600
#: ERC-1967's storage slots in a proxy: its implementation and its admin.
IMPLEMENTATION_SLOT = int.from_bytes(keccak(text="eip1967.proxy.implementation")) - 1
ADMIN_SLOT = int.from_bytes(keccak(text="eip1967.proxy.admin")) - 1
PROXY = "TransparentUpgradeableProxy"
#: Each implementation's constructor arguments, in order: settings fixed per implementation
#: (immutables), so an upgrade re-deploys them as recorded (or, for the registry the
#: passports follow, as given).
IMPLEMENTATION_ARGS: dict[str, tuple[str, ...]] = {
    "IdentityRegistry": ("recoveryDelay",),
    "ProductPassport": ("registry",),
}
#: Chain ids of local development nodes (Anvil's and Ganache's), where `deploy` also creates
#: the dev dollar that orders escrow (the embedded chain is one too).
DEV_CHAIN_IDS = frozenset({31337, 1337})


@dataclass(frozen=True)
class ContractDeployment:
    """Where one contract was deployed, and how."""

    address: ChecksumAddress
    tx_hash: str
    block_number: int
    code_hash: str
    #: The implementation's constructor arguments and the initializer's, by name.
    constructor_args: dict[str, Any]
    #: The implementation behind the proxy at deployment (an upgrade changes it: see
    #: :func:`implementation_of`) and the proxy's ProxyAdmin; None in records of contracts
    #: deployed without a proxy, before version 0.5.0 of the registry.
    implementation: ChecksumAddress | None = None
    proxy_admin: ChecksumAddress | None = None


@dataclass(frozen=True)
class Deployment:
    """The chainpass contracts on one chain."""

    chain_id: int
    contracts: dict[str, ContractDeployment]
    #: The hash of the chain's block 0 (0x...), which tells two nodes of one chain id apart;
    #: None in records written before it was kept.
    genesis_hash: str | None = None

    def address(self, name: str) -> ChecksumAddress:
        return self.contracts[name].address

    def first_block(self) -> int:
        """The earliest block with one of our contracts: where log queries start."""
        return min(c.block_number for c in self.contracts.values())

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": RECORD_FORMAT,
            "chain_id": self.chain_id,
            "contracts": {name: asdict(c) for name, c in self.contracts.items()},
        }
        if self.genesis_hash is not None:
            data["genesis_hash"] = self.genesis_hash
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        return cls(
            chain_id=int(data["chain_id"]),
            contracts={
                name: ContractDeployment(
                    address=to_checksum_address(c["address"]),
                    tx_hash=c["tx_hash"],
                    block_number=int(c["block_number"]),
                    code_hash=c["code_hash"],
                    constructor_args=dict(c["constructor_args"]),
                    implementation=_optional_address(c.get("implementation")),
                    proxy_admin=_optional_address(c.get("proxy_admin")),
                )
                for name, c in sorted(data["contracts"].items(), key=lambda item: _deployment_order(item[0]))
            },
            genesis_hash=_genesis_text(data.get("genesis_hash")),
        )


def _deployment_order(name: str) -> tuple[int, str]:
    """Where contract ``name`` comes in a record: in the order of deployment (the proxied
    contracts, then the trade-finance ones, then the anchors), whatever order the file keeps them in."""
    order = (*DEPLOYABLE_CONTRACTS, *FINANCE_CONTRACTS, ANCHOR_CONTRACT)
    return (order.index(name), "") if name in order else (len(order), name)


def _optional_address(value: Any) -> ChecksumAddress | None:
    return None if value is None else to_checksum_address(value)


def _genesis_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).lower()
    if not (text.startswith("0x") and len(text) == 66 and all(c in "0123456789abcdef" for c in text[2:])):
        raise ValueError(f"genesis_hash {value!r} is not a 32-byte hash")
    return text


def genesis_hash(chain: Chain) -> str:
    """The hash of ``chain``'s block 0 as its block 1 names it (0x + 64 hex digits): with the
    chain id, what tells one node's chain from another's.

    Why block 1's parent and not block 0 itself: Anvil started from a state file makes a
    fresh block 0 (timestamped now) and keeps the earlier ones in its state, so which block
    0 ``eth_getBlockByNumber(0)`` answers changes from one restart to the next. Block 1 is
    mined once, and its parent hash is the block 0 the chain was built on. A chain without
    a block 1 has nothing deployed yet; its block 0 is used.
    """
    try:
        return "0x" + bytes(chain.w3.eth.get_block(1)["parentHash"]).hex()
    except BlockNotFound:
        return "0x" + bytes(chain.w3.eth.get_block(0)["hash"]).hex()


@dataclass(frozen=True)
class DeploymentStore:
    """The folder of deployment records, one file per node's chain (chain id and genesis hash)."""

    directory: Path

    def path(self, chain_id: int, genesis: str | None = None) -> Path:
        """The record of the chain ``chain_id`` whose block 0 is ``genesis``; without
        ``genesis``, the record as written before genesis hashes were kept."""
        if genesis is None:
            return self.directory / f"{chain_id}.json"
        return self.directory / f"{chain_id}-{genesis.lower().removeprefix('0x')[:16]}.json"

    def path_for(self, chain: Chain) -> Path:
        """Where the record of ``chain``'s deployment lives."""
        return self.path(chain.chain_id, genesis_hash(chain))

    def read(self, chain_id: int, genesis: str | None = None) -> Deployment | None:
        """The record for ``chain_id`` (and ``genesis``), or None; a record for another chain is refused."""
        path = self.path(chain_id, genesis)
        if not path.exists():
            return None
        try:
            deployment = Deployment.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DeploymentError(f"The deployment record {path} is damaged ({exc}): move it away.") from None
        if deployment.chain_id != chain_id:
            raise ChainIdMismatch(
                f"The deployment record {path} is for chain {deployment.chain_id}, not chain {chain_id}."
            )
        if genesis is not None and deployment.genesis_hash not in (None, genesis):
            raise ChainIdMismatch(
                f"The deployment record {path} is for the chain whose block 0 is {deployment.genesis_hash}, "
                f"not {genesis}: move it away."
            )
        return deployment

    def find(self, chain: Chain) -> Deployment | None:
        """The record of ``chain``'s node, else one written before genesis hashes were kept
        (checked on chain by the caller), else None."""
        keyed = self.read(chain.chain_id, genesis_hash(chain))
        return keyed if keyed is not None else self.read(chain.chain_id)

    def write(self, deployment: Deployment) -> Path:
        """Write the record atomically: readers see the old file or the new one, never half.
        A record of the same chain that it replaces is kept beside it, renamed."""
        path = self.path(deployment.chain_id, deployment.genesis_hash)
        if path.exists() and deployment.genesis_hash is not None:
            try:
                old = Deployment.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError, AttributeError, OSError):
                old = None
            if old != deployment:
                stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
                path.replace(path.with_name(f"{path.stem}.replaced-{stamp}.json"))
        return write_json_atomic(path, deployment.to_json())


def offline_target(
    store: DeploymentStore, chain_id: int | None, contract: str | None, name: str = "ProductPassport"
) -> tuple[int, ChecksumAddress]:
    """The chain id and address of contract ``name`` for work done without a node (signing an
    offer): ``contract`` and ``chain_id`` as given, else read from the deployment records in
    ``store`` (of ``chain_id`` if given), which must name exactly one such contract."""
    records: list[Deployment] = []
    if store.directory.is_dir():
        for path in sorted(store.directory.glob("*.json")):
            if ".replaced-" in path.name:
                continue
            try:
                record = Deployment.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError, AttributeError, OSError):
                continue
            if name in record.contracts and chain_id in (None, record.chain_id):
                records.append(record)
    if contract is not None:
        address = parse_address(contract, "contract")
        if chain_id is not None:
            return chain_id, address
        chains = {r.chain_id for r in records if r.address(name) == address}
        if len(chains) == 1:
            return chains.pop(), address
        raise InvalidInput(f"No deployment record here names {address} on one chain: give --chain-id too.")
    targets = {(r.chain_id, r.address(name)) for r in records}
    where = f"chain {chain_id}" if chain_id is not None else "any chain"
    if not targets:
        raise InvalidInput(
            f"No deployment record of {name} for {where} in {store.directory}: give --contract ADDRESS and "
            "--chain-id ID (from `chainpass deploy` on the node, or whoever runs it)."
        )
    if len(targets) > 1:
        listed = ", ".join(f"{address} on chain {cid}" for cid, address in sorted(targets))
        raise InvalidInput(f"Several deployments of {name} are recorded ({listed}): give --contract and --chain-id.")
    return targets.pop()


def code_hash_at(chain: Chain, address: str) -> str:
    return "0x" + keccak(bytes(chain.w3.eth.get_code(to_checksum_address(address)))).hex()


def check_on_chain(chain: Chain, deployment: Deployment) -> None:
    """Raise :class:`DeploymentError` unless every recorded contract's code is on ``chain``."""
    if deployment.chain_id != chain.chain_id:
        raise ChainIdMismatch(
            f"The deployment record is for chain {deployment.chain_id}, but the node is chain {chain.chain_id}."
        )
    missing = [name for name in DEPLOYABLE_CONTRACTS if name not in deployment.contracts]
    if missing:
        raise DeploymentError(
            f"The deployment record for chain {chain.chain_id} has no {', '.join(missing)}: run "
            "`chainpass deploy --replace` to deploy afresh."
        )
    for name, record in deployment.contracts.items():
        found = code_hash_at(chain, record.address)
        if found != record.code_hash:
            what = "no code" if found == "0x" + keccak(b"").hex() else "different code"
            cause = (
                "the chain was reset or replaced since"
                if deployment.genesis_hash is not None
                else "the chain was reset, or the record is another node's with the same chain id"
            )
            raise DeploymentError(
                f"The record says {name} is at {record.address} on chain {chain.chain_id}, but there is "
                f"{what} there: {cause}. Run `chainpass deploy --replace` to deploy afresh (the old record "
                "is kept)."
            )


def load_deployment(chain: Chain, store: DeploymentStore) -> Deployment:
    """The checked deployment on ``chain``, or :class:`DeploymentError` saying what to do."""
    deployment = store.find(chain)
    if deployment is None:
        raise DeploymentError(
            f"No deployment record for this node's chain (chain id {chain.chain_id}, block 0 "
            f"{genesis_hash(chain)[:18]}…) in {store.directory}: run `chainpass deploy`."
        )
    check_on_chain(chain, deployment)
    return deployment


def deploy(
    chain: Chain,
    sender: Sender,
    store: DeploymentStore | None = None,
    *,
    replace: bool = False,
    recovery_delay: int = DEFAULT_RECOVERY_DELAY,
    governor: str | None = None,
    guardian: str | None = None,
) -> tuple[Deployment, bool]:
    """Deploy the contracts, or find them: returns the deployment and whether it is new.

    Without a ``store`` (the embedded chain's demo) nothing is recorded. With one, an
    existing record that checks out is returned unchanged; one whose code is gone or
    differs is reported, and replaced only when ``replace`` is true. ``governor``
    governs both contracts: in production the timelock of ``chainpass.governance`` (a
    contract); without it, ``sender`` itself, a plain key for local development.
    ``recovery_delay`` is the seconds a holder's old key has to object to a recovery.
    ``guardian`` may pause both contracts in an incident (docs/operations.md); it must
    not be the governor, who alone unpauses. Without it nobody can pause until the
    governor names a guardian (``setGuardian``).
    """
    wanted_governor = sender_address(sender) if governor is None else parse_address(governor, "governor")
    wanted_guardian = ZERO_ADDRESS if guardian is None else parse_address(guardian, "guardian")
    if wanted_guardian == wanted_governor:
        raise InvalidInput(
            f"The guardian {wanted_guardian} is the governor too: name another account, so that the one who "
            "pauses in an incident is not the one who lifts the pause."
        )
    existing = store.find(chain) if store is not None else None
    if existing is not None and not replace:
        check_on_chain(chain, existing)
        recorded_delay = existing.contracts["IdentityRegistry"].constructor_args.get("recoveryDelay")
        if recorded_delay != recovery_delay:
            raise DeploymentError(
                f"The registry on chain {chain.chain_id} was deployed with a recovery delay of {recorded_delay} s, "
                f"not {recovery_delay} s: keep it, or deploy afresh with `chainpass deploy --replace`."
            )
        if not _matches_build(chain, existing):
            raise DeploymentError(
                f"The contracts recorded on chain {chain.chain_id} come from another build than this "
                "package's: run `chainpass deploy --replace` to deploy this build."
            )
        for name in DEPLOYABLE_CONTRACTS:
            functions = chain.contract(load_artifact(name), existing.address(name)).functions
            current = to_checksum_address(functions.governor().call())
            if governor is not None and current != wanted_governor:
                raise DeploymentError(
                    f"{name} on chain {chain.chain_id} is governed by {current}, not {wanted_governor}: hand "
                    "governance over through its governor (transferGovernance, then acceptGovernance by the new "
                    "one), or deploy afresh with `chainpass deploy --replace`."
                )
            named = to_checksum_address(functions.guardian().call())
            if guardian is not None and named != wanted_guardian:
                raise DeploymentError(
                    f"{name} on chain {chain.chain_id} names {named} as its guardian, not {wanted_guardian}: "
                    "its governor names guardians (`chainpass emergency set-guardian`), or deploy afresh with "
                    "`chainpass deploy --replace`."
                )
        # Contracts added after this record was written are deployed beside it, once.
        added: dict[str, ContractDeployment] = {}
        if "TradeFinance" not in existing.contracts:  # a record from before trade finance (docs/finance.md)
            added |= deploy_finance(chain, existing.contracts, sender)
        if ANCHOR_CONTRACT not in existing.contracts:  # from before the anchored batches (docs/epcis.md)
            added[ANCHOR_CONTRACT] = _deploy_anchor(chain, existing.contracts, sender)
        if added:
            existing = Deployment(existing.chain_id, {**existing.contracts, **added}, existing.genesis_hash)
            if store is not None:
                store.write(existing)
        if store is not None and existing.genesis_hash is None:
            # A record from before genesis hashes, whose code is here: this node's. Keep a
            # keyed copy; the old file stays (another node may have written it).
            existing = Deployment(existing.chain_id, existing.contracts, genesis_hash(chain))
            store.write(existing)
        return existing, False
    contracts: dict[str, ContractDeployment] = {}
    for name in DEPLOYABLE_CONTRACTS:
        args = _implementation_args(name, recovery_delay, contracts)
        contracts[name] = _deploy_proxied(chain, name, args, wanted_governor, wanted_guardian, sender)
    contracts.update(deploy_finance(chain, contracts, sender))
    contracts[ANCHOR_CONTRACT] = _deploy_anchor(chain, contracts, sender)
    deployment = Deployment(chain_id=chain.chain_id, contracts=contracts, genesis_hash=genesis_hash(chain))
    if store is not None:
        store.write(deployment)
    return deployment, True


def _deploy_anchor(chain: Chain, deployed: dict[str, ContractDeployment], sender: Sender) -> ContractDeployment:
    """The anchored batches' contract (chainpass.anchor), beside the registry and the passports
    it reads: no proxy and no governor (append-only records under rules that do not change)."""
    args = {"registry": deployed["IdentityRegistry"].address, "passports": deployed["ProductPassport"].address}
    return _deploy_plain(chain, ANCHOR_CONTRACT, args, sender)


def deploy_finance(
    chain: Chain, deployed: dict[str, ContractDeployment], sender: Sender
) -> dict[str, ContractDeployment]:
    """Deploy the trade-finance contract over ``deployed``'s registry and passports (no proxy:
    nobody may change the rules under escrowed money; docs/finance.md), and on a development
    chain the dev dollar (ERC-20 with ERC-2612 permit) its orders escrow, minted by ``sender``."""
    added: dict[str, ContractDeployment] = {}
    if chain.is_embedded or chain.chain_id in DEV_CHAIN_IDS:
        added["DevStablecoin"] = _deploy_plain(chain, "DevStablecoin", {}, sender)
    args = {"registry": deployed["IdentityRegistry"].address, "passports": deployed["ProductPassport"].address}
    added["TradeFinance"] = _deploy_plain(chain, "TradeFinance", args, sender)
    assert set(added) <= set(FINANCE_CONTRACTS)
    return added


def _deploy_plain(chain: Chain, name: str, args: dict[str, Any], sender: Sender) -> ContractDeployment:
    """Deploy ``name`` without a proxy, with constructor ``args`` (by name, in order)."""
    receipt = chain.deploy(load_artifact(name), list(args.values()), sender)
    return _recorded(chain, receipt, _created(receipt, name), args)


def _recorded(
    chain: Chain, receipt: Any, address: ChecksumAddress, args: dict[str, Any], **proxy: Any
) -> ContractDeployment:
    """The record of the contract ``receipt`` deployed at ``address`` (``proxy``: its
    implementation and ProxyAdmin, for a proxied one)."""
    return ContractDeployment(
        address=address,
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        block_number=int(receipt["blockNumber"]),
        code_hash=code_hash_at(chain, address),
        constructor_args=args,
        **proxy,
    )


def _implementation_args(name: str, recovery_delay: int, deployed: dict[str, ContractDeployment]) -> dict[str, Any]:
    """The implementation's constructor arguments (:data:`IMPLEMENTATION_ARGS`); the passports
    take the registry's proxy."""
    values: dict[str, Any] = {"recoveryDelay": recovery_delay}
    if "IdentityRegistry" in deployed:
        values["registry"] = deployed["IdentityRegistry"].address
    return {key: values[key] for key in IMPLEMENTATION_ARGS[name]}


def _deploy_proxied(
    chain: Chain, name: str, args: dict[str, Any], governor: str, guardian: str, sender: Sender
) -> ContractDeployment:
    """Deploy ``name``'s implementation and a proxy in front of it, set up for ``governor``
    and ``guardian`` in the proxy's own deployment (nobody can initialize it first)."""
    implementation = _deploy_contract(chain, load_artifact(name), list(args.values()), sender)
    setup = keccak(text="initialize(address,address)")[:4] + abi_encode(["address", "address"], [governor, guardian])
    receipt = chain.deploy(load_artifact(PROXY), [implementation, governor, setup], sender)
    address = _created(receipt, PROXY)
    args = {**args, "initialGovernor": governor, "initialGuardian": guardian}
    return _recorded(
        chain, receipt, address, args, implementation=implementation, proxy_admin=proxy_admin_of(chain, address)
    )


def _deploy_contract(chain: Chain, artifact: Artifact, args: list[Any], sender: Sender) -> ChecksumAddress:
    return _created(chain.deploy(artifact, args, sender), artifact.name)


def _created(receipt: Any, name: str) -> ChecksumAddress:
    if receipt["contractAddress"] is None:
        raise DeploymentError(f"Deploying {name} created no contract (transaction {receipt['transactionHash']!r}).")
    return to_checksum_address(receipt["contractAddress"])


def _slot_address(chain: Chain, address: str, slot: int) -> ChecksumAddress:
    word = bytes(chain.w3.eth.get_storage_at(to_checksum_address(address), slot))
    return to_checksum_address(word[-20:].rjust(20, b"\0"))


def implementation_of(chain: Chain, proxy: str) -> ChecksumAddress:
    """The implementation behind ``proxy`` now (the zero address if it is not a proxy)."""
    return _slot_address(chain, proxy, IMPLEMENTATION_SLOT)


def proxy_admin_of(chain: Chain, proxy: str) -> ChecksumAddress:
    """The ProxyAdmin of ``proxy`` (the zero address if it is not a proxy)."""
    return _slot_address(chain, proxy, ADMIN_SLOT)


def deploy_implementation(
    chain: Chain,
    deployment: Deployment,
    name: str,
    sender: Sender,
    *,
    artifact: Artifact | None = None,
    registry: str | None = None,
) -> ChecksumAddress:
    """Deploy a new implementation of ``name`` to upgrade ``deployment``'s proxy to: this
    package's build (or ``artifact``), with the constructor arguments recorded at deployment,
    except that the passports' may name another ``registry`` to follow. Nothing changes until
    the ProxyAdmin's owner (the governor) upgrades the proxy to it (docs/upgrades.md)."""
    if name not in DEPLOYABLE_CONTRACTS:
        raise InvalidInput(f"{name!r} is not a chainpass contract: choose {', '.join(DEPLOYABLE_CONTRACTS)}.")
    proxy_admin(chain, deployment, name)  # refuses a contract deployed without a proxy
    args = {key: deployment.contracts[name].constructor_args[key] for key in IMPLEMENTATION_ARGS[name]}
    if registry is not None:
        if name != "ProductPassport":
            raise InvalidInput("Only the passports follow a registry: --registry goes with the passports.")
        args["registry"] = _checked_build(chain, registry, "IdentityRegistry", "registry")
    return _deploy_contract(chain, artifact or load_artifact(name), list(args.values()), sender)


def proxy_admin(chain: Chain, deployment: Deployment, name: str) -> Contract:
    """The ProxyAdmin of ``name``'s proxy: its owner, the governor, alone upgrades."""
    admin = proxy_admin_of(chain, deployment.address(name))
    if admin == ZERO_ADDRESS:
        raise DeploymentError(
            f"{name} at {deployment.address(name)} has no proxy (deployed before registry 0.5.0): it cannot be "
            "upgraded; deploy afresh with `chainpass deploy --replace`."
        )
    return chain.contract(load_artifact("ProxyAdmin"), admin)


def upgrade_call(chain: Chain, deployment: Deployment, name: str, implementation: str) -> ContractFunction:
    """The ProxyAdmin call that moves ``name``'s proxy to ``implementation`` (state untouched):
    sent by a plain-key governor (:func:`upgrade`), or proposed through the timelock
    (``chainpass.governance.upgrade_action``). ``implementation`` must be a build of ``name``
    with code on chain (see :func:`deploy_implementation`)."""
    address = _checked_build(chain, implementation, name, "implementation")
    return proxy_admin(chain, deployment, name).functions.upgradeAndCall(deployment.address(name), address, b"")


def upgrade(chain: Chain, deployment: Deployment, name: str, implementation: str, sender: Sender) -> TxReceipt:
    """Upgrade ``name``'s proxy to ``implementation`` as ``sender``, the ProxyAdmin's owner
    (a plain-key governor; a timelock upgrades through a proposal)."""
    admin = proxy_admin(chain, deployment, name)
    owner = to_checksum_address(admin.functions.owner().call())
    if owner != sender_address(sender):
        raise DeploymentError(
            f"Only {owner}, the owner of {name}'s ProxyAdmin, can upgrade it: under a timelock, propose it "
            "(`chainpass governance propose upgrade`)."
        )
    return chain.transact(upgrade_call(chain, deployment, name, implementation), sender)


def _checked_build(chain: Chain, address: str, name: str, what: str) -> ChecksumAddress:
    """``address`` (the ``what``), refused unless it holds a contract with every function of
    this package's ``name`` (itself, or behind its proxy): no code, or the wrong contract,
    would break every call after."""
    checked = parse_address(address, what)
    code = bytes(chain.w3.eth.get_code(checked))
    if not code:
        raise InvalidInput(f"There is no contract at {checked} on chain {chain.chain_id}: deploy the {what} first.")
    behind = implementation_of(chain, checked)  # a proxy answers with its implementation's functions
    if behind != ZERO_ADDRESS:
        code = bytes(chain.w3.eth.get_code(behind))
    missing = _missing_functions(load_artifact(name), code)
    if missing:
        raise InvalidInput(
            f"The contract at {checked} is not this package's {name}: it lacks {', '.join(missing[:3])}"
            + (f" and {len(missing) - 3} more." if len(missing) > 3 else ".")
        )
    return checked


def _missing_functions(artifact: Artifact, code: bytes) -> list[str]:
    """The functions of ``artifact`` that ``code``'s dispatcher does not know (solc pushes each
    selector, leading zero bytes dropped, to compare with the call's): a guard against
    upgrading to the wrong contract, or to one that drops what clients call."""
    missing = []
    for entry in artifact.abi:
        if entry.get("type") != "function":
            continue
        signature = abi_to_signature(cast(ABIFunction, entry))
        selector = keccak(text=signature)[:4].lstrip(b"\0")
        if bytes([0x5F + len(selector)]) + selector not in code:
            missing.append(signature)
    return missing


def _matches_build(chain: Chain, deployment: Deployment) -> bool:
    """Whether the implementation behind each recorded proxy is this package's build."""
    return all(
        load_artifact(name).built_this(bytes(chain.w3.eth.get_code(implementation_of(chain, deployment.address(name)))))
        for name in DEPLOYABLE_CONTRACTS
    )
