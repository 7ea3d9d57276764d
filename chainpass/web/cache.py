"""What the web service answers again without asking the chain: answers kept per chain head.

A passport page is the same for as long as the chain's head block is the same, so an answer
is kept under its request and the head it was made at (:class:`Answers`, least recently used
first out). The head is read after each request came (``head()``: the service's
``fresh_head``, one read shared by the requests that come while one is under way), so nothing
kept is older than the request, and a page already made is answered without the index or a
template. A reorganisation gives a new head hash, so nothing made before it is answered after it.
The requests that miss while the same answer is being made wait for it rather than each
making it again (after a new block, a crowd of readers of one page costs one page made).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


#: The statuses kept: a page, a redirect, "no such passport" (a new block may change each).
KEPT_STATUSES = frozenset({200, 307, 404})
#: The request headers an answer may depend on (content and language negotiation, the
#: language chosen on the page).
VARIES_WITH = (b"accept", b"accept-language", b"cookie")


class CachedAnswers:
    """An ASGI middleware that answers a GET or HEAD request again from :class:`Answers` while
    the chain's head is the one it was made at (``head()``: the head as it is after the request
    came; an error from it lets the request through to the app, which answers it, e.g. 503).
    Only :data:`KEPT_STATUSES` are kept, and never an answer that says
    ``Cache-Control: no-store`` (what holds personal data, e.g. a disclosure)."""

    def __init__(self, app: ASGIApp, head: Callable[[], Awaitable[Head]], answers: Answers | None = None) -> None:
        self.app = app
        self.head = head
        self.answers = answers if answers is not None else Answers()
        #: The answers being made, by (request, head): what the requests that miss meanwhile
        #: wait for (None if the answer made was not one to keep: they ask the app themselves).
        self._making: dict[tuple[Hashable, Head], asyncio.Future[Answer | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request = (scope["method"], scope.get("raw_path") or scope["path"].encode(), scope["query_string"],
                   *(headers.get(name, b"") for name in VARIES_WITH))  # fmt: skip
        head: Head | None
        try:
            head = await self.head()
        except Exception:  # the chain out of reach: the app says so (503), nothing is kept
            head = None
        kept = self.answers.get(request, head)
        if kept is None and head is not None and (request, head) in self._making:
            kept = await asyncio.shield(self._making[(request, head)])
        if kept is not None:
            await send({"type": "http.response.start", "status": kept.status,
                        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept.headers]})  # fmt: skip
            await send({"type": "http.response.body", "body": kept.body})
            return
        if head is None:
            await self.app(scope, receive, send)
            return
        making: asyncio.Future[Answer | None] = asyncio.get_running_loop().create_future()
        self._making[(request, head)] = making
        started: Message = {}
        body: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body", False) and _keepable(started) and not making.done():
                    answer_headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in started["headers"])
                    made = Answer(started["status"], answer_headers, b"".join(body))
                    self.answers.put(request, head, made)
                    making.set_result(made)
            await send(message)

        try:
            await self.app(scope, receive, keep)
        finally:
            if not making.done():
                making.set_result(None)  # not one to keep (or it failed): the others ask the app
            if self._making.get((request, head)) is making:
                del self._making[(request, head)]


def _keepable(started: Message) -> bool:
    if started.get("status") not in KEPT_STATUSES:
        return False
    cache_control = b",".join(v for k, v in started.get("headers", []) if k.lower() == b"cache-control")
    return b"no-store" not in cache_control
