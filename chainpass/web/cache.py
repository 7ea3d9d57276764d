"""What the web service answers again without asking the chain: answers kept per chain head.

A passport page is the same for as long as the chain's head block is the same, so an answer
is kept under its request and the head it was made at (:class:`Answers`, least recently used
first out). The head itself is asked of the chain by the service in the background every
:data:`HEAD_INTERVAL` seconds, not once per request: a page is at most
that far behind the chain, and a page already made is answered without the chain, the index
or a template. A reorganisation gives a new head hash, so nothing made before it is
answered after it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

#: Seconds between two looks at the chain's head (a block comes every 2 to 12 s on a live chain).
HEAD_INTERVAL = 0.25
#: Answers kept (a passport page is some 10 KB: some 20 MB at most).
ANSWERS_KEPT = 2_048


@dataclass(frozen=True)
class Head:
    """The chain's head block: its number and hash (a reorganisation changes the hash)."""

    number: int
    hash: bytes


@dataclass(frozen=True)
class Answer:
    """An answer as it went out: status, headers and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Answers:
    """Answers by (request, head), the least recently used dropped beyond ``size``; safe to
    share between the event loop and the worker thread."""

    def __init__(self, size: int = ANSWERS_KEPT) -> None:
        if size < 1:
            raise ValueError("An answer cache holds at least one answer.")
        self.size = size
        self._kept: OrderedDict[tuple[Hashable, Head], Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, request: Hashable, head: Head | None) -> Answer | None:
        """The answer kept for ``request`` at ``head`` (None if none, or if the head is not known)."""
        if head is None:
            return None
        with self._lock:
            answer = self._kept.get((request, head))
            if answer is not None:
                self._kept.move_to_end((request, head))
            return answer

    def put(self, request: Hashable, head: Head, answer: Answer) -> None:
        with self._lock:
            self._kept[(request, head)] = answer
            self._kept.move_to_end((request, head))
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)
