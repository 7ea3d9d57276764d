"""Client for the `TradeFinance` contract: orders paid on delivery, invoices and receivables.

An order escrows its price in an ERC-20 and pays each line when its passport shows the
goods received in the buyer's custody; a recall, a quarantine on the way, a missed deadline
or the buyer's cancellation before the seller accepted refunds it. The seller's right to the
payment is a receivable, split into ERC-721 parts a bank can finance by the holder's signed
offer. An invoice the buyer accepted by signature is a receivable too, registered by a
salted commitment: the invoice itself never reaches the chain. docs/finance.md explains it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address
from web3.exceptions import BadFunctionCallOutput, ContractLogicError
from web3.logs import DISCARD
from web3.types import TxReceipt

from chainpass.artifacts import load_artifact
from chainpass.chain import ZERO_ADDRESS, Chain, Sender, parse_address, sender_address
from chainpass.contract_client import ContractClient
from chainpass.enums import LineState, ReceivableKind
from chainpass.errors import ChainIdMismatch, InvalidInput
from chainpass.records import PASSPORT_ID, JsonRecord, timestamp
from chainpass.signatures import DOMAIN_FIELDS, DOMAIN_VERSION

CONTRACT_NAME = "TradeFinance"
DOMAIN_NAME = "chainpass TradeFinance"
#: The most lines an order takes, and tranches a split makes (the contract's MAX_LINES, MAX_SPLIT).
MAX_LINES = 100
MAX_SPLIT = 16
#: The longest dispute window (the contract's MAX_WINDOW): 30 days.
MAX_WINDOW = 30 * 24 * 3600
#: How long after the delivery deadline goods quarantined in the buyer's custody count as
#: delivered (the contract's QUARANTINE_GRACE): 30 days.
QUARANTINE_GRACE = 30 * 24 * 3600
_UINT128 = 2**128

INVOICE_TYPE = [
    {"name": "commitment", "type": "bytes32"},
    {"name": "seller", "type": "address"},
    {"name": "buyer", "type": "address"},
    {"name": "token", "type": "address"},
    {"name": "amount", "type": "uint128"},
    {"name": "dueDate", "type": "uint40"},
    {"name": "deadline", "type": "uint40"},
]
FINANCING_TYPE = [
    {"name": "part", "type": "uint256"},
    {"name": "bank", "type": "address"},
    {"name": "price", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]
SUCCESSION_TYPE = [
    {"name": "order", "type": "uint256"},
    {"name": "arbiter", "type": "address"},
    {"name": "successor", "type": "address"},
    {"name": "deadline", "type": "uint256"},
]
PERMIT_TYPE = [
    {"name": "owner", "type": "address"},
    {"name": "spender", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"},
]


def amount(value: int, what: str = "amount") -> int:
    """``value`` checked as a token amount the contract takes: above zero, below 2**128."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < _UINT128:
        raise InvalidInput(f"The {what} must be a whole number of the token's units above zero, not {value!r}.")
    return value


def invoice_commitment(seller: str, buyer: str, number: str, value: int, salt: bytes) -> bytes:
    """keccak256(abi.encode(seller, buyer, number, amount, salt)): the only trace of an invoice on
    chain. The salt (32 random bytes, kept with the invoice) keeps its number from being guessed."""
    if not number.strip():
        raise InvalidInput("An invoice needs its number (as printed on it).")
    if len(salt) != 32:
        raise InvalidInput("An invoice's salt is 32 bytes (64 hex digits).")
    encoded = abi_encode(
        ["address", "address", "string", "uint256", "bytes32"],
        [parse_address(seller, "seller"), parse_address(buyer, "buyer"), number.strip(), amount(value), salt],
    )
    return keccak(encoded)


def new_salt() -> bytes:
    """32 random bytes for an invoice's commitment."""
    return secrets.token_bytes(32)


def _typed(
    primary: str, fields: list[dict[str, str]], domain: dict[str, Any], message: dict[str, Any]
) -> dict[str, Any]:
    return {
        "types": {"EIP712Domain": DOMAIN_FIELDS, primary: fields},
        "primaryType": primary,
        "domain": domain,
        "message": message,
    }


