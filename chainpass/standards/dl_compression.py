"""Compressed GS1 Digital Link URIs: reading them back (and writing them, for round trips).

GS1 Digital Link Standard (1.1, section "compression"; carried on in 1.2 and GS1 Digital
Link: Compression) lets a Digital Link's GS1 data travel as one short path segment of a
URI-safe base64 alphabet, ``https://id.example.org/HxHKVAdpQgZzjr-hCDKigI``, which a
GS1-Conformant Resolver SHALL decompress. The segment is a bit string, six bits a
character (``A-Z a-z 0-9 - _`` are 0 to 63), padded with zero bits to whole characters,
that holds one element after another:

- **an AI**: two decimal digits as two 4-bit nibbles; the digits that follow them (one
  or two more nibbles) come from the first two, as GS1 fixes each AI's length by its first
  two digits (:data:`AI_LENGTHS`). Then its value, by the AI's format, one part after
  another: a fixed-length numeric part as one binary number of
  ``ceil(n * log2(10) + 0.01)`` bits (zero-padded back to its n digits); a variable-length
  numeric part as its length (enough bits for the maximum length) and then that number; a
  fixed-length alphanumeric part as a 3-bit encoding indicator and its characters; a
  variable-length one as the indicator, its length, and its characters.
- **an optimisation code**: a byte with a hexadecimal letter, ``0A`` to ``CD``
  (:data:`OPTIMISATIONS`), standing for a fixed sequence of AIs (``1F`` is 01, 10 and 15)
  whose values follow one after another with no AI written.
- **a non-GS1 key=value pair** (``F`` then a 7-bit key length): the key in the base64
  alphabet, a 3-bit encoding indicator, a 7-bit length and the value.

The encoding indicator of a string says how its characters are packed: 0 all digits, as
one number; 1 lowercase hexadecimal and 2 uppercase (4 bits a character); 3 the base64
alphabet (6 bits); 4 ASCII (7 bits).

What is supported:

- fully compressed links (``/{compressed}``) and partially compressed ones, whose primary
  key stays uncompressed (``/01/{gtin}/{compressed}``);
- every AI that biip (GS1's table, as chainpass reads data attributes) knows with a format
  of numeric and alphanumeric parts (``N14``, ``N..15``, ``X..20``, ``N13[+X..17]`` ...):
  the keys and qualifiers chainpass uses (01, 22, 10, 21, 00, 8004) and every data
  attribute :class:`~chainpass.standards.gs1.DigitalLink` accepts. Formats are read as GS1's
  compression table has them: adjacent fixed numeric parts are one number (8006 and 8026
  are N18), an optional part is variable (7007 is N6 + N..6), and a fixed alphanumeric
  part before a variable one is one variable part (7230 is X..30). AIs of the General
  Specifications newer than GS1's compression table are packed by the same rules (GS1's
  reference code does not know them), and where the table and today's formats differ
  (8007 X..24, 8013 X..30) the table's count;
- GS1's optimisation table, all of it;
- non-GS1 key=value pairs packed with the ``F`` flag: they come back in the query string
  after the GS1 data attributes.

Parts in GS1's smaller character sets (``Y``, set 39, as in 8010; ``Z``, set 64, as in
8030) are alphanumeric parts, as GS1's table has 8010 (X..30).

What is not: the five AIs whose format has other kinds of parts (a trailing ``-`` flag in
4330 to 4333, ``N1..N2`` in 8043), which no compression table defines, and the
compression of EPC binary strings (GS1 Digital Link URI: Compression for EPC binary
strings, 2025), a different scheme. Malformed input (a
character outside the alphabet, an element cut short, a number too big for its digits,
an unknown AI, prefix or optimisation code, an encoding indicator above 4, padding that
is not zero bits, an AI given twice) is :class:`InvalidInput` with one sentence. A value of
digits keeps its leading zeros: its length says how many digits it has (GS1's prototype
decoder drops them from a variable-length value, though its encoder wrote the length).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, unquote, urlencode, urlsplit

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier

from chainpass.errors import InvalidInput


class _Malformed(Exception):
    """What is wrong, as a clause; the public functions make it a sentence (InvalidInput)."""


#: The URI-safe base64 alphabet of the compressed segment: character i stands for i (6 bits).
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_HEX = "0123456789ABCDEF"

#: The length of every AI by its first two digits (GS1 General Specifications; the same
#: table as "table P" of GS1's compression prototype, with 03 and 43 of later releases).
AI_LENGTHS: dict[str, int] = {
    **dict.fromkeys(["00", "01", "02", "03", "10", "11", "12", "13", "15", "16", "17", "20", "21", "22"], 2),
    **dict.fromkeys(["30", "37", "90", "91", "92", "93", "94", "95", "96", "97", "98", "99"], 2),
    **dict.fromkeys(["23", "24", "25", "40", "41", "42", "71"], 3),
    **dict.fromkeys(["31", "32", "33", "34", "35", "36", "39", "43", "70", "72", "80", "81", "82"], 4),
}

#: GS1's optimisation codes: a byte with a hexadecimal letter for a sequence of AIs
#: (GS1 Digital Link Standard's optimisation table, as GS1's compression prototype has it).
#: The order matters to compression: of the codes that save as many AI digits, the first.
OPTIMISATIONS: dict[str, tuple[str, ...]] = {
    "0A": ("01", "22"),
    "0B": ("01", "10"),
    "0C": ("01", "21"),
    "0D": ("01", "17"),
    "0E": ("01", "7003"),
    "0F": ("01", "30"),
    "1A": ("01", "10", "21", "17"),
    "1B": ("01", "15"),
    "1C": ("01", "11"),
    "1D": ("01", "16"),
    "1E": ("01", "91"),
    "1F": ("01", "10", "15"),
    **{f"2{h}": ("01", f"310{i}") for i, h in enumerate("ABCDEF")},
    **{f"3{h}": ("01", f"320{i}") for i, h in enumerate("ABCDEF")},
    "9A": ("8010", "8011"),
    "9B": ("8017", "8019"),
    "9C": ("8018", "8019"),
    "9D": ("414", "254"),
    **{f"A{i}": ("01", f"392{i}") for i in range(10)},
    **{f"C{i}": ("255", f"390{i}") for i in range(10)},
    **{f"C{h}": ("255", f"394{i}") for i, h in enumerate("ABCD")},
}

#: The primary keys of a Digital Link path and their key qualifiers, in path order
#: (GS1 Digital Link URI syntax; 21 and 235 never come together).
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "01": ("22", "10", "21", "235"),
    "8006": ("22", "10", "21"),
    "8010": ("8011",),
    "8017": ("8019",),
    "8018": ("8019",),
    "414": ("254",),
    **dict.fromkeys(["00", "253", "255", "401", "402", "417", "8003", "8004", "8013"], ()),
}
#: The convenience names of releases 1.0 and 1.1 that a partially compressed path may use.
_SHORT_NAMES = {"gtin": "01", "sscc": "00", "giai": "8004", "gln": "414", "grai": "8003", "itip": "8006"}
#: Path segments that are such names, never compressed data (``/01/{gtin}/ser`` lacks a value).
_PATH_WORDS = {*_SHORT_NAMES, "cpv", "lot", "ser", "glnx", "cpsn", "srin"}

#: Encoding indicators of a string (3 bits).
NUMERIC, HEX_LOWER, HEX_UPPER, BASE64, ASCII = range(5)
_NON_GS1 = 0xF


@dataclass(frozen=True)
class Part:
    """One part of an AI's value: numeric (``N``) or alphanumeric (``X``), of a fixed
    length or a maximum one."""

    kind: str
    length: int
    fixed: bool


@dataclass(frozen=True)
class Compressed:
    """What a compressed Digital Link holds: GS1 elements (AI, value) in the order they
    came, and non-GS1 key=value pairs."""

    elements: tuple[tuple[str, str], ...]
    others: tuple[tuple[str, str], ...] = ()


def value_bits(digits: int) -> int:
    """The bits of a number of ``digits`` decimal digits: ``ceil(digits * log2(10) + 0.01)``,
    in the floating point GS1's reference code uses (so 0 digits take 1 bit)."""
    return math.ceil(digits * math.log(10) / math.log(2) + 0.01)


