"""Enums that mirror the contracts' and read and print as lower-case names."""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Self

from chainpass.errors import InvalidInput


class NamedEnum(IntEnum):
    """An enum that parses from and prints as its lower-case name (``in_transit``)."""

    @classmethod
    def parse(cls, text: str | int) -> Self:
        if isinstance(text, int) or (isinstance(text, str) and text.isdigit()):
            try:
                return cls(int(text))
            except ValueError:
                pass
        else:
            for member in cls:
                if member.label == str(text).strip().lower().replace("-", "_").replace(" ", "_"):
                    return member
        choices = ", ".join(m.label for m in cls if m.value or not cls.zero_is_none())
        kind = re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()  # SuspensionReason: "suspension reason"
        raise InvalidInput(f"{text!r} is not a valid {kind}: choose one of {choices}.")

    @classmethod
    def zero_is_none(cls) -> bool:
        """Whether the zero member means "none" and is left out of the choices offered."""
        return True

    @property
    def label(self) -> str:
        return self.name.lower()
