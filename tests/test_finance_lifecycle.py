"""Stateful property test of trade finance (issue 17) against a Python model.

Hypothesis drives random sequences of orders, shipments, deliveries, customs holds,
inspections that quarantine goods in the buyer's custody, recalls, deadlines passing (and the
grace after them), settlements, refunds, invoices (some registered twice), financing by the
bank, splits, hand-overs of parts, the supplier's key rotating to a new wallet (its parts
follow it, by a claim or by anyone's call) and claims. The model predicts each step's success or its
custom error, and after every step the chain must agree with it and these must hold:

- tokens are conserved: the contract holds exactly what the orders still escrow plus what
  their receivables collected and have not paid out yet;
- each order pays out exactly once in total: what its lines collected plus what they
  refunded plus what is still escrowed is its face, the buyer got back exactly the refunds,
  and the parts were paid no more than was collected;
- the parts of each receivable tile its face exactly;
- no invoice commitment backs two receivables;
- nothing is ever paid to a wallet an identity left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import pytest
from accounts import World, fund, new_account
from finance_world import DAY, Deal, deliver, dollar, finance_client, goods, hold_at_customs, set_up_deal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from passport_world import Orgs, event, recall, ship
from web3.logs import DISCARD

from chainpass.chain import Sender, sender_address
from chainpass.enums import BizStep, Disposition
from chainpass.errors import ContractRevert
from chainpass.finance import QUARANTINE_GRACE, Stablecoin, TradeFinance, invoice_commitment
from chainpass.passport import ProductPassports

T = TypeVar("T")
PRICES = st.sampled_from([1_000_000, 2_500_000, 7_000_000])
POOL = 6
#: Examples per backend: the embedded EVM interprets every read the invariant makes.
EXAMPLES = {"embedded": 1, "anvil": 8}


@dataclass
class OrderModel:
    id: int
    lines: dict[int, int]  # passport -> price
    deadline: int
    state: dict[int, str] = field(default_factory=dict)  # passport -> open / settled / refunded
    refunded: int = 0
    collected: int = 0


@dataclass
class PartModel:
    receivable: int
    holder: str
    offset: int
    amount: int
    claimed: int = 0


@dataclass
class Lifecycle:
    world: World
    pp: ProductPassports
    orgs: Orgs
    deal: Deal
    fin: TradeFinance
    coin: Stablecoin
    pool: list[int]


class FinanceLifecycle(RuleBasedStateMachine):
    def __init__(self, life: Lifecycle) -> None:
        super().__init__()
        self.life, self.fin, self.coin, self.deal = life, life.fin, life.coin, life.deal
        self.chain = life.world.chain
        self.snapshot = self.chain.snapshot()
        #: Where each pooled passport's goods are: seller, transit, buyer, held (at customs),
        #: inspected (quarantined in the buyer's custody), recalled.
        self.goods = dict.fromkeys(life.pool, "seller")
        self.orders: dict[int, OrderModel] = {}
        self.open_line: dict[int, int] = {}  # passport -> the order whose line is unfinished
        self.collected: dict[int, int] = {}  # receivable -> collected
        self.faces: dict[int, int] = {}
        self.parts: dict[int, PartModel] = {}
        self.commitments: dict[bytes, int] = {}
        self.invoices_paid: set[int] = set()
        self.refunds_to_buyer = 0
        self.paid_in = 0  # what invoices' payers paid in
        self.buyer_start = self.coin.balance_of(self.deal.buyer)
        #: The supplier's wallet now (its key may rotate once), and the one it left with its balance then.
        self.supplier: Sender = self.deal.supplier
        self.left: tuple[str, int] | None = None

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    # ------------------------------------------------------------------ helpers

    def expect(self, error: str | None, call: Callable[[], T]) -> T | None:
        """``call``'s result when the model predicts success (``error`` None), else None once
        the contract refused it with ``error``."""
        if error is None:
            return call()
        with pytest.raises(ContractRevert) as info:
            call()
        assert info.value.error == error, str(info.value)
        return None

    def issue(self, receivable: int, holder: str, offset: int, amount: int, part: int) -> None:
        self.parts[part] = PartModel(receivable, holder, offset, amount)

    def moved(self, holder: str) -> bool:
        return self.left is not None and holder == self.left[0]

    def claimable(self, part: PartModel) -> int:
        filled = min(max(self.collected[part.receivable] - part.offset, 0), part.amount)
        return filled - part.claimed

    # ------------------------------------------------------------------- goods

    @rule(index=st.integers(0, POOL - 1))
    def ship(self, index: int) -> None:
        id_ = self.life.pool[index]
        if self.goods[id_] == "seller":
            ship(self.life.pp, self.life.orgs, id_)
            self.goods[id_] = "transit"

    @rule(index=st.integers(0, POOL - 1))
    def deliver(self, index: int) -> None:
        id_ = self.life.pool[index]
        if self.goods[id_] == "seller":
            deliver(self.life.pp, self.life.orgs, self.deal, id_)
            self.goods[id_] = "buyer"

    @rule(index=st.integers(0, POOL - 1))
    def hold(self, index: int) -> None:
        id_ = self.life.pool[index]
        if self.goods[id_] == "seller":
            hold_at_customs(self.life.pp, self.life.orgs, id_)
            self.goods[id_] = "held"

    @rule(index=st.integers(0, POOL - 1))
    def inspect(self, index: int) -> None:
        id_ = self.life.pool[index]
        if self.goods[id_] == "buyer":
            event_ = event(id_, BizStep.INSPECTING, Disposition.NON_CONFORMANT)
            self.life.pp.record([event_], sender=self.life.orgs.inspector)
            self.goods[id_] = "inspected"

    @rule(index=st.integers(0, POOL - 1))
    def recall(self, index: int) -> None:
        id_ = self.life.pool[index]
        if self.goods[id_] != "recalled":
            recall(self.life.pp, self.life.orgs, id_)
            self.goods[id_] = "recalled"

    @rule(days=st.integers(1, 20))
    def time_passes(self, days: int) -> None:
        self.chain.advance_time(days * DAY)

    # ------------------------------------------------------------------ orders

    @rule(picks=st.sets(st.integers(0, POOL - 1), min_size=1, max_size=3), price=PRICES, days=st.integers(1, 15))
    def open_order(self, picks: set[int], price: int, days: int) -> None:
        ids = [self.life.pool[i] for i in picks]
        deadline = self.chain.latest_timestamp() + days * DAY
        error: str | None = None
        for i in sorted(ids):  # the contract checks each passport in turn: fit first, then free
            if self.goods[i] in ("held", "inspected", "recalled"):
                error = "FinancePassportUnfit"
            elif self.goods[i] == "buyer":
                error = "FinanceAlreadyReceived"
            elif i in self.open_line:
                error = "FinancePassportTaken"
            if error:
                break
        self.coin.approve(self.fin.address, price * len(ids), sender=self.deal.buyer)
        terms = (self.deal.seller, self.coin.address, deadline, "0x" + "00" * 20, 0)
        ordered = sorted(ids)
        receipt = self.expect(
            error, lambda: self.fin.send("openOrder", self.deal.buyer, terms, ordered, [price] * len(ordered))
        )
        if receipt is None:
            return
        (opened,) = self.fin.contract.events.OrderOpened().process_receipt(receipt, errors=DISCARD)
        order = int(opened["args"]["order"])
        (issued,) = self.fin.contract.events.PartIssued().process_receipt(receipt, errors=DISCARD)
        self.orders[order] = OrderModel(order, dict.fromkeys(ordered, price), deadline, dict.fromkeys(ordered, "open"))
        self.collected[order] = 0
        self.faces[order] = price * len(ordered)
        self.issue(order, self.deal.seller, 0, self.faces[order], int(issued["args"]["part"]))
        for i in ordered:
            self.open_line[i] = order

    def pick_line(self, data: st.DataObject) -> tuple[OrderModel, int] | None:
        if not self.orders:
            return None
        order = self.orders[data.draw(st.sampled_from(sorted(self.orders)))]
        return order, data.draw(st.sampled_from(sorted(order.lines)))

    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        picked = self.pick_line(data)
        if picked is None:
            return
        order, id_ = picked
        # Quarantined in the buyer's custody, the goods count as delivered once the grace has passed.
        graced = order.deadline + QUARANTINE_GRACE
        if order.state[id_] != "open":
            error: str | None = "FinanceLineNotOpen"
        elif self.goods[id_] == "inspected":
            if abs(graced - self.chain.latest_timestamp()) < 30:
                return  # too near the end of the grace to predict the next block's time
            error = None if self.chain.latest_timestamp() + 1 > graced else "FinanceNotReceived"
        elif self.goods[id_] != "buyer":
            error = "FinanceNotReceived"
        else:
            error = None
        if self.expect(error, lambda: self.fin.settle(order.id, [id_], sender=self.deal.stranger)) is None:
            return
        order.state[id_] = "settled"
        self.collected[order.id] += order.lines[id_]
        del self.open_line[id_]

    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        picked = self.pick_line(data)
        if picked is None:
            return
        order, id_ = picked
        where = self.goods[id_]
        overdue = self.chain.latest_timestamp() + 1 > order.deadline  # the next block's time is later
        if order.state[id_] != "open":
            error: str | None = "FinanceLineNotOpen"
        elif where in ("recalled", "held") or (overdue and where not in ("buyer", "inspected")):
            error = None
        else:
            error = "FinanceNotRefundable"
        near = order.deadline - self.chain.latest_timestamp() < 30
        if error == "FinanceNotRefundable" and where not in ("buyer", "inspected") and near:
            return  # too near the deadline to predict the next block's time
        if self.expect(error, lambda: self.fin.refund(order.id, [id_], sender=self.deal.stranger)) is None:
            return
        order.state[id_] = "refunded"
        order.refunded += order.lines[id_]
        self.refunds_to_buyer += order.lines[id_]
        del self.open_line[id_]

    # ------------------------------------------------------------- receivables

    @rule(number=st.sampled_from(["INV-1", "INV-2", "INV-3"]), price=PRICES)
    def register_invoice(self, number: str, price: int) -> None:
        salt = bytes(32)  # one salt: the same invoice gives the same commitment
        commitment = invoice_commitment(self.deal.seller, self.deal.buyer, number, price, salt)
        now = self.chain.latest_timestamp()
        typed = self.fin.invoice_acceptance(
            commitment, self.deal.seller, self.deal.buyer, self.coin.address, price, now + 30 * DAY, now + DAY
        )
        accepted = self.fin.sign(self.deal.buyer, typed)
        error = "FinanceInvoiceTaken" if commitment in self.commitments else None
        result = self.expect(error, lambda: self.fin.register_invoice(accepted, sender=self.deal.seller))
        if result is None:
            return
        receivable, receipt = result
        (issued,) = self.fin.contract.events.PartIssued().process_receipt(receipt, errors=DISCARD)
        self.commitments[commitment] = receivable
        self.collected[receivable] = 0
        self.faces[receivable] = price
        self.issue(receivable, self.deal.seller, 0, price, int(issued["args"]["part"]))

    @rule(data=st.data())
    def pay_invoice(self, data: st.DataObject) -> None:
        unpaid = sorted(set(self.commitments.values()) - self.invoices_paid)
        if not unpaid:
            return
        receivable = data.draw(st.sampled_from(unpaid))
        self.fin.pay_invoice(receivable, sender=self.deal.buyer)
        self.invoices_paid.add(receivable)
        self.collected[receivable] = self.faces[receivable]
        self.paid_in += self.faces[receivable]

    def pick_part(self, data: st.DataObject) -> int | None:
        return data.draw(st.sampled_from(sorted(self.parts))) if self.parts else None

    @rule(data=st.data(), discount=st.integers(80, 99))
    def finance(self, data: st.DataObject, discount: int) -> None:
        part = self.pick_part(data)
        if part is None or self.parts[part].holder == self.deal.bank.address:
            return
        model = self.parts[part]
        signer = self.supplier if model.holder == sender_address(self.supplier) else model.holder
        price = max((model.amount - model.claimed) * discount // 100, 1)
        offer = self.fin.sign(
            signer, self.fin.financing_offer(part, self.deal.bank.address, price, self.chain.latest_timestamp() + DAY)
        )
        error = "FinanceHolderMoved" if self.moved(model.holder) else None
        if self.expect(error, lambda: self.fin.finance(offer, sender=self.deal.bank)) is not None:
            model.holder = self.deal.bank.address

    @rule(data=st.data())
    def split(self, data: st.DataObject) -> None:
        part = self.pick_part(data)
        if part is None:
            return
        model = self.parts[part]
        remaining = model.amount - model.claimed
        if model.holder == self.deal.bank.address or remaining < 2:
            return
        first = remaining // 3 or 1
        signer = self.supplier if model.holder == sender_address(self.supplier) else model.holder
        error = "FinanceNotVerified" if self.moved(model.holder) else None  # the old key acts for nobody
        result = self.expect(error, lambda: self.fin.split(part, [first, remaining - first], sender=signer))
        if result is None:
            return
        (new,), _ = result
        model.amount = model.claimed + first
        self.issue(model.receivable, model.holder, model.offset + model.amount, remaining - first, new)

    @rule(data=st.data())
    def pass_on(self, data: st.DataObject) -> None:
        part = self.pick_part(data)
        if part is None or self.parts[part].holder != self.deal.seller:
            return
        self.fin.transfer(part, sender_address(self.supplier), sender=self.deal.seller)
        self.parts[part].holder = sender_address(self.supplier)

    @rule()
    def supplier_key_rotates(self) -> None:
        if self.left is not None:
            return
        old, new = self.deal.supplier, new_account()
        fund(self.chain, new.address)
        self.life.world.registry.rotate(new.address, sender=old)
        self.supplier, self.left = new, (old, self.coin.balance_of(old))

    @rule(data=st.data())
    def follow(self, data: st.DataObject) -> None:
        part = self.pick_part(data)
        if part is None:
            return
        model = self.parts[part]
        error = None if self.moved(model.holder) else "FinanceHolderNotMoved"
        if self.expect(error, lambda: self.fin.follow(part, sender=self.deal.stranger)) is not None:
            model.holder = sender_address(self.supplier)

    @rule(data=st.data())
    def claim(self, data: st.DataObject) -> None:
        part = self.pick_part(data)
        if part is None:
            return
        model = self.parts[part]
        due = self.claimable(model)
        error = None if due else "FinanceNothingToClaim"
        result = self.expect(error, lambda: self.fin.claim(part, sender=self.deal.stranger))
        if result is None:
            return
        paid, _receipt = result
        assert paid == due
        model.claimed += due
        if self.moved(model.holder):  # the part followed the identity first
            model.holder = sender_address(self.supplier)

    # -------------------------------------------------------------- invariants

    @invariant()
    def tokens_are_conserved(self) -> None:
        escrow = sum(o.lines[i] for o in self.orders.values() for i in o.lines if o.state[i] == "open")
        unpaid = sum(self.collected.values()) - sum(p.claimed for p in self.parts.values())
        assert self.coin.balance_of(self.fin.address) == escrow + unpaid

    @invariant()
    def each_order_pays_out_once(self) -> None:
        for order in self.orders.values():
            r = self.fin.contract.functions.receivableOf(order.id).call()
            face, collected, voided = r[3], r[4], r[5]
            escrow = sum(order.lines[i] for i in order.lines if order.state[i] == "open")
            assert (collected, voided) == (self.collected[order.id], order.refunded)
            assert collected + voided + escrow == face == self.faces[order.id]
            paid = sum(p.claimed for p in self.parts.values() if p.receivable == order.id)
            assert paid <= collected
        spent = sum(self.faces[o] for o in self.orders) + self.paid_in
        assert self.coin.balance_of(self.deal.buyer) == self.buyer_start - spent + self.refunds_to_buyer

    @invariant()
    def parts_tile_their_receivable(self) -> None:
        for receivable, face in self.faces.items():
            tranches = sorted((p.offset, p.amount) for p in self.parts.values() if p.receivable == receivable)
            edge = 0
            for offset, amount in tranches:
                assert offset == edge
                edge += amount
            assert edge == face
        for part, model in self.parts.items():
            holder, receivable, offset, amount, claimed = self.fin.contract.functions.partOf(part).call()
            assert (sender_address(holder), receivable, offset, amount, claimed) == (
                sender_address(model.holder),
                model.receivable,
                model.offset,
                model.amount,
                model.claimed,
            )

    @invariant()
    def nothing_reaches_a_wallet_an_identity_left(self) -> None:
        if self.left is not None:
            assert self.coin.balance_of(self.left[0]) == self.left[1]

    @invariant()
    def no_invoice_backs_two_receivables(self) -> None:
        for commitment, receivable in self.commitments.items():
            assert self.fin.contract.functions.invoiceReceivable(commitment).call() == receivable
        assert len(set(self.commitments.values())) == len(self.commitments)


@pytest.fixture(scope="module")
def deal_setup(orgs_setup: Orgs, world_session: World) -> Deal:
    return set_up_deal(world_session, orgs_setup)


def test_trade_finance_follows_its_model(
    world: World, pp: ProductPassports, orgs: Orgs, deal_setup: Deal, backend: str
) -> None:
    life = Lifecycle(world, pp, orgs, deal_setup, finance_client(world), dollar(world), goods(pp, orgs, POOL, "SM"))
    life.coin.approve(life.fin.address, 10**12, sender=deal_setup.buyer)  # invoices are paid from this allowance
    run_state_machine_as_test(
        lambda: FinanceLifecycle(life),  # type: ignore[arg-type,return-value]
        settings=settings(
            max_examples=EXAMPLES.get(backend, 2),
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
