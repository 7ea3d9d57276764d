"""`chainpass passport`: commission, record events, pack, transform, hand over, trace and verify.

A passport is named by its code: a GS1 Digital Link URI (``https://id.example.org/01/
{gtin}/21/{serial}``) or element string (``(01){gtin}(21){serial}``, ``(10){lot}`` for a
lot); ``--tier`` reads the code as a container's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from eth_utils import keccak

from chainpass.chain import Sender
from chainpass.cli.common import AddressType, account_option, acting_on, emit, json_option, report, settings
from chainpass.cli.index import open_index
from chainpass.custody import SignedOffer
from chainpass.errors import InvalidInput
from chainpass.files import write_json_atomic
from chainpass.gs1 import DEFAULT_RESOLVER, ProductKey, parse_code, resolver_of
from chainpass.passport import (
    BizStep,
    Disposition,
    EpcisEvent,
    ProductPassports,
    Role,
    location_id,
    transformation_id,
)
from chainpass.qr import DEFAULT_SCALE, write_qr


def _passports() -> ProductPassports:
    return settings().client(ProductPassports)


def _acting(account: str) -> tuple[ProductPassports, Sender]:
    return acting_on(ProductPassports, account)


def _tier_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--tier", type=click.IntRange(0, 3), default=0, show_default=True,
                        help="Read CODE as a container's: 1 case, 2 pallet, 3 shipping container.")(func)  # fmt: skip


def _key(code: str, tier: int) -> ProductKey:
    return parse_code(code, container_tier=tier)


def _now() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp())


@click.group()
def passport() -> None:
    """Product passports: commission, events, containers, trace, verify."""


@passport.command("set-roles")
@click.argument("address", type=AddressType("account"))
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.name.lower() for r in Role if r.name]), help="A role (repeatable).")  # fmt: skip
@account_option
@json_option
def set_roles(address: str, roles: tuple[str, ...], account: str, as_json: bool) -> None:
    """Give ADDRESS its passport roles (governor only); it also needs an identity in force."""
    passports, sender = _acting(account)
    receipt = passports.set_roles(address, Role.parse_many(roles), sender=sender)
    report(f"{address} now acts as {', '.join(roles)}", receipt, as_json, account=address, roles=list(roles))


@passport.command("commission")
@click.argument("codes", nargs=-1, required=True)
@_tier_option
@click.option("--metadata-uri", default="", help="Where the batch's product data lives.")
@click.option("--metadata-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The product data document: its keccak256 hash goes on chain.")  # fmt: skip
@account_option
@json_option
def commission(codes: tuple[str, ...], tier: int, metadata_uri: str, metadata_file: Path | None, account: str,
               as_json: bool) -> None:  # fmt: skip
    """Commission a passport for each CODE, in one transaction (producer only)."""
    keys = [_key(code, tier) for code in codes]
    metadata_hash = keccak(metadata_file.read_bytes()) if metadata_file else bytes(32)
    passports, sender = _acting(account)
    ids = passports.commission(keys, metadata_hash=metadata_hash, metadata_uri=metadata_uri, sender=sender)
    data = [{"code": str(k), "id": hex(i), "digital_link": k.digital_link()} for k, i in zip(keys, ids, strict=True)]
    emit(data, f"Commissioned {len(ids)} passport(s): " + ", ".join(str(k) for k in keys), as_json)


@passport.command("event")
@click.argument("codes", nargs=-1, required=True)
@_tier_option
@click.option("--biz-step", required=True, type=click.Choice([s.label for s in BizStep if s.value]))
@click.option("--disposition", required=True, type=click.Choice([d.label for d in Disposition if d.value]))
@click.option("--read-point", default="", help="Where it happened, e.g. an SGLN URN; its hash goes on chain.")
@click.option("--document", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The certificate or declaration behind the event: its keccak256 hash goes on chain.")  # fmt: skip
@account_option
@json_option
def event(codes: tuple[str, ...], tier: int, biz_step: str, disposition: str, read_point: str,
          document: Path | None, account: str, as_json: bool) -> None:  # fmt: skip
    """Record one EPCIS event on the passport of each CODE (the role must fit the step)."""
    keys = [_key(code, tier) for code in codes]
    passports, sender = _acting(account)
    recorded = EpcisEvent(
        passports=tuple(ProductPassports.passport_id(k) for k in keys),
        biz_step=BizStep.parse(biz_step),
        disposition=Disposition.parse(disposition),
        event_time=_now(),
        read_point=location_id(read_point) if read_point else bytes(32),
        document_hash=keccak(document.read_bytes()) if document else bytes(32),
    )
    receipt = passports.record([recorded], sender=sender)
    names = ", ".join(str(k) for k in keys)
    report(f"Recorded {biz_step} ({disposition}) on {names}", receipt, as_json,
           codes=[str(k) for k in keys], biz_step=biz_step)  # fmt: skip


@passport.command("recall")
@click.argument("code")
@_tier_option
@account_option
@json_option
def recall(code: str, tier: int, account: str, as_json: bool) -> None:
    """Recall the passport of CODE: everything packed in it and everything made from it
    (only the producer that commissioned it)."""
    key = _key(code, tier)
    passports, sender = _acting(account)
    recorded = EpcisEvent((ProductPassports.passport_id(key),), BizStep.RECALLING, Disposition.RECALLED, _now())
    receipt = passports.record([recorded], sender=sender)
    report(f"Recalled {key}", receipt, as_json, code=str(key))


@passport.command("pack")
@click.argument("container")
@click.argument("codes", nargs=-1, required=True)
@click.option("--tier", type=click.IntRange(1, 3), required=True, help="The container's tier.")
@click.option("--inner-tier", type=click.IntRange(0, 2), default=0, show_default=True,
              help="Tier of what goes in (0: goods).")  # fmt: skip
@account_option
@json_option
def pack(container: str, codes: tuple[str, ...], tier: int, inner_tier: int, account: str, as_json: bool) -> None:
    """Pack each CODE into CONTAINER (producer or carrier)."""
    outer = _key(container, tier)
    ids = [ProductPassports.passport_id(_key(code, inner_tier)) for code in codes]
    passports, sender = _acting(account)
    receipt = passports.pack(ProductPassports.passport_id(outer), ids, sender=sender)
    report(f"Packed {len(ids)} into {outer}", receipt, as_json, container=str(outer), count=len(ids))


@passport.command("unpack")
@click.argument("codes", nargs=-1, required=True)
@_tier_option
@account_option
@json_option
def unpack(codes: tuple[str, ...], tier: int, account: str, as_json: bool) -> None:
    """Take each CODE out of the container it is in."""
    ids = [ProductPassports.passport_id(_key(code, tier)) for code in codes]
    passports, sender = _acting(account)
    receipt = passports.unpack(ids, sender=sender)
    report(f"Unpacked {len(ids)}", receipt, as_json, count=len(ids))


@passport.command("transform")
@click.argument("transformation")
@click.option("--input", "inputs", multiple=True, help="A code consumed (repeatable).")
@click.option("--output", "outputs", multiple=True, help="A code produced (repeatable).")
@click.option("--metadata-uri", default="", help="Where the outputs' product data lives.")
@click.option("--metadata-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The outputs' product data document: its keccak256 hash goes on chain.")  # fmt: skip
@account_option
@json_option
def transform(transformation: str, inputs: tuple[str, ...], outputs: tuple[str, ...], metadata_uri: str,
              metadata_file: Path | None, account: str, as_json: bool) -> None:  # fmt: skip
    """Record TRANSFORMATION (an EPCIS transformationID, e.g. a milling run): consume each
    --input and commission each --output as made from them (producer only). Run it again
    with the same TRANSFORMATION to add more inputs or outputs."""
    input_ids = [ProductPassports.passport_id(_key(code, 0)) for code in inputs]
    output_keys = [_key(code, 0) for code in outputs]
    metadata_hash = keccak(metadata_file.read_bytes()) if metadata_file else bytes(32)
    passports, sender = _acting(account)
    ids = passports.transform(transformation_id(transformation), input_ids, output_keys, metadata_hash=metadata_hash,
                              metadata_uri=metadata_uri, sender=sender)  # fmt: skip
    data = {
        "transformation": transformation,
        "transformation_id": "0x" + transformation_id(transformation).hex(),
        "inputs": list(inputs),
        "outputs": [{"code": str(k), "id": hex(i)} for k, i in zip(output_keys, ids, strict=True)],
    }
    emit(data, f"{transformation}: consumed {len(inputs)}, produced {len(ids)}", as_json)


@passport.command("offer")
@click.argument("code")
@click.option("--to", "receiver", required=True, type=AddressType("receiver"), help="Who is to take the goods.")
@click.option("--valid-hours", type=click.IntRange(1, 24 * 365), default=24, show_default=True,
              help="How long the offer stands.")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the signed offer here.")
@_tier_option
@account_option
@json_option
def offer(code: str, receiver: str, valid_hours: int, out: Path | None, tier: int, account: str,
          as_json: bool) -> None:  # fmt: skip
    """Offer the goods of CODE to --to: signed by --account, who holds them; no gas. The
    receiver takes them with `chainpass passport accept FILE`."""
    key = _key(code, tier)
    passports, sender = _acting(account)
    deadline = passports.chain.latest_timestamp() + valid_hours * 3600
    handover = passports.custody_offer(ProductPassports.passport_id(key), receiver, deadline=deadline)
    signed = passports.sign_offer(handover, signer=sender)
    if out is not None:
        write_json_atomic(out, signed.to_json())
    emit(signed.to_json(), f"Offered {key} to {receiver}" + (f": wrote {out}" if out else ""), as_json)


@passport.command("accept")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@account_option
@json_option
def accept(file: Path, account: str, as_json: bool) -> None:
    """Take the goods offered in FILE (from `passport offer`): --account is the receiver."""
    try:
        text = file.read_text()
    except OSError as exc:
        raise InvalidInput(f"Cannot read the offer {file}: {exc.strerror}.") from None
    signed = SignedOffer.loads(text)
    passports, sender = _acting(account)
    receipt = passports.accept_custody(signed, sender=sender)
    report(f"{signed.offer.receiver} now holds {hex(signed.offer.passport)}", receipt, as_json,
           id=hex(signed.offer.passport), custodian=signed.offer.receiver)  # fmt: skip


@passport.command("transfer")
@click.argument("code")
@click.argument("to", type=AddressType("new owner"))
@_tier_option
@account_option
@json_option
def transfer(code: str, to: str, tier: int, account: str, as_json: bool) -> None:
    """Pass ownership of the passport of CODE to TO (ERC-721 transfer by its owner). The
    goods stay with whoever holds them: hand them over with offer and accept."""
    key = _key(code, tier)
    passports, sender = _acting(account)
    receipt = passports.transfer(ProductPassports.passport_id(key), to, sender=sender)
    report(f"{key} now belongs to {to}", receipt, as_json, code=str(key), owner=to)


@passport.command("show")
@click.argument("code")
@_tier_option
@json_option
def show(code: str, tier: int, as_json: bool) -> None:
    """The passport of CODE as the chain holds it now."""
    key = _key(code, tier)
    record = _passports().passport(ProductPassports.passport_id(key))
    if record is None:
        raise InvalidInput(f"No passport for {key}: it was never commissioned.")
    data = {"code": str(key), "digital_link": key.digital_link(), **record.to_json()}
    human = (f"{key}: {record.effective_state.label} (own state {record.state.label}), owned by {record.owner}, "
             f"held by {record.custodian}, made by {record.producer}"
             + (f", inside {hex(record.container)}" if record.container else "")
             + (f", produced by transformation 0x{record.origin.hex()}" if record.origin else ""))  # fmt: skip
    emit(data, human, as_json)


def _journey_lines(entries: list[Any]) -> list[str]:
    lines = []
    for e in entries:
        d = e.details
        what = {
            "PassportCommissioned": "commissioned",
            "PassportPacked": f"packed into {d.get('container')}",
            "PassportUnpacked": f"unpacked from {d.get('container')}",
            "PassportConsumed": f"consumed by transformation {d.get('transformation_id', '')[:18]}…",
            "PassportProduced": f"produced by transformation {d.get('transformation_id', '')[:18]}…",
            "CustodyTransferred": f"custody taken over from {d.get('from')}",
            "CustodyOffersCancelled": "custody offers cancelled",
        }.get(e.event) or f"{d['biz_step']} -> {d['disposition']}"
        via = f" (via container {hex(e.via_container)})" if e.via_container else ""
        via += f" (on input {hex(e.via_input)[:18]}…)" if e.via_input else ""
        lines.append(f"block {e.block_number:>6}  {what}, by {e.actor}{via}")
    return lines


@passport.command("trace")
@click.argument("code")
@_tier_option
@click.option("--index", "use_index", is_flag=True, help="Read the local trace index (`chainpass index sync`).")
@json_option
def trace(code: str, tier: int, use_index: bool, as_json: bool) -> None:
    """The journey of CODE from the chain's logs: its containers' events while it was in
    them, and the journeys of the inputs it was made from."""
    key = _key(code, tier)
    passports = _passports()
    passports.logs = open_index(passports, create=False) if use_index else None
    entries = passports.trace(ProductPassports.passport_id(key))
    if not entries:
        raise InvalidInput(f"No passport for {key}: it was never commissioned.")
    emit([e.to_json() for e in entries], lambda: "\n".join([str(key), *_journey_lines(entries)]), as_json)


@passport.command("qr")
@click.argument("code")
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The file to write: FILE.svg or FILE.png.")  # fmt: skip
@_tier_option
@click.option("--resolver", help=f"Where the link points, e.g. https://id.example.org [default: CODE's own resolver "
              f"if CODE is a Digital Link, else {DEFAULT_RESOLVER}].")  # fmt: skip
@click.option("--scale", type=click.IntRange(1, 100), default=DEFAULT_SCALE, show_default=True,
              help="Pixels per module in a PNG (an SVG scales freely).")  # fmt: skip
@json_option
def qr(code: str, out: Path, tier: int, resolver: str | None, scale: int, as_json: bool) -> None:
    """Write the QR code of CODE's GS1 Digital Link to --out (SVG or PNG, by its suffix):
    error correction level M, a quiet zone of 4 modules. Offline: the code carries the
    link, not chain data, so it needs no node and no commissioned passport."""
    key = _key(code, tier)
    link = key.digital_link(resolver or resolver_of(code) or DEFAULT_RESOLVER)
    written = write_qr(link, out, scale=scale)
    data = {"code": str(key), "digital_link": link, "file": str(out), "format": written.format}
    emit(data, f"Wrote {out}: QR code (version {written.version}, level M) of {link}", as_json)


@passport.command("verify")
@click.argument("code")
@_tier_option
@json_option
def verify(code: str, tier: int, as_json: bool) -> None:
    """Is the product of CODE genuine, recalled, sold already? The verdict a customer sees.
    Exit code 3 if it is not genuine or recalled."""
    key = _key(code, tier)
    verdict = _passports().verify(key)

    def human() -> str:
        if verdict.producer is None:
            return f"{key}: NOT GENUINE: no passport was ever commissioned for this code."
        head = "GENUINE" if verdict.genuine else "NOT GENUINE (its producer is not a verified, appointed producer)"
        warnings = []
        if verdict.recalled:
            source = verdict.recall_source
            cause = "" if source in (None, verdict.id) else f" (recall of {hex(source)}, which it came from or was in)"
            warnings.append(f"RECALLED{cause}: do not sell or eat")
        if verdict.sold:
            warnings.append("SOLD ALREADY: if you are buying it now, this code may be a copy")
        if verdict.state.label == "quarantined":
            warnings.append("QUARANTINED")
        lines = [f"{key}: {head}" + ("; " + "; ".join(warnings) if warnings else ""),
                 f"producer {verdict.producer}, held by {verdict.custodian}"]  # fmt: skip
        return "\n".join(lines + _journey_lines(list(verdict.journey)))

    emit(verdict.to_json(), human, as_json)
    if not verdict.genuine or verdict.recalled:
        raise SystemExit(3)  # a negative answer (docs/cli.md): not genuine, or recalled
