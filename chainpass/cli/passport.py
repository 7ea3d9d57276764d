"""`chainpass passport`: commission, record events, pack, transform, hand over, trace and verify;
follow an organisation to its new wallet, reclaim and repair custody.

A passport is named by its code: a GS1 Digital Link URI (``https://id.example.org/01/
{gtin}/21/{serial}``) or element string (``(01){gtin}(21){serial}``, ``(10){lot}`` for a
lot); ``--tier`` reads the code as a container's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from eth_utils import keccak

from chainpass.chain import Sender, parse_address
from chainpass.cli.common import (
    AddressType,
    account_option,
    acting_on,
    emit,
    hours_from,
    in_users_words,
    json_option,
    output_path,
    report,
    settings,
    unchanged,
)
from chainpass.cli.index import evidence_index
from chainpass.custody import CustodyOffer, SignedOffer
from chainpass.deployment import offline_target
from chainpass.enums import BizStep, Disposition, Role, Standing, State
from chainpass.errors import ChainpassError, ContractRevert, InvalidInput
from chainpass.evidence import AnchoredEvent, evidence_of
from chainpass.files import write_json_atomic
from chainpass.passport import (
    Brand,
    EpcisEvent,
    ProductPassports,
    location_id,
    metadata_base,
    transformation_id,
)
from chainpass.reverts import PASSPORT_IDS
from chainpass.standards.gs1 import DEFAULT_RESOLVER, ProductKey, parse_code, resolver_of
from chainpass.standards.qr import DEFAULT_SCALE, write_qr
from chainpass.trace import TraceEntry

#: Where a passport command keeps its client (click's per-invocation ``meta``), for naming
#: the passports of an error message.
_CLIENT = "chainpass.passports"
#: A passport id in full, as ``hex()`` prints it (addresses have 40 digits, ids up to 64).
_FULL_ID = re.compile(r"0x[0-9a-f]{48,64}\b")


def _passports() -> ProductPassports:
    client = settings().client(ProductPassports)
    click.get_current_context().meta[_CLIENT] = client
    return client


def _acting(account: str) -> tuple[ProductPassports, Sender]:
    client, sender = acting_on(ProductPassports, account)
    click.get_current_context().meta[_CLIENT] = client
    return client, sender


class _Names:
    """Passports by the GS1 codes people know them by: the code the user typed for it, or
    the code it was commissioned under (asked of the chain once); its id only if neither is
    known."""

    def __init__(self, passports: ProductPassports, typed: dict[int, str] | None = None) -> None:
        self.passports = passports
        self.known: dict[int, str] = dict(typed or {})

    def __call__(self, id_: int | str | None) -> str:
        if id_ is None:
            return "?"
        number = int(id_, 16) if isinstance(id_, str) else int(id_)
        if number not in self.known:
            try:
                key = self.passports.key_of(number)
            except ChainpassError:
                key = None
            self.known[number] = str(key) if key is not None else hex(number)
        return self.known[number]

    def message(self, text: str, error: ChainpassError) -> str:
        """``text`` with the passport ids it shows (in full, or shortened by a revert's
        decoding) replaced by codes."""
        ids = [int(m, 16) for m in _FULL_ID.findall(text)]
        if isinstance(error, ContractRevert):
            ids += [v for k, v in error.raw_args.items() if k in PASSPORT_IDS and isinstance(v, int)]
        for id_ in dict.fromkeys(ids):
            name = self(id_)
            if name.startswith("0x"):
                continue
            digits = f"{id_:x}"
            for shown in (f"0x{digits}", f"{digits[:8]}…{digits[-4:]}"):
                text = text.replace(shown, name)
        return text


class _NamingGroup(click.Group):
    """Its commands' errors name passports by the codes the user typed (or the codes they
    were commissioned under), not by internal ids."""

    def invoke(self, ctx: click.Context) -> Any:
        typed = [*ctx.protected_args, *ctx.args]
        try:
            return super().invoke(ctx)
        except ChainpassError as exc:
            client = ctx.meta.get(_CLIENT)
            if not isinstance(client, ProductPassports):
                raise
            text = in_users_words(str(exc), typed)
            with contextlib.suppress(Exception):  # the node may be gone: the ids stay
                text = _Names(client).message(text, exc)
            exc.args = (text,)
            raise


def _tier_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--tier", type=click.IntRange(0, 3), default=0, show_default=True,
                        help="Read CODE as a container's: 1 case, 2 pallet, 3 shipping container.")(func)  # fmt: skip


def _key(code: str, tier: int) -> ProductKey:
    return parse_code(code, container_tier=tier)


def _now() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp())


@click.group(cls=_NamingGroup)
def passport() -> None:
    """Product passports: commission, events, containers, custody, trace, verify."""


@passport.command("set-roles")
@click.argument("address", type=AddressType("account"))
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.name.lower() for r in Role if r.name]), help="A role (repeatable).")  # fmt: skip
@account_option
@json_option
def set_roles(address: str, roles: tuple[str, ...], account: str, as_json: bool) -> None:
    """Give ADDRESS its passport roles (governor only); it also needs an identity in force."""
    passports, sender = _acting(account)
    wanted = Role.parse_many(roles)
    if passports.roles_of(address) == wanted:
        unchanged(f"{address} acts as {', '.join(wanted.labels)} already")
    receipt = passports.set_roles(address, wanted, sender=sender)
    report(f"{address} now acts as {', '.join(roles)}", receipt, as_json, account=address, roles=list(roles))


@passport.command("roles")
@click.argument("address", type=AddressType("account"))
@json_option
def roles(address: str, as_json: bool) -> None:
    """The passport roles ADDRESS acts with now (an old wallet of an organisation that
    moved is shown with the wallet that stands for it)."""
    passports = _passports()
    current = passports.current_wallet_of(address)
    held = passports.roles_of(current)
    data = {"account": address, "wallet": current, "roles": held.labels}
    moved = f" (its organisation acts from {current} now)" if current != address else ""
    emit(data, f"{address}{moved}: " + (", ".join(held.labels) or "no passport role"), as_json)


@passport.command("follow")
@click.argument("old_wallet", type=AddressType("old wallet"))
@account_option
@json_option
def follow(old_wallet: str, account: str, as_json: bool) -> None:
    """Follow an organisation whose identity moved in the registry (rotation or recovery)
    from OLD_WALLET to its new wallet: its roles, licences, products, ownership and custody
    go with it. Anyone may send it; it only applies what the registry says (one move: run
    it again for the next)."""
    passports, sender = _acting(account)
    receipt = passports.follow_member(old_wallet, sender=sender)
    new = passports.current_wallet_of(old_wallet)
    report(f"{old_wallet} is followed to {new}: its roles, licences, products and custody are {new}'s now",
           receipt, as_json, old_wallet=old_wallet, wallet=new)  # fmt: skip


@passport.command("set-metadata-base")
@click.argument("url", required=False)
@click.option("--none", "clear", is_flag=True, help="Set no base: tokenURI is empty again.")
@account_option
@json_option
def set_metadata_base(url: str | None, clear: bool, account: str, as_json: bool) -> None:
    """Point every passport's ERC-721 tokenURI at URL followed by its id, e.g.
    https://id.example.org/metadata/ for `chainpass serve` there (governor only; a timelock
    governor through `chainpass governance propose set-metadata-base`)."""
    if (url is None) == (not clear):
        raise click.UsageError("Give the base URL (ending in /), or --none to set no base.")
    base = metadata_base(url) if url is not None else None
    passports, sender = _acting(account)
    if passports.base_uri() == base:
        unchanged(f"The metadata base is {base or 'not set'} already")
    receipt = passports.set_base_uri(base, sender=sender)
    said = f"tokenURI is {base}<id> now" if base else "tokenURI is empty now (no metadata base)"
    report(said, receipt, as_json, metadata_base=base)


@passport.command("token-uri")
@click.argument("code")
@_tier_option
@json_option
def token_uri(code: str, tier: int, as_json: bool) -> None:
    """The ERC-721 tokenURI of CODE's passport: where its metadata JSON is (empty while the
    governor has set no base)."""
    key = _key(code, tier)
    passports = _passports()
    id_ = ProductPassports.passport_id(key)
    uri = passports.token_uri(id_)
    data = {"code": str(key), "id": hex(id_), "token_uri": uri}
    emit(data, uri or f"{key} has no tokenURI: no metadata base is set (`chainpass passport set-metadata-base`).",
         as_json)  # fmt: skip


@passport.command("reclaim")
@click.argument("code")
@_tier_option
@account_option
@json_option
def reclaim(code: str, tier: int, account: str, as_json: bool) -> None:
    """Take the goods of CODE back from a custodian whose identity was revoked in the
    registry (--account is the passport's owner)."""
    key = _key(code, tier)
    passports, sender = _acting(account)
    id_ = ProductPassports.passport_id(key)
    receipt = passports.reclaim_custody(id_, sender=sender)
    holder = passports.custodian_of(id_)
    report(f"{holder}, the owner, holds {key} again", receipt, as_json, code=str(key), custodian=holder)


@passport.command("repair")
@click.argument("code")
@click.argument("to", type=AddressType("new custodian"))
@click.option("--reason", required=True, help="The governor's written decision (only its hash goes on chain).")
@_tier_option
@account_option
@json_option
def repair(code: str, to: str, reason: str, tier: int, account: str, as_json: bool) -> None:
    """Hand the goods of CODE to TO by the governor's decision (--account is the governor),
    when custody cannot move by a signed offer; the hash of --reason goes on the record."""
    key = _key(code, tier)
    passports, sender = _acting(account)
    receipt = passports.repair_custody(ProductPassports.passport_id(key), to, reason=reason, sender=sender)
    report(f"{to} holds {key} now, by the governor's repair", receipt, as_json, code=str(key), custodian=to,
           reason_hash="0x" + keccak(text=reason).hex())  # fmt: skip


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
    """Commission a passport for each CODE, in one transaction: a producer that is the brand
    owning the codes' GS1 company prefix, or holds its licence (see `chainpass brand`)."""
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
    """Record one EPCIS event on the passport of each CODE. The role must fit the step, and
    physical steps and observations belong to whoever holds the goods; an inspector or
    customs acts in its own steps on any passport."""
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
    (the producer that commissioned it, or a food-safety authority for any product)."""
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
    """Pack each CODE into CONTAINER (a producer or carrier holding the container and the goods)."""
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
    """Take each CODE out of the container it is in (whoever holds the container)."""
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
@click.option("--nonce", type=click.IntRange(0, 2**32 - 1),
              help="Sign without a node: the passport's custody nonce (`passport show` prints it). The chain "
              "id and contract come from --chain-id and --contract, or from this home's deployment record; "
              "--account must be a keystore account; the deadline counts from this computer's clock.")  # fmt: skip
@click.option("--contract", type=AddressType("contract"),
              help="With --nonce: the ProductPassport contract [default: from the deployment record].")  # fmt: skip
@_tier_option
@account_option
@json_option
def offer(code: str, receiver: str, valid_hours: int, out: Path | None, nonce: int | None, contract: str | None,
          tier: int, account: str, as_json: bool) -> None:  # fmt: skip
    """Offer the goods of CODE to --to: signed by --account, who holds them; no gas. The
    receiver takes them with `chainpass passport accept FILE`. With --nonce, no node is
    asked (the contract checks the offer when it is accepted)."""
    key = _key(code, tier)
    if out is not None:
        output_path(out, "--out")
    if nonce is not None:
        options = settings()
        chain_id, address = offline_target(options.store, options.chain_id, contract)
        try:
            signer = options.keystore_account(account)
        except InvalidInput as exc:
            why = f"{str(exc).rstrip('.')}. Signing without a node (--nonce) takes a keystore account"
            raise InvalidInput(f"{why} (`chainpass account import`): a dev account's key is on its node.") from None
        deadline = hours_from(_now(), valid_hours, "--valid-hours")
        handover = CustodyOffer(chain_id, address, ProductPassports.passport_id(key), signer.address,
                                parse_address(receiver, "receiver"), nonce, deadline)  # fmt: skip
        signed = handover.sign(signer)
    else:
        if contract is not None:
            raise InvalidInput("--contract goes with --nonce (signing without a node); online, the deployment "
                               "record names the contract.")  # fmt: skip
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
    report(f"{signed.offer.receiver} now holds {_Names(passports)(signed.offer.passport)}", receipt, as_json,
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
    record = passports.passport(ProductPassports.passport_id(key))
    if record is not None and record.owner == to:
        unchanged(f"{key} belongs to {to} already")
    receipt = passports.transfer(ProductPassports.passport_id(key), to, sender=sender)
    report(f"{key} now belongs to {to}", receipt, as_json, code=str(key), owner=to)


@passport.command("show")
@click.argument("code")
@_tier_option
@json_option
def show(code: str, tier: int, as_json: bool) -> None:
    """The passport of CODE as the chain holds it now, and the brand that owns its code."""
    key = _key(code, tier)
    passports = _passports()
    record = passports.passport(ProductPassports.passport_id(key))
    if record is None:
        raise InvalidInput(f"No passport for {key}: it was never commissioned.")
    owner = passports.brand_of(key)
    nonce = passports.custody_nonce(record.id)
    data = {"code": str(key), "digital_link": key.digital_link(), **record.to_json(),
            "brand": owner.to_json() if owner else None, "custody_nonce": nonce}  # fmt: skip
    names = _Names(passports, {record.id: code})
    human = (f"{key}: {record.effective_state.label} (own state {record.state.label}), owned by {record.owner}, "
             f"held by {record.custodian}, made by {record.producer}"
             + (f", inside {names(record.container)}" if record.container else "")
             + (f", produced by transformation 0x{record.origin.hex()}" if record.origin else "")
             + f"; {_brand_text(owner)}; custody nonce {nonce} (for an offer signed without a node)")  # fmt: skip
    emit(data, human, as_json)


def _brand_text(owner: Brand | None) -> str:
    if owner is None:
        return "brand: none registered for its GS1 company prefix now"
    return f"brand {owner.licensee} (GS1 company prefix {owner.prefix})"


class _Steps:
    """Who acted in each step of a journey, and in which relation to the passport: the
    holder of the goods (physical steps and observations), a regulator in its own step
    (inspector, customs), the producer or a food-safety authority (recalls), the owner or
    the governor (custody reassigned)."""

    def __init__(self, passports: ProductPassports, names: _Names) -> None:
        self.passports = passports
        self.names = names

    def actor(self, e: TraceEntry) -> str | None:
        if e.event == "PassportStateInherited":
            return None  # passed on by the unpacking, whose holder the PassportUnpacked step names
        if e.event == "CustodyReassigned":
            return str(e.details.get("by", e.actor))
        return e.actor

    def relation(self, e: TraceEntry) -> str | None:
        step = e.details.get("biz_step")
        if e.event in ("PassportCommissioned", "PassportProduced"):
            return "producer"
        if e.event == "PassportStateInherited":
            return None
        if e.event == "CustodyTransferred":
            return "new holder"
        if e.event == "CustodyReassigned":
            return "governor" if int(str(e.details.get("reason", "0x0")), 16) else "owner"
        if step == BizStep.INSPECTING.label:
            return "inspector"
        if step in (BizStep.CUSTOMS_RELEASING.label, BizStep.CUSTOMS_HOLDING.label):
            return "customs"
        if step == BizStep.RECALLING.label:
            own = self.passports.current_wallet_of(e.actor) == self.passports.producer_of(e.passport)
            return "producer" if own else "food-safety authority"
        return "holder"

    def to_json(self, e: TraceEntry) -> dict[str, Any]:
        return {**e.to_json(), "actor": self.actor(e), "relation": self.relation(e)}

    def lines(self, entries: Sequence[TraceEntry | AnchoredEvent]) -> list[str]:
        lines = []
        for e in entries:
            if isinstance(e, AnchoredEvent):
                lines.append(self.evidence_line(e))
                continue
            d = e.details
            what = {
                "PassportCommissioned": "commissioned",
                "PassportPacked": f"packed into {self.names(d.get('container'))}",
                "PassportUnpacked": f"unpacked from {self.names(d.get('container'))}",
                "PassportConsumed": f"consumed by transformation {d.get('transformation_id', '')[:18]}…",
                "PassportProduced": f"produced by transformation {d.get('transformation_id', '')[:18]}…",
                "CustodyTransferred": f"custody taken over from {d.get('from')}",
                "CustodyOffersCancelled": "custody offers cancelled",
                "CustodyReassigned": "custody reassigned",
                "PassportStateInherited": f"took on the state {_state_label(d.get('state'))} of container "
                f"{self.names(d.get('container'))}",
            }.get(e.event) or f"{d['biz_step']} -> {d['disposition']}"
            actor, relation = self.actor(e), self.relation(e)
            by = f", by {actor} ({relation})" if actor else ""
            via = f" (via container {self.names(e.via_container)})" if e.via_container else ""
            via += f" (on input {self.names(e.via_input)})" if e.via_input else ""
            lines.append(f"block {e.block_number:>6}  {what}{by}{via}")
        return lines

    def evidence_line(self, e: AnchoredEvent) -> str:
        """An anchored event: what it declares, by whom, and that it is evidence only."""
        what = " ".join(filter(None, [e.event_type, e.action, e.biz_step, e.disposition and f"-> {e.disposition}"]))
        via = f" (on container {self.names(e.via_container)})" if e.via_container else ""
        via += f" (on input {self.names(e.via_input)})" if e.via_input else ""
        return (
            f"block {e.block_number:>6}  evidence: {what} at {e.event_time or 'no declared time'}, declared by "
            f"{e.organisation}{via}; anchored in {e.tx_hash}, changes no state"
        )


def _state_label(value: Any) -> str:
    try:
        return State(int(value)).label
    except (TypeError, ValueError):
        return str(value)


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
    trace_index = evidence_index(passports, use_index)
    passports.log_source = trace_index if use_index else None
    id_ = ProductPassports.passport_id(key)
    entries = passports.trace(id_)
    if not entries:
        raise InvalidInput(f"No passport for {key}: it was never commissioned.")
    evidence = evidence_of(trace_index, entries, id_) if trace_index is not None else []
    # Sorted stably: an anchored event after the steps at its anchor's position (it changes no state).
    journey: list[TraceEntry | AnchoredEvent] = sorted([*entries, *evidence], key=lambda e: e.position)
    steps = _Steps(passports, _Names(passports, {id_: code}))
    data = [e.to_json() if isinstance(e, AnchoredEvent) else steps.to_json(e) for e in journey]
    emit(data, lambda: "\n".join([f"{key}: {_brand_text(passports.brand_of(key))}", *steps.lines(journey)]),
         as_json)  # fmt: skip


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
    """Is the product of CODE genuine, recalled, sold already? The verdict a customer sees:
    the brand that owns the code, its producer and whether it stands verified today, who
    holds it, and its journey with who acted in each step. Exit code 3 if it is not genuine
    or recalled."""
    key = _key(code, tier)
    passports = _passports()
    verdict = passports.verify(key)
    names = _Names(passports, {verdict.id: code})
    steps = _Steps(passports, names)
    journey = list(verdict.journey)
    data = {**verdict.to_json(), "sold_once": verdict.sold_once, "journey": [steps.to_json(e) for e in journey]}

    def human() -> str:
        if verdict.producer is None:
            return (f"{key}: NOT GENUINE: no passport was ever commissioned for this code; "
                    f"{_brand_text(verdict.brand)}.")  # fmt: skip
        head = "GENUINE" if verdict.genuine else "NOT GENUINE"
        warnings = []
        if verdict.recalled:
            source = verdict.recall_source
            cause = (
                "" if source in (None, verdict.id) else f" (recall of {names(source)}, which it came from or was in)"
            )
            warnings.append(f"RECALLED{cause}: do not sell or eat")
        if verdict.returned:
            warnings.append("SOLD ONCE AND RETURNED: back in the trade since")
        elif verdict.sold:
            warnings.append("SOLD ALREADY: if you are buying it now, this code may be a copy")
        if verdict.state is State.QUARANTINED:
            warnings.append("QUARANTINED")
        standing = verdict.producer_standing
        stands = (f"stands verified today ({standing.label})" if standing is Standing.VALID
                  else f"does NOT stand verified today ({standing.label if standing else 'unknown'}); what it "
                  "made stays genuine")  # fmt: skip
        maker = ""
        if verdict.brand is not None:
            maker = " (the brand itself)" if verdict.brand.licensee == verdict.producer else " (for the brand)"
        lines = [f"{key}: {head}" + ("; " + "; ".join(warnings) if warnings else ""),
                 _brand_text(verdict.brand),
                 f"producer {verdict.producer}{maker} {stands}; held by {verdict.custodian}"]  # fmt: skip
        return "\n".join(lines + steps.lines(journey))

    emit(data, human, as_json)
    if not verdict.genuine or verdict.recalled:
        raise SystemExit(3)  # a negative answer (docs/cli.md): not genuine, or recalled
