"""Rows of work from files, validated before anything is sent: passports to commission from a
CSV file, and EPCIS events from a CSV file or an EPCIS 2.0 document.

Every row is checked (nothing is sent while one row is bad: each bad row is reported with
its line number, :class:`BadRows`). An events row is an EPCIS 2.0 ObjectEvent
(:func:`epcis_event`); its id is the event hash of that ObjectEvent, so a CSV row and the
same event imported from an EPCIS document are recognised as one. :mod:`chainpass.bulk`
sends what the rows ask for.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainpass.enums import BizStep, Disposition, Kind
from chainpass.errors import InvalidInput
from chainpass.passport import ProductPassports, location_id
from chainpass.standards.epcis import (
    EPCIS_CONTEXT,
    IMPLIED_DISPOSITION,
    event_hash,
    events_of,
    hash_uri,
    parse_biz_step,
    parse_disposition,
)
from chainpass.standards.gs1 import ProductKey, parse_code, parse_gtin, parse_serial

#: Steps a CSV event row cannot record (they have their own commands).
NOT_RECORDED = {
    BizStep.NONE: "",
    BizStep.COMMISSIONING: " (commission with `chainpass bulk commission`)",
    BizStep.PACKING: " (pack with `chainpass passport pack`)",
    BizStep.UNPACKING: " (unpack with `chainpass passport unpack`)",
}


# ---------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class RowProblem:
    """What is wrong with one row of a CSV file."""

    line: int
    column: str
    reason: str
    #: What ``line`` counts: "line" of a CSV file, or "event" of an EPCIS document (from 0).
    unit: str = "line"

    def describe(self) -> str:
        head = f"{self.unit} {self.line}"
        return f"{head}, {self.column}: {self.reason}" if self.column else f"{head}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {self.unit: self.line, "column": self.column, "reason": self.reason}


class BadRows(InvalidInput):
    """Rows of a CSV file are invalid: nothing was sent."""

    #: Problems shown in the message; all of them are in ``problems``.
    SHOWN = 20

    def __init__(self, source: str, problems: Sequence[RowProblem]) -> None:
        self.problems = tuple(problems)
        lines = [f"  {p.describe()}" for p in self.problems[: self.SHOWN]]
        if len(self.problems) > self.SHOWN:
            lines.append(f"  ... and {len(self.problems) - self.SHOWN} more")
        rows = len({p.line for p in self.problems})
        what = "row" if not self.problems or self.problems[0].unit == "line" else self.problems[0].unit
        super().__init__(
            f"{rows} bad {what}(s) in {source}; nothing was sent. Fix them and run again:\n" + "\n".join(lines)
        )


@dataclass(frozen=True)
class CsvRow:
    line: int
    #: Values by normalised column name (lower case, no spaces, '_' or '-').
    values: Mapping[str, str]

    def get(self, *names: str) -> str:
        for name in names:
            value = self.values.get(name, "").strip()
            if value:
                return value
        return ""


def normalise(column: str) -> str:
    return "".join(c for c in column.lower() if c not in " _-")


def read_csv(path: Path) -> list[CsvRow]:
    """The rows of a CSV file with a header line (comma, semicolon or tab separated); each
    row keeps the line it starts on. Blank lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"The CSV file {path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"The CSV file {path} is not UTF-8 text (byte {exc.start}).") from None
    return parse_csv(text, str(path))


def parse_csv(text: str, source: str = "the CSV") -> list[CsvRow]:
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(",;\t", key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"{source} is empty: it needs a header line and rows.") from None
    columns = [normalise(c) for c in header]
    rows: list[CsvRow] = []
    line = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                if len(record) > len(columns):
                    raise InvalidInput(
                        f"Line {line} of {source} has {len(record)} cells; the header names {len(columns)}."
                    )
                rows.append(CsvRow(line, dict(zip(columns, record, strict=False))))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput(f"{source} is not valid CSV at line {reader.line_num}: {exc}") from None
    if not rows:
        raise InvalidInput(f"{source} has a header but no rows.")
    return rows


# ---------------------------------------------------------------------------- commission

