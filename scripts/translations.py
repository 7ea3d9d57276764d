"""The web service's translation catalogues (docs/web.md, "Languages"): extracts every string
of `chainpass/web` (its Python and its Jinja2 templates, where `babel.cfg` says) and brings each
language's catalogue, `chainpass/web/locale/<language>/LC_MESSAGES/chainpass.po`, up to date.

    python scripts/translations.py           # make translations: extract, then update the .po files
    python scripts/translations.py --check   # say whether they are up to date; exit 1 if not

A new string arrives untranslated (English: with its own words), to be translated in the .po
file; a string no longer used leaves the catalogues (git keeps it). No fuzzy guesses: a changed
sentence is a new one, translated anew. The service reads the .po files as they are (no .mo is
compiled); tests/test_web_pages.py checks every catalogue is complete and up to date.
"""

from __future__ import annotations

import argparse
import copy
import io
import os
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from chainpass.web.wording import DOMAIN, ENGLISH, LANGUAGES

ROOT = Path(__file__).resolve().parents[1]
#: Where the strings are (babel.cfg maps the files under it) and where the catalogues are.
SOURCES = ROOT / "chainpass" / "web"
LOCALE = SOURCES / "locale"
#: A comment written above a string in the source as ``# Translators: …`` reaches its translators.
COMMENT_TAGS = ("Translators:",)
#: The catalogues' header fields.
HEADER = {
    "project": "chainpass",
    "version": "web",
    "copyright_holder": "the chainpass authors",
    "msgid_bugs_address": "the chainpass issue tracker",
    "last_translator": "the chainpass authors",
}


def extract() -> Catalog:
    """Every string of the sources, as a template (no translations), in the order they appear."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    template = Catalog(domain=DOMAIN, fuzzy=False, **HEADER)

    def inside_the_sources(directory: str) -> bool:
        path = Path(directory)
        return path == SOURCES or SOURCES in path.parents or path in SOURCES.parents

    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=DEFAULT_KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
        directory_filter=inside_the_sources,
    ):
        path = filename.replace(os.sep, "/")
        template.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return template


def catalogue_path(folder: str) -> Path:
    return LOCALE / folder / "LC_MESSAGES" / f"{DOMAIN}.po"


def updated(folder: str, template: Catalog) -> tuple[str, int]:
    """The catalogue of the language in ``folder`` brought up to date with ``template``, as the
    text of its .po file, and how many of its strings wait for a translation."""
    path = catalogue_path(folder)
    if path.exists():
        with path.open("rb") as file:
            catalog = read_po(file, locale=folder, domain=DOMAIN)
    else:
        catalog = Catalog(locale=folder, domain=DOMAIN, fuzzy=False, **HEADER)
        catalog.language_team = f"{catalog.locale.english_name} <the chainpass authors>"  # type: ignore[union-attr]
        catalog.header_comment = f"# The web pages of chainpass in {catalog.locale.english_name} (docs/web.md)."  # type: ignore[union-attr]
        catalog.revision_date = catalog.creation_date
    # The template's messages go into the catalogue as they are: a copy, for each language its own.
    catalog.update(copy.deepcopy(template), no_fuzzy_matching=True, update_creation_date=False)
    catalog.obsolete.clear()
    untranslated = 0
    for message in catalog:
        if not message.id:
            continue
        if folder == ENGLISH.folder and not message.string:
            message.string = message.id  # the source language: its own words
        if not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            untranslated += 1
    text = io.BytesIO()
    write_po(text, catalog, ignore_obsolete=True, include_previous=False, include_lineno=False)
    return text.getvalue().decode("utf-8"), untranslated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing: exit 1 if a catalogue is out of date")
    check = parser.parse_args().check
    template = extract()
    stale = []
    for language in LANGUAGES:
        path = catalogue_path(language.folder)
        text, untranslated = updated(language.folder, template)
        current = path.read_text("utf-8") if path.exists() else None
        if text != current:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, "utf-8")
        state = "out of date" if check and text != current else "up to date" if text == current else "updated"
        wanted = f", {untranslated} to translate" if untranslated else ""
        print(f"{path.relative_to(ROOT)}: {len(template)} strings, {state}{wanted}")
    if check and stale:
        print("make translations brings them up to date", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
