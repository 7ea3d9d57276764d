"""The web service's answer cache: answers kept per request and chain head, the least recently used dropped."""

from __future__ import annotations

import asyncio

import pytest
from starlette.types import Message, Receive, Scope, Send

from chainpass.web.cache import Answer, Answers, CachedAnswers, Head

ONE, TWO = Head(1, b"\x01" * 32), Head(2, b"\x02" * 32)
REORGED = Head(2, b"\x03" * 32)


def answer(text: str) -> Answer:
    return Answer(200, (("Content-Type", "text/html"),), text.encode())


def test_an_answer_is_kept_for_its_request_at_its_head_only() -> None:
    answers = Answers()
    answers.put("/passport/a", ONE, answer("a at 1"))

    assert answers.get("/passport/a", ONE) == answer("a at 1")
    assert answers.get("/passport/a", TWO) is None  # a new block: made again
    assert answers.get("/passport/b", ONE) is None
    assert answers.get("/passport/a", None) is None  # the head not known yet


def test_a_reorganisation_at_the_same_height_is_a_new_head() -> None:
    answers = Answers()
    answers.put("/passport/a", TWO, answer("before the reorg"))

    assert answers.get("/passport/a", REORGED) is None


def test_the_least_recently_used_answer_goes_first() -> None:
    answers = Answers(size=2)
    answers.put("a", ONE, answer("a"))
    answers.put("b", ONE, answer("b"))
    assert answers.get("a", ONE) is not None  # a is used: b is now the oldest
    answers.put("c", ONE, answer("c"))

    assert (answers.get("a", ONE), answers.get("b", ONE), answers.get("c", ONE)) == (answer("a"), None, answer("c"))
    assert len(answers) == 2


def test_a_cache_holds_at_least_one_answer() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Answers(size=0)


# ------------------------------------------------------------------ the middleware


class Counting:
    """An ASGI app that answers with the number of times it was asked, and a status and
    Cache-Control header taken from the path (``/404``, ``/no-store``)."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        status = 404 if scope["path"] == "/404" else 500 if scope["path"] == "/500" else 200
        headers = [(b"content-type", b"text/plain")]
        if scope["path"] == "/no-store":
            headers.append((b"cache-control", b"no-store"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": f"call {self.calls}".encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b"."})


def ask(app: CachedAnswers, path: str, method: str = "GET", language: bytes = b"en") -> tuple[int, bytes]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"accept-language", language)]}  # fmt: skip
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_the_middleware_answers_again_while_the_head_stays() -> None:
    inner, head = Counting(), [ONE]

    async def current() -> Head:
        return head[0]

    app = CachedAnswers(inner, current)

    first, again = ask(app, "/passport/a"), ask(app, "/passport/a")
    other_language = ask(app, "/passport/a", language=b"zh")
    head[0] = TWO
    after_a_block = ask(app, "/passport/a")

    assert first == again == (200, b"call 1.")
    assert other_language == (200, b"call 2.")
    assert after_a_block == (200, b"call 3.") and inner.calls == 3


@pytest.mark.parametrize(("path", "method", "kept"), [
    ("/404", "GET", True),  # no such passport, at this head
    ("/500", "GET", False),
    ("/no-store", "GET", False),  # what holds personal data
    ("/passport/a", "POST", False),
])  # fmt: skip
def test_what_the_middleware_keeps(path: str, method: str, kept: bool) -> None:
    inner = Counting()

    async def one() -> Head:
        return ONE

    app = CachedAnswers(inner, one)

    ask(app, path, method)
    ask(app, path, method)

    assert inner.calls == (1 if kept else 2)


def test_nothing_is_kept_while_the_head_cannot_be_read() -> None:
    inner = Counting()

    async def gone() -> Head:
        raise ConnectionError("the node is gone")

    app = CachedAnswers(inner, gone)

    ask(app, "/passport/a")
    ask(app, "/passport/a")

    assert inner.calls == 2


class Slow(Counting):
    """A Counting app that takes a while to answer (as a page being made does)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(0.05)
        await super().__call__(scope, receive, send)


def ask_together(app: CachedAnswers, path: str, count: int) -> list[tuple[int, bytes]]:
    """``count`` requests for ``path`` at once."""

    async def one() -> tuple[int, bytes]:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
                 "headers": []}  # fmt: skip
        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    async def all_at_once() -> list[tuple[int, bytes]]:
        return list(await asyncio.gather(*(one() for _ in range(count))))

    return asyncio.run(all_at_once())


def at_one(inner: Counting) -> CachedAnswers:
    """The middleware over ``inner`` on a chain whose head stays at ``ONE``."""

    async def one() -> Head:
        return ONE

    return CachedAnswers(inner, one)


def test_requests_that_miss_together_wait_for_the_one_answer_being_made() -> None:
    inner = Slow()
    app = at_one(inner)

    answers = ask_together(app, "/passport/a", 20)

    assert answers == [(200, b"call 1.")] * 20 and inner.calls == 1  # made once, for all twenty
    assert ask_together(app, "/passport/a", 1) == [(200, b"call 1.")] and inner.calls == 1  # and kept


def test_requests_that_miss_together_each_ask_when_the_answer_is_not_kept() -> None:
    inner = Slow()

    answers = ask_together(at_one(inner), "/500", 5)

    assert inner.calls == 5
    assert sorted(body for _status, body in answers) == [f"call {n}.".encode() for n in range(1, 6)]
