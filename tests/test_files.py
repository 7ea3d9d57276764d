"""Atomic files (chainpass.files): a reader sees the old file or the new one; a device or a
pipe given as the file is written into, never replaced by a regular file."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from chainpass.errors import FileNotWritable
from chainpass.files import write_bytes_atomic, write_json_atomic


def test_a_file_is_replaced_whole_and_a_private_one_is_its_owners(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "record.json"
    write_json_atomic(path, {"a": 1})
    write_json_atomic(path, {"b": 2}, private=True)
    assert json.loads(path.read_text()) == {"b": 2}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["record.json"]  # no temporary file left


def test_dev_null_stays_a_device() -> None:
    """`--out /dev/null` discards the output; as root a rename would have put a regular file
    in /dev/null's place (the CLI fuzz test gives /dev/null as an output path)."""
    write_bytes_atomic(Path("/dev/null"), b"discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_pipe_is_written_into(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_bytes_atomic(fifo, b"through the pipe")
    reader.join(timeout=10)
    assert received == [b"through the pipe"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_unwritable_place_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FileNotWritable, match=r"^Cannot write .*below\.json"):
        write_bytes_atomic(blocker / "below.json", b"{}")
