"""Trade finance (issue 17): orders paid on delivery the chain has seen, refunds, disputes,
invoices, receivables a bank finances once, splits, identity gating, and tokens that
misbehave. Every path, on every backend (docs/finance.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from accounts import World, fund, new_account
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from finance_world import DAY, FUNDS, Deal, deliver, dollar, finance_client, goods, hold_at_customs, set_up_deal
from passport_world import CASE_GTIN, Orgs, event, hand_over, recall, receive, ship, shown
from solidity import compile_test_contract
from support import assert_refused, logs, refused_by_client

from chainpass.artifacts import load_artifact
from chainpass.chain import sender_address
from chainpass.deployment import DEFAULT_RECOVERY_DELAY
from chainpass.enums import BizStep, Disposition, LineState, ReceivableKind, RefundReason
from chainpass.errors import ChainIdMismatch, ChainpassError, ContractRevert, InvalidInput
from chainpass.finance import QUARANTINE_GRACE, SignedMessage, Stablecoin, TradeFinance, invoice_commitment
from chainpass.passport import ProductPassports
from chainpass.reverts import MESSAGES
from chainpass.standards.gs1 import ProductKey

PRICE = 250_000_000  # 250 dollars a bag


@pytest.fixture(scope="module")
def deal_setup(orgs_setup: Orgs, world_session: World) -> Deal:
    """The bank and the dev dollar on top of the organisations, for this module (reverted with them)."""
    return set_up_deal(world_session, orgs_setup)


@pytest.fixture
def deal(deal_setup: Deal, orgs: Orgs) -> Deal:
    return deal_setup


@pytest.fixture
def fin(world: World) -> TradeFinance:
    return finance_client(world)


@pytest.fixture
def coin(world: World) -> Stablecoin:
    return dollar(world)


def open_order(
    fin: TradeFinance, coin: Stablecoin, deal: Deal, ids: list[int], *, days: int = 30, **terms: object
) -> int:
    deadline = fin.chain.latest_timestamp() + days * DAY
    order, _receipt = fin.open_order(
        deal.seller,
        coin.address,
        [(i, PRICE) for i in ids],
        deadline,
        sender=deal.buyer,
        **terms,  # type: ignore[arg-type]
    )
    return order


def part_of(fin: TradeFinance, receivable: int) -> int:
    (first, *_rest) = fin.receivable(receivable).parts
    return first.part


def escrow_matches(fin: TradeFinance, coin: Stablecoin, *orders: int) -> None:
    """What the contract holds is exactly what the orders still escrow and their parts are still owed."""
    owed = 0
    for order in orders:
        r = fin.receivable(order)
        owed += r.face - r.collected - r.voided + sum(p.claimable for p in r.parts)
    assert coin.balance_of(fin.address) == owed


# ---------------------------------------------------------------------------- orders


def test_an_order_pays_the_seller_when_the_chain_shows_the_goods_received(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "PAY")
    order = open_order(fin, coin, deal, [bag])
    assert coin.balance_of(fin.address) == PRICE
    assert coin.balance_of(deal.buyer) == FUNDS - PRICE
    status = fin.order(order)
    assert (status.buyer, status.seller, status.escrowed, status.pending) == (deal.buyer, deal.seller, PRICE, 1)
    assert status.lines[0].state is LineState.OPEN
    part = part_of(fin, order)
    assert fin.part(part).holder == deal.seller

    assert_refused(fin.chain, lambda: fin.settle(order, [bag], sender=deal.stranger), "FinanceNotReceived")
    deliver(pp, orgs, deal, bag)
    receipt = fin.settle(order, [bag], sender=deal.stranger)  # anyone may settle

    assert logs(fin, "LineSettled", receipt) == [{"order": order, "id": bag, "price": PRICE}]
    assert fin.order(order).lines[0].state is LineState.SETTLED
    assert_refused(fin.chain, lambda: fin.settle(order, [bag], sender=deal.seller), "FinanceLineNotOpen")
    assert_refused(fin.chain, lambda: fin.refund(order, [bag], sender=deal.buyer), "FinanceLineNotOpen")
    escrow_matches(fin, coin, order)
    paid, _ = fin.claim(part, sender=deal.stranger)  # anyone may claim: it pays the holder
    assert paid == PRICE
    assert coin.balance_of(deal.seller) == PRICE
    assert coin.balance_of(fin.address) == 0
    assert_refused(fin.chain, lambda: fin.claim(part, sender=deal.seller), "FinanceNothingToClaim")


def test_an_order_escrows_by_approval_when_no_permit_is_signed(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "APPR")
    order = open_order(fin, coin, deal, [bag], permit=False)
    assert coin.balance_of(fin.address) == PRICE
    assert fin.order(order).escrowed == PRICE


def test_lines_settle_as_they_arrive_and_the_rest_waits(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    first, second = goods(pp, orgs, 2, "ARR")
    order = open_order(fin, coin, deal, [first, second])
    deliver(pp, orgs, deal, first)
    ship(pp, orgs, second)
    hand_over(pp, second, deal.seller, deal.buyer)  # with the buyer, but still in transit: not received

    assert_refused(fin.chain, lambda: fin.settle(order, [first, second], sender=deal.seller), "FinanceNotReceived")
    fin.settle(order, [first], sender=deal.seller)
    status = fin.order(order)
    assert [line.state for line in status.lines] == sorted(
        [LineState.SETTLED, LineState.OPEN], key=lambda s: 0 if (first < second) == (s is LineState.SETTLED) else 1
    )
    assert (status.pending, status.receivable and status.receivable.collected) == (1, PRICE)
    escrow_matches(fin, coin, order)


def test_a_recall_before_receipt_refunds_the_buyer(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    recalled, fine = goods(pp, orgs, 2, "RCL")
    order = open_order(fin, coin, deal, [recalled, fine])
    assert_refused(fin.chain, lambda: fin.refund(order, [recalled], sender=deal.stranger), "FinanceNotRefundable")
    recall(pp, orgs, recalled)

    receipt = fin.refund(order, [recalled], sender=deal.stranger)

    assert logs(fin, "LineRefunded", receipt) == [
        {"order": order, "id": recalled, "price": PRICE, "reason": int(RefundReason.RECALLED)}
    ]
    assert coin.balance_of(deal.buyer) == FUNDS - PRICE
    assert_refused(fin.chain, lambda: fin.refund(order, [fine], sender=deal.buyer), "FinanceNotRefundable")
    assert_refused(fin.chain, lambda: fin.settle(order, [recalled], sender=deal.seller), "FinanceLineNotOpen")
    r = fin.receivable(order)
    assert (r.face, r.collected, r.voided) == (2 * PRICE, 0, PRICE)
    escrow_matches(fin, coin, order)


def test_a_quarantine_on_the_way_refunds_the_buyer(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "QUA")
    order = open_order(fin, coin, deal, [bag])
    hold_at_customs(pp, orgs, bag)

    receipt = fin.refund(order, [bag], sender=deal.buyer)

    assert logs(fin, "LineRefunded", receipt)[0]["reason"] == int(RefundReason.QUARANTINED)
    assert coin.balance_of(deal.buyer) == FUNDS
    assert fin.order(order).pending == 0


def test_a_missed_deadline_refunds_the_buyer_and_a_late_delivery_still_pays(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    late, lost = goods(pp, orgs, 2, "LATE")
    order = open_order(fin, coin, deal, [late, lost], days=2)
    assert_refused(fin.chain, lambda: fin.refund(order, [lost], sender=deal.buyer), "FinanceNotRefundable")
    fin.chain.advance_time(3 * DAY)
    deliver(pp, orgs, deal, late)  # the buyer took the goods after the deadline: it pays

    assert_refused(fin.chain, lambda: fin.refund(order, [late], sender=deal.buyer), "FinanceNotRefundable")
    receipt = fin.refund(order, [lost], sender=deal.stranger)
    fin.settle(order, [late], sender=deal.seller)

    assert logs(fin, "LineRefunded", receipt)[0]["reason"] == int(RefundReason.OVERDUE)
    assert coin.balance_of(deal.buyer) == FUNDS - PRICE
    escrow_matches(fin, coin, order)


def test_a_disputed_line_waits_for_the_arbiter_both_accepted(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    kept, disputed, rejected = goods(pp, orgs, 3, "ARB")
    order = open_order(fin, coin, deal, [kept, disputed, rejected], arbiter=deal.arbiter, dispute_window=2 * DAY)
    deliver(pp, orgs, deal, kept, disputed, rejected)
    assert_refused(fin.chain, lambda: fin.settle(order, [kept], sender=deal.seller), "FinanceNotAccepted")
    assert_refused(fin.chain, lambda: fin.accept(order, sender=deal.buyer), "FinanceNotParty", expected=deal.seller)
    fin.accept(order, sender=deal.seller)
    assert_refused(fin.chain, lambda: fin.accept(order, sender=deal.seller), "FinanceNothingToAccept")

    receipt = fin.settle(order, [kept, disputed, rejected], sender=deal.seller)
    assert [e["id"] for e in logs(fin, "LineDelivered", receipt)] == [kept, disputed, rejected]
    assert_refused(fin.chain, lambda: fin.settle(order, [kept], sender=deal.seller), "FinanceWindowOpen")
    fin.dispute(order, [disputed, rejected], sender=deal.buyer)
    assert_refused(fin.chain, lambda: fin.resolve(order, disputed, True, sender=deal.buyer), "FinanceNotParty")
    fin.resolve(order, disputed, True, sender=deal.arbiter)
    refunded = fin.resolve(order, rejected, False, sender=deal.arbiter)
    assert logs(fin, "LineRefunded", refunded)[0]["reason"] == int(RefundReason.ARBITRATED)
    fin.chain.advance_time(2 * DAY + 1)
    assert_refused(fin.chain, lambda: fin.dispute(order, [kept], sender=deal.buyer), "FinanceWindowClosed")
    fin.settle(order, [kept], sender=deal.stranger)

    r = fin.receivable(order)
    assert (r.collected, r.voided, fin.order(order).pending) == (2 * PRICE, PRICE, 0)
    assert coin.balance_of(deal.buyer) == FUNDS - 2 * PRICE
    escrow_matches(fin, coin, order)


def test_the_buyer_cancels_an_order_the_seller_has_not_accepted(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "CNL")
    order = open_order(fin, coin, deal, [bag], arbiter=deal.arbiter, dispute_window=DAY)
    assert_refused(fin.chain, lambda: fin.refund(order, [bag], sender=deal.stranger), "FinanceNotRefundable")

    receipt = fin.refund(order, [bag], sender=deal.buyer)

    assert logs(fin, "LineRefunded", receipt)[0]["reason"] == int(RefundReason.CANCELLED)
    assert coin.balance_of(deal.buyer) == FUNDS
    (reopened,) = [open_order(fin, coin, deal, [bag])]  # the passport is free for a new order
    assert fin.order(reopened).lines[0].state is LineState.OPEN
    assert fin.order(order).lines[0].state is LineState.REFUNDED


def test_orders_take_only_fit_passports_once_each(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    first, second, received, recalled = goods(pp, orgs, 4, "FIT")
    open_order(fin, coin, deal, [first])
    deliver(pp, orgs, deal, received)
    recall(pp, orgs, recalled)
    deadline = fin.chain.latest_timestamp() + DAY
    terms = (deal.seller, coin.address, deadline, "0x" + "00" * 20, 0)
    coin.approve(fin.address, 10 * PRICE, sender=deal.buyer)

    def raw(ids: list[int]) -> object:
        return fin.send("openOrder", deal.buyer, terms, ids, [PRICE] * len(ids))

    assert_refused(fin.chain, lambda: raw([first]), "FinancePassportTaken")
    assert_refused(fin.chain, lambda: raw([received]), "FinanceAlreadyReceived")
    assert_refused(fin.chain, lambda: raw([recalled]), "FinancePassportUnfit", state="recalled")
    assert_refused(fin.chain, lambda: raw([12345]), "FinancePassportUnfit", state="none")
    assert_refused(fin.chain, lambda: raw(sorted([second, second])), "FinanceLinesNotAscending")
    assert_refused(fin.chain, lambda: raw([]), "FinanceBadLines")
    refused_by_client(
        fin.chain,
        lambda: fin.open_order(deal.seller, coin.address, [(second, 1), (second, 2)], deadline, sender=deal.buyer),
        InvalidInput,
        "listed twice",
    )
    refused_by_client(
        fin.chain,
        lambda: fin.open_order(deal.seller, coin.address, [(second, 0)], deadline, sender=deal.buyer),
        InvalidInput,
        "above zero",
    )
    past = (deal.seller, coin.address, fin.chain.latest_timestamp() - 1, "0x" + "00" * 20, 0)
    assert_refused(fin.chain, lambda: fin.send("openOrder", deal.buyer, past, [second], [PRICE]), "FinanceNotInFuture")


def test_a_container_and_the_goods_in_it_are_never_in_two_unfinished_lines(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    first, second, third = goods(pp, orgs, 3, "NEST")
    case, pallet = pp.commission(
        [ProductKey.container(CASE_GTIN, "NESTCASE", 1), ProductKey.container(CASE_GTIN, "NESTPAL", 2)],
        sender=orgs.producer,
    )
    pp.pack(case, [first, second, third], sender=orgs.producer)
    pp.pack(pallet, [case], sender=orgs.producer)
    deadline = fin.chain.latest_timestamp() + 30 * DAY
    coin.approve(fin.address, 10 * PRICE, sender=deal.buyer)

    def raw(ids: list[int]) -> object:
        terms = (deal.seller, coin.address, deadline, "0x" + "00" * 20, 0)
        return fin.send("openOrder", deal.buyer, terms, sorted(ids), [PRICE] * len(ids))

    def line(id_: int) -> tuple[int, int]:  # (depth, inside)
        return tuple(fin.contract.functions.lineOf(id_).call()[4:])  # type: ignore[return-value]

    # A bag two containers deep: both count its line, and neither can be ordered meanwhile.
    bags = open_order(fin, coin, deal, [first], arbiter=deal.arbiter, dispute_window=DAY)
    assert (line(first), line(case), line(pallet)) == ((2, 0), (0, 1), (0, 1))
    assert tuple(fin.contract.functions.lineOf(first).call()[:4]) == (bags, PRICE, int(LineState.OPEN), 0)
    for box in (case, pallet):
        assert_refused(fin.chain, lambda box=box: raw([box]), "FinanceContentsTaken", lines=1)  # type: ignore[misc]
    assert_refused(fin.chain, lambda: raw([second, case]), "FinanceContentsTaken")  # both in one order
    assert_refused(fin.chain, lambda: raw([first]), "FinancePassportTaken")
    sibling = open_order(fin, coin, deal, [second])  # another bag of the case is other goods
    assert line(case) == (0, 2)
    # Unpacked while its line is open: it still counts where it was when it opened, until it finishes.
    pp.unpack([first], sender=orgs.producer)
    fin.refund(bags, [first], sender=deal.buyer)  # cancelled: the seller never accepted the arbiter
    assert (line(first), line(case), line(pallet)) == ((2, 0), (0, 1), (0, 1))
    assert_refused(fin.chain, lambda: raw([pallet]), "FinanceContentsTaken", lines=1)

    # The sibling delivered in its pallet settles and frees both containers: the pallet is ordered.
    ship(pp, orgs, pallet)
    hand_over(pp, pallet, deal.seller, deal.buyer)
    receive(pp, orgs, pallet, by=deal.buyer)
    fin.settle(sibling, [second], sender=deal.stranger)
    assert (line(case), line(pallet)) == ((0, 0), (0, 0))
    hand_over(pp, pallet, deal.buyer, deal.seller)  # returned to the seller, who sells it on as a whole
    whole = open_order(fin, coin, deal, [pallet])
    # Now goods inside the ordered pallet cannot be ordered, at any depth.
    assert_refused(fin.chain, lambda: raw([third]), "FinanceContainerTaken", container=shown(pallet), order=whole)
    assert_refused(fin.chain, lambda: raw([case]), "FinanceContainerTaken", container=shown(pallet))
    assert fin.order(whole).lines[0].state is LineState.OPEN
    escrow_matches(fin, coin, bags, sibling, whole)


def test_goods_quarantined_in_the_buyers_custody_pay_once_the_grace_after_the_deadline_has_passed(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    held, recalled, arbitrated = goods(pp, orgs, 3, "GRACE")
    order = open_order(fin, coin, deal, [held, recalled], days=2)
    disputed = open_order(fin, coin, deal, [arbitrated], days=2, arbiter=deal.arbiter, dispute_window=DAY)
    fin.accept(disputed, sender=deal.seller)
    deliver(pp, orgs, deal, held, recalled, arbitrated)
    for id_ in (held, recalled, arbitrated):  # an inspector finds them non-conformant in the buyer's custody
        pp.record([event(id_, BizStep.INSPECTING, Disposition.NON_CONFORMANT)], sender=orgs.inspector)

    def neither_pays_nor_refunds() -> None:
        assert_refused(fin.chain, lambda: fin.settle(order, [held], sender=deal.seller), "FinanceNotReceived")
        assert_refused(fin.chain, lambda: fin.refund(order, [held], sender=deal.buyer), "FinanceNotRefundable")

    neither_pays_nor_refunds()
    fin.chain.advance_time(3 * DAY)  # past the deadline: the buyer took the goods, so no refund either
    neither_pays_nor_refunds()
    fin.chain.advance_time(QUARANTINE_GRACE - 2 * DAY)  # the grace ends 30 days after the deadline
    neither_pays_nor_refunds()
    recall(pp, orgs, recalled)  # a recall still refunds, before or after the grace
    fin.chain.advance_time(2 * DAY)

    receipt = fin.settle(order, [held], sender=deal.stranger)
    assert logs(fin, "LineSettled", receipt) == [{"order": order, "id": held, "price": PRICE}]
    refunded = fin.refund(order, [recalled], sender=deal.stranger)
    assert logs(fin, "LineRefunded", refunded)[0]["reason"] == int(RefundReason.RECALLED)
    # With an arbiter, such goods count as delivered: the window opens and the buyer may dispute.
    seen = fin.settle(disputed, [arbitrated], sender=deal.stranger)
    assert [e["id"] for e in logs(fin, "LineDelivered", seen)] == [arbitrated]
    fin.dispute(disputed, [arbitrated], sender=deal.buyer)
    fin.resolve(disputed, arbitrated, False, sender=deal.arbiter)
    assert coin.balance_of(deal.buyer) == FUNDS - PRICE
    escrow_matches(fin, coin, order, disputed)


def test_both_parties_name_a_successor_to_an_arbiter_that_lost_its_verification(
    world: World, fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "HEIR")
    order = open_order(fin, coin, deal, [bag], arbiter=deal.arbiter, dispute_window=DAY)
    fin.accept(order, sender=deal.seller)
    deliver(pp, orgs, deal, bag)
    fin.settle(order, [bag], sender=deal.seller)
    fin.dispute(order, [bag], sender=deal.buyer)
    world.registry.suspend(deal.arbiter, "under_review", sender=world.roles.bureau)
    assert_refused(fin.chain, lambda: fin.resolve(order, bag, True, sender=deal.arbiter), "FinanceNotVerified")

    deadline = fin.chain.latest_timestamp() + DAY
    agreed = fin.sign(deal.seller, fin.arbiter_succession(order, deal.supplier, deadline))
    assert_refused(fin.chain, lambda: fin.replace_arbiter(agreed, sender=deal.seller), "FinanceInvalidSignature")
    assert_refused(fin.chain, lambda: fin.replace_arbiter(agreed, sender=deal.stranger), "FinanceNotParty")
    to_buyer = fin.sign(deal.seller, fin.arbiter_succession(order, deal.buyer, deadline))
    assert_refused(fin.chain, lambda: fin.replace_arbiter(to_buyer, sender=deal.buyer), "FinanceSameParty")
    altered = SignedMessage({**agreed.typed_data, "message": {**agreed.message, "deadline": deadline + 1}},
                            agreed.signature)  # fmt: skip
    assert_refused(fin.chain, lambda: fin.replace_arbiter(altered, sender=deal.buyer), "FinanceInvalidSignature")

    receipt = fin.replace_arbiter(agreed, sender=deal.buyer)

    assert logs(fin, "ArbiterReplaced", receipt) == [
        {"order": order, "arbiter": deal.arbiter, "successor": deal.supplier}
    ]
    assert fin.order(order).arbiter == deal.supplier
    assert_refused(fin.chain, lambda: fin.replace_arbiter(agreed, sender=deal.buyer), "FinanceSameParty")
    # An agreement names the arbiter it replaces: one signed before a succession serves no more.
    stale = fin.sign(deal.seller, {**to_buyer.typed_data, "message": {**agreed.message, "successor": orgs.customs}})
    assert_refused(fin.chain, lambda: fin.replace_arbiter(stale, sender=deal.buyer), "FinanceInvalidSignature")
    assert_refused(fin.chain, lambda: fin.resolve(order, bag, True, sender=deal.arbiter), "FinanceNotParty")
    fin.resolve(order, bag, True, sender=deal.supplier)
    assert fin.receivable(order).collected == PRICE
    plain = open_order(fin, coin, deal, goods(pp, orgs, 1, "HEIR2"))
    refused_by_client(fin.chain, lambda: fin.arbiter_succession(plain, deal.supplier, deadline), InvalidInput,
                      "no arbiter")  # fmt: skip
    no_arbiter = fin.contract.functions.replaceArbiter(plain, deal.supplier, deadline, agreed.signature)
    assert_refused(fin.chain, lambda: fin.chain.transact(no_arbiter, deal.buyer), "FinanceNoArbiter")


# ------------------------------------------------------------------ identity gating


def test_every_party_must_be_verified_when_it_acts(
    world: World, fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "GATE")
    deadline = fin.chain.latest_timestamp() + DAY
    coin.mint(deal.stranger, PRICE, sender=deal.governor)
    for account in (deal.stranger, deal.buyer):  # approved first: the refusals below must send nothing at all
        coin.approve(fin.address, PRICE, sender=account)

    def opening(buyer: str, seller: str, arbiter: str | None = None) -> object:
        window = DAY if arbiter else 0
        return fin.open_order(
            seller, coin.address, [(bag, PRICE)], deadline, sender=buyer, arbiter=arbiter, dispute_window=window
        )

    assert_refused(fin.chain, lambda: opening(deal.stranger, deal.seller), "FinanceNotVerified", account=deal.stranger)
    assert_refused(fin.chain, lambda: opening(deal.buyer, deal.stranger), "FinanceNotVerified", account=deal.stranger)
    assert_refused(
        fin.chain, lambda: opening(deal.buyer, deal.seller, deal.stranger), "FinanceNotVerified", account=deal.stranger
    )
    assert_refused(fin.chain, lambda: opening(deal.buyer, deal.buyer), "FinanceSameParty")
    order = open_order(fin, coin, deal, [bag], arbiter=deal.arbiter, dispute_window=DAY)
    world.registry.suspend(deal.seller, "under_review", sender=world.roles.bureau)
    revert = assert_refused(fin.chain, lambda: fin.accept(order, sender=deal.seller), "FinanceNotVerified")
    assert "suspended" in str(revert)
    part = part_of(fin, order)
    assert_refused(fin.chain, lambda: fin.transfer(part, deal.supplier, sender=deal.seller), "FinanceNotEligibleHolder")


def test_only_a_bank_finances_and_parts_go_only_to_verified_holders_or_banks(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "ONLY")
    order = open_order(fin, coin, deal, [bag])
    part = part_of(fin, order)
    deadline = fin.chain.latest_timestamp() + DAY
    offer = fin.sign(deal.seller, fin.financing_offer(part, deal.arbiter, PRICE // 2, deadline))
    m = offer.message
    assert_refused(
        fin.chain,
        lambda: fin.send("finance", deal.arbiter, part, m["price"], m["deadline"], offer.signature),
        "FinanceNotBank",
        account=deal.arbiter,
    )
    assert_refused(fin.chain, lambda: fin.transfer(part, deal.stranger, sender=deal.seller), "FinanceNotEligibleHolder")
    fin.transfer(part, deal.bank.address, sender=deal.seller)  # a bank may hold parts
    assert fin.part(part).holder == deal.bank.address


# ------------------------------------------------------------- financing and splits


def test_a_bank_finances_a_receivable_once_and_the_escrow_pays_the_bank(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    bags = goods(pp, orgs, 2, "FIN")
    order = open_order(fin, coin, deal, bags)
    part = part_of(fin, order)
    price = 2 * PRICE * 97 // 100  # a 3% discount
    deadline = fin.chain.latest_timestamp() + DAY
    offer = fin.sign(deal.seller, fin.financing_offer(part, deal.bank.address, price, deadline))
    bank_before = coin.balance_of(deal.bank.address)

    receipt = fin.finance(offer, sender=deal.bank)

    assert logs(fin, "PartFinanced", receipt) == [
        {"part": part, "seller": deal.seller, "bank": deal.bank.address, "price": price, "nonce": 0}
    ]
    assert coin.balance_of(deal.seller) == price  # paid at once
    assert fin.part(part).holder == deal.bank.address
    assert_refused(fin.chain, lambda: fin.finance(offer, sender=deal.bank), "FinanceInvalidSignature")
    deliver(pp, orgs, deal, *bags)
    fin.settle(order, bags, sender=deal.stranger)
    fin.claim(part, sender=deal.stranger)
    assert coin.balance_of(deal.bank.address) == bank_before - price + 2 * PRICE
    assert coin.balance_of(deal.seller) == price
    escrow_matches(fin, coin, order)


def test_financing_offers_expire_are_cancelled_and_bind_their_fields(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "OFR")
    part = part_of(fin, open_order(fin, coin, deal, [bag]))
    now = fin.chain.latest_timestamp()
    stale = fin.sign(deal.seller, fin.financing_offer(part, deal.bank.address, PRICE // 2, now + 60))
    altered = SignedMessage({**stale.typed_data, "message": {**stale.message, "price": PRICE // 4}}, stale.signature)
    assert_refused(fin.chain, lambda: fin.finance(altered, sender=deal.bank), "FinanceInvalidSignature")
    fin.chain.advance_time(120)
    assert_refused(fin.chain, lambda: fin.finance(stale, sender=deal.bank), "FinanceSignatureExpired")
    fresh = fin.sign(deal.seller, fin.financing_offer(part, deal.bank.address, PRICE // 2, now + DAY))
    fin.cancel_offers(sender=deal.seller)
    assert_refused(fin.chain, lambda: fin.finance(fresh, sender=deal.bank), "FinanceInvalidSignature")
    moved = {**fresh.typed_data, "domain": {**fresh.typed_data["domain"], "chainId": 1}}
    refused_by_client(
        fin.chain,
        lambda: fin.finance(SignedMessage(moved, fresh.signature), sender=deal.bank),
        ChainIdMismatch,
        "another chain",
    )


def test_a_supplier_splits_its_receivable_and_passes_a_part_on(
    fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    bags = goods(pp, orgs, 4, "SPL")
    order = open_order(fin, coin, deal, bags)
    part = part_of(fin, order)
    assert_refused(fin.chain, lambda: fin.split(part, [PRICE, PRICE], sender=deal.seller), "FinanceBadSplit")
    assert_refused(fin.chain, lambda: fin.split(part, [PRICE, 3 * PRICE], sender=deal.supplier), "FinanceNotParty")

    (top,), receipt = fin.split(part, [3 * PRICE, PRICE], sender=deal.seller)
    fin.transfer(top, deal.supplier, sender=deal.seller)

    assert logs(fin, "PartSplit", receipt)[0]["amounts"] == [3 * PRICE, PRICE]
    assert (fin.part(part).amount, fin.part(top).offset, fin.part(top).amount) == (3 * PRICE, 3 * PRICE, PRICE)
    assert fin.part(top).holder == deal.supplier
    # Three bags arrive and one is recalled: collection fills the bottom tranche first.
    deliver(pp, orgs, deal, *bags[:3])
    fin.settle(order, bags[:3], sender=deal.stranger)
    recall(pp, orgs, bags[3])
    fin.refund(order, [bags[3]], sender=deal.stranger)
    assert (fin.part(part).claimable, fin.part(top).claimable) == (3 * PRICE, 0)
    assert_refused(fin.chain, lambda: fin.claim(top, sender=deal.supplier), "FinanceNothingToClaim")
    fin.claim(part, sender=deal.seller)
    assert coin.balance_of(deal.seller) == 3 * PRICE
    escrow_matches(fin, coin, order)


# ------------------------------------------------- identities that move to a new wallet


def recover(world: World, wallet: str) -> LocalAccount:
    """The bureau recovers ``wallet``'s identity to a new key (funded): the old key, say a
    thief's now, no longer acts for it."""
    new = new_account()
    fund(world.chain, new.address)
    world.registry.request_recovery(wallet, new.address, sender=world.roles.bureau)
    world.chain.advance_time(DEFAULT_RECOVERY_DELAY)
    world.registry.complete_recovery(wallet, sender=world.roles.bureau)
    return new


