"""The passports' lifecycle rules as one readable table, and the packed constants that
`contracts/ProductPassport.sol` reads them from.

    python scripts/rule_tables.py            # check the contract's constants are this table's (make rule-tables)
    python scripts/rule_tables.py --write    # rewrite them after a change to the table

The contract packs the rules into words (a byte or a nibble per step, disposition or
class) so that recording an event reads constants, not storage; the comments beside the
constants say how each is laid out. docs/cbv.md and docs/passport-rules.md explain the
table in prose; tests/test_passport_cbv.py and the state machine of
tests/test_passport_lifecycle.py check the contract's behaviour against it on chain.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from chainpass.enums import BizStep, Disposition, Role, State

CONTRACT = Path(__file__).resolve().parents[1] / "contracts" / "ProductPassport.sol"

# ------------------------------------------------------------------------------ the table

#: Disposition classes (docs/cbv.md): what an observation does with each.
USABLE = {"active", "sellable", "available", "container_closed", "container_open", "encoded", "in_progress",
          "partially_dispensed", "reserved", "returned", "sellable_accessible", "sellable_not_accessible"}  # fmt: skip
QUARANTINING = {"non_conformant", "damaged", "expired", "mismatch_class", "mismatch_instance", "mismatch_quantity",
                "needs_replacement", "no_pedigree_match", "stolen"}  # fmt: skip
NEUTRAL = {"completeness_inferred", "completeness_verified", "non_sellable_other", "unavailable", "unknown"}
OWN_STEP = {"recalled", "retail_sold", "inactive", "destroyed", "dispensed", "disposed"}
#: Class numbers: 0 none, 1 usable, 2 in transit, 3 quarantining, 4 conformant, 5 state-neutral,
#: 6 only recorded by its own step.
CLASS = {"none": 0, "in_transit": 2, "conformant": 4, **dict.fromkeys(USABLE, 1), **dict.fromkeys(QUARANTINING, 3),
         **dict.fromkeys(NEUTRAL, 5), **dict.fromkeys(OWN_STEP, 6)}  # fmt: skip
MOVERS = Role.PRODUCER | Role.CARRIER | Role.RETAILER
LIVE = {State.ACTIVE, State.IN_TRANSIT, State.QUARANTINED, State.RECALLED, State.SOLD, State.CONSUMED}
#: Lifecycle steps: (from-states, roles, next state or None (by class), disposition or None, classes taken).
LIFECYCLE = {
    BizStep.INSPECTING: ({State.ACTIVE, State.QUARANTINED}, Role.INSPECTOR, None, None, {3, 4}),
    BizStep.SHIPPING: ({State.ACTIVE}, MOVERS, State.IN_TRANSIT, Disposition.IN_TRANSIT, set()),
    BizStep.RECEIVING: ({State.IN_TRANSIT}, MOVERS, None, None, {1}),
    BizStep.CUSTOMS_RELEASING: ({State.IN_TRANSIT}, Role.CUSTOMS, State.IN_TRANSIT, Disposition.IN_TRANSIT, set()),
    BizStep.CUSTOMS_HOLDING: ({State.IN_TRANSIT}, Role.CUSTOMS, State.QUARANTINED, Disposition.NON_CONFORMANT, set()),
    BizStep.RETAIL_SELLING: ({State.ACTIVE}, Role.RETAILER, State.SOLD, Disposition.RETAIL_SOLD, set()),
    BizStep.RECALLING: (LIVE - {State.RECALLED}, Role.PRODUCER, State.RECALLED, Disposition.RECALLED, set()),
    BizStep.DECOMMISSIONING: (LIVE, Role.PRODUCER | Role.RETAILER, State.DECOMMISSIONED, Disposition.INACTIVE, set()),
    BizStep.DESTROYING: (LIVE, Role.PRODUCER | Role.RETAILER, State.DECOMMISSIONED, Disposition.DESTROYED, set()),
}
#: Steps with a function of their own (not recorded as events).
OWN_FUNCTION = {BizStep.NONE, BizStep.COMMISSIONING, BizStep.PACKING, BizStep.UNPACKING}
#: Lifecycle steps that, with disposition in_progress, are observations (the step is under way).
UNDER_WAY = {BizStep.INSPECTING, BizStep.RECEIVING}
#: Steps that move goods as a consignment (recorded on a container, they reach what is inside).
MOVES_GOODS = {BizStep.SHIPPING, BizStep.RECEIVING, BizStep.RETAIL_SELLING, BizStep.CUSTOMS_RELEASING,
               BizStep.CUSTOMS_HOLDING}  # fmt: skip
#: The regulators' steps: recorded by their role on any passport, without holding the goods.
REGULATED = {BizStep.INSPECTING: Role.INSPECTOR, BizStep.CUSTOMS_RELEASING: Role.CUSTOMS,
             BizStep.CUSTOMS_HOLDING: Role.CUSTOMS}  # fmt: skip
#: The state a step leaves when its disposition's class decides it, by class.
CLASS_STATE = {1: State.ACTIVE, 3: State.QUARANTINED, 4: State.ACTIVE}


def observed(class_: int, state: State) -> int:
    """The state an observation leaves (0: refused), by the disposition's class."""
    if class_ == 6:
        return 0
    if class_ == 1 and state is State.IN_TRANSIT:
        return State.ACTIVE
    if class_ == 2 and state is State.ACTIVE:
        return State.IN_TRANSIT
    if class_ == 3 and state in (State.ACTIVE, State.IN_TRANSIT, State.SOLD):
        return State.QUARANTINED
    return state


