"""QR codes of passports (chainpass.standards.qr) and `chainpass passport qr`: no chain, no node.

What is written is checked three independent ways: its structure is read back here
without segno (the SVG's path, the PNG's pixels, decoded by hand), compared module by
module with segno's own matrix of the Digital Link, and the image is decoded by a
different QR library (zxing-cpp), which must read the Digital Link and level M.
"""

from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
import zxingcpp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chainpass.cli import main
from chainpass.errors import InvalidInput
from chainpass.standards.gs1 import ProductKey
from chainpass.standards.qr import DEFAULT_SCALE, QUIET_ZONE, qr_code, qr_format, render, write_qr

SVG = "{http://www.w3.org/2000/svg}"
BAG = ProductKey.item("9506000134352", "BAG-001")
LINK = "https://id.gs1.org/01/09506000134352/21/BAG-001"
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

Grid = list[list[bool]]


# --------------------------------------------------------- reading images by hand


def svg_grid(data: bytes) -> tuple[int, Grid, ET.Element]:
    """The viewBox size and the dark modules of a segno SVG, from its qrline path."""
    root = ET.fromstring(data)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    x0, y0, width, height = (float(v) for v in root.attrib["viewBox"].split())
    assert (x0, y0) == (0, 0) and width == height and width.is_integer()
    size = int(width)
    grid = [[False] * size for _ in range(size)]
    (line,) = [p for p in root.iter(f"{SVG}path") if p.get("class") == "qrline"]
    x = y = 0.0
    tokens = re.findall(r"[A-Za-z]|-?\d+(?:\.\d+)?", line.attrib["d"])
    i = 0
    while i < len(tokens):
        command = tokens[i]
        if command == "M":
            x, y, i = float(tokens[i + 1]), float(tokens[i + 2]), i + 3
        elif command == "m":
            x, y, i = x + float(tokens[i + 1]), y + float(tokens[i + 2]), i + 3
        elif command == "h":
            run = float(tokens[i + 1])
            for column in range(int(x), int(x + run)):
                grid[int(y)][column] = True  # a line at y + 0.5 paints row int(y)
            x, i = x + run, i + 2
        else:
            raise AssertionError(f"unexpected path command {command!r}")
    return size, grid, root


def png_grid(data: bytes) -> tuple[int, int, Grid]:
    """Width, height and dark pixels of a greyscale PNG, decoded without a library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, bytes] = {}
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        assert struct.unpack(">I", data[position + 8 + length : position + 12 + length])[0] == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (colour, interlace) == (0, 0) and depth in (1, 8)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = (width * depth + 7) // 8
    rows: list[bytes] = []
    previous = bytes(stride)
    for r in range(height):
        kind, line = raw[r * (stride + 1)], bytearray(raw[r * (stride + 1) + 1 : (r + 1) * (stride + 1)])
        for c in range(stride):
            left = line[c - 1] if c else 0
            up, corner = previous[c], previous[c - 1] if c else 0
            if kind == 1:
                line[c] = (line[c] + left) & 0xFF
            elif kind == 2:
                line[c] = (line[c] + up) & 0xFF
            elif kind == 3:
                line[c] = (line[c] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                best = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
                line[c] = (line[c] + best) & 0xFF
        rows.append(bytes(line))
        previous = bytes(line)
    if depth == 1:
        grid = [[not (row[x // 8] >> (7 - x % 8)) & 1 for x in range(width)] for row in rows]
    else:
        grid = [[row[x] < 128 for x in range(width)] for row in rows]
    return width, height, grid


def segno_grid(content: str) -> Grid:
    """segno's own matrix of ``content``, with the quiet zone around it."""
    matrix = qr_code(content).matrix
    side = len(matrix) + 2 * QUIET_ZONE
    grid = [[False] * side for _ in range(side)]
    for y, row in enumerate(matrix):
        for x, module in enumerate(row):
            grid[y + QUIET_ZONE][x + QUIET_ZONE] = bool(module)
    return grid


def upscale(grid: Grid, scale: int) -> Grid:
    return [[module for module in row for _ in range(scale)] for row in grid for _ in range(scale)]


def decode(grid: Grid, scale: int = 1) -> list[tuple[str, str, str]]:
    """What zxing-cpp reads in the image: (text, format, error correction level)."""
    pixels = upscale(grid, scale)
    height, width = len(pixels), len(pixels[0])
    image = memoryview(bytes(0 if dark else 255 for row in pixels for dark in row)).cast("B", (height, width))
    return [(b.text, b.format.name, b.ec_level) for b in zxingcpp.read_barcodes(image)]


def side(version: int) -> int:
    """ISO/IEC 18004: a version V symbol has 17 + 4V modules a side; plus the quiet zone."""
    return 17 + 4 * version + 2 * QUIET_ZONE


# --------------------------------------------------------------------- library


