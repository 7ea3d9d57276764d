"""`chainpass finance`: orders paid on delivery, invoices, and receivables a bank finances.

Passports are named by their GS1 codes (as `chainpass passport` takes them) or their ids
(``0x`` hex). Amounts are in the token's units as people write them (``250`` or ``249.99``),
turned into its smallest units by its ``decimals()``. docs/finance.md explains the rules.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from chainpass.chain import Sender, sender_address
from chainpass.cli.common import (
    AddressType,
    account_option,
    acting_on,
    emit,
    hours_from,
    json_option,
    output_path,
    read_text,
    report,
    settings,
)
from chainpass.deployment import load_deployment
from chainpass.errors import InvalidInput
from chainpass.files import write_json_atomic
from chainpass.finance import (
    MAX_WINDOW,
    OrderStatus,
    Receivable,
    SignedMessage,
    Stablecoin,
    TradeFinance,
    invoice_commitment,
    new_salt,
)
from chainpass.passport import ProductPassports
from chainpass.standards.gs1 import parse_code

#: An order, receivable or part number: the contract's uint256 (from 1).
ID = click.IntRange(1, 2**256 - 1)


def _passport(text: str) -> int:
    """A passport by its GS1 code, or its id in ``0x`` hex."""
    value = text.strip()
    if value.lower().startswith("0x"):
        try:
            id_ = int(value, 16)
        except ValueError:
            id_ = -1
        if not 0 < id_ < 2**256:
            raise InvalidInput(f"{value!r} is neither a GS1 code nor a passport id (0x and 1 to 64 hex digits).")
        return id_
    return ProductPassports.passport_id(parse_code(value))


def _units(text: str, decimals: int, what: str) -> int:
    """``text`` (e.g. ``249.99``) in the token's smallest units."""
    try:
        value = Decimal(text.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        raise InvalidInput(f"The {what} {text!r} is not a number.") from None
    units = value * (Decimal(10) ** decimals)
    if not value.is_finite() or units != units.to_integral_value() or units <= 0:
        raise InvalidInput(f"The {what} {text!r} must be above zero, with at most {decimals} decimals.")
    return int(units)


def _shown(units: int, decimals: int) -> str:
    return f"{Decimal(units) / (Decimal(10) ** decimals):,.{decimals}f}"


def _decimals(coin: Stablecoin) -> int:
    return int(coin.contract.functions.decimals().call())


def _token(fin: TradeFinance, token: str | None) -> Stablecoin:
    """The token given, else the dev dollar `chainpass deploy` created on a development chain."""
    if token is None:
        record = load_deployment(fin.chain, settings().store)
        if "DevStablecoin" not in record.contracts:
            raise InvalidInput("Name the ERC-20 the prices are in: --token ADDRESS (a stablecoin on this network).")
        token = record.address("DevStablecoin")
    return Stablecoin(fin.chain, token)


def _deadline_date(text: str) -> int:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--due {text!r} is not a date in the form YYYY-MM-DD.") from None
    return int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())


def _write_signed(signed: SignedMessage, out: Path, key: str, what: str, as_json: bool) -> None:
    """Writes a signed message to ``out`` for the other party, and says so."""
    write_json_atomic(out, signed.to_json())
    emit({key: str(out), **signed.to_json()}, f"{what} written to {out}", as_json)


def _signed_file(file: Path, what: str, primary: str, account: str) -> tuple[TradeFinance, Sender, SignedMessage]:
    """The client acting as ``account``, and the signed ``primary`` message in ``file``."""
    fin, sender = acting_on(TradeFinance, account)
    return fin, sender, SignedMessage.loads(read_text(file, what), primary)


@click.group()
def finance() -> None:
    """Trade finance: orders paid on delivery, invoices, receivables a bank finances once."""


