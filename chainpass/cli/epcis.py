"""`chainpass epcis`: import EPCIS 2.0 documents into passports, export a passport's history,
anchor a document's events as evidence and check an anchored event's proof."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from chainpass.anchor import EventAnchors, ProofBundle, check_bundle
from chainpass.bulk import steady
from chainpass.chain import Sender
from chainpass.cli.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    account_option,
    acting_on,
    emit,
    iso_time,
    json_option,
    read_json,
    settings,
)
from chainpass.cli.index import evidence_index
from chainpass.deployment import load_deployment
from chainpass.epcis_export import export
from chainpass.epcis_import import import_document, import_standing
from chainpass.errors import ConfirmationTimeout, DeploymentError, InsufficientFunds, Interrupted, InvalidInput
from chainpass.files import write_json_atomic
from chainpass.passport import ProductPassports
from chainpass.standards.epcis import hash_uri
from chainpass.standards.gs1 import parse_code


@click.group()
def epcis() -> None:
    """EPCIS 2.0 documents: import events (with their CBV 2.0 hash ids), export histories, anchor events."""


@epcis.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--partial", is_flag=True, help="Send the valid events even if others are refused.")
@click.option(
    "--adopt-unknown",
    is_flag=True,
    help="Commission identifiers first seen in FILE (as this account, a producer) right before their event, "
    "instead of refusing them.",
)
@click.option(
    "--anchor-only",
    is_flag=True,
    help="Anchor every event as evidence (one transaction) instead of recording any as a lifecycle event.",
)
@click.option(
    "--proofs",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write the proof bundles of the anchored events here (default: FILE.proofs beside FILE).",
)
@account_option
@json_option
def import_command(file: Path, partial: bool, adopt_unknown: bool, anchor_only: bool, folder: Path | None,
                   account: str, as_json: bool) -> None:  # fmt: skip
    """Import the events of an EPCIS 2.0 JSON(-LD) document FILE: lifecycle events are recorded on
    their passports, the others anchored as evidence in one transaction (a proof bundle each in
    --proofs); re-running records and anchors nothing twice."""
    document = read_json(file, "EPCIS document")
    folder = _proofs_folder(file, folder)
    passports, sender = acting_on(ProductPassports, account)
    try:
        anchors: EventAnchors | None = EventAnchors.from_deployment(
            passports.chain, load_deployment(passports.chain, settings().store)
        )
    except DeploymentError:
        anchors = None  # a deployment from before the anchors: what it cannot record is refused
    try:
        result = import_document(passports, document, sender=sender, partial=partial, adopt_unknown=adopt_unknown,
                                 anchors=anchors, raw=file.read_bytes(), anchor_only=anchor_only)  # fmt: skip
    except (KeyboardInterrupt, ConfirmationTimeout, InsufficientFunds) as exc:
        raise _stopped(passports, document, sender, file, adopt_unknown, exc) from None
    data = result.to_json()
    lines = [result.summary(), *(f"  {o.describe()}" for o in result.outcomes)]
    if result.anchor is not None:
        data["proofs"] = [str(path) for path in _write_bundles(folder, result.anchor.bundles)]
        lines.append(f"The proof bundles of the {len(result.anchor.bundles)} anchored event(s) are in {folder}.")
    emit(data, "\n".join(lines), as_json)
    if result.refused:
        raise SystemExit(1)


def _proofs_folder(file: Path, folder: Path | None) -> Path:
    """Where an import's or an anchor's proof bundles go (checked before anything is sent)."""
    folder = folder if folder is not None else file.with_name(file.name + ".proofs")
    if folder.exists() and not folder.is_dir():
        raise InvalidInput(f"--proofs {folder} is a file: give a folder.")
    return folder


def _write_bundles(folder: Path, bundles: Sequence[ProofBundle]) -> list[Path]:
    return [
        write_json_atomic(folder / f"{n:06d}-{bundle.digest.hex()[:16]}.json", bundle.to_json())
        for n, bundle in enumerate(bundles, start=1)
    ]


def _stopped(
    passports: ProductPassports,
    document: object,
    sender: Sender,
    file: Path,
    adopt_unknown: bool,
    exc: BaseException,
) -> Interrupted:
    """What an import stopped part way (Ctrl-C, a confirmation timeout, no more ETH) leaves:
    the document's events the chain holds now, asked of the chain (a transaction mined while
    its confirmations were awaited counts), and what to run next."""
    interrupted = isinstance(exc, KeyboardInterrupt)
    why = "Interrupted" if interrupted else f"Stopped ({str(exc).rstrip('.')})"
    code = EXIT_INTERRUPTED if interrupted else EXIT_ERROR
    try:
        now, pending = steady(
            passports.chain, sender, lambda: import_standing(passports, document, adopt_unknown=adopt_unknown)
        )
    except Exception:  # the node may be gone
        again = f"run the same `chainpass epcis import {file}` again (nothing is recorded twice)"
        return Interrupted(f"{why}; the node did not say what it holds now: once it answers, {again}.", exit_code=code)
    text = f"{why}: {now.on_chain} of the {now.valid} event(s) of {file} that can be imported are on chain now"
    depth = passports.chain.confirmations
    if depth:
        text += f" (the latest of them may not be {depth} blocks deep yet)"
    if pending:
        text += f"; {pending} transaction(s) sent are not mined yet"
    if now.first_missing is None and not pending:
        rest = "nothing is left to import" + (
            f": run it again once they are {depth} blocks deep, to check that they stayed" if depth else ""
        )
    else:
        left = now.valid - now.on_chain
        start = f", from event {now.first_missing}" if now.first_missing is not None else ""
        rest = f"run the same `chainpass epcis import {file}` again to import the other {left}{start}"
        rest += " (nothing is recorded twice)"
    return Interrupted(f"{text}; {rest}.", exit_code=code)


@epcis.command("export")
@click.argument("code")
@click.option("--tier", type=click.IntRange(0, 3), default=0, show_default=True, help="Read CODE as a container's.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the document here.")
@click.option("--schema", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Validate the document against this JSON schema (GS1's EPCIS-JSON-Schema.json).")  # fmt: skip
@click.option("--index", "use_index", is_flag=True, help="Read the local trace index (`chainpass index sync`).")
@json_option
def export_command(code: str, tier: int, out: Path | None, schema: Path | None, use_index: bool, as_json: bool) -> None:
    """Export the history of the passport of CODE as an EPCIS 2.0 document, with the anchored
    events the index holds about it (as evidence: docs/epcis.md)."""
    passports = settings().client(ProductPassports)
    trace_index = evidence_index(passports, use_index)
    passports.log_source = trace_index if use_index else None
    document = export(passports, passports.passport_id(parse_code(code, container_tier=tier)), evidence=trace_index)
    if schema is not None:
        import jsonschema

        try:
            jsonschema.validate(document, read_json(schema, "JSON schema"))
        except jsonschema.ValidationError as exc:
            raise InvalidInput(f"The export does not validate against {schema}: {exc.message}") from None
    if out is not None:
        write_json_atomic(out, document)
    if out is None or as_json:
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(f"Wrote {len(document['epcisBody']['eventList'])} event(s) to {out}")


@epcis.command("anchor")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--proofs", "folder", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Write each event's proof bundle into this folder (made if missing).")  # fmt: skip
@account_option
@json_option
def anchor_command(file: Path, folder: Path, account: str, as_json: bool) -> None:
    """Anchor every event of the EPCIS 2.0 document FILE in one transaction (a Merkle root of
    their CBV 2.0 hashes: evidence, changing no passport); a proof bundle per event in FOLDER."""
    document = read_json(file, "EPCIS document")
    folder = _proofs_folder(file, folder)
    anchors, sender = acting_on(EventAnchors, account)
    anchored = anchors.anchor_document(document, file.read_bytes(), sender=sender)
    paths = _write_bundles(folder, anchored.bundles)
    data = {
        "root": "0x" + anchored.root.hex(),
        "events": len(anchored.bundles),
        "transaction": anchored.transaction,
        "block": anchored.block_number,
        "proofs": [str(path) for path in paths],
    }
    emit(data, f"Anchored {len(paths)} event(s) of {file} in block {anchored.block_number} "
         f"(transaction {anchored.transaction}); their proof bundles are in {folder}.", as_json)  # fmt: skip


@epcis.command("prove")
@click.argument("bundle_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--on-chain", is_flag=True, help="Also ask the anchors' contract (the node in --rpc).")
@json_option
def prove_command(bundle_file: Path, on_chain: bool, as_json: bool) -> None:
    """Check an anchored event's proof bundle: offline (the event hashes to its hash, the proof
    leads to the root), and with --on-chain that the root is anchored by the organisation named."""
    bundle = ProofBundle.from_json(read_json(bundle_file, "proof bundle"))
    check_bundle(bundle)
    data: dict[str, object] = {"eventHash": hash_uri(bundle.digest), "root": "0x" + bundle.root.hex(), "offline": True}
    line = f"The event {hash_uri(bundle.digest)} is in the batch of root 0x{bundle.root.hex()}."
    if on_chain:
        record = settings().client(EventAnchors).check_on_chain(bundle)
        data["anchor"] = record.to_json()
        line += f" Anchored by {record.organisation} at {iso_time(record.anchored_at)} ({record.events} events)."
    else:
        line += " Add --on-chain to check that the root is anchored."
    emit(data, line, as_json)