@dataclass(frozen=True)
class SignedMessage:
    """EIP-712 typed data (``eth_signTypedData_v4`` JSON) and its signature: an invoice the
    buyer accepted, or a holder's financing offer, ready for the other party to submit."""

    typed_data: dict[str, Any]
    signature: bytes

    @property
    def message(self) -> dict[str, Any]:
        data: dict[str, Any] = self.typed_data["message"]
        return data

    def signer(self) -> ChecksumAddress:
        """Who signed it (ECDSA recovery; a contract wallet's signature recovers to no one useful)."""
        recovered = Account.recover_message(encode_typed_data(full_message=self.typed_data), signature=self.signature)
        return to_checksum_address(recovered)

    def to_json(self) -> dict[str, Any]:
        return {"typedData": self.typed_data, "signature": "0x" + self.signature.hex()}

    @classmethod
    def loads(cls, text: str, primary: str) -> SignedMessage:
        """A signed ``primary`` message from its JSON (``to_json``), or InvalidInput saying what is wrong."""
        try:
            data = json.loads(text)
            typed, signature = data["typedData"], bytes.fromhex(str(data["signature"]).removeprefix("0x"))
            if typed["primaryType"] != primary:
                raise InvalidInput(f"The file holds a signed {typed['primaryType']}, not a {primary}.")
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput(f"A signed {primary} is JSON with 'typedData' and 'signature': {exc}.") from None
        return cls(typed, signature)


@dataclass(frozen=True)
class Line(JsonRecord):
    """One line of an order, as the chain holds it now."""

    passport: int = field(metadata=PASSPORT_ID)
    price: int
    state: LineState
    delivered_at: int = field(metadata=timestamp("delivered"))


@dataclass(frozen=True)
class Part(JsonRecord):
    """A part of a receivable: an ERC-721 token, the tranche [offset, offset + amount) of its face."""

    part: int
    receivable: int
    holder: ChecksumAddress
    offset: int
    amount: int
    claimed: int
    claimable: int


@dataclass(frozen=True)
class Receivable(JsonRecord):
    """What a seller is owed (an order's payment or an invoice), what was collected, and its parts."""

    receivable: int
    kind: ReceivableKind
    token: ChecksumAddress
    face: int
    collected: int
    voided: int
    due_date: int = field(metadata=timestamp("due"))
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True)
class OrderStatus(JsonRecord):
    """An order, its lines and its receivable."""

    order: int
    buyer: ChecksumAddress
    seller: ChecksumAddress
    arbiter: ChecksumAddress | None
    accepted: bool
    deadline: int = field(metadata=timestamp("deadline_iso"))
    dispute_window: int = 0
    pending: int = 0
    escrowed: int = 0
    lines: tuple[Line, ...] = ()
    receivable: Receivable | None = None


class Stablecoin:
    """An ERC-20 the orders are priced in (the dev dollar on a development chain)."""

    def __init__(self, chain: Chain, address: str) -> None:
        self.chain = chain
        self.address = parse_address(address, "token")
        self.contract = chain.contract(load_artifact("DevStablecoin"), self.address)

    def balance_of(self, account: str) -> int:
        return int(self.contract.functions.balanceOf(parse_address(account)).call())

    def allowance(self, owner: str, spender: str) -> int:
        return int(self.contract.functions.allowance(parse_address(owner), parse_address(spender)).call())

    def approve(self, spender: str, value: int, *, sender: Sender) -> TxReceipt:
        return self.chain.transact(self.contract.functions.approve(parse_address(spender), value), sender)

    def mint(self, to: str, value: int, *, sender: Sender) -> TxReceipt:
        """The dev dollar's minter (its deployer) mints ``value`` to ``to``."""
        return self.chain.transact(self.contract.functions.mint(parse_address(to), amount(value)), sender)

    def takes_permits(self) -> bool:
        """Whether the token states its EIP-712 domain (ERC-5267), so that a permit can be signed for it."""
        try:
            self.contract.functions.eip712Domain().call()
        except (ContractLogicError, BadFunctionCallOutput, ValueError):
            return False
        return True

    def permit(self, owner: Sender, spender: str, value: int, deadline: int) -> tuple[int, bytes, bytes]:
        """``owner``'s ERC-2612 permit for ``spender`` to take ``value`` (v, r, s), signed where its key is."""
        _fields, name, version, chain_id, contract, _salt, _ext = self.contract.functions.eip712Domain().call()
        domain = {"name": name, "version": version, "chainId": int(chain_id), "verifyingContract": contract}
        holder = sender_address(owner)
        nonce = int(self.contract.functions.nonces(holder).call())
        message = {
            "owner": holder,
            "spender": parse_address(spender),
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        }
        signature = self.chain.sign_typed_data(owner, _typed("Permit", PERMIT_TYPE, domain, message))
        return signature[64], signature[:32], signature[32:64]


