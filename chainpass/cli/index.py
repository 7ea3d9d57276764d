"""`chainpass index`: an index of the passport contract's logs that follows the chain, for
fast traces (``chainpass passport trace CODE --index``) and the web service.

By default a SQLite file at ``HOME/index/<chain id>-<genesis hash, 16 hex digits>-<contract
address>.sqlite`` (one per node's chain: two local nodes share a chain id, never a genesis
block); with the root option ``--index-db postgresql://...`` a schema on a PostgreSQL server
that several machines share (:mod:`chainpass.index_store`). See :mod:`chainpass.index` for how
it follows the chain (ranges, checkpoint, confirmations, reorgs).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from chainpass.cli.common import FiniteFloat, emit, json_option, settings
from chainpass.errors import InvalidInput
from chainpass.evidence import add_anchored
from chainpass.index import DEFAULT_CONFIRMATIONS, SyncReport, TraceIndex
from chainpass.passport import ProductPassports

#: The longest pause ``index sync --follow`` takes between two syncs (an hour).
MAX_FOLLOW = 3600.0


def open_index(passports: ProductPassports, *, create: bool = True) -> TraceIndex:
    """The trace index of ``passports``' contract (``--index-db``, else HOME/index), with the
    deployment's anchors if it has them, closed with the command."""
    options = settings()
    anchors = options.anchors(passports.chain)
    trace_index = TraceIndex.for_client(passports, options.index_location(passports), anchors=anchors, create=create)
    click.get_current_context().call_on_close(trace_index.close)
    return trace_index


def evidence_index(passports: ProductPassports, use_index: bool) -> TraceIndex | None:
    """The index a command reads anchored events from: the one it reads logs from
    (``use_index``), else the index as it stands if there is one (the node holds no events)."""
    try:
        return open_index(passports, create=False)
    except InvalidInput:
        if use_index:
            raise
        return None  # no index yet: nobody has told it anchored events either


@click.group()
def index() -> None:
    """A local index of the passports' logs, for fast traces."""


@index.command("sync")
@click.option(
    "--confirmations",
    type=click.IntRange(min=0),
    default=DEFAULT_CONFIRMATIONS,
    show_default=True,
    help="Index only blocks with at least N blocks after them: events in the last N blocks are not final "
    "and not shown yet. Use the chain's usual depth on a public chain (e.g. 12).",
)
@click.option(
    "--follow",
    "every",
    type=FiniteFloat(MAX_FOLLOW, positive=True),
    metavar="SECONDS",
    help="Keep following the chain: sync again every SECONDS until Ctrl-C (the one syncing process beside "
    "the `serve` workers of a shared index).",
)
@json_option
def sync(confirmations: int, every: float | None, as_json: bool) -> None:
    """Bring the index up to date with the node: new blocks, and any reorg."""
    trace_index = open_index(settings().client(ProductPassports))
    if every is None:
        _show(trace_index, trace_index.sync(confirmations), as_json)
        return
    try:
        while True:
            report = trace_index.sync(confirmations)
            if report.ranges or report.reorg:
                _show(trace_index, report, as_json)
            time.sleep(every)
    except KeyboardInterrupt:
        click.echo(f"Stopped following; the index is at block {trace_index.checkpoint}.", err=True)


def _show(trace_index: TraceIndex, report: SyncReport, as_json: bool) -> None:
    data = {"location": trace_index.location, **report.to_json()}

    def human() -> str:
        lines = []
        if report.reorg:
            reorg = report.reorg
            lines.append(
                f"Reorg: blocks after {reorg.fork_block} left the chain; {reorg.removed_logs} log(s) marked removed."
            )
        if report.ranges:
            first, last = report.ranges[0][0], report.ranges[-1][1]
            lines.append(f"Indexed blocks {first}-{last}: {report.logs} log(s) in {len(report.ranges)} range(s).")
        else:
            lines.append("Nothing new to index.")
        lines.append(
            f"Checkpoint block {report.checkpoint}; head {report.head}, {report.confirmations} confirmation(s) "
            f"needed. ({trace_index.location})"
        )
        return "\n".join(lines)

    emit(data, human, as_json)


@index.command("add-anchored")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@json_option
def add_anchored_command(paths: tuple[Path, ...], as_json: bool) -> None:
    """Teach the index anchored events, to show them beside the lifecycle (marked as evidence):
    PATHS are proof bundles (`epcis anchor --proofs`), anchored EPCIS documents, or folders of
    them (their *.json files). Each event is proven against an anchor in the blocks indexed;
    if one is not, nothing is added. Run `index sync` first (the anchors must be indexed)."""
    files = [f for path in paths for f in (sorted(path.glob("*.json")) if path.is_dir() else [path])]
    if not files:
        raise InvalidInput(f"There is no .json file in {', '.join(map(str, paths))}.")
    trace_index = open_index(settings().client(ProductPassports))  # as it stands: syncs keep their confirmations
    report = add_anchored(trace_index, [(str(f), f.read_bytes()) for f in files])
    emit(
        {"location": trace_index.location, **report.to_json()},
        f"Proven against {len(report.roots)} anchor(s): {report.added} anchored event(s) added "
        f"({report.on_passports} naming a passport), {report.known} known already. ({trace_index.location})",
        as_json,
    )


@index.command("status")
@json_option
def status(as_json: bool) -> None:
    """Where the index stands: its checkpoint against the node's head, and its logs."""
    state = open_index(settings().client(ProductPassports), create=False).status()
    emit(
        state.to_json(),
        lambda: (
            f"Trace index {state.location}\n"
            f"  chain {state.chain_id}, contract {state.address} (deployed in block {state.deployment_block})\n"
            f"  checkpoint block {state.checkpoint}, node head {state.head}: {state.behind} block(s) behind\n"
            f"  {state.logs} log(s), {state.removed_logs} removed by reorgs\n"
            f"  anchors {state.anchors or 'none'}: {state.anchored_events} anchored event(s) told (index add-anchored)"
        ),
        as_json,
    )
