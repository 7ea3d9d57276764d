"""`chainpass finance` (issue 17): the shop orders and escrows, the cooperative sells its
receivable to the county bank, the goods arrive and the escrow pays the bank; a recalled
bag is refunded; an invoice is accepted, registered once, split and paid. On the session's
Anvil, from the supply chain's template (producer 2, carrier 3, retailer 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_world import Operator, _supply_steps, assert_one_line_error, from_template, module_template

from chainpass.node import AnvilNode

BAG1, BAG2 = "(01)09506000134352(21)FIN001", "(01)09506000134352(21)FIN002"
#: The county bank: dev account 6, appointed a relying party of sector bank.
BANK = 6


def _finance_steps(op: Operator, attributes: Path) -> None:
    """The supply chain, the county bank (6), and 10,000 dev dollars each for the shop (4) and the bank."""
    _supply_steps(op, attributes)
    op.ok("identity", "appoint-relying-party", op.accounts[BANK], "--sector", "bank")
    for index in (4, BANK):
        op.ok("finance", "mint", op.accounts[index], "10000")


@pytest.fixture(scope="module")
def finance_template(anvil_node: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from module_template(anvil_node, tmp_path_factory, "finance", _finance_steps)


@pytest.fixture
def op(operator: Operator, finance_template: Path, tmp_path: Path) -> Iterator[Operator]:
    yield from from_template(operator, finance_template, tmp_path)


def deliver(op: Operator, code: str, tmp_path: Path) -> None:
    """The producer ships the bag and hands it to the shop, which receives it."""
    op.ok("passport", "event", code, "--biz-step", "shipping", "--disposition", "in_transit", "--account", "2")
    offer = tmp_path / "custody.json"
    op.ok("passport", "offer", code, "--to", op.accounts[4], "--out", str(offer), "--account", "2")
    op.ok("passport", "accept", str(offer), "--account", "4")
    op.ok("passport", "event", code, "--biz-step", "receiving", "--disposition", "sellable", "--account", "4")


def test_an_order_financed_by_the_bank_is_paid_to_the_bank_on_delivery(op: Operator, tmp_path: Path) -> None:
    op.ok("passport", "commission", BAG1, BAG2, "--account", "2")
    opened = op.ok("finance", "open", op.accounts[2], "--line", f"{BAG1}=250", "--line", f"{BAG2}=250.50",
                   "--days", "20", "--account", "4", "--json").json()  # fmt: skip
    order = opened["order"]
    assert opened["total"] == 500_500_000
    status = op.ok("finance", "status", str(order), "--json").json()
    part = status["receivable"]["parts"][0]["part"]
    assert (status["escrowed"], status["pending"], status["receivable"]["parts"][0]["holder"]) == (
        500_500_000,
        2,
        op.accounts[2],
    )
    offer = tmp_path / "offer.json"
    op.ok("finance", "offer", str(part), "--bank", op.accounts[BANK], "--price", "490", "--out", str(offer),
          "--account", "2")  # fmt: skip
    financed = op.ok("finance", "finance", str(offer), "--account", str(BANK), "--json").json()
    assert financed["price"] == 490_000_000
    again = op.error("finance", "finance", str(offer), "--account", str(BANK))
    assert "not" in again and "signature" in again

    early = op.run("finance", "settle", str(order), BAG1, "--account", "3")
    assert_one_line_error(early, "not in the buyer's custody")
    deliver(op, BAG1, tmp_path)
    op.ok("finance", "settle", str(order), BAG1, "--account", "3")
    op.ok("passport", "recall", BAG2, "--account", "2")
    refunded = op.ok("finance", "refund", str(order), BAG2, "--account", "3", "--json").json()
    claimed = op.ok("finance", "claim", str(part), "--account", "3", "--json").json()
    text = op.ok("finance", "status", str(order)).out

    assert refunded["order"] == order
    assert claimed["paid"] == 250_000_000
    assert "settled" in text and "refunded" in text and f"part {part}: {op.accounts[BANK]}" in text


def test_an_invoice_is_accepted_registered_once_split_and_paid(op: Operator, tmp_path: Path) -> None:
    acceptance = tmp_path / "invoice.json"
    accepted = op.ok("finance", "invoice", "accept", "--seller", op.accounts[2], "--number", "COOP-2026-17",
                     "--amount", "1200", "--due", "2030-01-31", "--out", str(acceptance), "--account", "4",
                     "--json").json()  # fmt: skip
    registered = op.ok("finance", "invoice", "register", str(acceptance), "--account", "2", "--json").json()
    twice = op.run("finance", "invoice", "register", str(acceptance), "--account", "2")
    receivable, part = registered["receivable"], registered["part"]
    split = op.ok("finance", "split", str(part), "1000", "200", "--account", "2", "--json").json()
    (supplier_part,) = split["parts"]
    op.ok("finance", "transfer", str(supplier_part), op.accounts[3], "--account", "2")
    op.ok("finance", "invoice", "pay", str(receivable), "--account", "4")
    for each in (part, supplier_part):
        op.ok("finance", "claim", str(each), "--account", "5")
    shown = op.ok("finance", "receivable", str(receivable), "--json").json()

    assert accepted["commitment"].startswith("0x") and len(accepted["commitment"]) == 66
    assert_one_line_error(twice, "once only")
    assert shown["kind"] == "invoice" and shown["collected"] == 1_200_000_000
    assert [(p["holder"], p["claimed"]) for p in shown["parts"]] == [
        (op.accounts[2], 1_000_000_000),
        (op.accounts[3], 200_000_000),
    ]
    assert "COOP-2026-17" in acceptance.read_text()  # the number stays in the buyer's and seller's file


def test_a_part_follows_its_holders_rotated_key(op: Operator, tmp_path: Path) -> None:
    """The carrier (3) holds a part and rotates its key to dev account 8: anyone moves the
    part there, and only once."""
    acceptance = tmp_path / "invoice.json"
    op.ok("finance", "invoice", "accept", "--seller", op.accounts[2], "--number", "COOP-2026-18",
          "--amount", "300", "--due", "2030-01-31", "--out", str(acceptance), "--account", "4")  # fmt: skip
    part = op.ok("finance", "invoice", "register", str(acceptance), "--account", "2", "--json").json()["part"]
    op.ok("finance", "transfer", str(part), op.accounts[3], "--account", "2")
    op.ok("identity", "rotate", op.accounts[8], "--account", "3")
    by_old_key = op.run("finance", "transfer", str(part), op.accounts[2], "--account", "3")

    followed = op.ok("finance", "follow", str(part), "--account", "5", "--json").json()
    again = op.run("finance", "follow", str(part), "--account", "5")

    assert_one_line_error(by_old_key, "finance follow")
    assert (followed["part"], followed["holder"]) == (part, op.accounts[8])
    assert_one_line_error(again, "has not moved")
    shown = op.ok("finance", "receivable", str(part), "--json").json()  # an invoice's receivable id is its part's
    assert [p["holder"] for p in shown["parts"]] == [op.accounts[8]]


def test_both_parties_name_a_new_arbiter_by_a_signed_agreement(op: Operator, tmp_path: Path) -> None:
    op.ok("passport", "commission", BAG1, "--account", "2")
    opened = op.ok("finance", "open", op.accounts[2], "--line", f"{BAG1}=250", "--arbiter", op.accounts[3],
                   "--window-hours", "48", "--account", "4", "--json").json()  # fmt: skip
    order = str(opened["order"])
    agreement = tmp_path / "succession.json"
    signed = op.ok("finance", "succession", order, "--arbiter", op.accounts[5], "--out", str(agreement),
                   "--account", "2", "--json").json()  # fmt: skip
    own = op.run("finance", "replace-arbiter", str(agreement), "--account", "2")  # the signer cannot submit it
    stranger = op.run("finance", "succession", order, "--arbiter", op.accounts[5], "--out", str(tmp_path / "x.json"),
                      "--account", "3")  # fmt: skip
    replaced = op.ok("finance", "replace-arbiter", str(agreement), "--account", "4", "--json").json()
    status = op.ok("finance", "status", order, "--json").json()

    assert signed["typedData"]["message"]["arbiter"] == op.accounts[3]
    assert_one_line_error(own, "signature")
    assert_one_line_error(stranger, "buyer")
    assert (replaced["order"], replaced["arbiter"]) == (opened["order"], op.accounts[5])
    assert status["arbiter"] == op.accounts[5]


def test_a_party_whose_identity_moved_signs_the_succession_from_its_new_wallet(op: Operator, tmp_path: Path) -> None:
    """The seller (2) rotates its key to dev account 8: the old key is told where to sign,
    the new one signs, and the buyer (4) submits the agreement."""
    op.ok("passport", "commission", BAG2, "--account", "2")
    opened = op.ok("finance", "open", op.accounts[2], "--line", f"{BAG2}=250", "--arbiter", op.accounts[3],
                   "--window-hours", "48", "--account", "4", "--json").json()  # fmt: skip
    order = str(opened["order"])
    op.ok("identity", "rotate", op.accounts[8], "--account", "2")
    agreement = tmp_path / "succession.json"
    old_key = op.run("finance", "succession", order, "--arbiter", op.accounts[5], "--out", str(agreement),
                     "--account", "2")  # fmt: skip
    op.ok("finance", "succession", order, "--arbiter", op.accounts[5], "--out", str(agreement), "--account", "8")
    replaced = op.ok("finance", "replace-arbiter", str(agreement), "--account", "4", "--json").json()

    assert_one_line_error(old_key, f"moved to {op.accounts[8]}")
    assert replaced["arbiter"] == op.accounts[5]
    assert op.ok("finance", "status", order, "--json").json()["arbiter"] == op.accounts[5]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["open", "0x" + "11" * 20, "--line", "nonsense"], "is not CODE=PRICE"),
        (["open", "0x" + "11" * 20, "--line", f"{BAG1}=-3"], "must be above zero"),
        (["open", "0x" + "11" * 20, "--line", f"{BAG1}=1.0000001"], "at most 6 decimals"),
        (["open", "0x" + "11" * 20, "--line", f"{BAG1}=5", "--arbiter", "0x" + "22" * 20], "go together"),
        (["status", "99"], "no order 99"),
        (["claim", "99", "--account", "4"], "no receivable part 99"),
        (["follow", "99", "--account", "4"], "no receivable part 99"),
        (["follow-buyer", "99", "--account", "4"], "no order 99"),
        (["settle", "1", "0x1" + "0" * 64, "--account", "4"], "1 to 64 hex digits"),
        (["finance", "missing.json", "--account", "6"], "does not exist"),
    ],
)
def test_mistakes_are_one_sentence(op: Operator, args: list[str], expected: str) -> None:
    assert_one_line_error(op.run("finance", *args), expected)


def test_a_number_beyond_the_contracts_range_is_a_usage_error(op: Operator) -> None:
    result = op.run("finance", "follow", str(2**256), "--account", "4")
    assert result.code == 2 and "is not in the range 1<=x<=" in result.err and "Traceback" not in result.err
