"""`chainpass bulk`: commission passports and record EPCIS events from CSV files, resumably.

Every row is checked before anything is sent; then only what the chain does not hold yet
is sent, in batches, with transactions signed ahead and pipelined. Interrupt it any time
(Ctrl-C, a killed process, a node restart): the same command again finishes the work, and
every passport and event ends up on chain exactly once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import click
from eth_utils import keccak

from chainpass import bulk
from chainpass.chain import Chain, Sender
from chainpass.cli.common import account_option, acting_on, emit, json_option, read_json
from chainpass.errors import InsufficientFunds, InvalidInput, NodeUnreachable, TransactionFailed
from chainpass.files import write_json_atomic
from chainpass.passport import ProductPassports
from chainpass.rows import (
    BadRows,
    EventRow,
    commission_rows,
    document_rows,
    epcis_document,
    event_rows,
    parse_csv,
    read_csv,
)
from chainpass.sender import SenderFactory, sender_factory


@click.group(name="bulk")
def bulk_group() -> None:
    """Bulk work from CSV files: commission passports, record events (resumable)."""


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--quiet", "-q", is_flag=True, help="No progress bar and no notes on stderr.")(func)
    func = click.option("--dry-run", is_flag=True, help="Check every row and the chain; send nothing.")(func)
    return json_option(account_option(func))


@dataclass
class _Progress:
    """The progress bar on stderr (only on a terminal), and how far the work got."""

    label: str
    shown: bool
    done: int = 0
    #: Whether the work reached the chain (the first progress report comes before sending).
    started: bool = False
    bar: Any = field(default=None, repr=False)
    #: Asks the chain what it holds of the run now, once the rows and the node are known.
    standing: Callable[[], bulk.Standing] | None = field(default=None, repr=False)

    def update(self, done: int, total: int) -> None:
        self.started = True
        if self.shown and self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr, show_pos=True)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        """End the bar and its line: whatever is printed next starts on a line of its own."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def where(self, noun: str, verb: str) -> str:
        """What the chain holds of the run now and what to run next, asked of the chain: work
        mined after this run last counted, and work mined but not yet as deep as the
        confirmations asked, count too; transactions sent and not mined are named."""
        if not self.started or self.standing is None:
            return "nothing was sent: run the same command again to start"
        try:
            now = self.standing()
        except Exception:  # the node may be gone: say what this run saw
            return (f"the node did not say what it holds; this run saw {self.done} {noun} mined, and more may have "
                    "been since: re-run the same command to finish (nothing is recorded twice)")  # fmt: skip
        text = f"{now.on_chain} of {now.rows} {noun} are on chain now"
        if now.confirmations and now.deep < now.on_chain:
            text += f" ({now.on_chain - now.deep} of them mined but not yet {now.confirmations} blocks deep)"
        if now.pending:
            text += f"; {now.pending} transaction(s) sent are not mined yet (the same command waits for them first)"
        if now.left:
            return text + f"; re-run the same command to {verb} the other {now.left} (nothing is recorded twice)"
        if now.pending:
            return text + "; re-run the same command to check that the rest went in (nothing is recorded twice)"
        if now.confirmations and now.deep < now.on_chain:
            return text + (
                f"; all of them: run the same command again once they are {now.confirmations} blocks deep, to "
                "check that they stayed (it records only what a reorganisation dropped)"
            )
        return text + "; all of them: nothing is left to do"


@contextmanager
def _interruptible(progress: _Progress, noun: str, verb: str) -> Iterator[None]:
    """Ctrl-C ends the command with one line saying what the chain holds of the work and what
    to run next, and exit code 130; a node that goes away or an account out of funds or a
    confirmation timeout ends it with an error saying the same."""
    try:
        yield
    except KeyboardInterrupt:
        progress.close()
        click.echo(f"interrupted: {progress.where(noun, verb)}", err=True)
        sys.exit(130)
    except NodeUnreachable:
        progress.close()
        if not progress.started:
            raise
        raise NodeUnreachable(
            f"The node stopped answering after {progress.done} {noun}: start it again, then re-run the same "
            "command to resume (nothing is recorded twice)."
        ) from None
    except (InsufficientFunds, TransactionFailed) as exc:
        progress.close()
        if not progress.started:
            raise
        why = str(exc).split("; transactions sent so far")[0].rstrip(".")
        raise type(exc)(f"{why}{' ' if why.endswith('?') else '. '}Stopped: {progress.where(noun, verb)}.") from None
    finally:
        progress.close()


def _sender_factory(chain: Chain, sender: Sender, quiet: bool) -> SenderFactory:
    """A pipelining BulkSender if the key of ``sender`` is here, else one transaction at a time;
    both with the fees and confirmations of the root options (``--max-fee-gwei``, ``--confirmations``)."""
    if chain.local_key(sender) is None and not quiet:
        click.echo(
            f"note: the key of {sender} is held by the node, so transactions go one at a time; "
            "for full speed use a keystore account (`chainpass account import`).",
            err=True,
        )
    return sender_factory(chain, sender)


def _bad_rows(exc: BadRows, as_json: bool) -> NoReturn:
    if as_json:
        emit({"error": str(exc).splitlines()[0], "kind": "BadRows", "problems": [p.to_json() for p in exc.problems]},
             "", True)  # fmt: skip
        raise SystemExit(1)
    raise exc