KINDS = {"item": Kind.ITEM, "lot": Kind.LOT, "container": Kind.CONTAINER}
CODE_COLUMNS = ("code", "digitallink", "uri", "epc", "urn")


@dataclass(frozen=True)
class CommissionRow:
    line: int
    key: ProductKey
    id: int


def commission_rows(rows: Sequence[CsvRow], source: str = "the CSV") -> list[CommissionRow]:
    """Every row of a commission CSV as a product key, or :class:`BadRows` naming every bad
    row. Columns: ``gtin`` and ``serial`` or ``lot``, or ``code`` (a GS1 Digital Link, EPC
    URN or element string); optional ``kind`` (item, lot, container) and ``tier`` (1 case,
    2 pallet, 3 shipping container; a tier makes the row a container)."""
    problems: list[RowProblem] = []
    out: list[CommissionRow] = []
    seen: dict[int, int] = {}
    gtins: dict[str, int] = {}
    for row in rows:
        try:
            key = _commission_key(row, gtins)
        except _Bad as bad:
            problems.append(RowProblem(row.line, bad.column, bad.reason))
            continue
        id_ = ProductPassports.passport_id(key)
        if id_ in seen:
            problems.append(RowProblem(row.line, "", f"{key} is the same passport as line {seen[id_]}"))
            continue
        seen[id_] = row.line
        out.append(CommissionRow(row.line, key, id_))
    if problems:
        raise BadRows(source, problems)
    return out


class _Bad(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def _commission_key(row: CsvRow, gtins: dict[str, int]) -> ProductKey:
    """The row's key; ``gtins`` caches parsed GTINs (a file has few, and parsing one is slow)."""
    kind_text = row.get("kind").lower()
    if kind_text and kind_text not in KINDS:
        raise _Bad("kind", f"{kind_text!r} is not a kind: item, lot or container")
    tier_text = row.get("tier")
    tier = 0
    if tier_text:
        if tier_text not in ("0", "1", "2", "3"):
            raise _Bad("tier", f"{tier_text!r} is not a tier: 1 case, 2 pallet, 3 shipping container (0: goods)")
        tier = int(tier_text)
    kind = KINDS.get(kind_text) or (Kind.CONTAINER if tier else None)
    if kind is Kind.CONTAINER and not tier:
        raise _Bad("tier", "a container needs a tier: 1 case, 2 pallet, 3 shipping container")
    if tier and kind is not Kind.CONTAINER:
        raise _Bad("tier", f"a tier makes the row a container, not a {kind_text}")
    code, gtin, serial, lot = row.get(*CODE_COLUMNS), row.get("gtin"), row.get("serial", "sn"), row.get("lot", "batch")
    if code:
        if gtin or serial or lot:
            raise _Bad("code", "give either a code or gtin with serial or lot, not both")
        try:
            key = parse_code(code, container_tier=tier)
        except InvalidInput as exc:
            raise _Bad("code", str(exc).rstrip(".")) from None
        if kind is not None and key.kind is not kind:
            raise _Bad("kind", f"{code} is a {key.kind.name.lower()}'s code, not a {kind.name.lower()}'s")
        return key
    if not gtin:
        raise _Bad("gtin", "no GTIN (and no code)")
    if serial and lot:
        raise _Bad("lot", "give a serial (an item or container) or a lot, not both")
    if kind is None:
        kind = Kind.LOT if lot else Kind.ITEM
    column, number = ("lot", lot) if kind is Kind.LOT else ("serial", serial)
    if not number:
        raise _Bad(column, f"a {kind.name.lower()} needs a {column} number" if kind_text else "no serial and no lot")
    if gtin not in gtins:
        try:
            gtins[gtin] = parse_gtin(gtin)
        except InvalidInput as exc:
            raise _Bad("gtin", str(exc).rstrip(".")) from None
    try:
        parse_serial(number, f"{column} number")
    except InvalidInput as exc:
        raise _Bad(column, str(exc).rstrip(".")) from None
    return ProductKey(gtins[gtin], kind, number, tier)


# ---------------------------------------------------------------------------- events


@dataclass(frozen=True)
class EventRow:
    """One row of an events CSV: an EPCIS ObjectEvent."""

    line: int
    keys: tuple[ProductKey, ...]
    biz_step: BizStep
    disposition: Disposition
    event_time: int
    read_point: bytes
    #: The equivalent EPCIS 2.0 ObjectEvent (its eventID included).
    epcis: Mapping[str, Any]
    #: Its CBV 2.0 event hash.
    event_id: bytes


def epcis_event(
    keys: Sequence[ProductKey], step: BizStep, disposition: Disposition, when: str, offset: str, read_point: str
) -> dict[str, Any]:
    """The EPCIS 2.0 ObjectEvent a CSV row stands for: OBSERVE (DELETE for decommissioning),
    items in ``epcList`` and lots in ``quantityList``, as GS1 Digital Link URIs."""
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": when,
        "eventTimeZoneOffset": offset,
        "action": "DELETE" if step is BizStep.DECOMMISSIONING else "OBSERVE",
        "bizStep": step.label,
        "disposition": disposition.label,
    }
    items = [k.digital_link() for k in keys if k.kind is not Kind.LOT]
    lots = [{"epcClass": k.digital_link()} for k in keys if k.kind is Kind.LOT]
    if items:
        event["epcList"] = items
    if lots:
        event["quantityList"] = lots
    if read_point:
        event["readPoint"] = {"id": read_point}
    return event