def rotate_nine_times(world: World, wallet: str) -> list[LocalAccount]:
    """``wallet``'s identity rotated to a new key 9 times, one more than a call follows
    (MAX_MOVES): the new keys (funded), in order."""
    wallets: list[LocalAccount] = []
    holder: str | LocalAccount = wallet
    for _ in range(9):
        new = new_account()
        fund(world.chain, new.address)
        world.registry.rotate(new.address, sender=holder)
        wallets.append(new)
        holder = new
    return wallets


def test_a_claim_pays_the_wallet_a_stolen_sellers_identity_was_recovered_to(
    world: World, fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    """Anyone may claim: after a recovery the part follows the identity first, so the money
    never reaches the wallet it left, and an offer the old key signed is worth nothing."""
    (bag,) = goods(pp, orgs, 1, "STOLEN")
    order = open_order(fin, coin, deal, [bag], days=60)
    part = part_of(fin, order)
    deliver(pp, orgs, deal, bag)
    fin.settle(order, [bag], sender=deal.stranger)
    signed_before = fin.sign(
        deal.seller, fin.financing_offer(part, deal.bank.address, PRICE // 2, fin.chain.latest_timestamp() + 60 * DAY)
    )

    new = recover(world, deal.seller)

    assert_refused(
        fin.chain,
        lambda: fin.finance(signed_before, sender=deal.bank),
        "FinanceHolderMoved",
        part=part,
        holder=deal.seller,
        successor=new.address,
    )
    assert_refused(fin.chain, lambda: fin.transfer(part, deal.supplier, sender=deal.seller), "FinanceHolderMoved")
    receipt = fin.chain.transact(fin.contract.functions.claim(part), deal.stranger)

    assert logs(fin, "PartFollowed", receipt) == [{"part": part, "from": deal.seller, "to": new.address}]
    assert logs(fin, "Transfer", receipt) == [{"from": deal.seller, "to": new.address, "tokenId": part}]
    assert logs(fin, "PartClaimed", receipt) == [{"part": part, "holder": new.address, "amount": PRICE}]
    assert (coin.balance_of(new.address), coin.balance_of(deal.seller)) == (PRICE, 0)
    assert (fin.part(part).holder, fin.contract.functions.balanceOf(deal.seller).call()) == (new.address, 0)
    assert_refused(fin.chain, lambda: fin.claim(part, sender=deal.stranger), "FinanceNothingToClaim")
    escrow_matches(fin, coin, order)


def test_a_part_follows_a_rotated_key_and_only_the_new_wallet_acts_for_it(
    world: World, fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    bags = goods(pp, orgs, 2, "ROTATE")
    part = part_of(fin, open_order(fin, coin, deal, bags))
    new = new_account()
    fund(fin.chain, new.address)
    world.registry.rotate(new.address, sender=deal.seller)

    assert_refused(
        fin.chain, lambda: fin.split(part, [PRICE, PRICE], sender=deal.seller), "FinanceNotVerified", standing="moved"
    )
    for refused in (
        lambda: fin.transfer(part, deal.supplier, sender=deal.seller),  # the old key
        lambda: fin.split(part, [PRICE, PRICE], sender=new),  # the new one, before the part follows
        lambda: fin.send("transferFrom", new, deal.seller, deal.supplier, part),
    ):
        assert_refused(fin.chain, refused, "FinanceHolderMoved", successor=new.address)

    holder, receipt = fin.follow(part, sender=deal.stranger)  # anyone may

    assert holder == new.address == fin.part(part).holder
    assert logs(fin, "PartFollowed", receipt) == [{"part": part, "from": deal.seller, "to": new.address}]
    assert_refused(fin.chain, lambda: fin.follow(part, sender=deal.stranger), "FinanceHolderNotMoved", part=part)
    (top,), _ = fin.split(part, [PRICE, PRICE], sender=new)
    fin.transfer(top, deal.supplier, sender=new)
    offer = fin.sign(
        new, fin.financing_offer(part, deal.bank.address, PRICE * 9 // 10, fin.chain.latest_timestamp() + DAY)
    )
    fin.finance(offer, sender=deal.bank)
    assert (coin.balance_of(new.address), fin.part(part).holder, fin.part(top).holder) == (
        PRICE * 9 // 10,
        deal.bank.address,
        deal.supplier,
    )


def test_an_identity_moved_more_than_eight_times_is_followed_eight_moves_a_call(
    world: World, fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    """A claim refuses to pay a wallet the identity left, however far it went: ``followPart``
    goes MAX_MOVES at a time, then the claim pays the last wallet."""
    (bag,) = goods(pp, orgs, 1, "NINE")
    order = open_order(fin, coin, deal, [bag])
    part = part_of(fin, order)
    deliver(pp, orgs, deal, bag)
    fin.settle(order, [bag], sender=deal.stranger)
    wallets = rotate_nine_times(world, deal.seller)

    assert_refused(fin.chain, lambda: fin.claim(part, sender=deal.stranger), "FinanceTooManyMoves")
    first, _ = fin.follow(part, sender=deal.stranger)
    second, _ = fin.follow(part, sender=deal.stranger)
    fin.claim(part, sender=deal.stranger)

    assert (first, second) == (wallets[7].address, wallets[8].address)
    assert coin.balance_of(wallets[8].address) == PRICE
    assert all(coin.balance_of(w.address) == 0 for w in wallets[:8]) and coin.balance_of(deal.seller) == 0


def test_a_buyer_moved_more_than_eight_times_is_followed_then_refunded(
    world: World, fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "NINEBUY")
    order = open_order(fin, coin, deal, [bag], days=60)
    recall(pp, orgs, bag)
    assert_refused(fin.chain, lambda: fin.follow_buyer(order, sender=deal.stranger), "FinanceBuyerNotMoved")
    wallets = rotate_nine_times(world, deal.buyer)

    assert_refused(fin.chain, lambda: fin.refund(order, [bag], sender=deal.stranger), "FinanceTooManyMoves")
    reached, receipt = fin.follow_buyer(order, sender=deal.stranger)
    fin.refund(order, [bag], sender=deal.stranger)

    assert reached == wallets[7].address
    assert logs(fin, "BuyerFollowed", receipt) == [{"order": order, "from": deal.buyer, "to": wallets[7].address}]
    assert coin.balance_of(wallets[8].address) == PRICE  # one move past the followed wallet: followed again
    assert all(coin.balance_of(w.address) == 0 for w in wallets[:8])
    escrow_matches(fin, coin, order)


def test_a_refund_anyone_asks_for_reaches_the_wallet_a_moved_buyers_identity_is_at(
    world: World, fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "MOVEDBUY")
    order = open_order(fin, coin, deal, [bag], days=60, arbiter=deal.arbiter, dispute_window=DAY)
    recall(pp, orgs, bag)
    spent = coin.balance_of(deal.buyer)

    new = recover(world, deal.buyer)

    receipt = fin.refund(order, [bag], sender=deal.buyer)  # recalled: anyone may, the old key too
    assert logs(fin, "LineRefunded", receipt)[0]["reason"] == int(RefundReason.RECALLED)
    assert (coin.balance_of(new.address), coin.balance_of(deal.buyer)) == (PRICE, spent)
    escrow_matches(fin, coin, order)


def test_a_moved_buyer_disputes_and_the_arbiters_refund_reaches_its_new_wallet(
    world: World, fin: TradeFinance, coin: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "ARBMOVED")
    order = open_order(fin, coin, deal, [bag], days=60, arbiter=deal.arbiter, dispute_window=30 * DAY)
    deliver(pp, orgs, deal, bag)
    new_seller = new_account()
    fund(fin.chain, new_seller.address)
    world.registry.rotate(new_seller.address, sender=deal.seller)
    assert_refused(
        fin.chain, lambda: fin.accept(order, sender=deal.seller), "FinanceNotParty", expected=new_seller.address
    )
    fin.accept(order, sender=new_seller)
    fin.settle(order, [bag], sender=deal.stranger)
    spent = coin.balance_of(deal.buyer)

    new = recover(world, deal.buyer)  # the recovery waits days: still inside the 30-day window
    assert_refused(
        fin.chain, lambda: fin.dispute(order, [bag], sender=deal.buyer), "FinanceNotParty", expected=new.address
    )
    fin.dispute(order, [bag], sender=new)
    fin.resolve(order, bag, False, sender=deal.arbiter)

    assert (coin.balance_of(new.address), coin.balance_of(deal.buyer)) == (PRICE, spent)
    escrow_matches(fin, coin, order)


def test_every_finance_error_reads_as_a_sentence() -> None:
    """TradeFinance's own errors, and those of the OpenZeppelin parts it is built on."""
    names = {e["name"] for e in load_artifact("TradeFinance").abi if e["type"] == "error"}
    assert {n for n in names if n.startswith("Finance")} == {n for n in MESSAGES if n.startswith("Finance")}
    assert {"SafeERC20FailedOperation", "ReentrancyGuardReentrantCall"} <= names <= set(MESSAGES)


# ---------------------------------------------------------------------- invoices


def test_an_invoice_the_buyer_accepted_is_financed_once_and_paid_at_its_due_date(
    fin: TradeFinance, coin: Stablecoin, deal: Deal
) -> None:
    salt = bytes(range(32))
    value = 1_200 * 10**6
    commitment = invoice_commitment(deal.seller, deal.buyer, "INV-2026-0042", value, salt)
    now = fin.chain.latest_timestamp()
    due = now + 60 * DAY
    accepted = fin.sign(
        deal.buyer, fin.invoice_acceptance(commitment, deal.seller, deal.buyer, coin.address, value, due, now + DAY)
    )
    forged = SignedMessage(
        {**accepted.typed_data, "message": {**accepted.message, "amount": 2 * value}}, accepted.signature
    )
    assert_refused(fin.chain, lambda: fin.register_invoice(forged, sender=deal.seller), "FinanceInvalidSignature")

    receivable, receipt = fin.register_invoice(accepted, sender=deal.seller)

    assert logs(fin, "InvoiceRegistered", receipt)[0]["commitment"] == commitment
    assert fin.contract.functions.invoiceReceivable(commitment).call() == receivable
    assert_refused(
        fin.chain,
        lambda: fin.register_invoice(accepted, sender=deal.seller),
        "FinanceInvoiceTaken",
        receivable=receivable,
    )
    record = fin.receivable(receivable)
    assert (record.kind, record.face, record.due_date) == (ReceivableKind.INVOICE, value, due)
    part = record.parts[0].part
    offer = fin.sign(deal.seller, fin.financing_offer(part, deal.bank.address, value * 98 // 100, now + DAY))
    fin.finance(offer, sender=deal.bank)
    assert coin.balance_of(deal.seller) == value * 98 // 100
    assert_refused(fin.chain, lambda: fin.claim(part, sender=deal.bank), "FinanceNothingToClaim")
    bank_before = coin.balance_of(deal.bank.address)

    fin.chain.advance_time(60 * DAY)
    fin.pay_invoice(receivable, sender=deal.buyer)
    coin.approve(fin.address, value, sender=deal.buyer)
    assert_refused(fin.chain, lambda: fin.pay_invoice(receivable, sender=deal.buyer), "FinanceNotUnpaidInvoice")
    fin.claim(part, sender=deal.stranger)

    assert coin.balance_of(deal.bank.address) == bank_before + value
    assert coin.balance_of(deal.buyer) == FUNDS - value
    assert coin.balance_of(fin.address) == 0


def test_an_invoice_leaves_no_personal_data_on_chain(fin: TradeFinance, coin: Stablecoin, deal: Deal) -> None:
    number, salt, value = "INV-ACME-Ada-Lovelace-0042", keccak(text="salt"), 5 * 10**6
    commitment = invoice_commitment(deal.seller, deal.buyer, number, value, salt)
    assert commitment == keccak(
        abi_encode(
            ["address", "address", "string", "uint256", "bytes32"], [deal.seller, deal.buyer, number, value, salt]
        )
    )
    now = fin.chain.latest_timestamp()
    accepted = fin.sign(
        deal.buyer,
        fin.invoice_acceptance(commitment, deal.seller, deal.buyer, coin.address, value, now + DAY, now + DAY),
    )
    start = fin.chain.w3.eth.block_number
    _receivable, receipt = fin.register_invoice(accepted, sender=deal.seller)

    secrets = [number.encode(), b"Lovelace", salt]
    tx = fin.chain.w3.eth.get_transaction(receipt["transactionHash"])
    chain_bytes = bytes(tx["input"]) + b"".join(
        bytes(log["data"]) + b"".join(bytes(t) for t in log["topics"]) for log in fin.logs([None])
    )
    assert fin.chain.w3.eth.block_number > start
    for secret in secrets:
        assert secret not in chain_bytes
    assert commitment in chain_bytes  # only the commitment stands for the invoice


# ------------------------------------------------------------ tokens that misbehave


@pytest.fixture
def hostile(world: World, deal: Deal) -> Iterator[Stablecoin]:
    """A HostileToken deployed and minted to the buyer and the bank (mode 0: it behaves)."""
    artifact = compile_test_contract("HostileToken")
    receipt = world.chain.deploy(artifact, [], deal.governor)
    token = Stablecoin(world.chain, str(receipt["contractAddress"]))
    token.contract = world.chain.contract(artifact, token.address)
    for account in (deal.buyer, deal.bank):
        world.chain.transact(token.contract.functions.mint(sender_address(account), FUNDS), deal.governor)
        token.approve(world.deployment.address("TradeFinance"), FUNDS, sender=account)
    yield token


def hostile_order(fin: TradeFinance, token: Stablecoin, deal: Deal, ids: list[int]) -> int:
    deadline = fin.chain.latest_timestamp() + 30 * DAY
    order, _ = fin.open_order(deal.seller, token.address, [(i, PRICE) for i in ids], deadline, sender=deal.buyer)
    return order


def settled_part(
    fin: TradeFinance, token: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal, prefix: str
) -> int:
    """The seller's part of a one-bag order in ``token``, delivered and settled: ready to claim."""
    (bag,) = goods(pp, orgs, 1, prefix)
    order = hostile_order(fin, token, deal, [bag])
    deliver(pp, orgs, deal, bag)
    fin.settle(order, [bag], sender=deal.seller)
    return part_of(fin, order)


def set_mode(token: Stablecoin, mode: int, sender: str) -> None:
    token.chain.transact(token.contract.functions.setMode(mode), sender)


def test_a_fee_on_transfer_token_is_refused(
    fin: TradeFinance, hostile: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "FEE")
    set_mode(hostile, 1, deal.governor)
    revert = assert_refused(fin.chain, lambda: hostile_order(fin, hostile, deal, [bag]), "FinanceTransferShort")
    assert revert.error_args["received"] == PRICE * 99 // 100


def test_a_token_that_returns_false_is_refused(
    fin: TradeFinance, hostile: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    (bag,) = goods(pp, orgs, 1, "FALSE")
    set_mode(hostile, 2, deal.governor)
    with pytest.raises(ContractRevert) as info:
        hostile_order(fin, hostile, deal, [bag])
    assert info.value.error == "SafeERC20FailedOperation"
    assert hostile.balance_of(fin.address) == 0


def test_a_token_that_reenters_on_transfer_pays_once(
    fin: TradeFinance, hostile: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    part = settled_part(fin, hostile, pp, orgs, deal, "REENT")
    payload = fin.contract.functions.claim(part)._encode_transaction_data()
    fin.chain.transact(hostile.contract.functions.setReentry(fin.address, payload), deal.governor)
    set_mode(hostile, 3, deal.governor)

    fin.claim(part, sender=deal.stranger)

    functions = hostile.contract.functions
    assert functions.reentered().call() and not functions.reentrySucceeded().call()
    assert bytes(functions.reentryAnswer().call())[:4] == keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert hostile.balance_of(deal.seller) == PRICE
    assert hostile.balance_of(fin.address) == 0


def test_a_paused_or_blocklisting_token_loses_nothing(
    fin: TradeFinance, hostile: Stablecoin, pp: ProductPassports, orgs: Orgs, deal: Deal
) -> None:
    part = settled_part(fin, hostile, pp, orgs, deal, "PAUSE")
    set_mode(hostile, 4, deal.governor)
    with pytest.raises(ChainpassError, match="refused"):  # the token's own error, which chainpass cannot name
        fin.claim(part, sender=deal.seller)
    assert fin.part(part).claimable == PRICE  # nothing was lost
    set_mode(hostile, 0, deal.governor)
    fin.chain.transact(hostile.contract.functions.setBlocked(deal.seller, True), deal.governor)
    with pytest.raises(ChainpassError, match="refused"):
        fin.claim(part, sender=deal.seller)
    fin.transfer(part, deal.supplier, sender=deal.seller)  # the seller passes the part on; its new holder is paid
    fin.claim(part, sender=deal.stranger)
    assert hostile.balance_of(deal.supplier) == PRICE
    assert hostile.balance_of(fin.address) == 0