def length_bits(maximum: int) -> int:
    """The bits of a length of at most ``maximum``: ``ceil(log2(maximum) + 0.01)``."""
    return math.ceil(math.log(maximum) / math.log(2) + 0.01)


def parts_of(ai: str) -> tuple[Part, ...]:
    """How the value of ``ai`` is compressed, from its format in biip's AI table;
    :class:`InvalidInput` for an AI that is unknown or has a format no compression
    table defines."""
    try:
        return _parts_of(ai)
    except _Malformed as exc:
        raise InvalidInput(f"AI {ai} cannot be compressed: {exc}.") from None


#: Where GS1's compression table and the General Specifications biip follows differ, the
#: table fixes the bits: 8007 (an IBAN, X..34 today) and 8013 (a GMN, X..25 today).
_GS1_TABLE = {"8007": (Part("X", 24, False),), "8013": (Part("X", 30, False),)}


@cache
def _parts_of(ai: str) -> tuple[Part, ...]:
    if ai in _GS1_TABLE:
        return _GS1_TABLE[ai]
    try:
        known = GS1ApplicationIdentifier.extract(ai)
    except ParseError:
        known = None
    if known is None or known.ai != ai or AI_LENGTHS.get(ai[:2]) != len(ai):
        raise _Malformed(f"{ai} is no GS1 Application Identifier")
    pieces = known.format.replace("[+", "+[").split("+")[1:]
    parts: list[Part] = []
    for piece in pieces:
        optional = piece.startswith("[")
        match = re.fullmatch(r"([NXYZ])(\.\.)?(\d+)", piece.strip("[]"))
        if match is None:
            raise _Malformed(f"AI {ai}'s format, {known.format}, has no compressed form in GS1's table")
        # Y (set 39) and Z (set 64) are subsets of X (set 82): GS1's table has 8010 as X..30.
        kind = "N" if match[1] == "N" else "X"
        fixed, length = not match[2] and not optional, int(match[3])
        last = parts[-1] if parts else None
        if last is not None and last.fixed and last.kind == kind == "N" and fixed:
            parts[-1] = Part("N", last.length + length, True)  # N14+N2+N2 is one N18
        elif last is not None and last.fixed and last.kind == kind == "X" and not fixed:
            parts[-1] = Part("X", last.length + length, False)  # X2+X..28 is one X..30
        else:
            parts.append(Part(kind, length, fixed))
    return tuple(parts)


