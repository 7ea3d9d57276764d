"""The web service's answer cache: answers kept per request and chain head, the least recently used dropped."""

from __future__ import annotations

import pytest

from chainpass.web.cache import Answer, Answers, Head

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