# ---------------------------------------------------------------------------- the packing


def packed(entries: dict[int, int], width: int) -> int:
    """``entries`` (position: value) packed ``width`` bits each, position 0 lowest."""
    return sum(value << (key * width) for key, value in entries.items())


def bits(members: set[BizStep] | set[State] | dict[BizStep, Role]) -> int:
    """A bit per member (by its number)."""
    return sum(1 << int(member) for member in members)


def constants() -> dict[str, int]:
    """The contract's constants, computed from the table."""
    words = [0, 0, 0]
    for step, (start, roles, next_, disposition, _classes) in LIFECYCLE.items():
        lane = bits(start) | int(roles) << 8 | int(next_ or 0) << 16 | int(disposition or 0) << 24
        words[step >> 3] |= lane << ((step & 7) * 32)
    return {
        **{f"_STEP_RULES_{i}": word for i, word in enumerate(words)},
        "_STEP_CLASSES": packed({s: sum(1 << c for c in rule[4]) for s, rule in LIFECYCLE.items()}, 8),
        "_DISPOSITION_CLASS": packed({Disposition.parse(d): c for d, c in CLASS.items()}, 4),
        "_OBSERVED_NEXT": packed({c * 8 + s: observed(c, State(s)) for c in range(7) for s in range(1, 8)}, 4),
        "_CLASS_STATE": packed({c: int(s) for c, s in CLASS_STATE.items()}, 4),
        "_OBSERVATIONS": bits(set(BizStep) - set(LIFECYCLE) - OWN_FUNCTION),
        "_UNDER_WAY": bits(UNDER_WAY),
        "_MOVES_GOODS": bits(MOVES_GOODS),
        "_IN_PROGRESS": int(Disposition.IN_PROGRESS),
        "_REGULATED": bits(REGULATED),
    }


def check_table() -> list[str]:
    """Contradictions inside the table itself."""
    problems = []
    if set(CLASS) != {d.label for d in Disposition}:
        problems.append(f"dispositions without a class: {sorted({d.label for d in Disposition} - set(CLASS))}")
    problems += [
        f"{s.label} is regulated but not recorded by {r!r}" for s, r in REGULATED.items() if LIFECYCLE[s][1] != r
    ]
    return problems


# ------------------------------------------------------------------------ the contract's text

#: A constant's declaration; its value may stand on the next line (Prettier wraps a long one there).
_CONSTANT = re.compile(r"(constant (_[A-Z_0-9]+)\s*=\s*)(0x[0-9a-fA-F]+|\d+)(;)")


def written(source: str) -> dict[str, int]:
    """The values of the table's constants as ``source`` writes them."""
    wanted = constants()
    return {m[2]: int(m[3], 0) for m in _CONSTANT.finditer(source) if m[2] in wanted}


def stale(source: str) -> list[str]:
    """Each constant of ``source`` that is not the table's, as a sentence."""
    found = written(source)
    return [
        f"{name} is {found[name]:#x} in the contract, {value:#x} in the table"
        if name in found
        else f"{name} is missing"
        for name, value in constants().items()
        if found.get(name) != value
    ]


def rewrite(source: str) -> str:
    """``source`` with every constant of the table written from it, in its own style (a
    full 32-byte word, a short hex number or a decimal one)."""
    wanted = constants()

    def value(m: re.Match[str]) -> str:
        name, old = m[2], m[3]
        if name not in wanted:
            return m[0]
        new = wanted[name]
        text = f"0x{new:064x}" if len(old) == 66 else hex(new) if old.startswith("0x") else str(new)
        return f"{m[1]}{text}{m[4]}"

    return _CONSTANT.sub(value, source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the contract's constants from the table")
    args = parser.parse_args(argv)
    problems = check_table()
    if problems:
        print("\n".join(f"rule table: {p}" for p in problems), file=sys.stderr)
        return 1
    source = CONTRACT.read_text(encoding="utf-8")
    if args.write:
        CONTRACT.write_text(rewrite(source), encoding="utf-8")
        print(f"wrote the rule tables into {CONTRACT.name}: rebuild the artifacts (python -m chainpass.compiler)")
        return 0
    differences = stale(source)
    if differences:
        print("\n".join(f"{CONTRACT.name}: {d}" for d in differences), file=sys.stderr)
        print("run `python scripts/rule_tables.py --write`, then `python -m chainpass.compiler`", file=sys.stderr)
        return 1
    print(f"rule tables: the {len(constants())} constants of {CONTRACT.name} are the table's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