# ------------------------------------------------------------------------- reading


class _Bits:
    """A bit string read from the left, each read saying what it is for when cut short."""

    def __init__(self, segment: str) -> None:
        self.bits = "".join(f"{ALPHABET.index(c):06b}" for c in segment)
        self.at = 0

    @property
    def left(self) -> int:
        return len(self.bits) - self.at

    def take(self, count: int, what: str) -> int:
        if count > self.left:
            raise _Malformed(f"its data ends in the middle of {what}")
        chunk = self.bits[self.at : self.at + count]
        self.at += count
        return int(chunk, 2) if chunk else 0


def decompress(segment: str) -> Compressed:
    """The GS1 elements and non-GS1 pairs of one compressed segment (the base64 characters
    alone); :class:`InvalidInput` says what is malformed."""
    try:
        return _decompress(segment)
    except _Malformed as exc:
        raise InvalidInput(f"{segment!r} is not compressed GS1 data: {exc}.") from None


def _decompress(segment: str) -> Compressed:
    if not _SEGMENT.fullmatch(segment):
        raise _Malformed("it must be letters, digits, '-' and '_' only")
    bits = _Bits(segment)
    elements: dict[str, str] = {}
    others: list[tuple[str, str]] = []
    while bits.left >= 6:  # less is the padding to whole characters
        h1, h2 = bits.take(4, "an AI"), bits.take(4, "an AI")
        code = f"{h1:X}{h2:X}"
        if h1 <= 9 and h2 <= 9:
            length = AI_LENGTHS.get(code)
            if length is None:
                raise _Malformed(f"it names an AI beginning {code}, and no GS1 Application Identifier does")
            ai = code
            for _ in range(length - 2):
                digit = bits.take(4, f"AI {ai}…")
                if digit > 9:
                    raise _Malformed(f"AI {ai}… goes on with hexadecimal {digit:X}, which is no digit")
                ai += str(digit)
            sequence: tuple[str, ...] = (ai,)
        elif code in OPTIMISATIONS:
            sequence = OPTIMISATIONS[code]
        elif h1 == _NON_GS1:
            key_length = h2 << 3 | bits.take(3, "a key's length")
            key = "".join(ALPHABET[bits.take(6, "a key")] for _ in range(key_length))
            if not key:
                raise _Malformed("it has a key=value pair with an empty key")
            encoding = bits.take(3, f"the encoding of {key}'s value")
            others.append((key, _characters(bits, encoding, bits.take(7, f"the length of {key}'s value"), key)))
            continue
        else:
            raise _Malformed(f"it has the code {code}, which is neither an AI nor one of GS1's optimisations")
        for ai in sequence:
            if ai in elements:
                raise _Malformed(f"it gives AI {ai} twice")
            elements[ai] = "".join(_part(bits, part, ai) for part in _parts_of(ai))
    if bits.bits[bits.at :].strip("0"):
        raise _Malformed("it ends with bits that are no element and not the zero padding")
    return Compressed(tuple(elements.items()), tuple(others))


