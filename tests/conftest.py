"""Fixtures: every chain-facing test runs on the embedded EVM and on a real Anvil node,
and the integration modules in ``GANACHE_MODULES`` on a real Ganache 7.9 node too. The
rule tables in ``SAMPLED`` run whole on Anvil and a sample of their cases on the other two
(docs/development.md, "What runs where and why").

The nodes are started by the session on 127.0.0.1 (a free port each) and stopped at the
end. ``--backend embedded``, ``--backend anvil`` or ``--backend ganache`` narrows a local
run (repeatable); CI runs all three. Each test starts from the same deployed registry
(roles appointed; deployed once a session on each backend) and is isolated by a snapshot
taken before it and reverted after it.
Why some tests do not run on Ganache: ``GANACHE_GAPS`` and docs/ganache.md.

This file holds the options, the hooks and the fixtures only. The plain helpers the test
modules import live beside it: ``accounts`` (who is who, credentials, funding, consents,
keys), ``support`` (assertions), ``solidity`` (the test-only contracts),
``passport_world`` and ``cli_world`` (the passport and CLI tests' fixtures and helpers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from accounts import Roles, World

from chainpass.chain import Chain
from chainpass.deployment import deploy
from chainpass.enums import Level, Sector
from chainpass.identity import IdentityRegistry
from chainpass.local_postgres import LocalPostgres, start_postgres
from chainpass.node import AnvilNode, GanacheNode, free_port

BACKENDS = ("embedded", "anvil", "ganache")
#: The passport contract's specification by topic (once one module, test_passport), whose
#: chain tests run on Ganache as well, every third test there (``MODULE_SAMPLES``).
PASSPORT_MODULES = (
    "test_passport_roles",
    "test_passport_ids",
    "test_passport_events",
    "test_passport_aggregation",
    "test_passport_verify",
    "test_passport_findings",
)
#: The test modules whose chain tests run on Ganache as well (the integration tests);
#: the rest run on the embedded EVM and Anvil only (docs/ganache.md says why).
GANACHE_MODULES = frozenset(
    {
        "test_chain",
        "test_identity_registry",
        "test_identity_incidents",
        *PASSPORT_MODULES,
        "test_epcis",
        "test_index",
        "test_deployment",
        "test_demo",
        "test_passport_lifecycle",
        "test_finance",
    }
)
#: Tests in those modules that do not run on Ganache, by test name (without parameters),
#: and why.
GANACHE_GAPS: dict[str, str] = {
    "test_a_wave_the_node_stops_taking_part_way_is_finished_one_batch_at_a_time_and_nothing_goes_in_twice": "An "
    "EPCIS import sends waves only from an account whose key is here; Ganache's dev accounts are the node's (their "
    "keys are not known to chainpass), so there it sends one transaction at a time, which the module's other tests "
    "check on Ganache.",
}
#: Chain tests a backend runs a sample of, by backend and module: every k-th test of the
#: module (the first included), in collection order; "*" is every module not named. Not
#: ``SAMPLED`` tables (they are sampled already, with strides chosen for their cases).
#: The embedded EVM's own code (its gas estimate, refusal decoding, transaction lookup and
#: snapshots) sits under every call: the modules that test the chain layer itself run
#: whole, and every second test of the others still takes each kind of call and refusal
#: through it, while the contract rules and client code they check are the same on Anvil,
#: which runs them all. The passport modules on Ganache (test_passport, before it was
#: split, took some 75 s there alone, more than on the other two backends together) are
#: its largest part; Ganache's own paths are the same for every third test.
MODULE_SAMPLES: dict[str, dict[str, int]] = {
    "embedded": {
        "*": 2,
        "test_chain": 1,
        "test_deployment": 1,
        "test_demo": 1,
        "test_faults": 1,
        "test_index": 1,
        "test_finance": 4,
    },
    # Trade finance's contract is the same bytecode everywhere: Ganache checks that it runs on
    # shanghai and takes its refusals through Ganache's error paths, a few tests are enough.
    "ganache": {**dict.fromkeys(PASSPORT_MODULES, 3), "test_finance": 7},
}
#: Tables of one rule's cases (parametrized tests) that Anvil runs whole and the embedded
#: EVM and Ganache run a sample of: every k-th case (the first included) of each test
#: function of that name, per backend. They check the contract's logic, which is the same
#: bytecode on every EVM, and Anvil runs it fastest; the sample still takes each kind of
#: call and refusal through the embedded EVM's and Ganache's own error paths. (On Ganache
#: only in ``GANACHE_MODULES``: elsewhere the whole module is deselected there.)
SAMPLED: dict[str, int] = {
    "test_roles_table": 8,
    "test_access_control": 8,
    "test_a_wrong_disposition_for_the_step_is_refused": 5,
    "test_a_relayer_cannot_alter_any_field": 4,
    "test_revocation_is_final": 4,
    "test_invalid_event_refused": 3,
    "test_malformed_keys_that_skip_python_checks_are_refused_on_chain": 3,
    "test_removed_authority_can_no_longer_act": 3,
    "test_contract_validates_raw_input": 3,
    # One signed action of three per refusal (test_consent); the others are refused alike.
    "test_a_signature_used_twice_is_refused": 3,
    "test_a_signature_for_another_chain_is_refused": 3,
    "test_a_signature_for_another_deployment_is_refused": 3,
    "test_a_signature_past_its_deadline_is_refused": 3,
    "test_a_malleated_signature_is_refused": 3,
    "test_a_signature_by_someone_else_is_refused": 3,
    "test_cancelled_signatures_are_refused": 3,
    # Who may touch what (test_passport_relations): strides prime to its 8 relations, so the
    # sample takes every relation and every kind of refusal through Ganache.
    "test_who_may_record_each_step": 11,
    "test_who_may_act": 5,
    "test_the_old_wallet_is_refused_once_followed": 3,
    "test_only_a_registrar_registers_or_revokes": 2,
    # GS1's EPCIS examples (test_epcis_conformance): each is an input to chainpass's own
    # import and export code, which is the same on every backend; two of the six take it
    # through the embedded EVM.
    "test_examples_import_with_adoption_and_exports_validate": 3,
}
#: Tests that run on Anvil alone, by test name, and why: long chains of transactions
#: checking the contract's logic (the same bytecode everywhere), where Anvil is the
#: fastest backend; the shorter tests of the same rules run on every backend.
ANVIL_ONLY: dict[str, str] = {
    "test_passports_follow_their_model": "the Hypothesis state machine: its invariant reads every passport through "
    "the lens contract each step, which py-evm interprets in Python (its one example took 31 s on the embedded "
    "EVM, 20 s for fifteen on Anvil); the embedded EVM's own paths (gas estimate, refusals, snapshots) are under "
    "every other passport test, and the machine's pinned findings run on all three backends",
    "test_a_padded_lot_is_processed_and_a_recall_at_its_root_reaches_the_end": "18 transformations in a row",
    "test_a_blend_of_twenty_lots_is_recalled_through_any_of_them_and_touches_no_other_rice": "a 20-lot blend",
    "test_a_recall_after_merges_of_merged_groups_reaches_every_descendant": "two padded chains merged twice",
    "test_the_over_approximation_a_buyer_can_cause_stays_downstream_of_the_overflow": "a padded chain and a buyer",
    "test_cli_adds_anchored_events_and_traces_and_exports_them_as_evidence": "the CLI reaches a node over "
    "JSON-RPC: the embedded chain is in this process only (the same library runs on both in test_evidence)",
    "test_a_chain_out_of_reach_is_answered_503": "the web service loses its node (a proxy in front of it, "
    "stopped): the embedded chain is in process, with no connection to lose",
    # tests/test_web_browser.py: a browser reading pages the chain does not change (test_web_pages
    # reads them on both local chains); one Chromium a module, so the module runs once.
    "test_a_recalled_bag_shows_the_recall_in_each_language_through_the_switcher": "the pages in a browser",
    "test_a_cloned_code_shows_already_sold": "the pages in a browser",
    "test_an_unknown_serial_shows_the_counterfeit_warning_in_each_language": "the pages in a browser",
    "test_no_serious_accessibility_finding_on_the_passport_pages_or_the_404": "the pages in a browser",
    "test_screenshots": "the pages in a browser",
    "test_the_desk_accepts_a_genuine_disclosure_and_refuses_an_altered_one": "the desk in a browser",
    "test_no_serious_accessibility_finding_on_the_desk": "the desk in a browser",
    "test_desk_screenshots": "the desk in a browser",
}

#: Fixtures shared by the passport tests (orgs_setup, orgs, pp) and the CLI tests.
pytest_plugins = ["passport_world", "cli_world"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="run chain tests on this backend only (repeatable); default: all three",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("backend") or list(BACKENDS)
        metafunc.parametrize("backend", chosen, scope="session")


def _backend_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    backend = callspec.params.get("backend") if callspec is not None else None
    return backend if isinstance(backend, str) else None


def runs_on_ganache(item: pytest.Item) -> bool:
    """Whether ``item``'s module is a Ganache module and the test is not a known gap."""
    module = item.module.__name__.rpartition(".")[2] if item.module is not None else ""
    name = getattr(item, "originalname", item.name)
    return module in GANACHE_MODULES and name not in GANACHE_GAPS


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep Ganache to its modules, and run each backend's tests together.

    Tests outside ``GANACHE_MODULES`` (or listed in ``GANACHE_GAPS``) are deselected on
    Ganache, not skipped; the cases of a ``SAMPLED`` table outside its sample, on the
    embedded EVM and Ganache; the tests outside a backend's ``MODULE_SAMPLES``, there;
    ``ANVIL_ONLY`` tests, on the other backends.
    The sort is stable, after pytest's own ordering: pytest's fixture-based reordering
    interleaves the backends once tests carry other parameters too, and every switch
    rebuilds the session's chain and deployment.
    """
    chosen = config.getoption("backend") or list(BACKENDS)

    def deselect(item: pytest.Item) -> bool:
        name = getattr(item, "originalname", item.name)
        if name in ANVIL_ONLY and _backend_of(item) not in (None, "anvil"):
            return True
        on_postgres = _index_store_of(item) == "postgresql" or "postgres_server" in getattr(item, "fixturenames", ())
        if on_postgres and _backend_of(item) not in (None, "anvil"):
            return True
        if _backend_of(item) == "ganache":
            return not runs_on_ganache(item)
        # Ganache-only tests (test_ganache.py) follow --backend as well.
        return "ganache" not in chosen and "ganache_node" in getattr(item, "fixturenames", ())

    seen: dict[tuple[str, str], int] = {}

    def sampled_out(item: pytest.Item) -> bool:
        name, backend = getattr(item, "originalname", item.name), _backend_of(item)
        if backend not in ("embedded", "ganache") or name not in SAMPLED:
            return False
        key = (item.nodeid.partition("[")[0], backend)
        seen[key] = seen.get(key, 0) + 1
        return (seen[key] - 1) % SAMPLED[name] != 0

    def module_sampled_out(item: pytest.Item) -> bool:
        module = item.module.__name__.rpartition(".")[2] if item.module is not None else ""
        backend = _backend_of(item)
        strides = MODULE_SAMPLES.get(backend or "", {})
        stride = strides.get(module, strides.get("*", 1))
        if stride == 1 or getattr(item, "originalname", item.name) in SAMPLED:
            return False
        key = (module, f"{backend} module")
        seen[key] = seen.get(key, 0) + 1
        return (seen[key] - 1) % stride != 0

    deselected = [item for item in items if deselect(item) or sampled_out(item) or module_sampled_out(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        dropped = set(map(id, deselected))
        items[:] = [item for item in items if id(item) not in dropped]

    def backend_rank(item: pytest.Item) -> int:
        backend = _backend_of(item)
        return BACKENDS.index(backend) if backend in BACKENDS else -1

    items.sort(key=backend_rank)


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    # No old states on disk: Anvil would leave gigabytes of them in ~/.foundry/anvil/tmp.
    node = AnvilNode(port=free_port(), history_on_disk=False).start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    """A PostgreSQL server on loopback for the session (chainpass.local_postgres); each test that
    uses it makes a database of its own."""
    server = start_postgres()
    yield server
    server.stop()


#: Where a trace index is kept (chainpass.index_store): the index tests run on both. The
#: store does not depend on the chain, so PostgreSQL's runs are on Anvil only, the backend
#: whose reorgs the index tests make.
INDEX_STORES = ("sqlite", "postgresql")


@pytest.fixture(params=INDEX_STORES)
def index_location(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A new trace index's location: a SQLite file in the test's folder, or a fresh database
    on the session's PostgreSQL server."""
    if request.param == "postgresql":
        server: LocalPostgres = request.getfixturevalue("postgres_server")
        return server.database()
    return str(tmp_path / "trace.sqlite")


