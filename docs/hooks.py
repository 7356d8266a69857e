"""MkDocs hook: put tables computed by the code into the pages at build time.

Markers replaced in page sources:

* ``<!-- CHECK_TABLE -->``: the table of ``quotientib check``;
* ``<!-- CATALOG_TABLE -->``: the catalog table of ``quotientib catalog``;
* ``<!-- LEDGER:name -->``: the rows in ``docs/ledger/name.md``.

Numbers in those tables therefore come from running the code, not from hand-written text.
"""

import re
from pathlib import Path

import quotientib  # noqa: F401  (selects geomstats' backend before anything else imports it)

LEDGER_DIR = Path(__file__).parent / "ledger"


def _check_table():
    from quotientib.verify.suite import core_checks, format_table

    return format_table(core_checks())


def _catalog_table():
    from quotientib.catalog.table import catalog_markdown

    return catalog_markdown()


def _ledger(match):
    path = LEDGER_DIR / f"{match.group(1)}.md"
    if not path.exists():
        raise FileNotFoundError(f"ledger file {path} referenced by a page does not exist")
    return path.read_text()


def on_page_markdown(markdown, page, config, files):
    """Replace the markers with generated content."""
    if "<!-- CHECK_TABLE -->" in markdown:
        markdown = markdown.replace("<!-- CHECK_TABLE -->", _check_table())
    if "<!-- CATALOG_TABLE -->" in markdown:
        markdown = markdown.replace("<!-- CATALOG_TABLE -->", _catalog_table())
    return re.sub(r"<!-- LEDGER:([\w-]+) -->", _ledger, markdown)
