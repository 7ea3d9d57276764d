"""One JSON form for the records chainpass reads and reports (``--json``, the web of issue 16).

A record is a dataclass that inherits :class:`JsonRecord`; its ``to_json()`` turns each field
into JSON the same way: bytes as ``0x`` hex, a contract enum as its label (``"in_transit"``, else
its name in lower case), a passport id as ``0x`` hex, a block time as seconds with an ISO
8601 companion (``expires_at`` and ``expires``), nested records as their JSON, tuples as
lists. A field says how it differs through its metadata (:data:`PASSPORT_ID`,
:func:`timestamp`, :data:`FLATTEN`); nothing else is hand-written. File formats that other programs read
(credentials, disclosures, typed data, deployment records) keep their own explicit
``to_json``, paired with a ``from_json``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from typing import Any, ClassVar

#: Field metadata: how the field's value becomes JSON.
_CONVERT = "json"
#: Field metadata: the key of an ISO 8601 companion of a block time.
_ISO = "iso"
#: Field metadata: the field (a dict) is written as keys of the record itself.
_FLATTEN = "flatten"
#: Metadata of a dict field whose keys join the record's own (an event's details).
FLATTEN: Mapping[str, bool] = {_FLATTEN: True}


def iso(timestamp: int) -> str:
    """A block time (seconds since 1970, UTC) in ISO 8601, e.g. ``2026-12-04T21:57:15Z``."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat().replace("+00:00", "Z")


def _passport_id(value: int) -> str | None:
    return hex(value) if value else None


#: Metadata of a passport-id field: ``0x`` hex, and None for 0 ("none").
PASSPORT_ID: Mapping[str, Callable[[Any], Any]] = {_CONVERT: _passport_id}


def timestamp(companion: str) -> Mapping[str, str]:
    """Metadata of a block-time field: written as seconds and, under ``companion``, in ISO
    8601 (``expires_at: int = field(metadata=timestamp("expires"))``)."""
    return {_ISO: companion}


def json_value(value: Any) -> Any:
    """``value`` as JSON, by the rules of the module description."""
    if isinstance(value, JsonRecord):
        return value.to_json()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, enum.Enum):
        label = getattr(value, "label", None)
        return label if isinstance(label, str) else value.name.lower()
    if isinstance(value, tuple | list):
        return [json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)  # paths, and anything else with a plain text form


class JsonRecord:
    """A dataclass whose ``to_json()`` follows the module's rules: its fields, then the
    properties named in :attr:`JSON_PROPERTIES`."""

    #: Properties written after the fields (e.g. ``valid``, worked out from a field).
    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        assert is_dataclass(self)
        out: dict[str, Any] = {}
        for each in fields(self):
            value = getattr(self, each.name)
            if _FLATTEN in each.metadata:
                out.update(json_value(value))
                continue
            convert = each.metadata.get(_CONVERT, json_value)
            out[each.name] = convert(value)
            if _ISO in each.metadata:
                out[each.metadata[_ISO]] = iso(value) if value else None
        for name in self.JSON_PROPERTIES:
            out[name] = json_value(getattr(self, name))
        return out
