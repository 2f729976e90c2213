"""What makes the console fit a laptop's screen (1280×800 with the sidebar open): room for the tables, names cut
with "…" where they must be cut, and the whole text of a grid's row when a cell of it is clicked.

Streamlit gives a wide page 5rem of margin a side and its sidebar 300 px: at 1280 px that leaves 820 px, too little
for Gripp's and SnelStart's columns side by side. The console is tables of figures, so it takes narrower margins
and a narrower sidebar (the reader can still drag it wider). The grids are canvases that cut a long cell without
"…"; each one that may cut says that a click on a cell shows its row whole below it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

from console.i18n import t

SIDEBAR_WIDTH = 240  # pixels: the longest page name ("Openstaande posten") and the language box, whole
# Where Streamlit widens a wide page's margins to 5rem (its content width plus twice 5rem less 1rem), 2rem instead;
# a page link (a name in a narrow column, on Klanten) ends in "…" rather than stopping mid-letter.
STYLE = """<style>
@media (min-width: 864px) {
  [data-testid="stMainBlockContainer"].block-container { padding-left: 2rem; padding-right: 2rem; }
}
[data-testid="stPageLink"] [data-testid="stMarkdownContainer"] p { overflow: hidden; text-overflow: ellipsis; }
</style>"""


def style() -> None:
    """The console's few rules on every page (only a style: it takes no room on the page)."""
    st.html(STYLE)


def picked_row(state: Mapping | None, rows: int) -> int | None:
    """The row of the cell the reader clicked in a grid drawn with `selection_mode="single-cell"` (its position in
    the rows drawn), or None: nothing clicked, or a click on a row the grid no longer holds (a narrower search)."""
    cells = ((state or {}).get("selection") or {}).get("cells") or []
    if not cells:
        return None
    row = cells[0][0]
    return row if isinstance(row, int) and 0 <= row < rows else None


def row_detail(state: Mapping | None, rows: int, key: str, detail: Callable[[int], str]) -> None:
    """Below a grid drawn with `selection_mode="single-cell"`: the clicked row whole (`detail(position)`, markdown)
    in a box keyed `{key}-detail`, or, before a click, the hint that a click shows it."""
    picked = picked_row(state, rows)
    if picked is None:
        if rows:
            st.caption(t("grid_click_hint"))
        return
    with st.container(border=True, key=f"{key}-detail"):
        st.markdown(detail(picked))