@pytest.mark.parametrize("key", [BAG, ProductKey.lot("036000291452", "LOT-2025/07"), ProductKey.item("96385074", "7")])
def test_svg_is_well_formed_sized_by_its_version_and_holds_segnos_matrix(key: ProductKey, tmp_path: Path) -> None:
    link = key.digital_link()

    written = write_qr(link, tmp_path / "code.svg")
    size, grid, root = svg_grid(written.path.read_bytes())

    assert (written.format, written.version) == ("svg", qr_code(link).version)
    assert size == written.modules == written.pixels == side(written.version)
    assert "width" not in root.attrib and "height" not in root.attrib  # scales freely
    assert root.findtext(f"{SVG}title") == link
    assert grid == segno_grid(link)
    assert decode(grid, scale=4) == [(link, "QRCode", "M")]


@pytest.mark.parametrize("scale", [1, 3, DEFAULT_SCALE])
def test_png_has_the_signature_expected_pixels_and_decodes_to_the_link(scale: int, tmp_path: Path) -> None:
    written = write_qr(LINK, tmp_path / "code.PNG", scale=scale)
    width, height, pixels = png_grid(written.path.read_bytes())

    assert written.format == "png"
    assert width == height == written.pixels == side(written.version) * scale
    assert pixels == upscale(segno_grid(LINK), scale)
    assert decode(pixels, scale=max(1, 4 // scale)) == [(LINK, "QRCode", "M")]


def test_the_quiet_zone_is_four_light_modules_on_every_side() -> None:
    _, grid, _ = svg_grid(render(LINK, "svg"))
    n = len(grid)

    border = [grid[y][x] for y in range(n) for x in range(n) if min(x, y, n - 1 - x, n - 1 - y) < QUIET_ZONE]
    inner = [grid[y][x] for y in range(n) for x in range(n) if min(x, y, n - 1 - x, n - 1 - y) == QUIET_ZONE]

    assert QUIET_ZONE == 4 and not any(border)
    assert any(inner)  # the finder patterns start right inside it


def test_the_level_stays_m_even_where_segno_could_raise_it() -> None:
    # Short content leaves room for a higher level at the same version: not taken.
    assert qr_code("https://id.gs1.org/01/09506000134352/21/1").error == "M"
    assert qr_code(LINK).designator == "4-M"


def test_rendering_is_deterministic_and_the_file_is_what_render_gives(tmp_path: Path) -> None:
    for fmt in ("svg", "png"):
        path = write_qr(LINK, tmp_path / f"code.{fmt}").path

        assert path.read_bytes() == render(LINK, fmt) == render(LINK, fmt)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet=CSET82, min_size=1, max_size=20), st.booleans())
def test_any_passports_qr_code_reads_back_as_its_digital_link(serial: str, lot: bool) -> None:
    key = ProductKey.lot("9506000134352", serial) if lot else ProductKey.item("9506000134352", serial)
    link = key.digital_link("https://id.example.org/p")

    _, grid, _ = svg_grid(render(link, "svg"))

    assert grid == segno_grid(link)
    assert decode(grid, scale=3) == [(link, "QRCode", "M")]


@pytest.mark.parametrize("name", ["code.gif", "code", "code.svg.txt", "code.jpeg"])
def test_the_format_comes_from_the_suffix(name: str) -> None:
    with pytest.raises(InvalidInput, match=r"name the file \*\.svg or \*\.png"):
        qr_format(Path(name))


@pytest.mark.parametrize("scale", [0, -1, True, 2.5])
def test_a_scale_is_a_whole_number_of_pixels(scale: object) -> None:
    with pytest.raises(InvalidInput, match=r"whole number of pixels per module"):
        render(LINK, "png", scale=scale)  # type: ignore[arg-type]


def test_an_unwritable_place_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")

    with pytest.raises(InvalidInput, match=r"Cannot write the QR code to .*taken/code.svg"):
        write_qr(LINK, tmp_path / "taken" / "code.svg")


# ------------------------------------------------------------------------- CLI


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, str]:
        data: dict[str, str] = json.loads(self.out)
        return data


@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def entry(args: Sequence[str]) -> None:
    """The real entry point, `chainpass.cli.main`, with its one-line errors and exit codes."""
    main(list(args))


def chainpass(tmp_path: Path, *args: str) -> Run:
    # Port 1 on 127.0.0.1: nothing listens, so any attempt to reach a node would fail.
    argv = ["--rpc", "http://127.0.0.1:1", "--home", str(tmp_path / "home"), *args]
    result = CliRunner(mix_stderr=False).invoke(entry, argv)
    return Run(result.exit_code, result.stdout, result.stderr)


