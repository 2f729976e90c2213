"""Outside text stays text: the markdown escape every page uses (`console.text.md`, also inside `i18n.t`) and the
CSV cell neutraliser every export uses (`sync.core.csv_safe`). The browser test shows the rendering; these pin the
rules."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from console import tables
from console.i18n import t
from console.text import WORD_JOINER, Markdown, md
from sync.core.csv_safe import restore_cell, safe_cell, write_rows

HOSTILE = [
    "**Noord** [Academy](https://evil.test/a)",
    "<img src=x onerror=alert(1)>",
    ":red[rood] :material/warning: $x^2$",
    "# Kop\n- lijst",
    "`code` ~~weg~~ _schuin_ \\ | tabel |",
    "www.evil.test en info@evil.test",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_md_escapes_every_markdown_character_and_keeps_the_words(text: str) -> None:
    escaped = md(text).replace(WORD_JOINER, "")
    assert "\n" not in escaped
    assert re.sub(r"\\(.)", r"\1", escaped) == text.replace("\n", " ")  # the same text, once unescaped
    bare = re.sub(r"\\.", "", escaped)
    assert not set(bare) & set("*[]()<>:$#`~_|\\!"), bare  # every markdown character is escaped


def test_bare_addresses_get_a_word_joiner() -> None:
    assert md("https://evil.test") == f"https\\:{WORD_JOINER}\\/\\/evil\\.test"
    assert WORD_JOINER in md("www.evil.test") and WORD_JOINER in md("a@b.nl")


def test_t_escapes_the_values_it_fills_in_but_not_its_own_markdown_or_numbers() -> None:
    text = t("linked_to", "nl", admin="**Boos** [x](https://evil.test)", key="…ab_c", health="in orde",
             start="01-01-2024")
    assert text.startswith("Gekoppeld aan administratie **\\*\\*Boos\\*\\*")
    assert "…ab\\_c" in text
    assert t("rows_shown", "en", n=3, total=4) == "3 of 4 items"
    assert t("identity_added", "en", name=Markdown("**ok**")) == "Identity ‘**ok**’ added."


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://evil.test")', "+31 6 1234", "-1+cmd|' /C calc'!A0", "@SUM(A1)",
                                  '  =HYPERLINK("http://evil.test")', " +31 6 1234", "\u00a0-1+cmd", "\u3000@SUM(A1)"])
def test_cells_a_spreadsheet_would_run_get_an_apostrophe_and_come_back(cell: str) -> None:
    """Blanks before the formula too: a spreadsheet skips them (issue 24, item 9)."""
    assert safe_cell(cell) == "'" + cell
    assert restore_cell(safe_cell(cell)) == cell


@pytest.mark.parametrize(("cell", "written"), [
    ("\t=cmd", "' =cmd"), ("\rterug", " terug"), ("\u202e=1+1", "'=1+1"), (" \u2066=1+1\u2069", "' =1+1"),
    ("Studio\u202eNoord\x1b[31m", "Studio Noord [31m".replace(" ", "", 1)), ("regel 1\nregel 2", "regel 1\nregel 2"),
    ("  12,50", "  12,50"),
])
def test_csv_cells_hold_no_bidi_controls_or_control_characters(cell: str, written: str) -> None:
    assert safe_cell(cell) == written


BIDI_AND_CONTROLS = "Studio\u202eNoord\u202c \u2066B.V.\u2069\u200f\x1b[2J\x07\x9b\r\nfake line"


def test_md_drops_bidi_controls_and_makes_control_characters_spaces() -> None:
    shown = md(BIDI_AND_CONTROLS)
    assert not set(shown) & set("\u202e\u202c\u2066\u2069\u200f\x1b\x07\x9b\r\n")
    assert re.sub(r"\\(.)", r"\1", shown) == "StudioNoord B.V. [2J    fake line"


def test_every_value_said_from_the_catalog_is_plain_on_every_surface() -> None:
    from sync.core.words import say

    for escape in (None, md):
        text = say("identity_added", "en", escape=escape, name=BIDI_AND_CONTROLS)
        assert not set(text) & set("\u202e\u2066\u200f\x1b\x07\x9b\r\n"), repr(text)


def test_tables_show_no_bidi_controls_or_control_characters() -> None:
    from console.text import plain_frame

    rows = pd.DataFrame([{
        "number": "2026\u202e001", "customer": BIDI_AND_CONTROLS, "gripp_date": None, "gripp_due": None,
        "gripp_total": -12.5, "gripp_open": 0, "snelstart_due": None, "snelstart_total": None, "snelstart_open": None,
        "class": "not_booked", "days_overdue": None, "reasons_json": None, "last_error": None,
    }])
    for frame in (tables.side_by_side(rows, "nl"), plain_frame(pd.DataFrame({"naam": [BIDI_AND_CONTROLS, 3]}))):
        cells = "".join(str(v) for v in frame.to_numpy().ravel())
        assert not set(cells) & set("\u202e\u2066\u200f\x1b\x07\x9b\r\n"), repr(cells)


@pytest.mark.parametrize("cell", ["-12,50", "+3.5", "12", "Studio Noord", "", None, 7])
def test_plain_numbers_and_text_are_left_alone(cell: object) -> None:
    assert safe_cell(cell) == cell


def test_every_csv_export_goes_through_the_neutraliser() -> None:
    rows = pd.DataFrame([{
        "number": "=1+1", "customer": "@evil", "gripp_date": None, "gripp_due": None, "gripp_total": -12.5,
        "gripp_open": 0, "snelstart_due": None, "snelstart_total": None, "snelstart_open": None,
        "class": "not_booked", "days_overdue": None, "reasons_json": None, "last_error": "=cmd",
    }])
    exported = tables.open_items_csv(rows, "nl")
    assert "'=1+1" in exported and "'@evil" in exported and "'=cmd" in exported and "-12,50" in exported
    log = pd.DataFrame([{"occurred_at": "2026-01-01", "identity_id": 1, "identity_name": "+evil", "level": "info",
                         "kind": "x", "invoice_number": None, "message": "=bad",
                         "run_id": None, "actor": "@actor"}])
    exported = tables.log_csv(log, "en")
    assert "'+evil" in exported and "'=bad" in exported and "'@actor" in exported
    handle = io.StringIO()
    write_rows(handle, ["a"], [["=x"]])
    assert handle.getvalue().splitlines() == ["a", "'=x"]
