"""scripts/capacity_plan.py's arithmetic (docs/capacity.md), on rows made up here: the plan's
gas figures come from `make bench`; what is checked is what it does with them."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from chainpass.compiler import REPO_ROOT


@pytest.fixture
def plan(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))  # it imports bench_gas as the script does
    return importlib.import_module("capacity_plan")


def rows(plan: ModuleType, names: list[str], gas: int = 1_000, size: float = 100, logs: float = 1) -> dict:
    bench = importlib.import_module("bench_gas")
    return {name: bench.Row(name, gas, footprint=bench.Footprint(size, logs)) for name in names}


def test_a_day_that_fills_every_block_is_all_of_the_network_and_its_fee_counts_gas_and_bytes(plan: ModuleType) -> None:
    l1 = plan.Network("L1", 30_000_000, 12, 2.0)
    l2 = plan.Network("L2", 30_000_000, 2, 0.01, byte_gwei=1.0)
    assert l1.gas_per_day == 30_000_000 * 7_200
    load = plan.Load("everything", "op", per_day=7_200 * 30)
    costed = plan.cost([load], rows(plan, ["op"], gas=1_000_000, size=1_000))
    table = plan.network_table(costed, [l1, l2], eth_usd=1.0)
    # 7,200 blocks' worth of gas: all of L1, a sixth of the L2; fees of gas (and bytes on the L2)
    assert "| L1 | 7,200 | 100.00% | 432 ETH ($432) |" in table
    l2_fee = (216e9 * 0.01 + 216_000 * 1_000 * 1.0) / 1e9
    assert f"| L2 | 7,200 | 16.67% | {l2_fee:.2f} ETH" in table


def test_the_port_recorded_instead_replaces_only_its_anchored_observations(plan: ModuleType) -> None:
    port = plan.port(items=1_000, per_container=100, container_steps=4, observations=10)
    recorded = plan.recorded_instead(port, "record one", "one event each")
    assert recorded[:-1] == port[:-1]
    assert (recorded[-1].row, recorded[-1].per_day) == ("record one", 10_000)
    assert port[2].per_day == 40  # 10 containers, 4 events each


def test_a_row_measured_without_its_size_is_refused_by_name(plan: ModuleType) -> None:
    bench = importlib.import_module("bench_gas")
    with pytest.raises(SystemExit, match="no size for 'verify a holder'"):
        plan.cost([plan.Load("x", "verify a holder", 1)], {"verify a holder": bench.Row("verify a holder", 82_000)})


def test_the_county_sums_to_its_loads(plan: ModuleType) -> None:
    county = plan.county(residents=365_000, checks=12)
    names = [load.row for load in county]
    costed = plan.cost(county, rows(plan, names, gas=10, size=1, logs=1))
    table = plan.load_table(costed)
    per_day = sum(load.per_day for load in county)  # 1,000 verifications, 1,000 renewals, 12,000 checks ...
    assert per_day == pytest.approx(1_000 + 1_000 + 12_000 + 2_000 + 50 + 50 + 10)
    assert f"| **in all** | | | **{per_day * 10:,.0f}** |" in table