def event_rows(rows: Sequence[CsvRow], source: str = "the CSV") -> list[EventRow]:
    """Every row of an events CSV as an EPCIS ObjectEvent with its hash id, or
    :class:`BadRows` naming every bad row. Columns: ``code`` (one or more codes, separated by
    spaces or '|'), ``bizStep``, ``disposition`` (optional where the step implies one),
    ``eventTime`` (or ``time``: ISO 8601 with a time zone), optional ``readPoint``."""
    problems: list[RowProblem] = []
    out: list[EventRow] = []
    seen: dict[bytes, int] = {}
    for row in rows:
        try:
            event = _event_row(row)
        except _Bad as bad:
            problems.append(RowProblem(row.line, bad.column, bad.reason))
            continue
        if event.event_id in seen:
            problems.append(RowProblem(row.line, "", f"the same event as line {seen[event.event_id]}"))
            continue
        seen[event.event_id] = row.line
        out.append(event)
    if problems:
        raise BadRows(source, problems)
    return out


def _event_row(row: CsvRow) -> EventRow:
    codes = row.get("code", "codes", "epc", "epclist", "digitallink").replace("|", " ").split()
    when_text, read_point = row.get("eventtime", "time", "when"), row.get("readpoint", "location")
    keys, step, disposition, moment, offset = _event_parts(
        codes, row.get("bizstep", "step"), row.get("disposition", "disp"), when_text
    )
    event = epcis_event(keys, step, disposition, when_text, offset, read_point)
    return _built(row.line, keys, step, disposition, moment, read_point, event, None)