def _part(bits: _Bits, part: Part, ai: str) -> str:
    if part.kind == "N":
        digits = part.length if part.fixed else bits.take(length_bits(part.length), f"the length of AI {ai}")
        if digits > part.length:
            raise _Malformed(f"AI {ai} has {digits} digits, more than its {part.length}")
        return _number(bits, digits, f"AI {ai}")
    encoding = bits.take(3, f"the encoding of AI {ai}")
    count = part.length if part.fixed else bits.take(length_bits(part.length), f"the length of AI {ai}")
    if count > part.length:
        raise _Malformed(f"AI {ai} has {count} characters, more than its {part.length}")
    return _characters(bits, encoding, count, f"AI {ai}")


def _number(bits: _Bits, digits: int, what: str) -> str:
    number = bits.take(value_bits(digits), f"the value of {what}")
    if number >= 10**digits:
        raise _Malformed(f"the value of {what} is {number}, more than its {digits} digits hold")
    return f"{number:0{digits}d}" if digits else ""


def _characters(bits: _Bits, encoding: int, count: int, what: str) -> str:
    if encoding == NUMERIC:
        return _number(bits, count, what)
    if encoding in (HEX_LOWER, HEX_UPPER):
        text = "".join(_HEX[bits.take(4, f"the value of {what}")] for _ in range(count))
        return text.lower() if encoding == HEX_LOWER else text
    if encoding == BASE64:
        return "".join(ALPHABET[bits.take(6, f"the value of {what}")] for _ in range(count))
    if encoding == ASCII:
        return "".join(chr(bits.take(7, f"the value of {what}")) for _ in range(count))
    raise _Malformed(f"the value of {what} has encoding {encoding}, and GS1's are 0 to 4")


def decompress_path(path: str) -> str:
    """A compressed Digital Link path, fully (``/{compressed}``) or partially
    (``/01/{gtin}/{compressed}``), as the uncompressed path and query it stands for:
    ``/01/{gtin}/22/…/10/…/21/…`` (values percent-encoded as
    :class:`~chainpass.standards.gs1.DigitalLink` writes them), then ``?`` and the data
    attributes sorted by AI, then the non-GS1 pairs. :class:`InvalidInput` (one sentence)
    for anything that is not one."""
    try:
        return _decompress_path(path)
    except _Malformed as exc:
        raise InvalidInput(f"{path!r} is not a GS1 Digital Link path, compressed or not: {exc}.") from None