def test_cli_writes_an_svg_offline_and_says_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "labels" / "bag.svg"

    run = chainpass(tmp_path, "passport", "qr", "(01)09506000134352(21)BAG-001", "--out", str(out), "--json")

    assert run.code == 0, run.err
    assert run.json() == {"code": str(BAG), "digital_link": LINK, "file": str(out), "format": "svg"}
    _, grid, _ = svg_grid(out.read_bytes())
    assert decode(grid, scale=4) == [(LINK, "QRCode", "M")]
    assert not (tmp_path / "home").exists()  # no node, no deployment record, no state


def test_cli_writes_a_png_for_an_epc_urn_on_a_given_resolver(tmp_path: Path) -> None:
    out = tmp_path / "item.png"
    link = "https://id.example.org/01/80614141123458/21/6789%2F1"

    run = chainpass(tmp_path, "passport", "qr", "urn:epc:id:sgtin:0614141.812345.6789%2F1", "--out", str(out),
                    "--resolver", "https://id.example.org/", "--scale", "2")  # fmt: skip

    assert run.code == 0, run.err
    assert run.out.strip() == f"Wrote {out}: QR code (version {qr_code(link).version}, level M) of {link}"
    width, _, pixels = png_grid(out.read_bytes())
    assert width == side(int(qr_code(link).version)) * 2
    assert decode(pixels, scale=2) == [(link, "QRCode", "M")]


def test_cli_keeps_a_digital_links_own_resolver_and_reads_containers_with_a_tier(tmp_path: Path) -> None:
    out = tmp_path / "pallet.svg"
    code = "https://brand.example/p/01/19506000134359/21/PAL42?17=261231"

    run = chainpass(tmp_path, "passport", "qr", code, "--tier", "2", "--out", str(out), "--json")

    assert run.code == 0, run.err
    assert run.json()["digital_link"] == "https://brand.example/p/01/19506000134359/21/PAL42"
    assert run.json()["code"] == "(01)19506000134359(21)PAL42"


@pytest.mark.parametrize(
    ("code", "link"),
    [
        # A compressed link, as a phone's camera reads it: the uncompressed one on its resolver.
        ("https://brand.example/p/DBFKk4XBoM4IA32mmo", "https://brand.example/p/01/09506000134352/21/BAG-001"),
        # A logistic unit's and an asset's link keep their resolver too.
        ("https://brand.example/p/00/106141412345678908", "https://brand.example/p/00/106141412345678908"),
        ("https://brand.example/8004/0614141WAGON7", "https://brand.example/8004/0614141WAGON7"),
    ],
)
def test_cli_keeps_the_resolver_of_a_compressed_link_and_of_other_keys(tmp_path: Path, code: str, link: str) -> None:
    run = chainpass(tmp_path, "passport", "qr", code, "--out", str(tmp_path / "x.svg"), "--json")

    assert run.code == 0, run.err
    assert run.json()["digital_link"] == link


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["(01)09506000134353(21)X", "--out", "x.svg"], "Invalid GTIN check digit"),
        (["https://id.gs1.org/01/09506000134352/10/L/22/C", "--out", "x.svg"], "/22/ comes after /10/"),
        (["urn:epc:id:sgtin:0614141.812345.a/b", "--out", "x.svg"], "must be escaped as %XX"),
        (["(01)09506000134352(21)S", "--out", "x.gif"], "name the file *.svg or *.png"),
        (["(01)09506000134352(21)S", "--out", "x.svg", "--resolver", "ftp://x"], "must be https:// and a domain"),
        (["(01)09506000134352(10)L", "--tier", "1", "--out", "x.svg"], "which a container's code needs"),
    ],
)
def test_cli_bad_input_is_one_clear_line_and_writes_nothing(args: list[str], expected: str, tmp_path: Path) -> None:
    run = chainpass(tmp_path, "passport", "qr", *[str(tmp_path / a) if a.startswith("x.") else a for a in args])

    assert run.code == 1
    assert run.err.count("\n") == 1 and run.err.startswith("error: ") and expected in run.err
    assert "Traceback" not in run.out + run.err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_cli_json_errors_are_json(tmp_path: Path) -> None:
    run = chainpass(tmp_path, "passport", "qr", "not a code", "--out", str(tmp_path / "x.svg"), "--json")

    assert run.code == 1
    assert json.loads(run.out)["kind"] == "InvalidInput"
    assert json.loads(run.out)["error"].startswith("'not a code' is not a GS1 ")


def test_cli_needs_out(tmp_path: Path) -> None:
    run = chainpass(tmp_path, "passport", "qr", "(01)09506000134352(21)S")

    assert run.code == 2
    assert "Missing option '--out'" in run.err


def test_the_docs_example_is_the_qr_code_of_bag_1() -> None:
    example = Path(__file__).resolve().parent.parent / "docs" / "qr-example.svg"

    assert example.read_bytes() == render(LINK, "svg")  # regenerate with docs/passports.md's command if this fails