@finance.command("open")
@click.argument("seller", type=AddressType("seller"))
@click.option("--line", "lines", multiple=True, required=True, metavar="CODE=PRICE",
              help="A passport (GS1 code or 0x id) and its price; repeat for each line.")  # fmt: skip
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="Days to deliver in.")
@click.option("--token", type=AddressType("token"), help="The ERC-20 [default: the dev dollar on a dev chain].")
@click.option("--arbiter", type=AddressType("arbiter"), help="A verified organisation both parties accept.")
@click.option("--window-hours", type=click.IntRange(1, MAX_WINDOW // 3600),
              help="Hours the buyer may dispute a delivered line (with --arbiter).")  # fmt: skip
@account_option
@json_option
def open_order(seller: str, lines: tuple[str, ...], days: int, token: str | None, arbiter: str | None,
               window_hours: int | None, account: str, as_json: bool) -> None:  # fmt: skip
    """--account, the buyer, opens an order with SELLER and escrows its price."""
    fin, sender = acting_on(TradeFinance, account)
    coin = _token(fin, token)
    decimals = _decimals(coin)
    parsed = []
    for line in lines:
        code, sep, price = line.rpartition("=")
        if not sep or not code:
            raise InvalidInput(f"--line {line!r} is not CODE=PRICE.")
        parsed.append((_passport(code), _units(price, decimals, "price")))
    if (arbiter is None) != (window_hours is None):
        raise InvalidInput("--arbiter and --window-hours go together: an arbiter decides disputes within the window.")
    deadline = hours_from(fin.chain.latest_timestamp(), days * 24, "--days")
    window = (window_hours or 0) * 3600
    order, receipt = fin.open_order(
        seller, coin.address, parsed, deadline, sender=sender, arbiter=arbiter, dispute_window=window
    )
    total = sum(p for _i, p in parsed)
    report(f"Order {order} opened: {_shown(total, decimals)} escrowed for {len(parsed)} line(s)", receipt, as_json,
           order=order, total=total, deadline=deadline)  # fmt: skip


@finance.command("accept")
@click.argument("order", type=ID)
@account_option
@json_option
def accept(order: int, account: str, as_json: bool) -> None:
    """--account, the seller, accepts ORDER's arbiter: its lines may settle from now on."""
    fin, sender = acting_on(TradeFinance, account)
    report(f"Order {order} accepted", fin.accept(order, sender=sender), as_json, order=order)


def _line_command(verb: str, doc: str) -> None:
    @finance.command(verb, help=doc)
    @click.argument("order", type=ID)
    @click.argument("passports", nargs=-1, required=True)
    @account_option
    @json_option
    def command(order: int, passports: tuple[str, ...], account: str, as_json: bool) -> None:
        fin, sender = acting_on(TradeFinance, account)
        ids = [_passport(p) for p in passports]
        receipt = getattr(fin, verb)(order, ids, sender=sender)
        report(f"Order {order}: {verb} sent for {len(ids)} line(s)", receipt, as_json, order=order,
               passports=[hex(i) for i in ids])  # fmt: skip


_line_command("settle", "Pay ORDER's lines of PASSPORTS whose goods the buyer has received (anyone may).")
_line_command("refund", "Refund ORDER's lines of PASSPORTS: recalled, held on the way, or overdue (anyone may).")
_line_command("dispute", "--account, the buyer, disputes delivered lines of ORDER within their window.")


@finance.command("resolve")
@click.argument("order", type=ID)
@click.argument("passport")
@click.option("--pay-seller/--refund-buyer", required=True, help="The arbiter's decision.")
@account_option
@json_option
def resolve(order: int, passport: str, pay_seller: bool, account: str, as_json: bool) -> None:
    """--account, the arbiter, decides ORDER's disputed line of PASSPORT."""
    fin, sender = acting_on(TradeFinance, account)
    receipt = fin.resolve(order, _passport(passport), pay_seller, sender=sender)
    outcome = "paid to the seller" if pay_seller else "refunded to the buyer"
    report(f"Order {order}: the disputed line is {outcome}", receipt, as_json, order=order, pay_seller=pay_seller)


@finance.command("succession")
@click.argument("order", type=ID)
@click.option("--arbiter", "successor", required=True, type=AddressType("arbiter"),
              help="The verified organisation to arbitrate instead.")  # fmt: skip
@click.option("--valid-hours", type=click.IntRange(1, 24 * 365), default=72, show_default=True,
              help="How long the agreement stands.")  # fmt: skip
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Write the signed agreement here.")  # fmt: skip
@account_option
@json_option
def succession(order: int, successor: str, valid_hours: int, out: Path, account: str, as_json: bool) -> None:
    """--account, ORDER's buyer or seller, signs its agreement to --arbiter in place of the order's arbiter;
    the other party submits it (replace-arbiter)."""
    fin, sender = acting_on(TradeFinance, account)
    output_path(out, "--out")
    status, registry = fin.order(order), settings().registry()
    signer = sender_address(sender)
    parties = [registry.current_wallet(party) for party in (status.buyer, status.seller)]
    if signer in (status.buyer, status.seller) and signer not in parties:
        raise InvalidInput(f"Account {signer}'s identity moved to {registry.current_wallet(signer)}: sign with that.")
    if signer not in parties:
        raise InvalidInput(f"Only order {order}'s buyer {parties[0]} or seller {parties[1]} can name its arbiter.")
    deadline = hours_from(fin.chain.latest_timestamp(), valid_hours, "--valid-hours")
    signed = fin.sign(sender, fin.arbiter_succession(order, successor, deadline))
    _write_signed(signed, out, "succession", f"Agreement to {successor} as order {order}'s arbiter", as_json)


@finance.command("replace-arbiter")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@account_option
@json_option
def replace_arbiter(file: Path, account: str, as_json: bool) -> None:
    """--account, the order's other party, submits the signed agreement in FILE: its arbiter is replaced."""
    fin, sender, signed = _signed_file(file, "agreement", "ArbiterSuccession", account)
    receipt = fin.replace_arbiter(signed, sender=sender)
    order, successor = int(signed.message["order"]), str(signed.message["successor"])
    report(f"Order {order}'s arbiter is {successor} now", receipt, as_json, order=order, arbiter=successor)


@finance.command("status")
@click.argument("order", type=ID)
@json_option
def status(order: int, as_json: bool) -> None:
    """ORDER: its parties, lines, escrow and receivable parts."""
    fin = settings().client(TradeFinance)
    record = fin.order(order)
    emit(record.to_json(), lambda: _order_text(fin, record), as_json)


def _order_text(fin: TradeFinance, record: OrderStatus) -> str:
    assert record.receivable is not None
    decimals = _decimals(Stablecoin(fin.chain, record.receivable.token))
    lines = [
        f"Order {record.order}: buyer {record.buyer}, seller {record.seller}"
        + (
            f", arbiter {record.arbiter} ({'accepted' if record.accepted else 'not accepted yet'})"
            if record.arbiter
            else ""
        ),
        f"  deliver by {dt.datetime.fromtimestamp(record.deadline, dt.UTC):%Y-%m-%d %H:%M UTC}; "
        f"escrowed {_shown(record.escrowed, decimals)}; {record.pending} line(s) pending",
    ]
    lines += [f"  {line.passport:#x}: {_shown(line.price, decimals)}, {line.state.label}" for line in record.lines]
    lines.append(_receivable_text(record.receivable, decimals))
    return "\n".join(lines)


def _receivable_text(record: Receivable, decimals: int) -> str:
    lines = [
        f"  receivable {record.receivable} ({record.kind.label}): face {_shown(record.face, decimals)}, "
        f"collected {_shown(record.collected, decimals) if record.collected else '0'}, "
        f"voided {_shown(record.voided, decimals) if record.voided else '0'}"
    ]
    lines += [
        f"    part {p.part}: {p.holder} holds [{_shown(p.offset, decimals) if p.offset else '0'}, "
        f"{_shown(p.offset + p.amount, decimals)}), claimable {_shown(p.claimable, decimals) if p.claimable else '0'}"
        for p in record.parts
    ]
    return "\n".join(lines)


@finance.command("receivable")
@click.argument("receivable", type=ID)
@json_option
def receivable(receivable: int, as_json: bool) -> None:
    """RECEIVABLE (an order's id or an invoice's): what it is worth, collected, and who holds its parts."""
    fin = settings().client(TradeFinance)
    record = fin.receivable(receivable)
    decimals = _decimals(Stablecoin(fin.chain, record.token))
    emit(record.to_json(), lambda: _receivable_text(record, decimals).strip(), as_json)


@finance.command("offer")
@click.argument("part", type=ID)
@click.option("--bank", required=True, type=AddressType("bank"), help="The bank the offer is made out to.")
@click.option("--price", required=True, help="What the bank pays for the part.")
@click.option("--valid-hours", type=click.IntRange(1, 24 * 365), default=72, show_default=True,
              help="How long the offer stands.")  # fmt: skip
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Write the signed offer here.")  # fmt: skip
@account_option
@json_option
def offer(part: int, bank: str, price: str, valid_hours: int, out: Path, account: str, as_json: bool) -> None:
    """--account, the holder of PART, signs an offer to sell it to --bank for --price."""
    fin, sender = acting_on(TradeFinance, account)
    output_path(out, "--out")
    holder = fin.part(part).holder
    if holder != sender_address(sender):
        raise InvalidInput(f"Part {part} is held by {holder}: only its holder can offer it.")
    decimals = _decimals(Stablecoin(fin.chain, fin.receivable(fin.part(part).receivable).token))
    deadline = hours_from(fin.chain.latest_timestamp(), valid_hours, "--valid-hours")
    signed = fin.sign(sender, fin.financing_offer(part, bank, _units(price, decimals, "price"), deadline))
    _write_signed(signed, out, "offer", f"Offer of part {part} to {bank}", as_json)


@finance.command("finance")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@account_option
@json_option
def finance_part(file: Path, account: str, as_json: bool) -> None:
    """--account, a bank, takes the signed offer in FILE: pays the holder and receives the part."""
    fin, sender, signed = _signed_file(file, "offer", "FinancingOffer", account)
    receipt = fin.finance(signed, sender=sender)
    part = int(signed.message["part"])
    report(
        f"Part {part} financed: the bank holds it now", receipt, as_json, part=part, price=int(signed.message["price"])
    )


@finance.command("split")
@click.argument("part", type=ID)
@click.argument("amounts", nargs=-1, required=True)
@account_option
@json_option
def split(part: int, amounts: tuple[str, ...], account: str, as_json: bool) -> None:
    """--account, PART's holder, splits it into AMOUNTS (bottom tranche first; they sum to what it is still owed)."""
    fin, sender = acting_on(TradeFinance, account)
    decimals = _decimals(Stablecoin(fin.chain, fin.receivable(fin.part(part).receivable).token))
    parts, receipt = fin.split(part, [_units(a, decimals, "amount") for a in amounts], sender=sender)
    report(f"Part {part} split; new part(s) {', '.join(map(str, parts))}", receipt, as_json, part=part, parts=parts)


@finance.command("transfer")
@click.argument("part", type=ID)
@click.argument("to", type=AddressType("receiver"))
@account_option
@json_option
def transfer(part: int, to: str, account: str, as_json: bool) -> None:
    """--account, PART's holder, passes it on to TO (a verified organisation or a bank)."""
    fin, sender = acting_on(TradeFinance, account)
    report(f"Part {part} now held by {to}", fin.transfer(part, to, sender=sender), as_json, part=part, holder=to)


@finance.command("claim")
@click.argument("part", type=ID)
@account_option
@json_option
def claim(part: int, account: str, as_json: bool) -> None:
    """Pay PART's holder what it has collected (anyone may)."""
    fin, sender = acting_on(TradeFinance, account)
    paid, receipt = fin.claim(part, sender=sender)
    report(f"Part {part} paid {paid} units to its holder", receipt, as_json, part=part, paid=paid)


@finance.command("follow")
@click.argument("part", type=ID)
@account_option
@json_option
def follow(part: int, account: str, as_json: bool) -> None:
    """Move PART to the wallet its holder's identity moved to, by a key rotation or a recovery (anyone may)."""
    fin, sender = acting_on(TradeFinance, account)
    holder, receipt = fin.follow(part, sender=sender)
    report(
        f"Part {part} now held by {holder}, where its holder's identity is", receipt, as_json, part=part, holder=holder
    )


@finance.command("follow-buyer")
@click.argument("order", type=ID)
@account_option
@json_option
def follow_buyer(order: int, account: str, as_json: bool) -> None:
    """Follow ORDER's buyer's identity when it moved more than 8 times (anyone may): refunds then reach it."""
    fin, sender = acting_on(TradeFinance, account)
    buyer, receipt = fin.follow_buyer(order, sender=sender)
    report(f"Order {order}'s buyer followed to {buyer}", receipt, as_json, order=order, buyer=buyer)


@finance.command("mint")
@click.argument("to", type=AddressType("receiver"))
@click.argument("amount")
@account_option
@json_option
def mint(to: str, amount: str, account: str, as_json: bool) -> None:
    """Development chains only: --account, the deployer, mints AMOUNT dev dollars to TO."""
    fin, sender = acting_on(TradeFinance, account)
    coin = _token(fin, None)
    units = _units(amount, _decimals(coin), "amount")
    report(f"Minted {amount} dev dollars to {to}", coin.mint(to, units, sender=sender), as_json, to=to, units=units)


@finance.group("invoice")
def invoice() -> None:
    """Invoices the buyer accepted by signature: registered once, by a commitment only."""


@invoice.command("accept")
@click.option("--seller", required=True, type=AddressType("seller"), help="Who issued the invoice.")
@click.option("--number", required=True, help="The invoice's number (it stays off chain).")
@click.option("--amount", "value", required=True, help="What the invoice asks.")
@click.option("--due", required=True, help="The due date, YYYY-MM-DD.")
@click.option("--salt", help="The invoice's salt (64 hex digits) from the seller [default: a new random one].")
@click.option("--token", type=AddressType("token"), help="The ERC-20 [default: the dev dollar on a dev chain].")
@click.option("--valid-hours", type=click.IntRange(1, 24 * 365), default=72, show_default=True,
              help="How long the seller has to register it.")  # fmt: skip
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Write the acceptance here.")  # fmt: skip
@account_option
@json_option
def accept_invoice(seller: str, number: str, value: str, due: str, salt: str | None, token: str | None,
                   valid_hours: int, out: Path, account: str, as_json: bool) -> None:  # fmt: skip
    """--account, the buyer, accepts an invoice by signature, for its seller to register."""
    fin, sender = acting_on(TradeFinance, account)
    output_path(out, "--out")
    coin = _token(fin, token)
    units = _units(value, _decimals(coin), "amount")
    try:
        salt_bytes = bytes.fromhex(salt.removeprefix("0x")) if salt else new_salt()
    except ValueError:
        raise InvalidInput("--salt must be 64 hex digits.") from None
    buyer = sender_address(sender)
    commitment = invoice_commitment(seller, buyer, number, units, salt_bytes)
    deadline = hours_from(fin.chain.latest_timestamp(), valid_hours, "--valid-hours")
    typed = fin.invoice_acceptance(commitment, seller, buyer, coin.address, units, _deadline_date(due), deadline)
    signed = fin.sign(sender, typed)
    # The number and salt stay in this file, off chain: they prove what the commitment stands for.
    data = {**signed.to_json(), "invoice": {"number": number, "salt": "0x" + salt_bytes.hex()}}
    write_json_atomic(out, data)
    emit({"acceptance": str(out), "commitment": "0x" + commitment.hex()},
         f"Invoice {number} accepted; the acceptance is in {out} (keep it: the number and salt stay off chain)",
         as_json)  # fmt: skip


@invoice.command("register")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@account_option
@json_option
def register_invoice(file: Path, account: str, as_json: bool) -> None:
    """--account, the seller, registers the invoice the buyer accepted in FILE: it becomes a receivable."""
    fin, sender, signed = _signed_file(file, "acceptance", "InvoiceAcceptance", account)
    number, receipt = fin.register_invoice(signed, sender=sender)
    part = fin.receivable(number).parts[0].part
    report(f"Invoice registered as receivable {number}; you hold its part {part}", receipt, as_json,
           receivable=number, part=part)  # fmt: skip


@invoice.command("pay")
@click.argument("receivable", type=ID)
@account_option
@json_option
def pay_invoice(receivable: int, account: str, as_json: bool) -> None:
    """--account (the buyer) pays invoice RECEIVABLE in full; its holders then claim."""
    fin, sender = acting_on(TradeFinance, account)
    report(f"Invoice {receivable} paid", fin.pay_invoice(receivable, sender=sender), as_json, receivable=receivable)