def _decompress_path(path: str) -> str:
    segments = path.strip("/").split("/")
    if len(segments) == 1:
        held = _decompress(segments[0])
        elements = list(held.elements)
    elif len(segments) == 3:
        key = _SHORT_NAMES.get(segments[0], segments[0])
        if key not in PRIMARY_KEYS:
            raise _Malformed(f"/{segments[0]}/ is no GS1 primary key")
        held = _decompress(segments[2])
        elements = [(key, unquote(segments[1])), *held.elements]
    else:
        raise _Malformed("a compressed one is one segment, or a primary key, its value and one segment")
    found = dict(elements)
    if len(found) != len(elements):
        raise _Malformed("it gives its primary key twice")
    keys = [ai for ai in found if ai in PRIMARY_KEYS]
    if len(keys) != 1:
        raise _Malformed(f"it holds {len(keys)} GS1 primary keys ({', '.join(keys) or 'none'}), and a link has one")
    key = keys[0]
    in_path = [key, *(q for q in PRIMARY_KEYS[key] if q in found)]
    uri = "".join(f"/{ai}/{quote(found[ai], safe='')}" for ai in in_path)
    query = [f"{ai}={quote(found[ai], safe='')}" for ai in sorted(set(found) - set(in_path))]
    if held.others:
        query.append(urlencode(held.others))
    return uri + ("?" + "&".join(query) if query else "")


def is_compressed_path(path: str) -> bool:
    """Whether ``path`` (after the resolver) has the shape of a compressed Digital Link: one
    segment of the base64 alphabet that is not all digits, or a primary key, its value and
    such a segment. Whether it decompresses is :func:`decompress_path`'s to say."""
    segments = path.strip("/").split("/")
    if len(segments) == 3 and _SHORT_NAMES.get(segments[0], segments[0]) in PRIMARY_KEYS:
        last = segments[2]
    elif len(segments) == 1:
        last = segments[0]
    else:
        return False
    return bool(_SEGMENT.fullmatch(last)) and not last.isdigit() and last not in _PATH_WORDS


def _compressed_split(uri: str) -> tuple[str, str, str] | None:
    """``uri`` split as a compressed Digital Link URI: its resolver (with any path prefix), its
    compressed path (``/{compressed}`` or ``/01/{gtin}/{compressed}``) and its query; ``None``
    when it has not that shape. The path prefix must name no GS1 key, so that an uncompressed
    link (``…/01/{gtin}/21/BAG1``, whose last segment looks like compressed data) is never one."""
    value = str(uri).strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    segments = parts.path.split("/")
    partial = len(segments) >= 4 and _SHORT_NAMES.get(segments[-3], segments[-3]) in PRIMARY_KEYS
    keep = len(segments) - (3 if partial else 1)
    path = "/" + "/".join(segments[keep:])
    if any(_SHORT_NAMES.get(s, s) in PRIMARY_KEYS for s in segments[:keep]) or not is_compressed_path(path):
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{'/'.join(segments[:keep])}", path, parts.query


def is_compressed_digital_link(uri: str) -> bool:
    """Whether ``uri`` has the shape of a compressed Digital Link URI: ``http(s)://``, a domain,
    a path prefix that names no GS1 key, then a compressed path (:func:`is_compressed_path`).
    Whether it decompresses is :func:`decompress_digital_link`'s to say."""
    return _compressed_split(uri) is not None


def decompress_digital_link(uri: str) -> str:
    """A compressed Digital Link URI (``https://id.example.org/HxHK…``, as a phone's camera
    reads it from a QR code; any uncompressed query string kept after the decompressed one) as
    its uncompressed URI on the same resolver (and path prefix). :class:`InvalidInput` (one
    sentence, naming ``uri``) for anything that is not one."""
    split = _compressed_split(uri)
    if split is None:
        raise InvalidInput(
            f"{uri!r} is no compressed GS1 Digital Link URI: it must be https://, a domain and a compressed path."
        )
    resolver, path, query = split
    try:
        uncompressed = _decompress_path(path)
    except _Malformed as exc:
        raise InvalidInput(f"{uri!r} is not a GS1 Digital Link URI, compressed or not: {exc}.") from None
    return resolver + uncompressed + (("&" if "?" in uncompressed else "?") + query if query else "")