def _index_store_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("index_location") if callspec is not None else None


@pytest.fixture(scope="session")
def ganache_node() -> Iterator[GanacheNode]:
    node = GanacheNode(port=free_port()).start()
    yield node
    node.stop()


#: Each backend's chain and world, made the first time a test asks for them and kept for the
#: session. pytest makes a parametrized session fixture anew whenever its parameter changes,
#: and under ``--dist loadfile`` a worker runs each file on each backend in turn: without
#: this, every file made its own embedded EVM and deployed its own world on each backend.
#: Every module leaves the chain as it found it (snapshots), or as a later one may find it.
_KEPT = pytest.StashKey[dict[tuple[str, str], Any]]()
T = TypeVar("T")


def _kept(request: pytest.FixtureRequest, what: str, backend: str, make: Callable[[], T]) -> T:
    kept = request.session.stash.setdefault(_KEPT, {})
    if (what, backend) not in kept:
        kept[what, backend] = make()
    value: T = kept[what, backend]
    return value


@pytest.fixture(scope="session")
def backend_chain(backend: str, request: pytest.FixtureRequest) -> Chain:
    """The session's chain on ``backend``: an embedded EVM, or the session's Anvil or Ganache node."""

    def connect() -> Chain:
        if backend == "embedded":
            return Chain.embedded()
        return Chain.connect(request.getfixturevalue(f"{backend}_node").url)

    return _kept(request, "chain", backend, connect)