def _event_parts(
    codes: Sequence[str], step_text: str, disp_text: str, when_text: str
) -> tuple[list[ProductKey], BizStep, Disposition, dt.datetime, str]:
    """What an ObjectEvent's fields say, checked: its keys, step, disposition, time and the
    time's zone offset (as EPCIS writes it)."""
    if not codes:
        raise _Bad("code", "no code")
    keys: list[ProductKey] = []
    for code in codes:
        try:
            keys.append(parse_code(code))
        except InvalidInput as exc:
            raise _Bad("code", str(exc).rstrip(".")) from None
    if len({ProductPassports.passport_id(k) for k in keys}) != len(keys):
        raise _Bad("code", "names the same code twice")
    if not step_text:
        raise _Bad("bizStep", "no business step (e.g. shipping, receiving, inspecting)")
    try:
        step = parse_biz_step(step_text)
    except InvalidInput as exc:
        raise _Bad("bizStep", str(exc)) from None
    if step in NOT_RECORDED:
        raise _Bad("bizStep", f"{step_text!r} is not recorded as an event{NOT_RECORDED[step]}")
    try:  # a missing disposition: the one the step implies, as an EPCIS import reads it
        disposition = parse_disposition(disp_text) if disp_text else IMPLIED_DISPOSITION.get(step)
    except InvalidInput as exc:
        raise _Bad("disposition", str(exc)) from None
    if disposition is None:
        raise _Bad("disposition", f"a {step.label} event needs a disposition")
    if not when_text:
        raise _Bad("eventTime", "no event time (ISO 8601 with a time zone, e.g. 2026-11-27T09:30:00+08:00)")
    try:
        moment = dt.datetime.fromisoformat(when_text.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad("eventTime", f"{when_text!r} is not an ISO 8601 date-time") from None
    offset = moment.utcoffset()
    if offset is None:
        raise _Bad("eventTime", f"{when_text!r} has no time zone (add Z or +08:00)")
    minutes = int(offset.total_seconds()) // 60
    offset_text = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return keys, step, disposition, moment, offset_text


def _built(
    line: int,
    keys: Sequence[ProductKey],
    step: BizStep,
    disposition: Disposition,
    moment: dt.datetime,
    read_point: str,
    event: Mapping[str, Any],
    context: Any,
) -> EventRow:
    try:
        digest = event_hash(event, context)
    except InvalidInput as exc:
        raise _Bad("", f"the event's {exc}") from None
    return EventRow(
        line=line,
        keys=tuple(keys),
        biz_step=step,
        disposition=disposition,
        event_time=int(moment.timestamp()),
        read_point=location_id(read_point) if read_point else bytes(32),
        epcis={"eventID": hash_uri(digest), **{k: v for k, v in event.items() if k != "eventID"}},
        event_id=digest,
    )


def document_rows(document: Any, source: str = "the document") -> list[EventRow]:
    """The ObjectEvents of an EPCIS 2.0 document as rows (``line`` is the event's index, from
    0, as `chainpass epcis import` counts), with the hash ids the import gives them; or
    :class:`BadRows` naming every event bulk work does not record (aggregations,
    transformations and commissioning go through `chainpass epcis import`)."""
    events = events_of(document)
    context = document.get("@context")
    problems: list[RowProblem] = []
    out: list[EventRow] = []
    seen: dict[bytes, int] = {}
    for index, event in enumerate(events):
        try:
            row = _document_row(index, event, context)
        except _Bad as bad:
            problems.append(RowProblem(index, bad.column, bad.reason, "event"))
            continue
        if row.event_id in seen:
            problems.append(RowProblem(index, "", f"the same event as event {seen[row.event_id]}", "event"))
            continue
        seen[row.event_id] = index
        out.append(row)
    if problems:
        raise BadRows(source, problems)
    if not out:
        raise InvalidInput(f"{source} has no events.")
    return out


def _document_row(index: int, event: Any, context: Any) -> EventRow:
    if not isinstance(event, dict):
        raise _Bad("event", "is not a JSON object")
    kind, action = event.get("type"), event.get("action")
    if kind != "ObjectEvent":
        raise _Bad(
            "type", f"{kind!r}: bulk work records ObjectEvents; import the document with `chainpass epcis import`"
        )
    if action == "ADD":
        raise _Bad("action", "an ADD commissions: use `chainpass bulk commission` or `chainpass epcis import`")
    if action not in ("OBSERVE", "DELETE"):
        raise _Bad("action", f"{action!r} is not an EPCIS action")
    codes = [str(c) for c in event.get("epcList") or []]
    codes += [str(q.get("epcClass")) for q in event.get("quantityList") or [] if isinstance(q, dict)]
    keys, step, disposition, moment, _offset = _event_parts(
        [str(c) for c in codes], str(event.get("bizStep") or ""), str(event.get("disposition") or ""),
        str(event.get("eventTime") or ""),
    )  # fmt: skip
    if action == "DELETE" and step is not BizStep.DECOMMISSIONING:
        raise _Bad("bizStep", "an ObjectEvent DELETE is recorded as decommissioning only")
    read_point = event.get("readPoint")
    point = str(read_point.get("id") or "") if isinstance(read_point, dict) else ""
    return _built(index, keys, step, disposition, moment, point, event, context)


def epcis_document(rows: Sequence[EventRow]) -> dict[str, Any]:
    """The EPCIS 2.0 document with the rows' events: importing it is the same as the CSV."""
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "epcisBody": {"eventList": [dict(r.epcis) for r in rows]},
    }