# ------------------------------------------------------------------------- writing


def compress(
    elements: list[tuple[str, str]] | tuple[tuple[str, str], ...],
    others: list[tuple[str, str]] | tuple[tuple[str, str], ...] = (),
    *,
    optimise: bool = True,
) -> str:
    """GS1 ``elements`` (AI, value) and non-GS1 pairs as one compressed segment, as GS1's
    reference code writes it: optimisation codes first (each time the one that saves most
    AI digits, the first of the table on a tie), then the other AIs in sorted order, then
    the pairs; each string in the first encoding of numeric, lower hex, upper hex, base64,
    ASCII that holds it. For round trips: chainpass prints uncompressed links."""
    values = dict(elements)
    if len(values) != len(elements):
        raise InvalidInput("A Digital Link gives each AI once: these give one twice.")
    left = sorted(values)
    out: list[str] = []
    while optimise:
        fits = [code for code, seq in OPTIMISATIONS.items() if all(ai in left for ai in seq)]
        if not fits:
            break
        best = max(fits, key=lambda code: len("".join(OPTIMISATIONS[code])))  # first of the longest
        out.append(f"{int(best, 16):08b}")
        for ai in OPTIMISATIONS[best]:
            out.append(_value(ai, values[ai]))
            left.remove(ai)
    for ai in left:
        out.append("".join(f"{int(d):04b}" for d in ai) + _value(ai, values[ai]))
    for key, value in others:
        if not (_SEGMENT.fullmatch(key) and len(key) < 128 and len(value) < 128):
            raise InvalidInput(
                f"The pair {key}={value!r} cannot be compressed: a key of base64 characters, both < 128."
            )
        out.append(f"{_NON_GS1:04b}{len(key):07b}" + "".join(f"{ALPHABET.index(c):06b}" for c in key))
        out.append(_string(value, f"{len(value):07b}"))
    bits = "".join(out)
    bits += "0" * (-len(bits) % 6)
    return "".join(ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def _value(ai: str, value: str) -> str:
    """The bits of ``value`` by the parts of ``ai`` (a variable part is always the last)."""
    out: list[str] = []
    rest = value
    for part in parts_of(ai):
        text, rest = (rest[: part.length], rest[part.length :]) if part.fixed else (rest, "")
        if len(text) != part.length if part.fixed else len(text) > part.length:
            raise InvalidInput(f"AI {ai}'s value {value!r} does not fit its format.")
        size = "" if part.fixed else f"{len(text):0{length_bits(part.length)}b}"
        if part.kind == "X":
            out.append(_string(text, size))
        elif text == "" or (text.isascii() and text.isdigit()):
            out.append(size + f"{int(text or 0):0{value_bits(len(text))}b}")
        else:
            raise InvalidInput(f"AI {ai}'s value {value!r} must be digits.")
    if rest:
        raise InvalidInput(f"AI {ai}'s value {value!r} is longer than its format.")
    return "".join(out)


def _string(text: str, size: str) -> str:
    """The encoding indicator, ``size`` and ``text`` packed in the first encoding that holds it."""
    if text.isascii() and text.isdigit():
        return f"{NUMERIC:03b}{size}{int(text):0{value_bits(len(text))}b}"
    if re.fullmatch(r"[0-9a-f]+", text):
        return f"{HEX_LOWER:03b}{size}" + "".join(f"{_HEX.index(c.upper()):04b}" for c in text)
    if re.fullmatch(r"[0-9A-F]+", text):
        return f"{HEX_UPPER:03b}{size}" + "".join(f"{_HEX.index(c):04b}" for c in text)
    if _SEGMENT.fullmatch(text):
        return f"{BASE64:03b}{size}" + "".join(f"{ALPHABET.index(c):06b}" for c in text)
    if not all(ord(c) < 128 for c in text):
        raise InvalidInput(f"{text!r} cannot be compressed: it has characters outside ASCII.")
    return f"{ASCII:03b}{size}" + "".join(f"{ord(c):07b}" for c in text)