@pytest.fixture(scope="session")
def world_session(backend: str, backend_chain: Chain, request: pytest.FixtureRequest) -> World:
    """The registry deployed on ``backend``'s chain with the ``Roles`` appointed, once a session."""
    return _kept(request, "world", backend, lambda: _deploy_world(backend_chain))


def _deploy_world(chain: Chain) -> World:
    accounts = chain.dev_accounts()
    roles = Roles(*accounts[:8])
    deployment, _ = deploy(chain, roles.governor)
    registry = IdentityRegistry.from_deployment(chain, deployment)
    registry.appoint_authority(roles.bureau, Level.HIGH, sender=roles.governor)
    registry.appoint_authority(roles.clinic, Level.LOW, sender=roles.governor)
    registry.appoint_relying_party(roles.bank, Sector.BANK, sender=roles.governor)
    registry.appoint_relying_party(roles.hotel, Sector.HOTEL, sender=roles.governor)
    return World(chain, deployment, registry, roles)


@pytest.fixture
def world(world_session: World) -> Iterator[World]:
    snapshot = world_session.chain.snapshot()
    yield world_session
    world_session.chain.revert(snapshot)


@pytest.fixture
def chain(world: World) -> Chain:
    return world.chain


@pytest.fixture
def registry(world: World) -> IdentityRegistry:
    return world.registry


@pytest.fixture
def roles(world: World) -> Roles:
    return world.roles