class TradeFinance(ContractClient):
    """The deployed `TradeFinance` contract."""

    CONTRACT_NAME = CONTRACT_NAME
    DOMAIN_NAME = DOMAIN_NAME

    def _domain(self) -> dict[str, Any]:
        chain_id, contract = self.signing_domain
        return {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": contract}

    def _check_domain(self, signed: SignedMessage) -> None:
        if signed.typed_data.get("domain") != self._domain():
            raise ChainIdMismatch(
                "The signed message is for another chain or contract than this trade-finance contract: ask for one "
                f"signed for {self.address} on chain {self.chain.chain_id}."
            )

    # ---------------------------------------------------------------- orders

    def open_order(
        self,
        seller: str,
        token: str,
        lines: Sequence[tuple[int, int]],
        deadline: int,
        *,
        sender: Sender,
        arbiter: str | None = None,
        dispute_window: int = 0,
        permit: bool = True,
    ) -> tuple[int, TxReceipt]:
        """The buyer ``sender`` opens an order with ``seller`` for ``lines`` (passport, price),
        escrowing their sum of ``token``: by an ERC-2612 permit signed here when ``permit`` and the
        buyer's key is at hand, else by an approval first. Returns the order's id and receipt."""
        if not 0 < len(lines) <= MAX_LINES:
            raise InvalidInput(f"An order takes 1 to {MAX_LINES} passports, not {len(lines)}.")
        ordered = sorted((int(p), amount(v, "price")) for p, v in lines)
        seen = [p for i, (p, _v) in enumerate(ordered) if i and ordered[i - 1][0] == p]
        if seen:
            raise InvalidInput(f"Passport {seen[0]:#x} is listed twice: list each passport once.")
        if arbiter is None and dispute_window:
            raise InvalidInput("A dispute window needs an arbiter both parties accept: name one, or give no window.")
        if arbiter is not None and not 0 < dispute_window <= MAX_WINDOW:
            raise InvalidInput(f"With an arbiter, give a dispute window of 1 s to {MAX_WINDOW} s (30 days).")
        terms = (
            parse_address(seller, "seller"),
            parse_address(token, "token"),
            deadline,
            ZERO_ADDRESS if arbiter is None else parse_address(arbiter, "arbiter"),
            dispute_window,
        )
        ids, prices = [p for p, _v in ordered], [v for _p, v in ordered]
        total = sum(prices)
        coin = Stablecoin(self.chain, token)
        buyer = sender_address(sender)
        if (
            permit
            and self.chain.local_key(sender) is not None
            and coin.allowance(buyer, self.address) < total
            and coin.takes_permits()
        ):
            v, r, s = coin.permit(sender, self.address, total, deadline)
            receipt = self.send("openOrderWithPermit", sender, terms, ids, prices, deadline, v, r, s)
        else:
            if coin.allowance(buyer, self.address) < total:
                coin.approve(self.address, total, sender=sender)
            receipt = self.send("openOrder", sender, terms, ids, prices)
        (opened,) = self.contract.events.OrderOpened().process_receipt(receipt, errors=DISCARD)
        return int(opened["args"]["order"]), receipt

    def accept(self, order: int, *, sender: Sender) -> TxReceipt:
        """The seller accepts the order's arbiter; its lines may settle from now on."""
        return self.send("acceptOrder", sender, order)

    def settle(self, order: int, passports: Sequence[int], *, sender: Sender) -> TxReceipt:
        """Pays the lines of ``passports`` whose goods the buyer holds (anyone may send it)."""
        return self.send("settle", sender, order, _ids(passports))

    def refund(self, order: int, passports: Sequence[int], *, sender: Sender) -> TxReceipt:
        """Refunds the lines of ``passports`` that may be refunded (anyone may send it)."""
        return self.send("refund", sender, order, _ids(passports))

    def dispute(self, order: int, passports: Sequence[int], *, sender: Sender) -> TxReceipt:
        """The buyer disputes delivered lines within their window."""
        return self.send("dispute", sender, order, _ids(passports))

    def resolve(self, order: int, passport: int, pay_seller: bool, *, sender: Sender) -> TxReceipt:
        """The arbiter decides a disputed line."""
        return self.send("resolve", sender, order, passport, pay_seller)

    def arbiter_succession(self, order: int, successor: str, deadline: int) -> dict[str, Any]:
        """The EIP-712 message by which one party of ``order`` agrees to ``successor`` as its arbiter
        in place of the one named now; the other party submits it (`replace_arbiter`)."""
        status = self.order(order)
        if status.arbiter is None:
            raise InvalidInput(f"Order {order} has no arbiter to replace.")
        message = {
            "order": order,
            "arbiter": status.arbiter,
            "successor": parse_address(successor, "successor"),
            "deadline": deadline,
        }
        return _typed("ArbiterSuccession", SUCCESSION_TYPE, self._domain(), message)

    def replace_arbiter(self, agreed: SignedMessage, *, sender: Sender) -> TxReceipt:
        """The other party of the order, ``sender``, submits the signed succession: the successor
        arbitrates the order from now on."""
        self._check_domain(agreed)
        m = agreed.message
        return self.send(
            "replaceArbiter",
            sender,
            int(m["order"]),
            parse_address(m["successor"], "successor"),
            int(m["deadline"]),
            agreed.signature,
        )

    def order(self, order: int) -> OrderStatus:
        """Order ``order`` now: its terms, each line (from its OrderOpened log and the chain) and its receivable."""
        buyer, deadline, pending, accepted, seller, window, arbiter = self.contract.functions.orderOf(order).call()
        if int(buyer, 16) == 0:
            raise InvalidInput(f"There is no order {order} on this contract.")
        topic = "0x" + order.to_bytes(32, "big").hex()
        logs = self.logs([self.topic("OrderOpened"), topic])
        lines: list[Line] = []
        receivable = self.receivable(order)
        for log in logs[:1]:
            args = self.contract.events.OrderOpened().process_log(log)["args"]
            for passport, price in zip(args["passports"], args["prices"], strict=True):
                line_order, _price, state, delivered, _depth, _inside = self.contract.functions.lineOf(passport).call()
                if line_order != order:  # the passport's slot belongs to a later order: this line finished
                    state, delivered = _finished_state(self, order, passport), 0
                lines.append(Line(int(passport), int(price), LineState(state), int(delivered)))
        escrowed = receivable.face - receivable.collected - receivable.voided
        return OrderStatus(
            order=order,
            buyer=to_checksum_address(buyer),
            seller=to_checksum_address(seller),
            arbiter=None if int(arbiter, 16) == 0 else to_checksum_address(arbiter),
            accepted=bool(accepted),
            deadline=int(deadline),
            dispute_window=int(window),
            pending=int(pending),
            escrowed=escrowed,
            lines=tuple(lines),
            receivable=receivable,
        )

    # ---------------------------------------------------------- invoices

    def invoice_acceptance(
        self, commitment: bytes, seller: str, buyer: str, token: str, value: int, due_date: int, deadline: int
    ) -> dict[str, Any]:
        """The EIP-712 message by which ``buyer`` accepts the invoice behind ``commitment``."""
        message = {
            "commitment": "0x" + bytes(commitment).hex(),
            "seller": parse_address(seller, "seller"),
            "buyer": parse_address(buyer, "buyer"),
            "token": parse_address(token, "token"),
            "amount": amount(value),
            "dueDate": due_date,
            "deadline": deadline,
        }
        return _typed("InvoiceAcceptance", INVOICE_TYPE, self._domain(), message)

    def sign(self, signer: Sender, typed_data: dict[str, Any]) -> SignedMessage:
        """``typed_data`` signed by ``signer`` where its key is."""
        return SignedMessage(typed_data, self.chain.sign_typed_data(signer, typed_data))

    def register_invoice(self, accepted: SignedMessage, *, sender: Sender) -> tuple[int, TxReceipt]:
        """The seller ``sender`` registers the invoice its buyer accepted: returns the receivable's id."""
        self._check_domain(accepted)
        m = accepted.message
        if parse_address(m["seller"], "seller") != sender_address(sender):
            raise InvalidInput(f"The invoice was accepted for seller {m['seller']}: register it from that account.")
        terms = (
            bytes.fromhex(str(m["commitment"]).removeprefix("0x")),
            parse_address(m["buyer"], "buyer"),
            parse_address(m["token"], "token"),
            int(m["amount"]),
            int(m["dueDate"]),
            int(m["deadline"]),
        )
        receipt = self.send("registerInvoice", sender, terms, accepted.signature)
        (registered,) = self.contract.events.InvoiceRegistered().process_receipt(receipt, errors=DISCARD)
        return int(registered["args"]["receivable"]), receipt

    def pay_invoice(self, receivable: int, *, sender: Sender) -> TxReceipt:
        """Pays invoice ``receivable`` in full from ``sender`` (approving the contract first if need be)."""
        record = self.receivable(receivable)
        coin = Stablecoin(self.chain, record.token)
        if coin.allowance(sender_address(sender), self.address) < record.face:
            coin.approve(self.address, record.face, sender=sender)
        return self.send("payInvoice", sender, receivable)

    # ---------------------------------------------------- receivables

    def financing_offer(self, part: int, bank: str, price: int, deadline: int) -> dict[str, Any]:
        """The EIP-712 offer by which the holder of ``part`` sells it to ``bank`` for ``price``."""
        holder = self.part(part).holder
        message = {
            "part": part,
            "bank": parse_address(bank, "bank"),
            "price": amount(price, "price"),
            "nonce": int(self.contract.functions.nonceOf(holder).call()),
            "deadline": deadline,
        }
        return _typed("FinancingOffer", FINANCING_TYPE, self._domain(), message)

    def finance(self, offer: SignedMessage, *, sender: Sender) -> TxReceipt:
        """The bank ``sender`` takes the holder's signed ``offer``: pays the holder, receives the part
        (approving the contract to take the price first if need be)."""
        self._check_domain(offer)
        m = offer.message
        if parse_address(m["bank"], "bank") != sender_address(sender):
            raise InvalidInput(f"The offer is made out to bank {m['bank']}: only that account can take it.")
        part, price = int(m["part"]), int(m["price"])
        coin = Stablecoin(self.chain, self.receivable(self.part(part).receivable).token)
        if coin.allowance(sender_address(sender), self.address) < price:
            coin.approve(self.address, price, sender=sender)
        return self.send("finance", sender, part, price, int(m["deadline"]), offer.signature)

    def cancel_offers(self, *, sender: Sender) -> TxReceipt:
        """Voids ``sender``'s outstanding financing offers."""
        return self.send("cancelFinancingOffers", sender)

    def split(self, part: int, amounts: Sequence[int], *, sender: Sender) -> tuple[list[int], TxReceipt]:
        """The holder splits ``part`` into tranches of ``amounts`` (bottom first); returns the new parts."""
        if not 2 <= len(amounts) <= MAX_SPLIT:
            raise InvalidInput(f"A split takes 2 to {MAX_SPLIT} amounts, not {len(amounts)}.")
        values = [amount(a, "part") for a in amounts]
        receipt = self.send("split", sender, part, values)
        (event,) = self.contract.events.PartSplit().process_receipt(receipt, errors=DISCARD)
        return [int(p) for p in event["args"]["parts"]], receipt

    def transfer(self, part: int, to: str, *, sender: Sender) -> TxReceipt:
        """The holder passes ``part`` on to ``to`` (a verified organisation or a bank)."""
        return self.send("safeTransferFrom", sender, sender_address(sender), parse_address(to, "receiver"), part)

    def claim(self, part: int, *, sender: Sender) -> tuple[int, TxReceipt]:
        """Pays ``part``'s holder what it can claim (anyone may send it); returns the amount."""
        receipt = self.send("claim", sender, part)
        (event,) = self.contract.events.PartClaimed().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["amount"]), receipt

    def follow(self, part: int, *, sender: Sender) -> tuple[ChecksumAddress, TxReceipt]:
        """Moves ``part`` to the wallet its holder's identity moved to (anyone may send it);
        returns that wallet. ``claim`` does this by itself before it pays."""
        receipt = self.send("followPart", sender, part)
        events = self.contract.events.PartFollowed().process_receipt(receipt, errors=DISCARD)
        return to_checksum_address(events[-1]["args"]["to"]), receipt

    def follow_buyer(self, order: int, *, sender: Sender) -> tuple[ChecksumAddress, TxReceipt]:
        """Follows ``order``'s buyer's identity up to 8 moves and keeps the wallet reached (anyone
        may send it; refunds go on from there); returns that wallet."""
        receipt = self.send("followBuyer", sender, order)
        events = self.contract.events.BuyerFollowed().process_receipt(receipt, errors=DISCARD)
        return to_checksum_address(events[-1]["args"]["to"]), receipt

    def part(self, part: int) -> Part:
        holder, receivable, offset, value, claimed = self.contract.functions.partOf(part).call()
        if int(holder, 16) == 0:
            raise InvalidInput(f"There is no receivable part {part} on this contract.")
        return Part(
            part=part,
            receivable=int(receivable),
            holder=to_checksum_address(holder),
            offset=int(offset),
            amount=int(value),
            claimed=int(claimed),
            claimable=int(self.contract.functions.claimable(part).call()),
        )

    def receivable(self, receivable: int) -> Receivable:
        """Receivable ``receivable`` (an order's id, or an invoice's) with its parts (from their logs)."""
        token, kind, due, face, collected, voided = self.contract.functions.receivableOf(receivable).call()
        if kind == 0:
            raise InvalidInput(f"There is no receivable {receivable} on this contract.")
        topic = "0x" + receivable.to_bytes(32, "big").hex()
        parts = [int(log["topics"][1].hex(), 16) for log in self.logs([self.topic("PartIssued"), None, topic])]
        return Receivable(
            receivable=receivable,
            kind=ReceivableKind(kind),
            token=to_checksum_address(token),
            face=int(face),
            collected=int(collected),
            voided=int(voided),
            due_date=int(due),
            parts=tuple(self.part(p) for p in parts),
        )


def _ids(passports: Sequence[int]) -> list[int]:
    if not passports:
        raise InvalidInput("Name at least one passport of the order.")
    return [int(p) for p in passports]


def _finished_state(client: TradeFinance, order: int, passport: int) -> int:
    """How a line whose slot a later order took finished: from its LineSettled or LineRefunded log."""
    order_topic, id_topic = "0x" + order.to_bytes(32, "big").hex(), "0x" + passport.to_bytes(32, "big").hex()
    if client.logs([client.topic("LineSettled"), order_topic, id_topic]):
        return int(LineState.SETTLED)
    return int(LineState.REFUNDED)
