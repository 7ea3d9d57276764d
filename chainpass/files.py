"""Atomic files: readers see the old file or the new one, never half of either."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from chainpass.errors import FileNotWritable


def write_json_atomic(path: Path, data: Any, *, private: bool = False) -> Path:
    """Write ``data`` as JSON to ``path`` atomically (see :func:`write_bytes_atomic`)."""
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"), private=private)


def write_bytes_atomic(path: Path, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    With ``private`` the file is readable by its owner only (mode 0600) from the
    moment it exists: for credentials and keystores.

    A ``path`` that is a device or a pipe (``/dev/null``, ``/dev/stdout``, a FIFO) is written
    into, not replaced: a rename would put a regular file where the device was (as root, even
    in ``/dev``).
    """
    if path.exists() and not path.is_file() and not path.is_dir():
        try:
            with path.open("wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise FileNotWritable(f"Cannot write {path}: {exc.strerror or exc}.") from None
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise FileNotWritable(f"Cannot write {path}: {exc.strerror or exc} ({exc.filename or path.parent}).") from None
    try:
        os.fchmod(fd, 0o600 if private else 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FileNotWritable(f"Cannot write {path}: {exc.strerror or exc}.") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