def _finish(result: bulk.BulkResult, as_json: bool) -> None:
    text = [result.summary(), *(f"  {result.unit} {line}: refused: {reason}" for line, reason in result.refused)]
    emit(result.to_json(), "\n".join(text), as_json)
    if result.refused:
        raise SystemExit(1)


@bulk_group.command("commission")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--metadata-uri", default="", help="Where the product data of the passports lives.")
@click.option("--metadata-file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="The product data document: its keccak256 hash goes on chain with every batch.")  # fmt: skip
@click.option("--batch-size", type=click.IntRange(1, 500), help="Passports per transaction [default: 100, "
              "fewer if a batch would take over a quarter of a block].")  # fmt: skip
@_common
def commission_command(file: Path, metadata_uri: str, metadata_file: Path | None, batch_size: int | None,
                       quiet: bool, dry_run: bool, account: str, as_json: bool) -> None:  # fmt: skip
    """Commission a passport for each row of the CSV FILE (producer only).

    Columns: gtin, and serial (an item) or lot; or code (a GS1 Digital Link, EPC URN or
    element string). Optional: kind (item, lot, container) and tier (1 case, 2 pallet,
    3 shipping container). Passports that exist already are skipped: re-run the same
    command after an interruption to finish.
    """
    progress = _Progress("commissioning", sys.stderr.isatty() and not (quiet or as_json))
    with _interruptible(progress, "passport(s)", "commission"):  # Ctrl-C at any point: one line, no traceback
        try:
            rows = commission_rows(read_csv(file), str(file))
        except BadRows as exc:
            _bad_rows(exc, as_json)
        passports, sender = acting_on(ProductPassports, account)
        progress.standing = lambda: bulk.commission_standing(passports, rows, sender)
        if dry_run:
            there = bulk.existing(passports, [r.id for r in rows])
            data = {"rows": len(rows), "already": len(there), "to_commission": len(rows) - len(there)}
            emit(data, f"{len(rows)} row(s) valid: {len(there)} already on chain, {data['to_commission']} to "
                 "commission (dry run: nothing sent)", as_json)  # fmt: skip
            return
        make = _sender_factory(passports.chain, sender, quiet or as_json)
        result = bulk.commission(
            passports, rows, sender=sender, make_sender=make,
            metadata_hash=keccak(metadata_file.read_bytes()) if metadata_file else bytes(32),
            metadata_uri=metadata_uri, batch_size=batch_size, on_progress=progress.update,
        )  # fmt: skip
        progress.close()  # the bar ends its line before the summary is printed
        _finish(result, as_json)


@bulk_group.command("events")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--epcis-out", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the rows as an EPCIS 2.0 document (same event hash ids).")  # fmt: skip
@_common
def events_command(file: Path, epcis_out: Path | None, quiet: bool, dry_run: bool, account: str,
                   as_json: bool) -> None:  # fmt: skip
    """Record one EPCIS ObjectEvent per row of the CSV FILE, with its CBV 2.0 hash id.

    Columns: code (one or more GS1 codes, separated by spaces or '|'), bizStep,
    disposition (optional where the step implies one), eventTime (ISO 8601 with a time
    zone), optional readPoint. FILE may also be an EPCIS 2.0 JSON(-LD) document: its
    ObjectEvents are recorded the same way (other event types: `chainpass epcis import`).
    Events recorded already (by this command or `chainpass epcis import`) are not recorded
    again: re-run the same command to resume.
    """
    progress = _Progress("recording", sys.stderr.isatty() and not (quiet or as_json))
    with _interruptible(progress, "event(s)", "record"):  # Ctrl-C at any point: one line, no traceback
        rows, unit = _event_source(file, as_json)
        if epcis_out is not None:
            write_json_atomic(epcis_out, epcis_document(rows))
        passports, sender = acting_on(ProductPassports, account)
        progress.standing = lambda: bulk.events_standing(passports, rows, sender)
        if dry_run:
            try:
                planned, whole = bulk.plan_events(passports, rows, str(file), unit)
            except BadRows as exc:
                _bad_rows(exc, as_json)
            data = {"rows": len(rows), "already": whole, "to_record": len(planned)}
            noun = "row(s)" if unit == "line" else "event(s)"
            emit(data, f"{len(rows)} {noun} valid: {whole} already on chain, {len(planned)} to record "
                 "(dry run: nothing sent)", as_json)  # fmt: skip
            return
        make = _sender_factory(passports.chain, sender, quiet or as_json)
        try:
            result = bulk.record_events(
                passports, rows, sender=sender, make_sender=make,
                source=str(file), unit=unit, on_progress=progress.update,
            )  # fmt: skip
        except BadRows as exc:
            _bad_rows(exc, as_json)
        progress.close()  # the bar ends its line before the summary is printed
        _finish(result, as_json)


def _event_source(file: Path, as_json: bool) -> tuple[list[EventRow], str]:
    """The rows of an events CSV (numbered by line), or the ObjectEvents of an EPCIS document
    (numbered by event, from 0); every bad one reported."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"The file {file} does not exist.") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"The file {file} is not UTF-8 text.") from None
    try:
        if text[:4096].lstrip().startswith("{"):
            return document_rows(read_json(file, "EPCIS document"), str(file)), "event"
        return event_rows(parse_csv(text, str(file)), str(file)), "line"
    except BadRows as exc:
        _bad_rows(exc, as_json)
